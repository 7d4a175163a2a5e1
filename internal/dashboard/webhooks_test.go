package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

const hookIdx = "HookIdx1aaaaaaaaaaaaaa"

// hookHarness is the pages with one registered test-book endpoint.
func hookHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, Options{})
	h.want("register", h.post("/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"https://shop.example/hook"},
		"events": {"payment.completed"}}), http.StatusOK, "whsec_secret")
	return h
}

// The endpoints page and the delivery log offer "Send test event", which
// posts with the session's CSRF token and answers with the log, the
// result in its flash and the delivery's payload and response in it.
func TestSendTestEventPage(t *testing.T) {
	h := hookHarness(t)
	h.want("endpoints", h.get("/dashboard/webhooks/"), http.StatusOK,
		`action="/dashboard/webhooks/`+hookIdx+`/test"`, `id="test-`+hookIdx+`"`, "Send test event")
	h.want("log", h.get("/dashboard/webhooks/"+hookIdx+"/"), http.StatusOK, `id="send-test"`, `value="mac(session:good)"`)

	h.f.testAnswer = store.WebhookDelivery{Status: store.DeliverySucceeded, LastStatusCode: 200, ResponseBody: `<b>thanks</b>`}
	pg := h.post("/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}})
	h.want("sent", pg, http.StatusOK, "The test event was delivered: the endpoint answered HTTP 200.",
		`id="payload-TestDelivery1aaaaaaaaa"`, "<summary>Payload sent</summary>", "<summary>Response: HTTP 200</summary>",
		// The payload indented; both escaped.
		"{\n  &#34;id&#34;: &#34;TestEvent&#34;,\n  &#34;type&#34;: &#34;webhook.test&#34;", "&lt;b&gt;thanks&lt;/b&gt;")
	if strings.Contains(pg.Body, "<b>thanks</b>") || strings.Contains(pg.Body, "Truncated") {
		t.Errorf("the response is not escaped, or marked truncated:\n%s", pg.Body)
	}
	if len(h.f.tested) != 1 || h.f.tested[0] != hookIdx {
		t.Errorf("test events sent: %v", h.f.tested)
	}

	h.f.testAnswer = store.WebhookDelivery{Status: store.DeliveryFailed, LastStatusCode: 500, LastError: "HTTP 500",
		ResponseBody: strings.Repeat("x", 4096), ResponseTruncated: true}
	h.want("answered 500", h.post("/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}}), http.StatusOK,
		"The test event was not delivered (HTTP 500). It is not retried", "<summary>Response: HTTP 500</summary>",
		"Truncated: only the first 4 KB of the body are kept.")

	h.f.testAnswer = store.WebhookDelivery{Status: store.DeliveryFailed, LastError: "connection refused"}
	h.want("no answer", h.post("/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}}), http.StatusOK,
		"The test event was not delivered (connection refused).", "<summary>Response: none (connection refused)</summary>", "No answer came.")
}

// Too many test events: the log with the service's message, 429 and
// Retry-After. An unknown endpoint is the not-found page, and a form
// without the CSRF token sends nothing.
func TestSendTestEventRefused(t *testing.T) {
	h := hookHarness(t)
	h.f.testErr = &fault.Error{Kind: fault.KindThrottled, ErrorKey: "throttled", RetryAfter: 42 * time.Second,
		Detail: "At most 5 test events a minute: send the next in 42 seconds."}
	pg := h.post("/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}})
	h.want("throttled", pg, http.StatusTooManyRequests, "At most 5 test events a minute: send the next in 42 seconds.", `id="send-test"`)
	if pg.Header.Get("Retry-After") != "42" {
		t.Errorf("Retry-After %q", pg.Header.Get("Retry-After"))
	}
	h.f.testErr = nil
	h.want("unknown endpoint", h.post("/dashboard/webhooks/NoSuchIdxaaaaaaaaaaaaa/test", url.Values{"book": {"test"}}), http.StatusNotFound,
		"There is no such webhook endpoint or delivery.")
	for _, token := range []string{"", "mac(session:other)"} {
		h.want("without CSRF", h.post("/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}, "csrf": {token}}), http.StatusForbidden)
	}
	if len(h.f.tested) != 0 {
		t.Errorf("refused forms sent test events: %v", h.f.tested)
	}
}

// The log shows times in Nepal time, and what each delivery got.
func TestDeliveryLogTimesAndAnswers(t *testing.T) {
	h := hookHarness(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // 08:49 in Nepal (+05:45)
	h.f.log[hookIdx] = []webhook.Delivery{
		{WebhookDelivery: store.WebhookDelivery{Idx: "Delivery1aaaaaaaaaaaaa", Attempt: 2, Status: store.DeliveryPending, LastError: "timeout",
			CreatedAt: at, UpdatedAt: at.Add(time.Minute), NextAttemptAt: at.Add(time.Hour)},
			EventIdx: "Event1aaaaaaaaaaaaaaaa", EventType: webhook.EventCompleted, Payload: []byte(`not json <i>`)},
		{WebhookDelivery: store.WebhookDelivery{Idx: "Delivery2aaaaaaaaaaaaa", Status: store.DeliveryPending, CreatedAt: at, UpdatedAt: at, NextAttemptAt: at},
			EventIdx: "Event2aaaaaaaaaaaaaaaa", EventType: webhook.EventFailed, Payload: []byte(`{}`)},
	}
	pg := h.get("/dashboard/webhooks/" + hookIdx + "/")
	h.want("log", pg, http.StatusOK, "created 2026-01-02 08:49", "updated 2026-01-02 08:50", "next 2026-01-02 09:49",
		"<summary>Response: none (timeout)</summary>", "No answer came.", "not json &lt;i&gt;", "Not sent yet.")
	if strings.Contains(pg.Body, "03:04") {
		t.Errorf("the log shows UTC times:\n%s", pg.Body)
	}
}
