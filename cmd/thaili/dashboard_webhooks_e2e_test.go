package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/sdk"
)

var (
	dashHookSecretRE = regexp.MustCompile(`whsec_[0-9a-f]{48}`)
	dashHookLogRE    = regexp.MustCompile(`href="/dashboard/webhooks/([0-9A-Za-z]+)/\?book=test"`)
	dashDeliveryRE   = regexp.MustCompile(`id="delivery-([0-9A-Za-z]+)"`)
)

func TestDashboardWebhooks(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--webhooks-allow-private", "--webhook-interval", "50ms", "--webhook-backoff", "100ms")
	recv := newHookReceiver(t, 0)

	// Anonymous: the pages send to log in.
	anon := newMerchantBrowser(t, s)
	wantRedirect(t, "anonymous webhooks", anon.get(t, "/dashboard/webhooks/"), "/login/")
	wantRedirect(t, "anonymous log", anon.get(t, "/dashboard/webhooks/bZQLD9wRVWo4CdESSfuSsB/"), "/login/")

	a := newMerchantBrowser(t, s)
	pk, sk := signUpMerchant(t, a, "Hook Shop", "hooks@shop.example", "9812345680", "a good password")
	wantPage(t, "dashboard links to webhooks", a.get(t, "/dashboard/"), 200, `href="/dashboard/webhooks/"`)
	p := a.get(t, "/dashboard/webhooks/")
	wantPage(t, "webhooks page", p, 200, "No endpoints in the test book", `value="payment.completed"`)
	// The Live switch is there before live keys exist, and says why
	// there is nothing behind it yet.
	wantPage(t, "live book before go-live", a.get(t, "/dashboard/webhooks/?book=live"), 400, "no live keys yet", "Live mode is not available yet")

	// Errors from the service are shown with their messages.
	wantPage(t, "no events", a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {recv.srv.URL + "/x"}}),
		400, "Choose one or more of", recv.srv.URL+"/x")
	wantPage(t, "bad url", a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"ftp://x/"}, "events": {"payment.completed"}}),
		400, "Enter a valid http or https URL.", `value="payment.completed" checked`)
	wantPage(t, "create without CSRF", a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {recv.srv.URL}, "events": {"payment.completed"}, "csrf": {""}}), 403)

	// HTML in the URL is escaped.
	xss := recv.srv.URL + `/x?a=<script>alert(1)</script>`
	p = a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {xss}, "events": {"payment.failed"}})
	wantPage(t, "register with html", p, 200, "shown only this once")
	if strings.Contains(p.Body, "<script>") {
		t.Fatalf("raw script on the webhooks page:\n%s", p.Body)
	}
	p = a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {`javascript:"><script>alert(1)</script>`}, "events": {"payment.failed"}})
	wantPage(t, "refused html url echoed", p, 400, "Enter a valid http or https URL.", "&lt;script&gt;")
	if strings.Contains(p.Body, "<script>") {
		t.Fatalf("raw script echoed:\n%s", p.Body)
	}
	xssIdx := dashHookLogRE.FindStringSubmatch(p.Body)[1]
	wantPage(t, "delete html endpoint", a.post(t, "/dashboard/webhooks/"+xssIdx+"/delete", url.Values{"book": {"test"}}), 200, "was deleted", "No endpoints")

	// Register; the secret is shown once.
	p = a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {recv.srv.URL + "/hooks"}, "events": {"payment.completed", "payment.refunded"}})
	wantPage(t, "register", p, 200, "shown only this once", recv.srv.URL+"/hooks", "payment.completed, payment.refunded")
	secret := dashHookSecretRE.FindString(p.Body)
	m := dashHookLogRE.FindStringSubmatch(p.Body)
	if secret == "" || m == nil {
		t.Fatalf("no secret or endpoint on the page:\n%s", p.Body)
	}
	hookIdx := m[1]
	p = a.get(t, "/dashboard/webhooks/")
	wantPage(t, "webhooks again", p, 200, recv.srv.URL+"/hooks")
	if strings.Contains(p.Body, "whsec_") {
		t.Fatal("the secret is shown again")
	}
	wantPage(t, "empty log", a.get(t, "/dashboard/webhooks/"+hookIdx+"/"), 200, "No deliveries yet.")

	// A completed payment with the merchant's test keys: delivered, signed.
	_, payIdx := s.pay(t, pk, sk, "9800000001", 1000)
	got := recv.event(t, "payment.completed", payIdx)
	if err := sdk.VerifyWebhook(secret, got.Header.Get("Thaili-Signature"), got.Body, time.Now(), 0); err != nil {
		t.Fatalf("signature: %v", err)
	}
	eventID, _ := got.Event["id"].(string)
	var delivery string
	waitFor(t, "the log to show success", func() bool {
		p = a.get(t, "/dashboard/webhooks/"+hookIdx+"/?book=test")
		if m := dashDeliveryRE.FindStringSubmatch(p.Body); m != nil {
			delivery = m[1]
		}
		return strings.Contains(p.Body, `class="status-succeeded"`)
	})
	wantPage(t, "log", p, 200, "payment.completed", eventID, `<span class="code">200</span>`, "created ")
	if !hasCell(p.Body, "attempts", "1") {
		t.Fatalf("log: no first attempt:\n%s", p.Body)
	}

	// After go-live the live book is offered.
	wantPage(t, "live book offered", a.get(t, "/dashboard/webhooks/"), 200, `href="/dashboard/webhooks/?book=live"`)
	wantPage(t, "live book", a.get(t, "/dashboard/webhooks/?book=live"), 200, "No endpoints in the live book")
	wantPage(t, "test endpoint not in live book", a.get(t, "/dashboard/webhooks/"+hookIdx+"/?book=live"), 404)

	// Another merchant: the same 404 as a missing endpoint, for the log,
	// replay and delete; nothing changes.
	o := newMerchantBrowser(t, s)
	signUpMerchant(t, o, "Other Hooks", "other-hooks@shop.example", "9812345681", "another password")
	o.get(t, "/dashboard/webhooks/")
	wantPage(t, "missing endpoint", o.get(t, "/dashboard/webhooks/bZQLD9wRVWo4CdESSfuSsB/"), 404, "no such webhook endpoint")
	wantPage(t, "other's log", o.get(t, "/dashboard/webhooks/"+hookIdx+"/"), 404, "no such webhook endpoint")
	wantPage(t, "other's replay", o.post(t, "/dashboard/webhooks/"+hookIdx+"/replay", url.Values{"book": {"test"}, "delivery": {delivery}}), 404)
	wantPage(t, "other's delete", o.post(t, "/dashboard/webhooks/"+hookIdx+"/delete", url.Values{"book": {"test"}}), 404)
	if op := o.get(t, "/dashboard/webhooks/"); strings.Contains(op.Body, hookIdx) || strings.Contains(op.Body, "/hooks") {
		t.Fatal("another merchant sees the endpoint")
	}

	// Replay: refused without CSRF; then the receiver sees the event again.
	a.get(t, "/dashboard/webhooks/"+hookIdx+"/")
	wantPage(t, "replay without CSRF", a.post(t, "/dashboard/webhooks/"+hookIdx+"/replay", url.Values{"book": {"test"}, "delivery": {delivery}, "csrf": {""}}), 403)
	before := len(recv.requests())
	wantPage(t, "replay", a.post(t, "/dashboard/webhooks/"+hookIdx+"/replay", url.Values{"book": {"test"}, "delivery": {delivery}}), 200, "sent again")
	waitFor(t, "the replay", func() bool { return len(recv.requests()) > before })
	if again := recv.requests()[before]; again.Header.Get("Thaili-Event-Id") != eventID {
		t.Errorf("replayed event id %q, want %q", again.Header.Get("Thaili-Event-Id"), eventID)
	}
	waitFor(t, "the replay in the log", func() bool {
		return hasCell(a.get(t, "/dashboard/webhooks/"+hookIdx+"/").Body, "attempts", "2")
	})
	wantPage(t, "replay of an unknown delivery", a.post(t, "/dashboard/webhooks/"+hookIdx+"/replay", url.Values{"book": {"test"}, "delivery": {"bZQLD9wRVWo4CdESSfuSsB"}}), 404)

	// Delete: refused without CSRF; then gone.
	wantPage(t, "delete without CSRF", a.post(t, "/dashboard/webhooks/"+hookIdx+"/delete", url.Values{"book": {"test"}, "csrf": {""}}), 403)
	wantPage(t, "delete", a.post(t, "/dashboard/webhooks/"+hookIdx+"/delete", url.Values{"book": {"test"}}), 200, "was deleted", "No endpoints in the test book")
	wantPage(t, "log after delete", a.get(t, "/dashboard/webhooks/"+hookIdx+"/"), 404)
	wantPage(t, "delete again", a.post(t, "/dashboard/webhooks/"+hookIdx+"/delete", url.Values{"book": {"test"}}), 404)
	s.ledgerOK(t)
}

func TestDashboardWebhooksRefusePrivateTargets(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := newMerchantBrowser(t, s)
	signUpMerchant(t, a, "SSRF Shop", "ssrf@shop.example", "9812345682", "a good password")
	a.get(t, "/dashboard/webhooks/")
	p := a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"http://169.254.169.254/"}, "events": {"payment.completed"}})
	wantPage(t, "metadata address", p, 400, "This URL points to a private, local or reserved address; this server does not send webhooks there (its operator can allow such addresses with --webhooks-allow-private, for local development).", "No endpoints in the test book")
	if strings.Contains(p.Body, "whsec_") {
		t.Fatal("a secret for a refused endpoint")
	}
}

// ipLike matches an IPv4 address, or an IPv6 one (with "::" or at least
// five groups, unlike a time of day): what a raw dial or lookup error
// carries.
var ipLike = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b|[0-9a-fA-F]{0,4}::[0-9a-fA-F]|\b[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){4,7}\b`)

// The delivery log shows a failed delivery as a plain category: not the
// Go error, which names the resolver's address; that goes to the server
// log.
func TestDashboardWebhookLogShowsCategory(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--webhook-interval", "50ms", "--webhook-backoff", "1h")
	a := newMerchantBrowser(t, s)
	pk, sk := signUpMerchant(t, a, "Lost Hooks", "lost-hooks@shop.example", "9812345683", "a good password")
	a.get(t, "/dashboard/webhooks/")
	p := a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"http://nothing.invalid/hook"}, "events": {"payment.completed"}})
	wantPage(t, "register an unresolvable name", p, 200, "shown only this once")
	hookIdx := dashHookLogRE.FindStringSubmatch(p.Body)[1]

	s.pay(t, pk, sk, "9800000001", 1000)
	waitFor(t, "the failed attempt in the log", func() bool {
		p = a.get(t, "/dashboard/webhooks/"+hookIdx+"/?book=test")
		return hasCell(p.Body, "attempts", "1")
	})
	if m := ipLike.FindString(p.Body); m != "" {
		t.Errorf("the delivery log shows an address %q:\n%s", m, p.Body)
	}
	for _, goText := range []string{"lookup nothing", "dial ", "no such host", "Post &#34;", "Post &quot;", "server misbehaving"} {
		if strings.Contains(p.Body, goText) {
			t.Errorf("the delivery log shows Go error text %q:\n%s", goText, p.Body)
		}
	}
	wantPage(t, "log of a failed delivery", p, 200, "DNS lookup failed", "status-pending")

	// The API shows the same category; the server log has the cause.
	r := s.do(t, "GET", "/api/thaili/webhooks/"+hookIdx+"/deliveries/", sk, "")
	mustStatus(t, r, 200)
	if ds, _ := r.Body["deliveries"].([]any); len(ds) != 1 || ds[0].(map[string]any)["last_error"] != "DNS lookup failed" {
		t.Errorf("API delivery log: %s", r.Raw)
	}
	logged := s.Stderr.String()
	if !strings.Contains(logged, "webhook delivery failed") || !strings.Contains(logged, "lookup nothing.invalid") ||
		!strings.Contains(logged, "endpoint="+hookIdx) {
		t.Errorf("the server log lacks the cause:\n%s", logged)
	}
}

// answeringReceiver is a webhook endpoint that records each request and
// answers with status and body.
type answeringReceiver struct {
	*hookReceiver
	status int
	body   string
}

func newAnsweringReceiver(t *testing.T, status int, body string) *answeringReceiver {
	rc := &answeringReceiver{hookReceiver: &hookReceiver{}, status: status, body: body}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		json.Unmarshal(b, &ev)
		rc.mu.Lock()
		status, body := rc.status, rc.body
		rc.got = append(rc.got, hookRequest{Header: r.Header.Clone(), Body: b, Event: ev, Status: status})
		rc.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// answer makes the receiver answer with status from now on.
func (rc *answeringReceiver) answer(status int) {
	rc.mu.Lock()
	rc.status = status
	rc.mu.Unlock()
}

// TestDashboardWebhookTestEvent: "Send test event" on the dashboard posts
// a signed webhook.test event to a local receiver at once; the delivery
// log shows its payload and the receiver's answer (escaped, and marked
// when cut), in Nepal time. Another merchant cannot send one to the
// endpoint, and a sixth in a minute is refused with 429.
func TestDashboardWebhookTestEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--webhooks-allow-private", "--webhook-interval", "50ms")
	recv := newAnsweringReceiver(t, 200, `{"received": true, "note": "<script>alert(1)</script>"}`)
	long := newAnsweringReceiver(t, 503, strings.Repeat("busy ", 2000)) // 10,000 bytes

	a := newMerchantBrowser(t, s)
	_, sk := signUpMerchant(t, a, "Test Event Shop", "test-events@shop.example", "9812345690", "a good password")
	a.get(t, "/dashboard/webhooks/")
	// Subscribed to refunds only: a test event goes to it anyway.
	p := a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {recv.srv.URL + "/hooks"}, "events": {"payment.refunded"}})
	wantPage(t, "register", p, 200, "shown only this once")
	secret, hookIdx := dashHookSecretRE.FindString(p.Body), dashHookLogRE.FindStringSubmatch(p.Body)[1]
	wantPage(t, "the endpoints offer a test event", p, 200, `action="/dashboard/webhooks/`+hookIdx+`/test"`, "Send test event")

	// Another merchant: the same 404 as a missing endpoint, nothing sent.
	o := newMerchantBrowser(t, s)
	signUpMerchant(t, o, "Other Test Events", "other-test-events@shop.example", "9812345691", "another password")
	o.get(t, "/dashboard/webhooks/")
	wantPage(t, "other's test event", o.post(t, "/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}}), 404, "no such webhook endpoint")
	wantPage(t, "test event without CSRF", a.post(t, "/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}, "csrf": {""}}), 403)
	if n := len(recv.requests()); n != 0 {
		t.Fatalf("refused test events reached the receiver: %d", n)
	}

	before := time.Now()
	p = a.post(t, "/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}})
	wantPage(t, "test event", p, 200, "The test event was delivered: the endpoint answered HTTP 200.", `class="status-succeeded"`,
		"<summary>Response: HTTP 200</summary>", "&#34;received&#34;: true", "&lt;script&gt;alert(1)&lt;/script&gt;")
	if strings.Contains(p.Body, "<script>alert") {
		t.Fatalf("the receiver's answer is not escaped:\n%s", p.Body)
	}
	got := recv.requests()
	if len(got) != 1 || got[0].Event["type"] != "webhook.test" {
		t.Fatalf("the receiver got %d requests: %+v", len(got), got)
	}
	if err := sdk.VerifyWebhook(secret, got[0].Header.Get("Thaili-Signature"), got[0].Body, time.Now(), 0); err != nil {
		t.Fatalf("the test event does not verify: %v", err)
	}
	eventID, _ := got[0].Event["id"].(string)
	data, _ := got[0].Event["data"].(map[string]any)
	if data["endpoint"] != hookIdx || got[0].Header.Get("Thaili-Event-Id") != eventID || got[0].Event["book"] != "test" {
		t.Errorf("test event %s %v", got[0].Body, got[0].Header)
	}
	// The log shows what was sent, field by field, and when, in Nepal time.
	nepal := time.FixedZone("NPT", 5*3600+45*60)
	p = a.get(t, "/dashboard/webhooks/"+hookIdx+"/")
	wantPage(t, "log", p, 200, "webhook.test", eventID, "&#34;id&#34;: &#34;"+eventID+"&#34;", "&#34;endpoint&#34;: &#34;"+hookIdx+"&#34;",
		"&#34;type&#34;: &#34;webhook.test&#34;", "&lt;script&gt;alert(1)&lt;/script&gt;")
	if !strings.Contains(p.Body, "created "+before.In(nepal).Format("2006-01-02 15:04")) && !strings.Contains(p.Body, "created "+time.Now().In(nepal).Format("2006-01-02 15:04")) {
		t.Errorf("the log does not show the time in Nepal time (%s):\n%s", before.In(nepal).Format("15:04"), p.Body)
	}

	// A failing receiver with a long answer: failed at once, not retried,
	// the answer cut at 4 KB and marked.
	p = a.post(t, "/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {long.srv.URL + "/busy"}, "events": {"payment.failed"}})
	links := dashHookLogRE.FindAllStringSubmatch(p.Body, -1) // oldest first
	longIdx := links[len(links)-1][1]
	p = a.post(t, "/dashboard/webhooks/"+longIdx+"/test", url.Values{"book": {"test"}})
	wantPage(t, "test event to a failing receiver", p, 200, "The test event was not delivered (HTTP 503).", `class="status-failed"`,
		"<summary>Response: HTTP 503</summary>", "Truncated: only the first 4 KB of the body are kept.")
	if n := strings.Count(p.Body, "busy "); n < 800 || n > 820 {
		t.Errorf("the log shows %d of the answer's 2000 words, want the first 4 KB (819)", n)
	}
	time.Sleep(300 * time.Millisecond) // several worker rounds
	if n := len(long.requests()); n != 1 {
		t.Errorf("a failed test event was retried: %d requests", n)
	}

	// The API shows the same delivery, payload and answer.
	r := s.do(t, "GET", "/api/thaili/webhooks/"+hookIdx+"/deliveries/", sk, "")
	mustStatus(t, r, 200)
	if ds, _ := r.Body["deliveries"].([]any); len(ds) != 1 {
		t.Errorf("API delivery log: %s", r.Raw)
	} else if d, _ := ds[0].(map[string]any); d["event_id"] != eventID || d["response_body"] != recv.body || d["response_truncated"] != false ||
		d["payload"].(map[string]any)["type"] != "webhook.test" {
		t.Errorf("API delivery: %s", r.Raw)
	}

	// Three more make five in the minute; the sixth is refused.
	for i := range 3 {
		wantPage(t, fmt.Sprintf("test event %d", i+3), a.post(t, "/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}}), 200, "was delivered")
	}
	p = a.post(t, "/dashboard/webhooks/"+hookIdx+"/test", url.Values{"book": {"test"}})
	wantPage(t, "a sixth test event", p, 429, "At most 5 test events a minute: send the next in", `id="send-test"`)
	if p.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the refused test event")
	}
	if n := len(recv.requests()); n != 4 {
		t.Errorf("the receiver got %d test events, want 4", n)
	}
}
