// Package site is the page layer the signed-in sites share: the merchant
// dashboard, the consumer wallet and the operator console. A Site holds
// what differs between them (cookie names and path, SameSite, the CSRF
// purposes, how a session id becomes a user, where to log in), so the
// session, CSRF, refusal and error code exists once. Renderer draws every
// page in one layout (header, navigation, book switch, flash, footer)
// from a template and a view type per page; docs/pages.md describes it.
package site

import (
	"context"
	"crypto/hmac"
	"log/slog"
	"net/http"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
)

// Site is one group of pages behind a log-in, whose user is a U (a
// merchant, a consumer or an operator).
type Site[U any] struct {
	// Name names the site in logs ("merchant page failed").
	Name string
	// SessionCookie holds the session id; PreCookie the random value the
	// signed-out forms' CSRF token derives from.
	SessionCookie, PreCookie string
	// CookiePath and SameSite scope both cookies; Secure is set behind https.
	CookiePath string
	SameSite   http.SameSite
	Secure     bool
	// SessionPurpose and PrePurpose keep this site's CSRF tokens apart from
	// every other site's: a token is Token(purpose + id).
	SessionPurpose, PrePurpose string
	// Token is the keyed MAC the CSRF tokens are (identity.Service.CSRFToken).
	Token func(string) string
	// Lookup resolves a session id to its user, or a KindUnauthorized
	// error for a session that is unknown, expired or ended.
	Lookup func(ctx context.Context, sessionID string) (U, error)
	// LoginPath is where a request without a valid session is sent.
	LoginPath string
	// Pages draws the site's pages, including its refusal and error pages.
	Pages *Renderer
	// Log receives internal errors, which pages never show.
	Log *slog.Logger
}

// Session is a signed-in request's session: its id, its user, and the
// CSRF token its forms carry.
type Session[U any] struct {
	ID   string
	User U
	CSRF string
}

// Handler serves a signed-in request.
type Handler[U any] func(w http.ResponseWriter, r *http.Request, s Session[U])

// Session returns r's session, or a KindUnauthorized error when r has
// none that is valid.
func (s *Site[U]) Session(r *http.Request) (Session[U], error) {
	c, err := r.Cookie(s.SessionCookie)
	if err != nil || c.Value == "" {
		return Session[U]{}, &fault.Error{Kind: fault.KindUnauthorized}
	}
	u, err := s.Lookup(r.Context(), c.Value)
	if err != nil {
		return Session[U]{}, err
	}
	return Session[U]{ID: c.Value, User: u, CSRF: s.SessionToken(c.Value)}, nil
}

// SessionToken is the CSRF token of the forms of session id.
func (s *Site[U]) SessionToken(id string) string { return s.Token(s.SessionPurpose + id) }

// Get serves a signed-in page; a request without a session goes to log in.
func (s *Site[U]) Get(h Handler[U]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.Session(r)
		if err != nil {
			s.toLogin(w, r, err)
			return
		}
		h(w, r, sess)
	})
}

// Post serves a signed-in form: at most formpage.MaxForm bytes, a valid
// session, then the session's CSRF token.
func (s *Site[U]) Post(h Handler[U]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		sess, err := s.Session(r)
		if err != nil {
			s.toLogin(w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(sess.CSRF), []byte(r.PostFormValue("csrf"))) {
			s.Refuse(w, r, err)
			return
		}
		h(w, r, sess)
	})
}

// AnonPost serves a signed-out form (sign-up, log-in), checked against
// the pre-session cookie; h gets the token to put in the next form.
func (s *Site[U]) AnonPost(h func(w http.ResponseWriter, r *http.Request, csrf string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		csrf, err := s.pre().Check(w, r)
		if err != nil {
			s.Refuse(w, r, err)
			return
		}
		h(w, r, csrf)
	})
}

// EitherPost serves a form that works signed in or out (an MPIN reset):
// with a session it must carry the session's token and h gets the
// session; without one it must carry the pre-session token and h gets nil.
func (s *Site[U]) EitherPost(h func(w http.ResponseWriter, r *http.Request, csrf string, sess *Session[U])) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		if sess, err := s.Session(r); err == nil {
			if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(sess.CSRF), []byte(r.PostFormValue("csrf"))) {
				s.Refuse(w, r, err)
				return
			}
			h(w, r, sess.CSRF, &sess)
			return
		}
		csrf, err := s.pre().Check(w, r)
		if err != nil {
			s.Refuse(w, r, err)
			return
		}
		h(w, r, csrf, nil)
	})
}

// PreToken returns the CSRF token of r's signed-out forms, setting the
// pre-session cookie it derives from if r has none.
func (s *Site[U]) PreToken(w http.ResponseWriter, r *http.Request) string {
	return s.pre().Issue(w, r)
}

// SignIn starts session id in the browser and sends it to next.
func (s *Site[U]) SignIn(w http.ResponseWriter, r *http.Request, id, next string) {
	http.SetCookie(w, s.cookies().Cookie(s.SessionCookie, id, 0))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// SignOut forgets the session cookie and sends the browser to next.
func (s *Site[U]) SignOut(w http.ResponseWriter, r *http.Request, next string) {
	http.SetCookie(w, s.cookies().Cookie(s.SessionCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// Refuse answers a form refused before its handler ran: 413 for a body
// over its limit, otherwise 403 for a missing or wrong CSRF token.
func (s *Site[U]) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	status, title, msg := formpage.Refusal(err)
	s.Pages.Message(w, r, Frame{Status: status, Title: title, Message: msg})
}

// Explain puts err on f, the page that failed, and reports true; for an
// internal error (or one a page should not show) it logs the cause and
// reports false, and the caller shows Unavailable instead.
func (s *Site[U]) Explain(r *http.Request, err error, f *Frame) bool {
	p, ok := ProblemOf(err)
	if !ok {
		s.Log.ErrorContext(r.Context(), s.Name+" page failed", "err", err)
		return false
	}
	f.Status, f.Error, f.RetryAfter = p.Status, p.Detail, p.RetryAfter
	f.Errors = append(f.Errors, p.Fields...)
	return true
}

// Fail shows err on a page of its own: the client's message with its
// status, or (logged) the generic "something went wrong" page.
func (s *Site[U]) Fail(w http.ResponseWriter, r *http.Request, err error) {
	var f Frame
	if !s.Explain(r, err, &f) {
		s.Unavailable(w, r)
		return
	}
	f.Title, f.Message, f.Error = "Not possible", f.Error, ""
	if f.Status == http.StatusNotFound {
		f.Title = "Not found"
	}
	s.Pages.Message(w, r, f)
}

// Unavailable is the page for an internal error, whose cause the caller
// has logged: 500 and nothing of the cause.
func (s *Site[U]) Unavailable(w http.ResponseWriter, r *http.Request) {
	s.Pages.Message(w, r, Frame{Status: http.StatusInternalServerError, Title: formpage.UnavailableTitle, Message: formpage.UnavailableMessage})
}

// toLogin answers a request without a valid session: a stale cookie is
// dropped and the browser sent to log in; any other failure to look the
// session up is an error page.
func (s *Site[U]) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if fault.AsError(err).Kind != fault.KindUnauthorized {
		s.Fail(w, r, err)
		return
	}
	if _, cerr := r.Cookie(s.SessionCookie); cerr == nil {
		http.SetCookie(w, s.cookies().Cookie(s.SessionCookie, "", -1))
	}
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, s.LoginPath, http.StatusSeeOther)
}

func (s *Site[U]) cookies() formpage.Cookies {
	return formpage.Cookies{Path: s.CookiePath, SameSite: s.SameSite, Secure: s.Secure}
}

func (s *Site[U]) pre() formpage.PreSession {
	return formpage.PreSession{Cookie: s.PreCookie, Purpose: s.PrePurpose, Token: s.Token, Cookies: s.cookies()}
}

// SecureURL reports whether a site served at publicURL must mark its
// cookies Secure (it is served over https).
func SecureURL(publicURL string) bool {
	return strings.HasPrefix(strings.ToLower(publicURL), "https://")
}
