package main

import (
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
	if strings.Contains(p.Body, `href="/dashboard/webhooks/?book=live"`) {
		t.Fatal("live book offered before live keys exist")
	}
	wantPage(t, "live book before go-live", a.get(t, "/dashboard/webhooks/?book=live"), 400, "no live keys yet")

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
