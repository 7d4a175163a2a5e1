package main

// Tenant and book isolation: no credential can see or touch another
// merchant's payments, or its own merchant's payments in the other book.
// Every foreign id must get exactly the answer a nonexistent id gets.

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
)

// isoCred is one merchant's keys in one book.
type isoCred struct {
	name   string
	pk, sk string
}

// isoPayment is a payment made for one isoCred.
type isoPayment struct {
	name       string
	owner      string // isoCred.name
	token, idx string
	amount     int
	code       string // confirmation code
	completed  bool   // else Initiated
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const livePayer = "9800000002"
	s.cliOK(t, "consumer", "topup", "--mobile", livePayer, "--amount", "500000", "--book", "live")

	aTest := isoCred{"A-test", testPK, testSK}
	var payments []isoPayment
	completed := func(c isoCred, mobile string, amount int) {
		t.Helper()
		token, idx := s.pay(t, c.pk, c.sk, mobile, amount)
		payments = append(payments, isoPayment{c.name + " completed", c.name, token, idx, amount, "987654", true})
	}
	// Initiated payments are probed too: a leak would let a foreign key
	// confirm or refund them, or reveal them.
	initiated := func(c isoCred, mobile string, amount int) {
		t.Helper()
		token := s.initiate(t, c.pk, mobile, amount)
		payments = append(payments, isoPayment{c.name + " initiated", c.name, token, "", amount, "987654", false})
	}

	completed(aTest, "9800000001", 1000) // A goes live
	alpk, alsk := s.liveKeys(t, demoMerchantEmail)
	aLive := isoCred{"A-live", alpk, alsk}
	{
		token := s.initiate(t, aLive.pk, livePayer, 1100)
		code := s.lastOTP(t, livePayer)
		c := s.confirmWith(t, aLive.pk, token, code, "1111")
		mustStatus(t, c, 200)
		mustStatus(t, s.verify(t, aLive.sk, token, 1100), 200)
		payments = append(payments, isoPayment{"A-live completed", aLive.name, token, c.Body["idx"].(string), 1100, code, true})
	}
	_, bpk, bsk := s.createMerchant(t, "Other Shop", "b@example.com", "--kyc", "approved")
	bTest := isoCred{"B-test", bpk, bsk}
	completed(bTest, "9800000003", 1200) // B goes live too
	blpk, blsk := s.liveKeys(t, "b@example.com")
	bLive := isoCred{"B-live", blpk, blsk} // owns nothing

	initiated(aTest, "9800000001", 1300)
	{
		token := s.initiate(t, aLive.pk, livePayer, 1400)
		payments = append(payments, isoPayment{"A-live initiated", aLive.name, token, "", 1400, s.lastOTP(t, livePayer), false})
	}
	initiated(bTest, "9800000004", 1500)

	creds := []isoCred{aTest, aLive, bTest, bLive}
	credByName := map[string]isoCred{}
	for _, c := range creds {
		credByName[c.name] = c
	}
	// An initiated payment's idx is known only to its owner, from the list.
	for i, p := range payments {
		if p.idx != "" {
			continue
		}
		r := s.list(t, credByName[p.owner].sk, "state=Initiated&page_size=100")
		for _, rec := range r.Body["records"].([]any) {
			m := rec.(map[string]any)
			if fmt.Sprint(m["amount"]) == fmt.Sprint(p.amount) {
				payments[i].idx = m["idx"].(string)
			}
		}
		if payments[i].idx == "" {
			t.Fatalf("%s not in its owner's list: %s", p.name, r.Raw)
		}
	}

	aBefore, aLiveBefore := s.merchantBalances(t, demoMerchantEmail)
	bBefore, bLiveBefore := s.merchantBalances(t, "b@example.com")
	if aBefore != 10_000_970 || aLiveBefore != 1067 || bBefore != 1164 || bLiveBefore != 0 {
		t.Fatalf("balances before: A %d/%d, B %d/%d", aBefore, aLiveBefore, bBefore, bLiveBefore)
	}

	byToken := func(p isoPayment) string { return p.token }
	byIdx := func(p isoPayment) string { return p.idx }
	probes := []struct {
		name   string
		id     func(isoPayment) string
		req    func(id string, amount int) (method, path, body string)
		status int
		body   string
	}{
		{"verify", byToken, func(id string, amount int) (string, string, string) {
			return "POST", "/api/v2/payment/verify/", fmt.Sprintf(`{"token":%q,"amount":%d}`, id, amount)
		}, 400, bodyInvalidToken},
		{"verify form", byToken, func(id string, amount int) (string, string, string) {
			return "POST", "/api/payment/verify", fmt.Sprintf("token=%s&amount=%d", id, amount)
		}, 400, bodyInvalidToken},
		{"status by token", byToken, func(id string, amount int) (string, string, string) {
			return "GET", fmt.Sprintf("/api/v2/payment/status/?token=%s&amount=%d", id, amount), ""
		}, 200, bodyStatusNotFound},
		{"status by idx", byIdx, func(id string, amount int) (string, string, string) {
			return "GET", fmt.Sprintf("/api/v2/payment/status/?token=%s&amount=%d", id, amount), ""
		}, 200, bodyStatusNotFound},
		{"detail", byIdx, func(id string, amount int) (string, string, string) {
			return "GET", "/api/v2/merchant-transaction/" + id + "/", ""
		}, 404, bodyNotFound},
		{"full refund", byIdx, func(id string, amount int) (string, string, string) {
			return "POST", "/api/merchant-transaction/" + id + "/refund/", ""
		}, 404, bodyNotFound},
		{"partial refund", byIdx, func(id string, amount int) (string, string, string) {
			return "POST", "/api/merchant-transaction/" + id + "/refund/", `{"amount":100}`
		}, 404, bodyNotFound},
		{"epayment full refund", byIdx, func(id string, amount int) (string, string, string) {
			return "POST", "/api/v2/epayment/merchant-transaction/" + id + "/refund/", ""
		}, 404, bodyNotFound},
		{"epayment partial refund", byIdx, func(id string, amount int) (string, string, string) {
			return "POST", "/api/v2/epayment/merchant-transaction/" + id + "/refund/", "amount=100"
		}, 404, bodyNotFound},
	}

	for _, pr := range probes {
		for _, c := range creds {
			method, path, body := pr.req(unknownIdx, 1000)
			absent := s.do(t, method, path, c.sk, body)
			if !checkBody(t, pr.name+" of a nonexistent id with "+c.name, absent, pr.status, pr.body) {
				continue
			}
			for _, p := range payments {
				if p.owner == c.name {
					continue
				}
				method, path, body := pr.req(pr.id(p), p.amount)
				checkBody(t, fmt.Sprintf("%s of %s with %s", pr.name, p.name, c.name), s.do(t, method, path, c.sk, body), absent.Status, absent.Raw)
			}
		}
	}

	// Confirm with each public key: a foreign token is an invalid token,
	// even with the right code and PIN.
	for _, c := range creds {
		absent := s.confirmWith(t, c.pk, unknownIdx, "987654", "1111")
		if !checkBody(t, "confirm of a nonexistent token with "+c.name, absent, 400, bodyInvalidToken) {
			continue
		}
		for _, p := range payments {
			if p.owner != c.name {
				checkBody(t, fmt.Sprintf("confirm of %s with %s", p.name, c.name), s.confirmWith(t, c.pk, p.token, p.code, "1111"), absent.Status, absent.Raw)
			}
		}
	}

	// Each secret key lists exactly its own payments.
	for _, c := range creds {
		want := []string{}
		for _, p := range payments {
			if p.owner == c.name {
				want = append(want, p.idx)
			}
		}
		got := listIdxs(t, s.list(t, c.sk, "page_size=100"))
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s lists %v, want %v", c.name, got, want)
		}
	}

	// Nothing moved.
	aAfter, aLiveAfter := s.merchantBalances(t, demoMerchantEmail)
	bAfter, bLiveAfter := s.merchantBalances(t, "b@example.com")
	if aAfter != aBefore || aLiveAfter != aLiveBefore || bAfter != bBefore || bLiveAfter != bLiveBefore {
		t.Errorf("balances changed: A %d/%d -> %d/%d, B %d/%d -> %d/%d",
			aBefore, aLiveBefore, aAfter, aLiveAfter, bBefore, bLiveBefore, bAfter, bLiveAfter)
	}
	s.ledgerOK(t)

	// The owners still see every payment as it was, and the initiated ones
	// (no tries used up by the foreign confirms) still complete.
	for _, p := range payments {
		c := credByName[p.owner]
		want := bodyStatusComplete
		if !p.completed {
			want = statusBody(true, "Transaciton initiated.", "Initiated")
		}
		checkBody(t, "owner status of "+p.name, s.status(t, c.sk, p.token, p.amount), 200, want)
		checkBody(t, "owner status by idx of "+p.name, s.status(t, c.sk, p.idx, p.amount), 200, want)
		if d := s.do(t, "GET", "/api/v2/merchant-transaction/"+p.idx+"/", c.sk, ""); d.Status != 200 || d.Body["idx"] != p.idx {
			t.Errorf("owner detail of %s: %d %s", p.name, d.Status, d.Raw)
		}
		if !p.completed {
			r := s.confirmWith(t, c.pk, p.token, p.code, "1111")
			if r.Status != 200 || r.Body["idx"] != p.idx {
				t.Errorf("owner confirm of %s: %d %s", p.name, r.Status, r.Raw)
				continue
			}
		}
		if r := s.verify(t, c.sk, p.token, p.amount); r.Status != 200 || r.Body["idx"] != p.idx {
			t.Errorf("owner verify of %s: %d %s", p.name, r.Status, r.Raw)
		}
	}
	s.ledgerOK(t)
}
