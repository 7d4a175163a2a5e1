package formpage

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/payment"
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
	post := func(csrf string, withCookie bool) bool {
		r := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			r.AddCookie(cookies[0])
		}
		_, ok := p.Check(httptest.NewRecorder(), r)
		return ok
	}
	if !post(token, true) {
		t.Error("the right token with its cookie was refused")
	}
	if post(token, false) || post("mac(test:other)", true) || post("", true) {
		t.Error("a post without the cookie or with another token was accepted")
	}
}

func TestProblemOf(t *testing.T) {
	err := &payment.Error{Kind: payment.KindValidation, Detail: "Bad.", TriesRemaining: "2",
		Fields: map[string][]string{"b": {"second"}, "a": {"first"}}}
	p, ok := ProblemOf(err)
	if !ok || p.Status != 400 || p.Detail != "Bad." || strings.Join(p.Fields, "|") != "first|second|Tries remaining: 2" {
		t.Fatalf("validation: %+v %v", p, ok)
	}
	if p, ok := ProblemOf(&payment.Error{Kind: payment.KindLocked, Detail: "Locked."}); !ok || p.Status != 429 {
		t.Fatalf("locked: %+v", p)
	}
	if _, ok := ProblemOf(payment.Internal(nil)); ok {
		t.Fatal("an internal error would be shown")
	}
}
