// Package formpage holds what Thaili's server-rendered form pages (the
// merchant dashboard, the consumer wallet and the operator console) share:
// their security headers, their cookies, the CSRF token of signed-out
// forms, and how a service error becomes a message on the page.
package formpage

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sort"

	"github.com/thaili/thaili/internal/payment"
)

// MaxForm bounds a form post's body.
const MaxForm = 16 << 10

// SetHeaders sets the security headers of a page without script: forms
// post only to this origin; never framed, cached or sniffed.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// Cookies makes one group of pages' cookies: HttpOnly, on Path, with
// SameSite, and Secure when the site is served over https.
type Cookies struct {
	Path     string
	SameSite http.SameSite
	Secure   bool
}

// Cookie returns a cookie; maxAge -1 deletes it, 0 makes it last the
// browser session.
func (c Cookies) Cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: c.Path, MaxAge: maxAge, HttpOnly: true,
		Secure: c.Secure, SameSite: c.SameSite}
}

// PreSession protects signed-out forms (sign-up, log-in) against
// cross-site posts and forced log-in: their CSRF token is a keyed MAC of
// a random cookie, which a cross-site page can neither read nor set.
type PreSession struct {
	Cookie  string              // the cookie's name
	Purpose string              // kept apart from other pages' tokens
	Token   func(string) string // the keyed MAC, e.g. payment.Service.CSRFToken
	Cookies Cookies
}

// Issue returns the token for r's forms, setting the cookie if r has none.
func (p PreSession) Issue(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.Cookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return p.Token(p.Purpose + c.Value)
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, p.Cookies.Cookie(p.Cookie, v, 0))
	return p.Token(p.Purpose + v)
}

// Check parses r's form (at most MaxForm bytes) and returns its token if
// it matches the cookie's; ok is false for a post from anywhere else.
func (p PreSession) Check(w http.ResponseWriter, r *http.Request) (token string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	c, err := r.Cookie(p.Cookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	want := p.Token(p.Purpose + c.Value)
	if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf"))) {
		return "", false
	}
	return want, true
}

// Problem is a service error as a page shows it.
type Problem struct {
	Status int      // 400, or 429 when sign-in is locked
	Detail string   // the service's message
	Fields []string // per-field messages, in field order
}

// ProblemOf turns a client-facing service error into what the page shows;
// ok is false for internal errors, which the page logs and hides.
func ProblemOf(err error) (p Problem, ok bool) {
	e := payment.AsError(err)
	switch e.Kind {
	case payment.KindValidation, payment.KindConflict, payment.KindLocked, payment.KindNotFound:
	default:
		return Problem{}, false
	}
	p = Problem{Status: http.StatusBadRequest, Detail: e.Detail}
	if e.Kind == payment.KindLocked {
		p.Status = http.StatusTooManyRequests
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.Fields = append(p.Fields, e.Fields[k]...)
	}
	if e.TriesRemaining != "" {
		p.Fields = append(p.Fields, "Tries remaining: "+e.TriesRemaining)
	}
	return p, true
}
