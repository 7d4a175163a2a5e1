package main

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLegacyPayment measures whole legacy payments (initiate,
// confirm, verify) over real HTTP against `thaili serve` on SQLite, with
// 8 x GOMAXPROCS client goroutines spread over the six sandbox payers
// (Rs 10 lakh each: 100000 payments of Rs 10).
func BenchmarkLegacyPayment(b *testing.B) {
	s := startServerDB(b, b.TempDir()+"/thaili.db", nil)
	payers := []string{"9800000000", "9800000001", "9800000002", "9800000003", "9800000004", "9800000005"}
	const amount = 1000
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, done atomic.Int64

	// Eight clients per CPU keep the server's group commit busy, as a
	// loaded server is; GOMAXPROCS clients would mostly wait on the network.
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mobile := payers[next.Add(1)%int64(len(payers))]
			if err := benchLegacyPayment(s, client, mobile, amount); err != "" {
				b.Error(err)
				return
			}
			done.Add(1)
		}
	})
	b.StopTimer()
	if done.Load() != int64(b.N) {
		b.Fatalf("%d of %d payments completed", done.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
	s.ledgerOK(b)
}

// benchLegacyPayment runs one payment and returns what went wrong, if anything.
func benchLegacyPayment(s *testServer, c *http.Client, mobile string, amount int) string {
	body := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	r, err := s.tryDo(c, "POST", "/api/v2/payment/initiate/", "", body(map[string]any{
		"public_key": testPK, "mobile": mobile, "transaction_pin": "1111", "amount": amount,
		"product_identity": "bench", "product_name": "Benchmark"}))
	if err != nil || r.Status != 200 {
		return "initiate: " + benchErrText(err, r)
	}
	token, _ := r.Body["token"].(string)
	r, err = s.tryDo(c, "POST", "/api/v2/payment/confirm/", "", body(map[string]any{
		"public_key": testPK, "token": token, "confirmation_code": "987654", "transaction_pin": "1111"}))
	if err != nil || r.Status != 200 {
		return "confirm: " + benchErrText(err, r)
	}
	r, err = s.tryDo(c, "POST", "/api/v2/payment/verify/", testSK, body(map[string]any{"token": token, "amount": amount}))
	if state, _ := r.Body["state"].(map[string]any); err != nil || r.Status != 200 || state["name"] != "Completed" {
		return "verify: " + benchErrText(err, r)
	}
	return ""
}

func benchErrText(err error, r response) string {
	if err != nil {
		return err.Error()
	}
	return r.Raw
}
