// Package sitetest holds what the page packages' httptest tests share:
// sending a request (a form post with cookies) to a handler, checking the
// page that comes back, and finding a cookie it set.
package sitetest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Do sends method target to h, with form as an urlencoded body when it
// is not nil, and cookies; it returns what h wrote.
func Do(h http.Handler, method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// WantPage fails the test unless w has status and its body contains
// every string of contains; what names the request in the message.
func WantPage(t testing.TB, what string, w *httptest.ResponseRecorder, status int, contains ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, w.Code, status, w.Body)
	}
	for _, c := range contains {
		if !strings.Contains(w.Body.String(), c) {
			t.Errorf("%s: page lacks %q\n%s", what, c, w.Body)
		}
	}
}

// Cookie is the cookie named name that w set, or nil.
func Cookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
