package sdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/sdk"
)

// nepal is the zone Thaili's timestamps are written in (+05:45).
var nepal = time.FixedZone("", 5*3600+45*60)

// wantTime fails the test unless got is want, in want's offset.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	_, gotOff := got.Zone()
	_, wantOff := want.Zone()
	if !got.Equal(want) || gotOff != wantOff {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantRequest fails the test unless r is method path?query with the
// secret key, JSON accepted, and body (empty: none).
func wantRequest(t *testing.T, r request, method, path, query, body string) {
	t.Helper()
	if r.Method != method || r.Path != path || r.Query != query || r.Body != body {
		t.Errorf("request %s %s?%s %q, want %s %s?%s %q", r.Method, r.Path, r.Query, r.Body, method, path, query, body)
	}
	if r.Header.Get("Authorization") != "Key "+secretKey || r.Header.Get("Accept") != "application/json" {
		t.Errorf("%s %s: headers %v", method, path, r.Header)
	}
	if ct := r.Header.Get("Content-Type"); (body != "") != (ct == "application/json") {
		t.Errorf("%s %s: Content-Type %q with body %q", method, path, ct, body)
	}
}

// apiError returns err as an *sdk.Error, failing the test if it is not one.
func apiError(t *testing.T, what string, err error) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: err = %v, not an *sdk.Error", what, err)
	}
	return e
}

func TestInitiateEPayment(t *testing.T) {
	f, c := startFake(t, map[string][]answer{"POST /api/v2/epayment/initiate/": ok(initiatedBody)})
	ctx := sdk.WithIdempotencyKey(context.Background(), "order-1")
	p, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{
		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example", Amount: 1300,
		PurchaseOrderID: "order-1", PurchaseOrderName: "A book", TTL: 600,
		CustomerInfo:  &sdk.CustomerInfo{Name: "Ram Bahadur", Phone: "9800000001"},
		MerchantExtra: map[string]any{"merchant_cart": "c-17", "merchant_items": 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	wantRequest(t, r, "POST", "/api/v2/epayment/initiate/", "", `{"amount":1300,"customer_info":{"name":"Ram Bahadur","phone":"9800000001"},`+
		`"merchant_cart":"c-17","merchant_items":2,"purchase_order_id":"order-1","purchase_order_name":"A book",`+
		`"return_url":"https://shop.example/return","ttl":600,"website_url":"https://shop.example"}`)
	if r.Header.Get("Idempotency-Key") != "order-1" || r.Header.Get("User-Agent") != "thaili-go-sdk" {
		t.Errorf("headers %v", r.Header)
	}
	want := sdk.EPaymentInitiated{Pidx: "nZLuE7rjkjEvW74vcHVvcR", ExpiresIn: 1800,
		PaymentURL: "http://127.0.0.1:8000/?pidx=nZLuE7rjkjEvW74vcHVvcR&return_url=https%3A%2F%2Fshop.example%2Freturn&mode=wallet"}
	wantTime(t, "ExpiresAt", p.ExpiresAt, time.Date(2026, 12, 3, 19, 51, 2, 925304000, nepal))
	p.ExpiresAt = time.Time{}
	if p != want {
		t.Errorf("initiated %+v, want %+v", p, want)
	}

	// Without extras the fields go in the struct's order; empty optional
	// ones are left out.
	_, err = c.InitiateEPayment(context.Background(), sdk.EPaymentRequest{ReturnURL: "https://shop.example/r", WebsiteURL: "https://shop.example",
		Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "n",
		AmountBreakdown: []sdk.AmountBreakdownItem{{Label: "Price", Amount: 1200}, {Label: "Discount", Amount: -200}},
		ProductDetails:  []sdk.ProductDetail{{Identity: "b1", Name: "Book", TotalPrice: 1000, Quantity: 1, UnitPrice: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	r = f.last(t)
	wantRequest(t, r, "POST", "/api/v2/epayment/initiate/", "", `{"return_url":"https://shop.example/r","website_url":"https://shop.example",`+
		`"amount":1000,"purchase_order_id":"o","purchase_order_name":"n","amount_breakdown":[{"label":"Price","amount":1200},`+
		`{"label":"Discount","amount":-200}],"product_details":[{"identity":"b1","name":"Book","total_price":1000,"quantity":1,"unit_price":1000}]}`)
	if r.Header.Get("Idempotency-Key") != "" {
		t.Errorf("an Idempotency-Key without WithIdempotencyKey: %v", r.Header)
	}

	// An extra named like a field is refused before anything is sent.
	n := len(f.requests())
	_, err = c.InitiateEPayment(ctx, sdk.EPaymentRequest{Amount: 1, MerchantExtra: map[string]any{"amount": 2}})
	if err == nil || !strings.Contains(err.Error(), `merchant extra "amount" collides`) || len(f.requests()) != n {
		t.Errorf("colliding extra: %v, %d requests", err, len(f.requests())-n)
	}
}

func TestLookup(t *testing.T) {
	f, c := startFake(t, map[string][]answer{"POST /api/v2/epayment/lookup/": {
		{200, lookupInitiatedBody}, {200, lookupCompletedBody}, {200, lookupPartialBody}, {400, lookupCanceledBody},
		{400, blankPidxBody}, {404, notFoundBody},
	}})
	// Lookup reads; it carries no idempotency key.
	ctx := sdk.WithIdempotencyKey(context.Background(), "k")
	txn := "VXSR5iSMwipPgmhwwUfMj5"
	for _, want := range []sdk.Lookup{
		{Pidx: "nZLuE7rjkjEvW74vcHVvcR", TotalAmount: 1300, Status: sdk.StatusInitiated},
		{Pidx: "49FikeNMkgPbDENwDRNFmg", TotalAmount: 1300, Status: sdk.StatusCompleted, TransactionID: &txn, Fee: 39},
		{Pidx: "49FikeNMkgPbDENwDRNFmg", TotalAmount: 1300, Status: sdk.StatusPartiallyRefunded, TransactionID: &txn, Fee: 39, Refunded: true},
		// A canceled link is answered with HTTP 400 and a full body: no error.
		{Pidx: "8N2PWRWqNf9RLam6Sxo7S6", TotalAmount: 1000, Status: sdk.StatusUserCanceled},
	} {
		l, err := c.Lookup(ctx, want.Pidx)
		if err != nil || !reflect.DeepEqual(l, want) {
			t.Errorf("lookup = %+v, %v; want %+v", l, err, want)
		}
		r := f.last(t)
		wantRequest(t, r, "POST", "/api/v2/epayment/lookup/", "", `{"pidx":"`+want.Pidx+`"}`)
		if r.Header.Get("Idempotency-Key") != "" {
			t.Errorf("lookup sent an Idempotency-Key")
		}
	}
	// A 400 that is not a lookup body, and a 404, are errors.
	_, err := c.Lookup(ctx, "")
	if e := apiError(t, "blank pidx", err); e.StatusCode != 400 || e.ErrorKey != "validation_error" ||
		!reflect.DeepEqual(e.Fields, map[string][]string{"pidx": {"This field may not be blank."}}) {
		t.Errorf("blank pidx: %+v", e)
	}
	_, err = c.Lookup(ctx, "bZQLD9wRVWo4CdESSfuSsB")
	if e := apiError(t, "unknown pidx", err); e.StatusCode != 404 || e.Detail != "Not found." {
		t.Errorf("unknown pidx: %+v", e)
	}
}

// userOne, demoShop and walletParty are the parties of the recorded
// transactions.
var (
	userOne     = sdk.Party{Idx: "Js2tjNFm7yoEZPDqGCbTvf", Name: "Test User 1", Mobile: "98XXXXXXX1"}
	demoShop    = sdk.Party{Idx: "LLXEKdHFkWugKUZ3wHr53Y", Name: "Thaili Demo Shop", Mobile: "demo@thaili.local"}
	walletParty = sdk.Party{Idx: "9dUzuqrLetWo9VY3fNwB2E", Mobile: "wallet@thaili.local"}
	walletType  = sdk.Type{Idx: "e476BL6jt9kgagEmsakyTL", Name: "Wallet payment"}
	completed   = sdk.State{Idx: "DhvMj9hdRufLqkP8ZY4d8g", Name: "Completed", Template: "is complete"}
	partially   = sdk.State{Idx: "DhvRj9hdRufLqkP8ZY4d8g", Name: "Partially refunded", Template: "is partially refund"}
)

// wantTransaction compares a decoded transaction with want; hms is its
// created_on's hour, minute, second and nanosecond on 2026-12-03 in
// Nepal time.
func wantTransaction(t *testing.T, what string, got, want sdk.Transaction, hms [4]int) {
	t.Helper()
	wantTime(t, what+" CreatedOn", got.CreatedOn, time.Date(2026, 12, 3, hms[0], hms[1], hms[2], hms[3], nepal))
	if string(got.Ebanker) != "null" {
		t.Errorf("%s: ebanker %s", what, got.Ebanker)
	}
	got.CreatedOn, got.Ebanker = time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

func TestLegacyVerifyAndStatus(t *testing.T) {
	f, c := startFake(t, map[string][]answer{
		"POST /api/v2/payment/verify/": {{400, amountMismatchBody}, {200, verifiedBody}},
		"GET /api/v2/payment/status/":  {{200, statusConfirmedBody}, {200, statusCompleteBody}, {200, statusNotFoundBody}},
	})
	ctx := sdk.WithIdempotencyKey(context.Background(), "verify-1")
	_, err := c.Verify(ctx, "fuqeCDerDcPBsZUrpFgMqt", 2000)
	if e := apiError(t, "wrong amount", err); e.StatusCode != 400 || e.Fields["amount"][0] != "Amount does not match the transaction amount." {
		t.Errorf("wrong amount: %+v", e)
	}
	tx, err := c.Verify(ctx, "fuqeCDerDcPBsZUrpFgMqt", 1000)
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	wantRequest(t, r, "POST", "/api/v2/payment/verify/", "", `{"amount":1000,"token":"fuqeCDerDcPBsZUrpFgMqt"}`)
	if r.Header.Get("Idempotency-Key") != "verify-1" {
		t.Errorf("verify headers %v", r.Header)
	}
	wantTransaction(t, "verified", tx, sdk.Transaction{Idx: "PH3QcLWYyry9tDz82Ny6z7", Type: walletType, State: completed,
		Amount: 1000, FeeAmount: 30, User: userOne, Merchant: demoShop}, [4]int{19, 21, 3, 104383000})

	for _, want := range []sdk.Status{
		{Status: true, State: "Confirmed", Detail: "Transaciton not verified."},
		{Status: true, State: "Complete", Detail: "Transaction complete."},
		{Status: false, State: "Error", Detail: "Transaction not found"}, // HTTP 200, not an error
	} {
		s, err := c.Status(ctx, "tok en", 1000)
		if err != nil || s != want {
			t.Errorf("status = %+v, %v; want %+v", s, err, want)
		}
		r := f.last(t)
		wantRequest(t, r, "GET", "/api/v2/payment/status/", "amount=1000&token=tok+en", "")
		if r.Header.Get("Idempotency-Key") != "" {
			t.Error("status sent an Idempotency-Key")
		}
	}
}

func TestRefund(t *testing.T) {
	f, c := startFake(t, map[string][]answer{
		"POST /api/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/refund/": ok(refundedBody),
		"POST /api/merchant-transaction/a%2Fb/refund/":                  {{404, notFoundBody}},
	})
	ctx := sdk.WithIdempotencyKey(context.Background(), "refund-1")
	if err := c.Refund(ctx, "PH3QcLWYyry9tDz82Ny6z7", nil); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	wantRequest(t, r, "POST", "/api/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/refund/", "", "") // everything: no body
	if r.Header.Get("Idempotency-Key") != "refund-1" {
		t.Errorf("refund headers %v", r.Header)
	}
	half := int64(500)
	if err := c.Refund(ctx, "PH3QcLWYyry9tDz82Ny6z7", &half); err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "POST", "/api/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/refund/", "", `{"amount":500}`)
	// The id is one path segment, however odd.
	if e := apiError(t, "odd id", c.Refund(ctx, "a/b", nil)); e.StatusCode != 404 {
		t.Errorf("odd id: %+v", e)
	}
}

func TestTransactions(t *testing.T) {
	f, c := startFake(t, map[string][]answer{
		"GET /api/v2/merchant-transaction/":                        ok(listBody),
		"GET /api/v2/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/": ok(detailBody),
	})
	ctx := context.Background()
	page, err := c.Transactions(ctx, sdk.ListOptions{Page: 1, PageSize: 1, State: "Partially refunded,Refunded", StartDate: "2026-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/v2/merchant-transaction/", "page=1&page_size=1&start_date=2026-12-01&state=Partially+refunded%2CRefunded", "")
	if page.TotalPages != 2 || page.TotalRecords != 2 || page.CurrentPage != 1 || page.Previous != nil || page.Next == nil ||
		*page.Next != "http://127.0.0.1:8000/api/v2/merchant-transaction/?page=2&page_size=1" || !reflect.DeepEqual(page.RecordRange, []int{1, 1}) ||
		len(page.Records) != 1 {
		t.Fatalf("page %+v", page)
	}
	wantTransaction(t, "listed", page.Records[0], sdk.Transaction{Idx: "PH3QcLWYyry9tDz82Ny6z7", Type: walletType, State: partially,
		Amount: 1000, FeeAmount: 30, Refunded: true, User: userOne, Merchant: demoShop}, [4]int{19, 21, 3, 104383000})
	if _, err := c.Transactions(ctx, sdk.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/v2/merchant-transaction/", "", "") // zero options are left out

	d, err := c.Transaction(ctx, "PH3QcLWYyry9tDz82Ny6z7")
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/v2/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/", "", "")
	wantTransaction(t, "detail", d.Transaction, sdk.Transaction{Idx: "PH3QcLWYyry9tDz82Ny6z7", Type: walletType, State: partially,
		Amount: 1000, FeeAmount: 30, Refunded: true, User: userOne, Merchant: demoShop}, [4]int{19, 21, 3, 104383000})
	if !d.CanRefund || d.CanComplete || !reflect.DeepEqual(d.Meta, &sdk.Meta{ProductIdentity: "book-1", ProductName: "A book"}) ||
		len(d.ChildTransactions) != 1 {
		t.Fatalf("detail %+v", d)
	}
	fee := d.ChildTransactions[0]
	wantTransaction(t, "fee", fee.Transaction, sdk.Transaction{Idx: "5L4LQDkiNjVAHJoX53Chfj", Type: sdk.Type{Idx: "YpwbDVqAnH42odGZmT5vZ8", Name: "Fee"},
		State: completed, Amount: 30, User: demoShop, Merchant: walletParty}, [4]int{19, 21, 3, 308639000})
	if fee.CanRefund || fee.Meta != nil || fee.ChildTransactions == nil || len(fee.ChildTransactions) != 0 {
		t.Errorf("fee %+v", fee)
	}
}

func TestWebhookEndpoints(t *testing.T) {
	f, c := startFake(t, map[string][]answer{
		"POST /api/thaili/webhooks/":                                          {{201, webhookCreatedBody}, {400, webhookInvalidBody}},
		"GET /api/thaili/webhooks/":                                           {{200, webhookListBody}, {200, webhookListEmptyBody}},
		"DELETE /api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/":                 {{200, webhookDeletedBody}, {404, notFoundBody}},
		"GET /api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/deliveries/":         {{200, deliveriesBody}, {404, notFoundBody}},
		"POST /api/thaili/webhooks/deliveries/afkN299TNtvnm9cvjtqwLa/replay/": ok(replayedBody),
	})
	// None of these calls takes an idempotency key.
	ctx := sdk.WithIdempotencyKey(context.Background(), "k")
	noKey := func(what string) {
		t.Helper()
		if f.last(t).Header.Get("Idempotency-Key") != "" {
			t.Errorf("%s sent an Idempotency-Key", what)
		}
	}

	created, err := c.CreateWebhookEndpoint(ctx, "https://shop.example/hooks", sdk.EventPaymentCompleted, sdk.EventPaymentPartiallyRefunded)
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "POST", "/api/thaili/webhooks/", "", `{"url":"https://shop.example/hooks","events":["payment.completed","payment.partially_refunded"]}`)
	noKey("create")
	endpoint := sdk.WebhookEndpoint{Idx: "mwUsmEXzjtgZ7Ju8i2CdYz", URL: "https://shop.example/hooks",
		Events: []sdk.WebhookEvent{sdk.EventPaymentCompleted, sdk.EventPaymentPartiallyRefunded}}
	wantTime(t, "CreatedAt", created.CreatedAt, time.Date(2026, 12, 3, 19, 23, 23, 636248000, nepal))
	created.CreatedAt = time.Time{}
	if want := (sdk.CreatedWebhookEndpoint{WebhookEndpoint: endpoint, Secret: "whsec_8ad4351b3befb49c736b7e0b92c4c8146f993482aa19146c"}); !reflect.DeepEqual(created, want) {
		t.Errorf("created %+v, want %+v", created, want)
	}
	// No events are sent as an empty list, which the host refuses.
	_, err = c.CreateWebhookEndpoint(ctx, "ftp://x/")
	wantRequest(t, f.last(t), "POST", "/api/thaili/webhooks/", "", `{"url":"ftp://x/","events":[]}`)
	if e := apiError(t, "invalid endpoint", err); e.StatusCode != 400 || len(e.Fields["url"]) != 1 || len(e.Fields["events"]) != 1 {
		t.Errorf("invalid endpoint: %+v", e)
	}

	all := []sdk.WebhookEvent{sdk.EventPaymentCompleted, sdk.EventPaymentRefunded, sdk.EventPaymentPartiallyRefunded,
		sdk.EventPaymentExpired, sdk.EventPaymentCanceled, sdk.EventPaymentFailed}
	list, err := c.WebhookEndpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/thaili/webhooks/", "", "")
	noKey("list")
	if len(list.Endpoints) != 1 || !reflect.DeepEqual(list.Events, all) {
		t.Fatalf("list %+v", list)
	}
	wantTime(t, "listed CreatedAt", list.Endpoints[0].CreatedAt, time.Date(2026, 12, 3, 19, 23, 23, 636248000, nepal))
	list.Endpoints[0].CreatedAt = time.Time{}
	if !reflect.DeepEqual(list.Endpoints[0], endpoint) {
		t.Errorf("listed %+v, want %+v", list.Endpoints[0], endpoint)
	}

	ds, err := c.WebhookDeliveries(ctx, "mwUsmEXzjtgZ7Ju8i2CdYz")
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/deliveries/", "", "")
	if len(ds) != 2 {
		t.Fatalf("deliveries %+v", ds)
	}
	wantTime(t, "succeeded CreatedAt", ds[0].CreatedAt, time.Date(2026, 12, 3, 19, 23, 25, 955649000, nepal))
	wantTime(t, "succeeded UpdatedAt", ds[0].UpdatedAt, time.Date(2026, 12, 3, 19, 23, 26, 5147000, nepal))
	if ds[0].NextAttemptAt != nil {
		t.Errorf("a succeeded delivery has a next attempt: %v", ds[0].NextAttemptAt)
	}
	ds[0].CreatedAt, ds[0].UpdatedAt = time.Time{}, time.Time{}
	if want := (sdk.WebhookDelivery{Idx: "UzVhAfdTYCrLNPXfQG8Ro4", EventID: "c8gS2fWq8V2tTPLevVVfQa", EventType: sdk.EventPaymentPartiallyRefunded,
		Status: sdk.DeliverySucceeded, Attempts: 1, LastStatusCode: 200}); !reflect.DeepEqual(ds[0], want) {
		t.Errorf("succeeded delivery %+v, want %+v", ds[0], want)
	}
	if ds[1].NextAttemptAt == nil {
		t.Fatal("a pending delivery has no next attempt")
	}
	wantTime(t, "pending NextAttemptAt", *ds[1].NextAttemptAt, time.Date(2026, 12, 3, 19, 22, 18, 624469000, nepal))
	if ds[1].Status != sdk.DeliveryPending || ds[1].LastError != "connection refused" || ds[1].LastStatusCode != 0 || ds[1].EventType != sdk.EventPaymentCompleted {
		t.Errorf("pending delivery %+v", ds[1])
	}

	d, err := c.ReplayWebhookDelivery(ctx, "afkN299TNtvnm9cvjtqwLa")
	if err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "POST", "/api/thaili/webhooks/deliveries/afkN299TNtvnm9cvjtqwLa/replay/", "", "")
	noKey("replay")
	if d.Idx != "afkN299TNtvnm9cvjtqwLa" || d.Status != sdk.DeliveryPending || d.EventID != "iiJfVqj9eW7byBas9PSGQp" || d.NextAttemptAt == nil {
		t.Errorf("replayed %+v", d)
	}
	wantTime(t, "replayed NextAttemptAt", *d.NextAttemptAt, time.Date(2026, 12, 3, 19, 21, 20, 511452000, nepal))

	if err := c.DeleteWebhookEndpoint(ctx, "mwUsmEXzjtgZ7Ju8i2CdYz"); err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "DELETE", "/api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/", "", "")
	noKey("delete")
	if e := apiError(t, "deleted again", c.DeleteWebhookEndpoint(ctx, "mwUsmEXzjtgZ7Ju8i2CdYz")); e.StatusCode != 404 {
		t.Errorf("deleted again: %+v", e)
	}
	_, err = c.WebhookDeliveries(ctx, "mwUsmEXzjtgZ7Ju8i2CdYz")
	if e := apiError(t, "deleted endpoint's log", err); e.StatusCode != 404 {
		t.Errorf("deleted endpoint's log: %+v", e)
	}
	if list, err := c.WebhookEndpoints(ctx); err != nil || list.Endpoints == nil || len(list.Endpoints) != 0 {
		t.Errorf("empty list %+v, %v", list, err)
	}
}

// TestMalformedTimestamps: a timestamp that does not parse is an error
// from the call, which still returns the rest of the answer.
func TestMalformedTimestamps(t *testing.T) {
	badInitiate := strings.Replace(initiatedBody, `"2026-12-03T19:51:02.925304+05:45"`, `"2026-12-03 19:51"`, 1)
	numberInitiate := strings.Replace(initiatedBody, `"2026-12-03T19:51:02.925304+05:45"`, `1796306462`, 1)
	nullInitiate := strings.Replace(initiatedBody, `"2026-12-03T19:51:02.925304+05:45"`, `null`, 1)
	badList := strings.Replace(listBody, `"2026-12-03T19:21:03.104383+05:45"`, `"yesterday"`, 1)
	badDetail := strings.Replace(strings.Replace(detailBody, `"2026-12-03T19:21:03.104383+05:45"`, `""`, 1),
		`"2026-12-03T19:21:03.308639+05:45"`, `"2026-13-03T19:21:03+05:45"`, 1)
	badDeliveries := strings.Replace(deliveriesBody, `"2026-12-03T19:22:18.624469+05:45"`, `"soon"`, 1)
	_, c := startFake(t, map[string][]answer{
		"POST /api/v2/epayment/initiate/":                             {{200, badInitiate}, {200, numberInitiate}, {200, nullInitiate}},
		"GET /api/v2/merchant-transaction/":                           ok(badList),
		"GET /api/v2/merchant-transaction/PH3QcLWYyry9tDz82Ny6z7/":    ok(badDetail),
		"GET /api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/deliveries/": ok(badDeliveries),
	})
	ctx := context.Background()
	wantErr := func(what string, err error, msg string) {
		t.Helper()
		if !errors.Is(err, sdk.ErrTimestamp) || err.Error() != msg {
			t.Errorf("%s: err = %v, want %q", what, err, msg)
		}
	}

	for _, c2 := range []struct{ what, msg string }{
		{"text", `sdk: malformed timestamp in the HTTP 200 response: expires_at "2026-12-03 19:51"`},
		{"number", `sdk: malformed timestamp in the HTTP 200 response: expires_at 1796306462`},
	} {
		p, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{Amount: 1300})
		wantErr(c2.what, err, c2.msg)
		// The payment was created: the answer says which.
		if p.Pidx != "nZLuE7rjkjEvW74vcHVvcR" || !strings.HasPrefix(p.PaymentURL, "http://127.0.0.1:8000/?pidx=") || p.ExpiresIn != 1800 || !p.ExpiresAt.IsZero() {
			t.Errorf("%s: answer %+v", c2.what, p)
		}
	}
	// null is no time, as for time.Time.
	if p, err := c.InitiateEPayment(ctx, sdk.EPaymentRequest{Amount: 1300}); err != nil || !p.ExpiresAt.IsZero() || p.Pidx == "" {
		t.Errorf("null expires_at: %+v, %v", p, err)
	}

	page, err := c.Transactions(ctx, sdk.ListOptions{})
	wantErr("list", err, `sdk: malformed timestamp in the HTTP 200 response: created_on "yesterday"`)
	if len(page.Records) != 1 || page.Records[0].Idx != "PH3QcLWYyry9tDz82Ny6z7" || !page.Records[0].CreatedOn.IsZero() || page.TotalRecords != 2 {
		t.Errorf("list answer %+v", page)
	}

	d, err := c.Transaction(ctx, "PH3QcLWYyry9tDz82Ny6z7")
	wantErr("detail", err, `sdk: malformed timestamp in the HTTP 200 response: created_on "" (and 1 more)`)
	if len(d.ChildTransactions) != 1 || d.ChildTransactions[0].Amount != 30 || !d.CreatedOn.IsZero() || !d.ChildTransactions[0].CreatedOn.IsZero() || !d.CanRefund {
		t.Errorf("detail answer %+v", d)
	}

	ds, err := c.WebhookDeliveries(ctx, "mwUsmEXzjtgZ7Ju8i2CdYz")
	wantErr("deliveries", err, `sdk: malformed timestamp in the HTTP 200 response: next_attempt_at "soon"`)
	if len(ds) != 2 || ds[1].NextAttemptAt != nil || ds[1].Status != sdk.DeliveryPending || ds[1].CreatedAt.IsZero() {
		t.Errorf("deliveries answer %+v", ds)
	}
}

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		status               int
		body                 string
		detail, key, message string
		fields               map[string][]string
	}{
		{401, invalidKeyBody, "Invalid token.", "", "sdk: HTTP 401: Invalid token.", nil},
		{400, amountMismatchBody, "", "validation_error", "sdk: HTTP 400; amount: Amount does not match the transaction amount.",
			map[string][]string{"amount": {"Amount does not match the transaction amount."}}},
		{400, `{"detail":"Mobile or pin invalid.","error_key":"validation_error","tries_remaining":"2"}`, "Mobile or pin invalid.",
			"validation_error", "sdk: HTTP 400: Mobile or pin invalid.", nil},
		{400, webhookInvalidBody, "", "validation_error", "sdk: HTTP 400; events: Choose one or more of: payment.completed, payment.refunded, " +
			"payment.partially_refunded, payment.expired, payment.canceled, payment.failed.; url: Enter a valid http or https URL.",
			map[string][]string{"events": {"Choose one or more of: payment.completed, payment.refunded, payment.partially_refunded, " +
				"payment.expired, payment.canceled, payment.failed."}, "url": {"Enter a valid http or https URL."}}},
		{400, `{"non_field_errors":["a","b"],"token":"Invalid token."}`, "", "", "sdk: HTTP 400; non_field_errors: a b; token: Invalid token.",
			map[string][]string{"non_field_errors": {"a", "b"}, "token": {"Invalid token."}}},
		{422, idempotencyUsedBody, "Idempotency-Key was used with a different request.", "idempotency_error",
			"sdk: HTTP 422: Idempotency-Key was used with a different request.", nil},
		{404, notFoundBody, "Not found.", "validation_error", "sdk: HTTP 404: Not found.", nil},
		{502, `<html>Bad gateway</html>`, "", "", "sdk: HTTP 502 Bad Gateway", nil},
	}
	for _, c := range cases {
		_, client := startFake(t, map[string][]answer{"GET /api/v2/merchant-transaction/idx/": {{c.status, c.body}}})
		_, err := client.Transaction(context.Background(), "idx")
		e := apiError(t, c.body, err)
		if e.StatusCode != c.status || e.Detail != c.detail || e.ErrorKey != c.key || e.Error() != c.message || string(e.Body) != c.body {
			t.Errorf("%s: got %+v (%q)", c.body, e, e.Error())
		}
		if !reflect.DeepEqual(e.Fields, c.fields) {
			t.Errorf("%s: fields %v, want %v", c.body, e.Fields, c.fields)
		}
	}
}

// TestErrorPrefix: every error the package makes starts with "sdk: ",
// and wraps its cause.
func TestErrorPrefix(t *testing.T) {
	ctx := context.Background()
	_, fake := startFake(t, map[string][]answer{
		"GET /api/v2/merchant-transaction/":   ok(`{"records":`),
		"GET /api/v2/merchant-transaction/x/": {{500, `{"detail":"A server error occurred."}`}},
		"POST /api/v2/epayment/initiate/":     ok(strings.Replace(initiatedBody, "+05:45", "+0545", 1)),
	})
	closed := newFakeThaili(nil)
	closed.Close()
	canceled, cancel := context.WithCancel(ctx)
	cancel()

	cases := map[string]func() error{
		"API error":        func() error { _, err := fake.Transaction(ctx, "x"); return err },
		"malformed body":   func() error { _, err := fake.Transactions(ctx, sdk.ListOptions{}); return err },
		"malformed time":   func() error { _, err := fake.InitiateEPayment(ctx, sdk.EPaymentRequest{}); return err },
		"unreachable host": func() error { _, err := closed.client().Transactions(ctx, sdk.ListOptions{}); return err },
		"canceled":         func() error { _, err := fake.Lookup(canceled, "p"); return err },
		"bad base URL": func() error {
			_, err := sdk.New("http://[::1", secretKey).Transactions(ctx, sdk.ListOptions{})
			return err
		},
		"unencodable extra": func() error {
			_, err := fake.InitiateEPayment(ctx, sdk.EPaymentRequest{MerchantExtra: map[string]any{"merchant_f": func() {}}})
			return err
		},
		"webhook header":    func() error { return sdk.VerifyWebhook("s", "", nil, time.Now(), 0) },
		"webhook signature": func() error { return sdk.VerifyWebhook("s", "t=1,v1=00", nil, time.Unix(1, 0), 0) },
		"webhook time":      func() error { return sdk.VerifyWebhook("s", "t=1,v1=00", nil, time.Unix(1000, 0), 0) },
	}
	for name, call := range cases {
		err := call()
		if err == nil || !strings.HasPrefix(err.Error(), "sdk: ") {
			t.Errorf("%s: err = %v, want one starting with \"sdk: \"", name, err)
		}
	}
	if err := cases["canceled"](); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v does not wrap context.Canceled", err)
	}
	if err := cases["malformed body"](); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("malformed body: %v does not wrap the decoding error", err)
	}
}

func TestNewOptions(t *testing.T) {
	h := &http.Client{Timeout: time.Second}
	c := sdk.New("http://127.0.0.1:8000/", "sk", sdk.WithHTTPClient(h))
	if c.BaseURL != "http://127.0.0.1:8000/" || c.SecretKey != "sk" || c.HTTPClient != h {
		t.Errorf("client %+v", c)
	}
	// A trailing slash on the base URL is ignored; the zero HTTPClient
	// is http.DefaultClient.
	f := newFakeThaili(map[string][]answer{"GET /api/v2/merchant-transaction/": ok(listBody)})
	defer f.Close()
	c = &sdk.Client{BaseURL: f.URL + "/", SecretKey: secretKey}
	if _, err := c.Transactions(context.Background(), sdk.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	wantRequest(t, f.last(t), "GET", "/api/v2/merchant-transaction/", "", "")
}
