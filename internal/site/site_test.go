package site

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/site/sitetest"
)

type user struct{ Name string }

type hello struct {
	Frame
	Name string
}

// newSite is a Site whose only session is "good", with a log the test reads.
func newSite(t *testing.T) (*Site[user], *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rd, err := NewRenderer(Chrome{Brand: "Test site", Home: "/t/", LogoutPath: "/t/logout"}, log, os.DirFS("testdata"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Site[user]{
		Name: "test", SessionCookie: "s", PreCookie: "pre", CookiePath: "/t/", SameSite: http.SameSiteStrictMode,
		SessionPurpose: "sess:", PrePurpose: "pre:", Token: func(s string) string { return "mac(" + s + ")" },
		Lookup: func(_ context.Context, id string) (user, error) {
			switch id {
			case "good":
				return user{Name: "Asha"}, nil
			case "broken":
				return user{}, errors.New("dial tcp 10.0.0.9:5432: connection refused")
			}
			return user{}, &fault.Error{Kind: fault.KindUnauthorized}
		},
		LoginPath: "/t/login/", Pages: rd, Log: log,
	}, &logs
}

func TestSessionsAndCSRF(t *testing.T) {
	s, logs := newSite(t)
	ran := 0
	page := s.Get(func(w http.ResponseWriter, r *http.Request, sess Session[user]) {
		ran++
		v := &hello{Frame: Frame{Title: "Hi", User: sess.User.Name, CSRF: sess.CSRF, Nav: []Link{{Label: "Home", URL: "/t/", Current: true}}}, Name: sess.User.Name}
		s.Pages.Render(w, r, "hello", v)
	})
	post := s.Post(func(w http.ResponseWriter, r *http.Request, sess Session[user]) {
		ran++
		w.WriteHeader(http.StatusNoContent)
	})
	good := &http.Cookie{Name: "s", Value: "good"}

	if w := sitetest.Do(page, "GET", "/t/", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/t/login/" {
		t.Errorf("no session: %d to %q, want 303 to /t/login/", w.Code, w.Header().Get("Location"))
	}
	w := sitetest.Do(page, "GET", "/t/", nil, &http.Cookie{Name: "s", Value: "stale"})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Set-Cookie"), "s=;") {
		t.Errorf("stale session: %d, Set-Cookie %q; want 303 dropping the cookie", w.Code, w.Header().Get("Set-Cookie"))
	}
	w = sitetest.Do(page, "GET", "/t/", nil, &http.Cookie{Name: "s", Value: "broken"})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "10.0.0.9") || !strings.Contains(logs.String(), "10.0.0.9") {
		t.Errorf("lookup failure: %d %q; want a 500 that hides the cause and logs it", w.Code, w.Body.String())
	}
	w = sitetest.Do(page, "GET", "/t/", nil, good)
	body := w.Body.String()
	for _, want := range []string{"Hello Asha", `value="mac(sess:good)"`, `aria-current="page">Home`, "Test site", `action="/t/logout"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); csp != CSP || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: CSP %q, XFO %q", csp, w.Header().Get("X-Frame-Options"))
	}

	ran = 0
	if w := sitetest.Do(post, "POST", "/t/x", url.Values{"csrf": {"mac(sess:other)"}}, good); w.Code != http.StatusForbidden || ran != 0 {
		t.Errorf("wrong CSRF: %d, ran %d; want 403 without running", w.Code, ran)
	}
	if w := sitetest.Do(post, "POST", "/t/x", url.Values{"csrf": {"mac(sess:good)"}, "x": {strings.Repeat("a", 20<<10)}}, good); w.Code != http.StatusRequestEntityTooLarge || ran != 0 {
		t.Errorf("oversized form: %d, ran %d; want 413", w.Code, ran)
	}
	if w := sitetest.Do(post, "POST", "/t/x", url.Values{"csrf": {"mac(sess:good)"}}); w.Code != http.StatusSeeOther || ran != 0 {
		t.Errorf("post without session: %d; want 303 to log in", w.Code)
	}
	if w := sitetest.Do(post, "POST", "/t/x", url.Values{"csrf": {"mac(sess:good)"}}, good); w.Code != http.StatusNoContent || ran != 1 {
		t.Errorf("good post: %d, ran %d", w.Code, ran)
	}
}

func TestAnonAndEitherPost(t *testing.T) {
	s, _ := newSite(t)
	var got string
	var signedIn bool
	anon := s.AnonPost(func(w http.ResponseWriter, r *http.Request, csrf string) { got = csrf })
	either := s.EitherPost(func(w http.ResponseWriter, r *http.Request, csrf string, sess *Session[user]) {
		got, signedIn = csrf, sess != nil
	})
	pre := &http.Cookie{Name: "pre", Value: strings.Repeat("p", 43)}
	want := "mac(pre:" + pre.Value + ")"
	if w := sitetest.Do(anon, "POST", "/t/login/", url.Values{"csrf": {want}}); w.Code != http.StatusForbidden {
		t.Errorf("anon post without its cookie: %d, want 403", w.Code)
	}
	if w := sitetest.Do(anon, "POST", "/t/login/", url.Values{"csrf": {"mac(pre:other)"}}, pre); w.Code != http.StatusForbidden {
		t.Errorf("anon post with another token: %d, want 403", w.Code)
	}
	sitetest.Do(anon, "POST", "/t/login/", url.Values{"csrf": {want}}, pre)
	if got != want {
		t.Errorf("anon post passed %q, want %q", got, want)
	}
	got = ""
	sitetest.Do(either, "POST", "/t/reset", url.Values{"csrf": {"mac(sess:good)"}}, &http.Cookie{Name: "s", Value: "good"}, pre)
	if got != "mac(sess:good)" || !signedIn {
		t.Errorf("either post signed in: %q %v", got, signedIn)
	}
	if w := sitetest.Do(either, "POST", "/t/reset", url.Values{"csrf": {want}}, &http.Cookie{Name: "s", Value: "good"}, pre); w.Code != http.StatusForbidden {
		t.Errorf("either post signed in with the pre-session token: %d, want 403", w.Code)
	}
	got = ""
	sitetest.Do(either, "POST", "/t/reset", url.Values{"csrf": {want}}, pre)
	if got != want || signedIn {
		t.Errorf("either post signed out: %q %v", got, signedIn)
	}
}

func TestProblemsShareTheAPIStatuses(t *testing.T) {
	s, _ := newSite(t)
	for _, c := range []struct {
		err    error
		status int
		shown  string
	}{
		{fault.FieldError("amount", "Enter an amount."), 400, "Enter an amount."},
		{fault.NotFound(), 404, "Not found."},
		{&fault.Error{Kind: fault.KindLocked, Detail: "This wallet is locked."}, 400, "This wallet is locked."},
		{&fault.Error{Kind: fault.KindConflict, Detail: "Already refunded."}, 409, "Already refunded."},
		{&fault.Error{Kind: fault.KindThrottled, Detail: "Too many tries.", RetryAfter: 90e9}, 429, "Too many tries."},
		{errors.New("pq: secret internals"), 500, "Something went wrong"},
	} {
		w := httptest.NewRecorder()
		s.Fail(w, httptest.NewRequest("GET", "/t/", nil), c.err)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.shown) || strings.Contains(w.Body.String(), "internals") {
			t.Errorf("%v: %d, want %d showing %q:\n%s", c.err, w.Code, c.status, c.shown, w.Body.String())
		}
		if api := fault.AsError(c.err).Kind.Status(); api != w.Code {
			t.Errorf("%v: page %d, API %d", c.err, w.Code, api)
		}
		if c.status == 429 && w.Header().Get("Retry-After") != "90" {
			t.Errorf("throttled page Retry-After %q, want 90", w.Header().Get("Retry-After"))
		}
	}
}
