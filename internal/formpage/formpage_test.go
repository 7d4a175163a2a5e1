package formpage

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPreSessionTokens(t *testing.T) {
	p := PreSession{Cookie: "pre", Purpose: "test:", Token: func(s string) string { return "mac(" + s + ")" },
		Cookies: Cookies{Path: "/", SameSite: http.SameSiteLaxMode}}
	// A first visit sets the cookie and derives the token from it.
	rec := httptest.NewRecorder()
	token := p.Issue(rec, httptest.NewRequest("GET", "/", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || token != "mac(test:"+cookies[0].Value+")" {
		t.Fatalf("issue: %q %+v", token, cookies)
	}
	check := func(body string, withCookie bool) error {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			r.AddCookie(cookies[0])
		}
		_, err := p.Check(httptest.NewRecorder(), r)
		return err
	}
	post := func(csrf string, withCookie bool) error {
		return check(url.Values{"csrf": {csrf}}.Encode(), withCookie)
	}
	if err := post(token, true); err != nil {
		t.Errorf("the right token with its cookie was refused: %v", err)
	}
	for _, err := range []error{post(token, false), post("mac(test:other)", true), post("", true)} {
		if !errors.Is(err, ErrForged) {
			t.Errorf("a post without the cookie or with another token: %v, want ErrForged", err)
		}
		if status, _, _ := Refusal(err); status != http.StatusForbidden {
			t.Errorf("refusal of a forged post: %d", status)
		}
	}
	big := check("csrf="+token+"&x="+strings.Repeat("a", MaxForm), true)
	if status, _, msg := Refusal(big); !TooLarge(big) || status != http.StatusRequestEntityTooLarge || msg != MsgTooLarge {
		t.Errorf("a post over MaxForm: %v gives %d %q", big, status, msg)
	}
}

func TestTooManyAttempts(t *testing.T) {
	for _, tt := range []struct {
		wait    time.Duration
		header  string
		message string
	}{
		{12 * time.Second, "12", "Wait 12 seconds and try again."},
		{1500 * time.Millisecond, "2", "Wait 2 seconds and try again."},
		{time.Nanosecond, "1", "Wait 1 second and try again."},
		{0, "1", "Wait 1 second and try again."},
	} {
		rec := httptest.NewRecorder()
		TooManyAttempts(rec, tt.wait)
		h := rec.Header()
		if rec.Code != http.StatusTooManyRequests || h.Get("Retry-After") != tt.header ||
			h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%v: %d %v", tt.wait, rec.Code, h)
		}
		if body := rec.Body.String(); !strings.Contains(body, "Too many attempts from your network. "+tt.message) {
			t.Errorf("%v: body %s", tt.wait, body)
		}
	}
}
