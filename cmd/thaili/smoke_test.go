package main

import "testing"

func TestSmokeLegacyPayment(t *testing.T) {
	s := startServer(t)
	token, idx := s.pay(t, testPK, testSK, "9800000001", 1000)
	if token == "" || idx == "" {
		t.Fatal("empty token or idx")
	}
	r := s.do(t, "GET", "/api/v2/payment/status/?token="+token+"&amount=1000", testSK, "")
	mustStatus(t, r, 200)
	if r.Body["state"] != "Complete" {
		t.Fatalf("status body %s", r.Raw)
	}
	s.ledgerOK(t)
}
