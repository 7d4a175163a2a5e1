package home

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/payment"
)

func get(t *testing.T, o Options) string {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("home page: %d %v", w.Code, w.Header())
	}
	return w.Body.String()
}

// The links every server's home page has: docs, merchant and wallet
// sign-up and log-in, the console.
var public = []string{`href="/docs/"`, `href="/join/merchant/"`, `href="/login/"`, `href="/join/"`, `href="/me/login/"`, `href="/admin/"`,
	"open-source wallet payment gateway"}

func TestSandboxHomeShowsTheFixtures(t *testing.T) {
	body := get(t, Options{Sandbox: &Sandbox{Seeded: true, Code: "987654", Inbox: true, PendingDelay: 30 * time.Second}})
	want := append([]string{payment.DemoPublicKey, payment.DemoSecretKey, payment.DemoMerchantEmail, `href="/demo/"`, `href="/sandbox/inbox/"`,
		`id="test-mpin">1111<`, `id="test-code">987654<`, `each hold <span class="money">Rs 10,00,000.00</span>`, "Rs 0.00", "Completed after 30s", `id="sandbox"`}, public...)
	for _, m := range []string{payment.SandboxPayers[0], payment.SandboxPayers[len(payment.SandboxPayers)-1], payment.ScenarioPendingMobile,
		payment.ScenarioFailMobile, payment.ScenarioInsufficientMobile, payment.ScenarioLockedMobile} {
		want = append(want, `<code class="idx">`+m+"</code>")
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("sandbox home lacks %q", w)
		}
	}
	if strings.Contains(body, `id="not-seeded"`) {
		t.Error("a seeded sandbox is told to seed")
	}
}

func TestUnseededSandboxSaysHowToSeed(t *testing.T) {
	body := get(t, Options{Sandbox: &Sandbox{Code: "987654"}})
	if !strings.Contains(body, "thaili sandbox seed") || strings.Contains(body, `href="/demo/"`) || strings.Contains(body, `href="/sandbox/inbox/"`) {
		t.Errorf("an unseeded sandbox without an inbox: want the seed hint and no demo or inbox link:\n%s", body)
	}
}

// TestLiveHomeShowsNoSecrets: a server that is not a sandbox shows only
// the public links, never the sandbox's keys, payers or codes.
func TestLiveHomeShowsNoSecrets(t *testing.T) {
	body := get(t, Options{})
	for _, w := range public {
		if !strings.Contains(body, w) {
			t.Errorf("home lacks %q", w)
		}
	}
	for _, secret := range []string{payment.DemoPublicKey, payment.DemoSecretKey, "test_", "1111", "987654", "9800000001",
		payment.DemoMerchantEmail, "/demo/", "/sandbox/inbox/", "sandbox"} {
		if strings.Contains(body, secret) {
			t.Errorf("a live server's home page shows %q", secret)
		}
	}
}
