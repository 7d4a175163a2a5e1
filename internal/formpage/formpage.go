// Package formpage holds what Thaili's server-rendered form pages (the
// merchant dashboard, the consumer wallet and the operator console) share:
// their security headers, their cookies, the CSRF token of signed-out
// forms. How a service error becomes a message is internal/site's ProblemOf.
package formpage

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The page shown for an internal error; its cause is logged, never shown.
const (
	UnavailableTitle   = "Something went wrong"
	UnavailableMessage = "This page is not available right now. Please try again shortly."
)

// Render executes tmpl with data and writes it as an HTML page with
// status (200 if 0) and the headers SetHeaders sets. The page is built
// before anything is written, so a template error (a bug) is logged,
// naming what was rendered, and answered with a plain 500 instead.
func Render(w http.ResponseWriter, log *slog.Logger, what string, tmpl *template.Template, status int, data any) {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		log.Error("rendering "+what, "err", err)
		http.Error(w, "A server error occurred.", http.StatusInternalServerError)
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	SetHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// MaxForm bounds a form post's body.
const MaxForm = 16 << 10

// MsgTooLarge is the message of a form post over MaxForm.
const MsgTooLarge = "The form is too large: what was typed is longer than this form takes. Shorten it and send the form again."

// ErrForged is a form post whose CSRF token does not match.
var ErrForged = errors.New("formpage: CSRF token does not match")

// TooLarge reports whether err is a request body over its limit, which a
// page answers with 413 and MsgTooLarge rather than as a forged form.
func TooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// Refusal is the page for a form post refused before its handler ran:
// 413 for a body over its limit, otherwise 403 for a missing or wrong
// CSRF token (or a form that cannot be parsed).
func Refusal(err error) (status int, title, message string) {
	if TooLarge(err) {
		return http.StatusRequestEntityTooLarge, "Form too large", MsgTooLarge
	}
	return http.StatusForbidden, "Request refused", "This form has expired or did not come from this site. Open the page again and retry."
}

// SetHeaders sets the security headers of a page without script: forms
// post only to this origin; never framed, cached or sniffed.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// TooManyAttempts answers a form post refused by the per-address rate
// limit before its handler ran: 429 with Retry-After in whole seconds
// (rounded up, so a client that waits that long is let in), the pages'
// security headers, and a small page saying how long to wait. It is a
// page of its own, not the refused page's template, because the limit
// sits in front of every group of pages.
func TooManyAttempts(w http.ResponseWriter, retryAfter time.Duration) {
	h := w.Header()
	SetHeaders(h)
	secs := SetRetryAfter(h, retryAfter)
	wait := strconv.FormatInt(secs, 10) + " seconds"
	if secs == 1 {
		wait = "1 second"
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	msg := "Too many attempts from your network. Wait " + wait + " and try again."
	w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many attempts</title></head>
<body><main><h1>Too many attempts</h1><p>` + html.EscapeString(msg) + `</p></main></body></html>
`))
}

// SetRetryAfter sets Retry-After to d in whole seconds, rounded up (so a
// client that waits that long is let in), at least 1, and returns them.
func SetRetryAfter(h http.Header, d time.Duration) int64 {
	secs := max(int64((d+time.Second-1)/time.Second), 1)
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	return secs
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
	Token   func(string) string // the keyed MAC, e.g. identity.Service.CSRFToken
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
// it matches the cookie's. Otherwise it says why: a body over MaxForm
// (TooLarge), a form that cannot be parsed, or ErrForged for a post from
// anywhere else; Refusal turns that into the page to show.
func (p PreSession) Check(w http.ResponseWriter, r *http.Request) (token string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	c, err := r.Cookie(p.Cookie)
	if err != nil || c.Value == "" {
		return "", ErrForged
	}
	want := p.Token(p.Purpose + c.Value)
	if !hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf"))) {
		return "", ErrForged
	}
	return want, nil
}
