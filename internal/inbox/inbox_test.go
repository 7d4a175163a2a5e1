package inbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/money"
)

// phoneLog is the notifier under the inbox: it records what was sent,
// and fails when told to.
type phoneLog struct {
	sent []string
	fail error
}

func (p *phoneLog) SendOTP(_ context.Context, mobile, code string, _ money.Paisa, _ string) error {
	p.sent = append(p.sent, mobile+" "+code)
	return p.fail
}

func (p *phoneLog) SendCode(_ context.Context, mobile, code, _ string) error {
	p.sent = append(p.sent, mobile+" "+code)
	return p.fail
}

func (p *phoneLog) SendNotice(_ context.Context, mobile, text string) error {
	p.sent = append(p.sent, mobile+" "+text)
	return p.fail
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// rig is a sandbox's surface in small: form posts under /join/ and the
// API under /api/ send what its send says, through the inbox's
// notifier, behind the inbox's Tag; the inbox page is at its route.
type rig struct {
	box *Inbox
	n   interface {
		SendOTP(context.Context, string, string, money.Paisa, string) error
		SendCode(context.Context, string, string, string) error
		SendNotice(context.Context, string, string) error
	}
	phones *phoneLog
	clk    *clock
	send   func(ctx context.Context) error
	h      http.Handler
}

func newRig(t *testing.T) *rig {
	t.Helper()
	c := &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	box, err := New(Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	g := &rig{box: box, phones: &phoneLog{}, clk: c, send: func(context.Context) error { return nil }}
	g.n = box.Notifier(g.phones)
	mux := http.NewServeMux()
	box.Routes(mux)
	send := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.send(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.Handle("POST /join/{$}", send)
	mux.Handle("POST /api/v2/payment/initiate/{$}", send)
	g.h = box.Tag(mux)
	return g
}

func (g *rig) do(method, target string, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	if method == "POST" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	g.h.ServeHTTP(w, r)
	return w
}

// kept is how many messages the inbox keeps for all browsers.
func (g *rig) kept() int {
	g.box.mu.Lock()
	defer g.box.mu.Unlock()
	return len(g.box.msgs)
}

// inboxCookie is the inbox cookie a response set, or nil.
func inboxCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == Cookie {
			return c
		}
	}
	return nil
}

func TestCodesShowOnlyInTheBrowserThatAskedForThem(t *testing.T) {
	g := newRig(t)
	g.send = func(ctx context.Context) error {
		return g.n.SendCode(ctx, "9812345678", "482913", identity.PurposeConfirm)
	}

	w := g.do("POST", "/join/", nil)
	mine := inboxCookie(w)
	if w.Code != 200 || mine == nil || !mine.HttpOnly || mine.Path != "/" || mine.SameSite != http.SameSiteLaxMode || len(mine.Value) != 43 {
		t.Fatalf("first form post: %d, cookie %+v; want an HttpOnly, Lax, Path=/ inbox cookie", w.Code, mine)
	}
	if len(g.phones.sent) != 1 {
		t.Fatalf("the code was not passed on to the phone log: %v", g.phones.sent)
	}
	page := g.do("GET", "/sandbox/inbox/", mine)
	body := page.Body.String()
	for _, want := range []string{"482913", "98XXXXX678", "Phone confirmation code", `id="messages"`, "Sandbox inbox"} {
		if !strings.Contains(body, want) {
			t.Errorf("this browser's inbox lacks %q:\n%s", want, body)
		}
	}
	if page.Header().Get("Cache-Control") != "no-store" || page.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("inbox headers: %v", page.Header())
	}

	// Another browser, and a browser without the cookie, see nothing of it.
	g.send = func(context.Context) error { return nil }
	w = g.do("POST", "/join/", nil)
	other := inboxCookie(w)
	if other == nil || other.Value == mine.Value {
		t.Fatalf("a second browser's cookie: %+v", other)
	}
	for name, c := range map[string]*http.Cookie{"another browser": other, "no cookie": nil,
		"a forged cookie": {Name: Cookie, Value: "9812345678"}} {
		body := g.do("GET", "/sandbox/inbox/", c).Body.String()
		if strings.Contains(body, "482913") || !strings.Contains(body, `id="empty"`) {
			t.Errorf("%s sees another browser's code:\n%s", name, body)
		}
	}
	// The other browser's own code is its own.
	g.send = func(ctx context.Context) error {
		return g.n.SendCode(ctx, "9812345678", "111222", identity.PurposeConfirm)
	}
	g.do("POST", "/join/", other)
	if body := g.do("GET", "/sandbox/inbox/", other).Body.String(); !strings.Contains(body, "111222") || strings.Contains(body, "482913") {
		t.Errorf("the second browser's inbox:\n%s", body)
	}
	if body := g.do("GET", "/sandbox/inbox/", mine).Body.String(); strings.Contains(body, "111222") {
		t.Errorf("the first browser sees the second's code:\n%s", body)
	}
}

func TestResetCodesNoticesAndTheAPIStayOut(t *testing.T) {
	g := newRig(t)
	g.send = func(ctx context.Context) error {
		if err := g.n.SendCode(ctx, "9800000001", "654321", identity.PurposeResetMPIN); err != nil {
			return err
		}
		return g.n.SendNotice(ctx, "9800000001", "Someone asked to reset your MPIN.")
	}
	w := g.do("POST", "/join/", nil)
	c := inboxCookie(w)
	if body := g.do("GET", "/sandbox/inbox/", c).Body.String(); strings.Contains(body, "654321") || strings.Contains(body, "Someone asked") {
		t.Errorf("an MPIN reset code or a notice shows in the asker's inbox:\n%s", body)
	}
	if len(g.phones.sent) != 2 {
		t.Errorf("the reset code and notice were not passed on: %v", g.phones.sent)
	}

	// A merchant's server calling the API brings no cookie and gets none;
	// its payer's code is in no inbox. A browser's own call (the widget)
	// with its cookie is tagged.
	g.send = func(ctx context.Context) error {
		return g.n.SendOTP(ctx, "9800000002", "777888", 2500, "Dhaka Topi House")
	}
	if w := g.do("POST", "/api/v2/payment/initiate/", nil); inboxCookie(w) != nil {
		t.Error("the API set the inbox cookie")
	}
	if kept := g.kept(); kept != 0 {
		t.Errorf("a code sent for no browser was kept (%d messages)", kept)
	}
	g.do("POST", "/api/v2/payment/initiate/", c)
	body := g.do("GET", "/sandbox/inbox/", c).Body.String()
	for _, want := range []string{"777888", "Payment confirmation code", "Rs 25.00 to Dhaka Topi House"} {
		if !strings.Contains(body, want) {
			t.Errorf("the widget's payment code: inbox lacks %q:\n%s", want, body)
		}
	}
	// A GET never sets the cookie (reading pages sends no codes), nor
	// does a post that is not a form.
	if w := g.do("GET", "/sandbox/inbox/", nil); inboxCookie(w) != nil {
		t.Error("a GET set the inbox cookie")
	}
	r := httptest.NewRequest("POST", "/join/", strings.NewReader("{}"))
	r.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	g.h.ServeHTTP(w, r)
	if inboxCookie(w) != nil {
		t.Error("a JSON post set the inbox cookie")
	}
}

func TestAFailedSendIsNotShown(t *testing.T) {
	g := newRig(t)
	g.phones.fail = errors.New("gateway down")
	var err error
	g.send = func(ctx context.Context) error {
		err = g.n.SendCode(ctx, "9812345678", "482913", identity.PurposeConfirm)
		return nil
	}
	c := inboxCookie(g.do("POST", "/join/", nil))
	if !errors.Is(err, g.phones.fail) {
		t.Errorf("the phone log's error was not returned: %v", err)
	}
	if body := g.do("GET", "/sandbox/inbox/", c).Body.String(); strings.Contains(body, "482913") {
		t.Errorf("a code that failed to send shows:\n%s", body)
	}
	if (*Inbox)(nil).Notifier(g.phones) != g.phones {
		t.Error("a nil inbox does not leave the notifier alone")
	}
}

func TestBounds(t *testing.T) {
	g := newRig(t)
	i := 0
	g.send = func(ctx context.Context) error {
		i++
		return g.n.SendCode(ctx, "9812345678", fmt.Sprintf("%06d", i), identity.PurposeConfirm)
	}
	c := inboxCookie(g.do("POST", "/join/", nil))
	for range MaxPerBrowser + 4 {
		g.clk.t = g.clk.t.Add(time.Second)
		g.do("POST", "/join/", c)
	}
	msgs := g.box.Messages(httptest.NewRequest("GET", "/", nil))
	if msgs != nil {
		t.Errorf("a request without the cookie gets %d messages", len(msgs))
	}
	r := httptest.NewRequest("GET", "/sandbox/inbox/", nil)
	r.AddCookie(c)
	msgs = g.box.Messages(r)
	if len(msgs) != MaxPerBrowser || msgs[0].Code != fmt.Sprintf("%06d", i) || msgs[len(msgs)-1].Code != fmt.Sprintf("%06d", i-MaxPerBrowser+1) {
		t.Fatalf("per browser: %d messages, newest %q, oldest %q; want the newest %d, newest first", len(msgs), msgs[0].Code, msgs[len(msgs)-1].Code, MaxPerBrowser)
	}

	// Many browsers: the inbox as a whole keeps MaxMessages.
	for range MaxMessages + 10 {
		g.do("POST", "/join/", nil)
	}
	if total := g.kept(); total != MaxMessages {
		t.Errorf("%d messages kept for all browsers, want %d", total, MaxMessages)
	}
	if got := len(g.box.Messages(r)); got != 0 {
		t.Errorf("the first browser's old messages survived %d newer ones: %d left", MaxMessages+10, got)
	}

	// Age: nothing is kept past MaxAge.
	g.do("POST", "/join/", c)
	if got := len(g.box.Messages(r)); got != 1 {
		t.Fatalf("a fresh message: %d kept", got)
	}
	g.clk.t = g.clk.t.Add(MaxAge + time.Second)
	if got := len(g.box.Messages(r)); got != 0 {
		t.Errorf("%d messages older than MaxAge are still shown", got)
	}
	if total := g.kept(); total != 0 {
		t.Errorf("%d messages older than MaxAge are still kept", total)
	}
}
