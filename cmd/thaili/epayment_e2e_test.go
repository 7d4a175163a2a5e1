package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

func epaymentBody(t *testing.T, overrides map[string]any) string {
	t.Helper()
	body := map[string]any{
		"return_url": "https://shop.example/return?order=7", "website_url": "https://shop.example",
		"amount": "1300", "purchase_order_id": 7, "purchase_order_name": "Book",
		"customer_info":     map[string]any{"name": "Ram", "email": "ram@example.com", "phone": "9800000001"},
		"amount_breakdown":  []any{map[string]any{"label": "Price", "amount": 1500}, map[string]any{"label": "Discount", "amount": "-200"}},
		"product_details":   []any{map[string]any{"identity": "b1", "name": "Book", "total_price": 1300, "quantity": 1, "unit_price": 1300}},
		"merchant_username": "ram", "merchant_extra": map[string]any{"n": 1},
	}
	for k, v := range overrides {
		if v == nil {
			delete(body, k)
			continue
		}
		body[k] = v
	}
	return jsonBody(t, body)
}

func TestEPaymentInitiateAndLookup(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--public-url", "https://pay.example.np")
	r := s.do(t, "POST", "/api/v2/epayment/initiate/", testSK, epaymentBody(t, nil))
	mustStatus(t, r, 200)
	pidx, _ := r.Body["pidx"].(string)
	if len(pidx) != 22 || len(r.Body) != 4 {
		t.Fatalf("initiate body: %s", r.Raw)
	}
	if !strings.HasPrefix(r.Body["payment_url"].(string), "https://pay.example.np/?pidx="+pidx+"&") {
		t.Fatalf("payment_url must start with ?pidx=: %v", r.Body["payment_url"])
	}
	u, err := url.Parse(r.Body["payment_url"].(string))
	if err != nil || u.Scheme+"://"+u.Host+u.Path != "https://pay.example.np/" || u.Query().Get("pidx") != pidx ||
		u.Query().Get("return_url") != "https://shop.example/return?order=7" || u.Query().Get("mode") != "wallet" {
		t.Fatalf("payment_url: %v", r.Body["payment_url"])
	}
	if r.Body["expires_in"] != json.Number("1800") {
		t.Fatalf("expires_in: %s", r.Raw)
	}
	exp, err := time.Parse("2006-01-02T15:04:05.000000-07:00", r.Body["expires_at"].(string))
	if err != nil || !strings.HasSuffix(r.Body["expires_at"].(string), "+05:45") || time.Until(exp) < 29*time.Minute {
		t.Fatalf("expires_at: %v %v", r.Body["expires_at"], err)
	}
	want := `{"fee":0,"pidx":"` + pidx + `","refunded":false,"status":"Initiated","total_amount":1300,"transaction_id":null}`
	for _, key := range []string{testSK, testPK} { // lookup takes either key
		r = s.do(t, "POST", "/api/v2/epayment/lookup/", key, `{"pidx":"`+pidx+`"}`)
		if r.Status != 200 || strings.TrimSpace(r.Raw) != want {
			t.Fatalf("lookup with %s: %d %s", key[:12], r.Status, r.Raw)
		}
	}
	// lookup-sdk: public key, form body (Flutter), order and extras.
	r = s.do(t, "POST", "/api/v2/epayment/lookup-sdk/", testPK, "pidx="+pidx)
	mustStatus(t, r, 200)
	if r.Body["purchase_order_id"] != "7" || r.Body["purchase_order_name"] != "Book" || r.Body["total_amount"] != json.Number("1300") ||
		r.Body["refunded"] != false || r.Body["fee"] != json.Number("0") {
		t.Fatalf("lookup-sdk: %s", r.Raw)
	}
	if ex, _ := r.Body["extra_merchant_params"].(map[string]any); ex["merchant_username"] != "ram" || ex["merchant_extra"] == nil {
		t.Fatalf("extra_merchant_params: %s", r.Raw)
	}
	r = s.do(t, "POST", "/api/v2/epayment/detail/", testPK, `{"pidx":"`+pidx+`"}`)
	if r.Status != 200 || r.Body["return_url"] != "https://shop.example/return?order=7" {
		t.Fatalf("detail: %s", r.Raw)
	}
	// Unknown pidx, and a legacy token in its place.
	r = s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"bZQLD9wRVWo4CdESSfuSsB"}`)
	if r.Status != 404 || strings.TrimSpace(r.Raw) != `{"detail":"Not found.","error_key":"validation_error"}` {
		t.Fatalf("unknown pidx: %d %s", r.Status, r.Raw)
	}
	token := s.initiate(t, testPK, "9800000001", 1000)
	if r = s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+token+`"}`); r.Status != 404 {
		t.Fatalf("legacy token as pidx: %d %s", r.Status, r.Raw)
	}
	if r = s.verify(t, testSK, pidx, 1300); r.Status != 400 {
		t.Fatalf("legacy verify of a pidx: %d %s", r.Status, r.Raw)
	}
	// The ePayment is in the transaction list, with its order as meta.
	r = s.do(t, "GET", "/api/v2/merchant-transaction/", testSK, "")
	if r.Body["total_records"] != json.Number("2") {
		t.Fatalf("list: %s", r.Raw)
	}
	// Missing keys and other merchants' keys.
	if r = s.do(t, "POST", "/api/v2/epayment/initiate/", testPK, epaymentBody(t, nil)); r.Status != 401 {
		t.Fatalf("initiate with the public key: %d", r.Status)
	}
	if r = s.do(t, "POST", "/api/v2/epayment/lookup/", "", `{"pidx":"`+pidx+`"}`); r.Status != 401 {
		t.Fatalf("lookup without a key: %d", r.Status)
	}
	s.ledgerOK(t)
}

func TestEPaymentInitiateValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tests := []struct {
		override map[string]any
		want     string
	}{
		{map[string]any{"return_url": ""}, `{"error_key":"validation_error","return_url":["This field may not be blank."]}`},
		{map[string]any{"return_url": "not a url"}, `{"error_key":"validation_error","return_url":["Enter a valid URL."]}`},
		{map[string]any{"website_url": ""}, `{"error_key":"validation_error","website_url":["This field may not be blank."]}`},
		{map[string]any{"website_url": "ftp://x"}, `{"error_key":"validation_error","website_url":["Enter a valid URL."]}`},
		{map[string]any{"amount": 999, "amount_breakdown": nil}, `{"amount":["Amount should be greater than Rs. 10, that is 1000 paisa."],"error_key":"validation_error"}`},
		{map[string]any{"amount": "12.5"}, `{"amount":["A valid integer is required."],"error_key":"validation_error"}`},
		{map[string]any{"purchase_order_id": ""}, `{"error_key":"validation_error","purchase_order_id":["This field may not be blank."]}`},
		{map[string]any{"purchase_order_name": ""}, `{"error_key":"validation_error","purchase_order_name":["This field may not be blank."]}`},
		{map[string]any{"purchase_order_name": nil}, `{"error_key":"validation_error","purchase_order_name":["This field is required."]}`},
		{map[string]any{"amount": 1400}, `{"amount":["Amount Breakdown mismatch."],"error_key":"validation_error"}`},
		{map[string]any{"ttl": 5}, `{"error_key":"validation_error","ttl":["Ensure this value is between 60 and 604800 seconds."]}`},
		{map[string]any{"ttl": "soon"}, `{"error_key":"validation_error","ttl":["A valid integer is required."]}`},
		{map[string]any{"modes": "KHALTI"}, `{"error_key":"validation_error","modes":["Expected a list of strings."]}`},
		{map[string]any{"customer_info": "Ram"}, `{"customer_info":["Expected a dictionary of items."],"error_key":"validation_error"}`},
	}
	for _, tt := range tests {
		r := s.do(t, "POST", "/api/v2/epayment/initiate/", testSK, epaymentBody(t, tt.override))
		if r.Status != 400 || strings.TrimSpace(r.Raw) != tt.want {
			t.Errorf("%v: %d %s\nwant %s", tt.override, r.Status, r.Raw, tt.want)
		}
	}
	// ttl in seconds and modes accepted.
	r := s.do(t, "POST", "/api/v2/epayment/initiate/", testSK, epaymentBody(t, map[string]any{"ttl": 120, "modes": []any{"KHALTI"}}))
	if r.Status != 200 || r.Body["expires_in"] != json.Number("120") {
		t.Fatalf("ttl 120: %s", r.Raw)
	}
}
