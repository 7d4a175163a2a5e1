package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/sdk"
)

// hookReceiver is a merchant's webhook endpoint: it records every request
// and fails the first failFirst of them with a 500.
type hookReceiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	got       []hookRequest
	failFirst int
}

type hookRequest struct {
	Header http.Header
	Body   []byte
	Event  map[string]any
	Status int
}

func newHookReceiver(t *testing.T, failFirst int) *hookReceiver {
	h := &hookReceiver{failFirst: failFirst}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev map[string]any
		json.Unmarshal(body, &ev)
		h.mu.Lock()
		status := 200
		if len(h.got) < h.failFirst {
			status = 500
		}
		h.got = append(h.got, hookRequest{Header: r.Header.Clone(), Body: body, Event: ev, Status: status})
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// waitFor polls until ok or fails the test after 15 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// event waits for an accepted request of type typ about payment idx.
func (h *hookReceiver) event(t *testing.T, typ, idx string) hookRequest {
	t.Helper()
	var found hookRequest
	waitFor(t, typ+" for "+idx, func() bool {
		for _, r := range h.requests() {
			data, _ := r.Event["data"].(map[string]any)
			if r.Event["type"] == typ && data["idx"] == idx && r.Status == 200 {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func registerHook(t *testing.T, s *testServer, u string, events ...string) (idx, secret string) {
	t.Helper()
	r := s.do(t, "POST", "/api/thaili/webhooks/", testSK, jsonBody(t, map[string]any{"url": u, "events": events}))
	mustStatus(t, r, 201)
	idx, _ = r.Body["idx"].(string)
	secret, _ = r.Body["secret"].(string)
	if idx == "" || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("register: %s", r.Raw)
	}
	return idx, secret
}

func TestWebhooksSignedDeliveryRetryReplay(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--webhooks-allow-private", "--webhook-interval", "50ms", "--webhook-backoff", "100ms")
	ok := newHookReceiver(t, 0)
	flaky := newHookReceiver(t, 2)
	_, okSecret := registerHook(t, s, ok.srv.URL+"/hooks", "payment.completed", "payment.refunded",
		"payment.partially_refunded", "payment.canceled", "payment.failed", "payment.expired")
	flakyIdx, _ := registerHook(t, s, flaky.srv.URL+"/flaky", "payment.completed")

	list := s.do(t, "GET", "/api/thaili/webhooks/", testSK, "")
	mustStatus(t, list, 200)
	if eps, _ := list.Body["endpoints"].([]any); len(eps) != 2 || strings.Contains(list.Raw, "whsec_") {
		t.Fatalf("list: %s", list.Raw)
	}

	// A legacy payment completes: both endpoints hear of it, signed.
	_, idx := s.pay(t, testPK, testSK, "9800000001", 2000)
	got := ok.event(t, "payment.completed", idx)
	if err := sdk.VerifyWebhook(okSecret, got.Header.Get("Thaili-Signature"), got.Body, time.Now(), 0); err != nil {
		t.Fatalf("signature: %v (%s)", err, got.Header.Get("Thaili-Signature"))
	}
	if err := sdk.VerifyWebhook("whsec_wrong", got.Header.Get("Thaili-Signature"), got.Body, time.Now(), 0); err == nil {
		t.Error("a wrong secret verified")
	}
	data := got.Event["data"].(map[string]any)
	if got.Header.Get("Content-Type") != "application/json" || got.Header.Get("Thaili-Event-Id") != got.Event["id"] ||
		got.Event["book"] != "test" || data["amount"] != 2000.0 || data["fee_amount"] != 60.0 || data["state"] != "Completed" {
		t.Errorf("delivery: %v %s", got.Header, got.Body)
	}

	// The flaky endpoint fails twice, then succeeds; the log shows it.
	flaky.event(t, "payment.completed", idx)
	var delivery map[string]any
	waitFor(t, "the flaky delivery to succeed", func() bool {
		r := s.do(t, "GET", "/api/thaili/webhooks/"+flakyIdx+"/deliveries/", testSK, "")
		ds, _ := r.Body["deliveries"].([]any)
		if len(ds) != 1 {
			return false
		}
		delivery = ds[0].(map[string]any)
		return delivery["status"] == "succeeded"
	})
	if fmt.Sprint(delivery["attempts"]) != "3" || fmt.Sprint(delivery["last_status_code"]) != "200" || delivery["event_id"] != got.Event["id"] ||
		delivery["event_type"] != "payment.completed" || delivery["next_attempt_at"] != nil {
		t.Errorf("delivery log: %v (event %v)", delivery, got.Event["id"])
	}
	if n := len(flaky.requests()); n != 3 {
		t.Errorf("flaky endpoint got %d requests, want 3", n)
	}

	// Replay sends the same event again.
	r := s.do(t, "POST", "/api/thaili/webhooks/deliveries/"+delivery["idx"].(string)+"/replay/", testSK, "")
	mustStatus(t, r, 200)
	if r.Body["status"] != "pending" {
		t.Errorf("replay: %s", r.Raw)
	}
	waitFor(t, "the replay", func() bool { return len(flaky.requests()) == 4 })
	if again := flaky.requests()[3]; again.Header.Get("Thaili-Event-Id") != got.Event["id"] {
		t.Errorf("replayed event id %q, want %v", again.Header.Get("Thaili-Event-Id"), got.Event["id"])
	}
	mustStatus(t, s.do(t, "POST", "/api/thaili/webhooks/deliveries/bZQLD9wRVWo4CdESSfuSsB/replay/", testSK, ""), 404)

	// Refunds: partial, then the rest.
	mustStatus(t, s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, `{"amount":500}`), 200)
	part := ok.event(t, "payment.partially_refunded", idx)
	if d := part.Event["data"].(map[string]any); d["refunded_amount"] != 500.0 || d["state"] != "Partially refunded" {
		t.Errorf("partial refund event: %s", part.Body)
	}
	mustStatus(t, s.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, ""), 200)
	full := ok.event(t, "payment.refunded", idx)
	if d := full.Event["data"].(map[string]any); d["refunded_amount"] != 2000.0 || d["state"] != "Refunded" {
		t.Errorf("refund event: %s", full.Body)
	}

	// An ePayment canceled on the hosted page.
	pidx, pagePath := initiateEPayment(t, s)
	p := newPage(t, s)
	if pr := p.post("/pay/"+pidx+"/cancel", url.Values{"csrf": {csrf(t, p.get(pagePath))}}); pr.Status != 303 {
		t.Fatalf("cancel: %d", pr.Status)
	}
	look := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	tidx, _ := look.Body["transaction_id"].(string)
	if tidx == "" {
		// An unpaid link has no transaction id in lookup; find the event by pidx.
		waitFor(t, "payment.canceled", func() bool {
			for _, r := range ok.requests() {
				if d, _ := r.Event["data"].(map[string]any); r.Event["type"] == "payment.canceled" && d["pidx"] == pidx {
					return true
				}
			}
			return false
		})
	} else {
		ok.event(t, "payment.canceled", tidx)
	}

	// Deleting an endpoint stops deliveries to it.
	mustStatus(t, s.do(t, "DELETE", "/api/thaili/webhooks/"+flakyIdx+"/", testSK, ""), 200)
	mustStatus(t, s.do(t, "DELETE", "/api/thaili/webhooks/"+flakyIdx+"/", testSK, ""), 404)
	mustStatus(t, s.do(t, "GET", "/api/thaili/webhooks/"+flakyIdx+"/deliveries/", testSK, ""), 404)
	_, idx2 := s.pay(t, testPK, testSK, "9800000002", 1500)
	ok.event(t, "payment.completed", idx2)
	time.Sleep(200 * time.Millisecond)
	if n := len(flaky.requests()); n != 4 {
		t.Errorf("a deleted endpoint got %d requests, want 4", n)
	}
	s.ledgerOK(t)
}

func TestWebhooksRefusePrivateTargets(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, u := range []string{"http://169.254.169.254/", "http://10.0.0.1/", "http://127.0.0.1:8080/hook", "http://[fe80::1]/",
		"http://[fd00:ec2::254]/", "http://localhost/hook", "http://192.168.1.5/",
		// IPv6 forms that embed a blocked IPv4 address: NAT64, 6to4,
		// IPv4-compatible; and Teredo, whose embedded address is hidden.
		"http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b::10.0.0.1]/", "http://[2002:7f00:1::1]/", "http://[::127.0.0.1]/",
		"http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "http://198.18.0.1/", "http://255.255.255.255/"} {
		r := s.do(t, "POST", "/api/thaili/webhooks/", testSK, jsonBody(t, map[string]any{"url": u, "events": []string{"payment.completed"}}))
		if urlErrs, _ := r.Body["url"].([]any); r.Status != 400 || len(urlErrs) != 1 || r.Body["error_key"] != "validation_error" ||
			!strings.Contains(fmt.Sprint(urlErrs[0]), "private, local or reserved address") ||
			!strings.Contains(fmt.Sprint(urlErrs[0]), "--webhooks-allow-private") {
			t.Errorf("%s: %d %s; want 400 saying the address is private and naming --webhooks-allow-private", u, r.Status, r.Raw)
		}
	}
	for _, body := range []map[string]any{
		{"url": "ftp://example.com/", "events": []string{"payment.completed"}},
		{"url": "/relative", "events": []string{"payment.completed"}},
		{"url": "https://93.184.216.34/hook", "events": []string{}},
		{"url": "https://93.184.216.34/hook", "events": []string{"payment.bogus"}},
		{"url": "https://93.184.216.34/hook"},
	} {
		if r := s.do(t, "POST", "/api/thaili/webhooks/", testSK, jsonBody(t, body)); r.Status != 400 {
			t.Errorf("%v: %d %s", body, r.Status, r.Raw)
		}
	}
	r := s.do(t, "POST", "/api/thaili/webhooks/", testSK, `{"url":"https://93.184.216.34/hook","events":["payment.completed"]}`)
	mustStatus(t, r, 201)
	// NAT64 of a public address reaches a public host: allowed.
	mustStatus(t, s.do(t, "POST", "/api/thaili/webhooks/", testSK, `{"url":"https://[64:ff9b::5db8:d822]/hook","events":["payment.completed"]}`), 201)
	mustStatus(t, s.do(t, "GET", "/api/thaili/webhooks/", "", ""), 401)
}
