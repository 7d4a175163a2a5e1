package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/payment"
)

// redirectQuery returns the query of a 303 to the shop's return_url.
func redirectQuery(t *testing.T, r pageResponse) url.Values {
	t.Helper()
	if r.Status != 303 {
		t.Fatalf("status %d, want 303: %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "https://shop.example/return" {
		t.Fatalf("Location %q", r.Header.Get("Location"))
	}
	return loc.Query()
}

// checkSigned verifies q with the sandbox secret key, and that altering
// any signed field, the field list or the signature breaks it.
func checkSigned(t *testing.T, q url.Values, fields string) {
	t.Helper()
	if got := q.Get("signed_field_names"); got != fields {
		t.Fatalf("signed_field_names %q, want %q", got, fields)
	}
	if len(q.Get("signature")) != 64 {
		t.Fatalf("signature %q", q.Get("signature"))
	}
	if !payment.VerifyRedirect(testSK, q) {
		t.Fatalf("redirect does not verify: %v", q)
	}
	if payment.VerifyRedirect("test_secret_key_00000000000000000000000000000000", q) {
		t.Fatal("verifies with another key")
	}
	alter := func(what string, change func(v url.Values)) {
		t.Helper()
		v := url.Values{}
		for k, vs := range q {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		if payment.VerifyRedirect(testSK, v) {
			t.Errorf("still verifies after %s", what)
		}
	}
	for _, f := range strings.Split(fields, ",") {
		alter("changing "+f, func(v url.Values) { v.Set(f, v.Get(f)+"1") })
		alter("dropping "+f, func(v url.Values) { v.Del(f) })
		alter("repeating "+f, func(v url.Values) { v.Add(f, v.Get(f)) })
	}
	alter("shortening signed_field_names", func(v url.Values) {
		v.Set("signed_field_names", strings.TrimSuffix(fields, ","+fields[strings.LastIndex(fields, ",")+1:]))
	})
	alter("reordering signed_field_names", func(v url.Values) {
		names := strings.Split(fields, ",")
		names[0], names[1] = names[1], names[0]
		v.Set("signed_field_names", strings.Join(names, ","))
	})
	alter("changing the signature", func(v url.Values) {
		sig := []byte(v.Get("signature"))
		sig[0] = "01"[map[bool]int{true: 1}[sig[0] == '0']]
		v.Set("signature", string(sig))
	})
	alter("dropping the signature", func(v url.Values) { v.Del("signature") })
	// The shop's own parameters are not signed and may change.
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("order", "8")
	if !payment.VerifyRedirect(testSK, v) {
		t.Error("an unsigned parameter broke the signature")
	}
}

func TestSignedRedirects(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--sign-redirects")
	p := newPage(t, s)

	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	base := "/pay/" + pidx
	p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000003"}, "mpin": {"1111"}})
	r := p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {"1111"}})
	q := redirectQuery(t, r)
	if q.Get("status") != "Completed" || q.Get("pidx") != pidx || q.Get("order") != "7" {
		t.Fatalf("query %v", q)
	}
	checkSigned(t, q, "pidx,txnId,amount,total_amount,status,mobile,tidx,purchase_order_id,purchase_order_name,transaction_id")
	// The §5 parameters come first, exactly as unsigned; the signature last.
	loc := r.Header.Get("Location")
	if !strings.Contains(loc, "&transaction_id="+q.Get("transaction_id")+"&signature=") || !strings.HasSuffix(loc,
		"&signed_field_names=pidx%2CtxnId%2Camount%2Ctotal_amount%2Cstatus%2Cmobile%2Ctidx%2Cpurchase_order_id%2Cpurchase_order_name%2Ctransaction_id") {
		t.Fatalf("Location %q", loc)
	}
	// A repeated confirm redirects identically.
	if again := p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {"1111"}}); again.Header.Get("Location") != loc {
		t.Fatalf("re-confirm Location %q", again.Header.Get("Location"))
	}

	// Cancel is signed too; txnId is absent there, so it is not listed.
	pidx, path = initiateEPayment(t, s)
	token = csrf(t, p.get(path))
	q = redirectQuery(t, p.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {token}}))
	if q.Get("status") != "User canceled" || q.Get("transaction_id") != "" || q.Has("txnId") {
		t.Fatalf("cancel query %v", q)
	}
	checkSigned(t, q, "pidx,amount,total_amount,status,mobile,tidx,purchase_order_id,purchase_order_name,transaction_id")
}
