package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// keyCaller authenticates a "Key <key>" header holding a secret key or,
// where Khalti's SDKs send one (lookup, lookup-sdk, detail), a public key.
func (s *Server) keyCaller(r *http.Request, kinds ...store.KeyKind) (identity.Caller, error) {
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) == 0 || !strings.EqualFold(parts[0], "key") {
		return identity.Caller{}, fault.Unauthorized(fault.MsgNoCredentials)
	}
	switch {
	case len(parts) == 1:
		return identity.Caller{}, fault.Unauthorized(fault.MsgTokenNoCredentials)
	case len(parts) > 2:
		return identity.Caller{}, fault.Unauthorized(fault.MsgTokenSpaces)
	}
	var err error
	for _, kind := range kinds {
		var c identity.Caller
		if c, err = s.id.Authenticate(r.Context(), parts[1], kind); err == nil {
			return c, nil
		}
	}
	return identity.Caller{}, err
}

// validURL reports whether raw is an absolute http(s) URL, as DRF's
// URLField requires.
func validURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// handleEPaymentInitiate is POST /api/v2/epayment/initiate/ (docs/khalti.md §3.1).
func (s *Server) handleEPaymentInitiate(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.keyCaller(r, store.SecretKey)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := payment.EPaymentInput{
		ReturnURL:         f.str("return_url", true),
		WebsiteURL:        f.str("website_url", true),
		Amount:            f.amount("amount"),
		PurchaseOrderID:   f.str("purchase_order_id", true),
		PurchaseOrderName: f.str("purchase_order_name", true),
		Details:           map[string]any{},
		Extra:             f.extras(),
	}
	for _, field := range []string{"return_url", "website_url"} {
		v := map[string]string{"return_url": in.ReturnURL, "website_url": in.WebsiteURL}[field]
		if v != "" && len(f.errs[field]) == 0 && !validURL(v) {
			f.fail(field, "Enter a valid URL.")
		}
	}
	if v, ok := f.values["customer_info"]; ok && v != nil {
		if _, isObject := v.(map[string]any); !isObject {
			f.fail("customer_info", "Expected a dictionary of items.")
		} else {
			in.Details["customer_info"] = v
		}
	}
	if v, ok := f.values["amount_breakdown"]; ok && v != nil {
		items, isList := v.([]any)
		if !isList {
			f.fail("amount_breakdown", "Expected a list of items.")
		}
		in.Breakdown = []money.Paisa{}
		for _, item := range items {
			obj, isObject := item.(map[string]any)
			if !isObject {
				f.fail("amount_breakdown", "Each item must be an object with label and amount.")
				break
			}
			a, err := money.Parse(obj["amount"])
			if err != nil {
				f.fail("amount_breakdown", err.Error())
				break
			}
			in.Breakdown = append(in.Breakdown, a)
		}
		in.Details["amount_breakdown"] = v
	}
	if v, ok := f.values["product_details"]; ok && v != nil {
		if _, isList := v.([]any); !isList {
			f.fail("product_details", "Expected a list of items.")
		}
		in.Details["product_details"] = v
	}
	if v, ok := f.values["modes"]; ok && v != nil {
		list, isList := v.([]any)
		for _, m := range list {
			if _, isString := m.(string); !isString {
				isList = false
			}
		}
		if !isList {
			f.fail("modes", "Expected a list of strings.")
		}
		in.Details["modes"] = v
	}
	if bank := f.str("bank", false); bank != "" {
		in.Details["bank"] = bank
	}
	if v, ok := f.values["ttl"]; ok && v != nil && v != "" {
		ttl, err := money.Parse(v) // an integer, by the same rules as amounts
		if err != nil {
			f.fail("ttl", fault.MsgNotInteger)
		} else {
			in.TTL = time.Duration(ttl) * time.Second
			if ttl < 1 {
				in.TTL = -1 // refused by the service's range check
			}
		}
	}
	if err := f.err(); err != nil {
		return err
	}
	p, err := s.svc.InitiateEPayment(r.Context(), caller, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"pidx":        p.Token,
		"payment_url": payment.PaymentURL(s.publicURL, p),
		"expires_at":  timestamp(p.ExpiresAt),
		"expires_in":  int64(p.ExpiresAt.Sub(p.CreatedAt).Seconds()),
	})
	return nil
}

// lookupStatus is an ePayment's status word (docs/khalti.md §3.5) and whether
// lookup answers it with HTTP 400, as Khalti does for failed links.
func lookupStatus(st store.State) (string, bool) {
	switch st {
	case store.Expired, store.UserCanceled:
		return string(st), true
	case store.Disabled, store.Failed:
		return "Failed", true
	}
	return string(st), false
}

// lookupBody is the lookup response of docs/khalti.md §3.4.
func lookupBody(t payment.Transaction) (map[string]any, int) {
	p := t.Payment
	status, failed := lookupStatus(p.State)
	var txn any
	if captured(p.State) {
		txn = p.Idx
	}
	code := http.StatusOK
	if failed {
		code = http.StatusBadRequest
	}
	return map[string]any{
		"pidx": p.Token, "total_amount": int64(p.Amount), "status": status,
		"transaction_id": txn, "fee": int64(feeCharged(p)), "refunded": p.Refunded > 0,
	}, code
}

// lookupRequest authenticates a lookup-family request (a secret or a
// public key: Khalti's SDKs send either) and finds the ePayment whose
// pidx its body names.
func (s *Server) lookupRequest(r *http.Request) (payment.Transaction, error) {
	caller, err := s.keyCaller(r, store.SecretKey, store.PublicKey)
	if err != nil {
		return payment.Transaction{}, err
	}
	f, err := readForm(r)
	if err != nil {
		return payment.Transaction{}, err
	}
	pidx := f.str("pidx", true)
	if err := f.err(); err != nil {
		return payment.Transaction{}, err
	}
	return s.svc.LookupEPayment(r.Context(), caller, pidx)
}

// handleEPaymentLookup is POST /api/v2/epayment/lookup/ (docs/khalti.md §3.4).
func (s *Server) handleEPaymentLookup(w http.ResponseWriter, r *http.Request) error {
	t, err := s.lookupRequest(r)
	if err != nil {
		return err
	}
	body, code := lookupBody(t)
	writeJSON(w, code, body)
	return nil
}

// handleEPaymentLookupSDK is POST /api/v2/epayment/lookup-sdk/ (spec
// §6.2): lookup plus the order and the merchant extras, with the strict
// types the mobile SDKs cast to.
func (s *Server) handleEPaymentLookupSDK(w http.ResponseWriter, r *http.Request) error {
	t, err := s.lookupRequest(r)
	if err != nil {
		return err
	}
	body, code := lookupBody(t)
	body["purchase_order_id"] = t.Payment.PurchaseOrderID
	body["purchase_order_name"] = t.Payment.PurchaseOrderName
	body["extra_merchant_params"] = extras(t.Payment)
	writeJSON(w, code, body)
	return nil
}

// extras returns a payment's merchant_* fields as an object, or nil.
func extras(p store.Payment) any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.Extra))
	dec.UseNumber()
	if len(p.Extra) == 0 || dec.Decode(&m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

// handleEPaymentDetail is POST /api/v2/epayment/detail/ (docs/khalti.md §3.4); the
// SDKs read only return_url.
func (s *Server) handleEPaymentDetail(w http.ResponseWriter, r *http.Request) error {
	t, err := s.lookupRequest(r)
	if err != nil {
		return err
	}
	status, _ := lookupStatus(t.Payment.State)
	writeJSON(w, http.StatusOK, map[string]any{
		"pidx": t.Payment.Token, "return_url": t.Payment.ReturnURL, "website_url": t.Payment.WebsiteURL,
		"total_amount": int64(t.Payment.Amount), "status": status,
		"purchase_order_id": t.Payment.PurchaseOrderID, "purchase_order_name": t.Payment.PurchaseOrderName,
		"expires_at": timestamp(t.Payment.ExpiresAt),
	})
	return nil
}
