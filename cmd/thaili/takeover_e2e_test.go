package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The two account takeovers of issue 11, end to end through run() on
// both stores: a stranger who knows only a confirmed merchant's email,
// or a confirmed wallet's mobile, posts the phone-confirmation form with
// a made-up code. Neither may get a session, whatever the account's
// state; the owner keeps working.

// signedIn reports whether b holds a session that opens path (the
// dashboard or the wallet page) rather than being sent to log in.
func signedIn(t *testing.T, b *merchantBrowser, path string) bool {
	t.Helper()
	p := b.get(t, path)
	return p.Status == http.StatusOK
}

// sessionCookieSet reports whether p set a non-empty cookie called name.
func sessionCookieSet(p mpage, name string) bool {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == name && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

func TestTakeoverMerchantByConfirmingPhone(t *testing.T) {
	onBothStores(t, func(t *testing.T, s *testServer) {
		const email, phone, password = "owner@takeover.example", "9812340001", "owner's password 1"
		owner := newMerchantBrowser(t, s)
		signUpMerchant(t, owner, "Owner Shop", email, phone, password)

		attempt := func(what string) {
			t.Helper()
			stranger := newMerchantBrowser(t, s)
			wantPage(t, "log-in form", stranger.get(t, "/login/"), 200)
			for _, code := range []string{"000000", "123456", ""} {
				p := stranger.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {code}})
				if p.Status == http.StatusSeeOther || sessionCookieSet(p, "thaili_session") {
					t.Fatalf("%s: confirming %s with code %q answered %d to %q and set a session", what, email, code, p.Status, p.Location)
				}
				if p.Status != http.StatusBadRequest {
					t.Fatalf("%s: status %d, want 400\n%s", what, p.Status, p.Body)
				}
			}
			if signedIn(t, stranger, "/dashboard/") {
				t.Fatalf("%s: the stranger opens the dashboard", what)
			}
		}
		attempt("confirmed merchant")

		// Locked out of /login/ by wrong passwords: still no way in.
		locker := newMerchantBrowser(t, s)
		locker.get(t, "/login/")
		for i := 0; i < 10; i++ {
			locker.post(t, "/login/", url.Values{"email": {email}, "password": {"wrong password " + string(rune('a'+i))}})
		}
		wantPage(t, "locked log-in", locker.post(t, "/login/", url.Values{"email": {email}, "password": {password}}), 400, "Too many failed sign-ins")
		attempt("locked-out merchant")

		// The owner's session was never disturbed.
		if !signedIn(t, owner, "/dashboard/") {
			t.Fatal("the owner lost the dashboard")
		}
	})
}

func TestTakeoverWalletByConfirmingPhone(t *testing.T) {
	onBothStores(t, func(t *testing.T, s *testServer) {
		// A wallet made by an operator counts as confirmed; so does one
		// that signed up on the web and confirmed its code.
		const cliMobile = "9812340011"
		s.cliOK(t, "consumer", "create", "--mobile", cliMobile, "--name", "Victim", "--mpin", "4826")
		s.cliOK(t, "consumer", "topup", "--mobile", cliMobile, "--amount", "500000")

		const webMobile, mpin = "9812340012", "3719"
		owner := newMerchantBrowser(t, s)
		owner.get(t, "/join/")
		wantPage(t, "wallet sign-up", owner.post(t, "/join/", url.Values{"mobile": {webMobile}, "name": {"Owner"}, "mpin": {mpin}, "mpin2": {mpin}}), 200)
		wantRedirect(t, "wallet confirm", owner.post(t, "/join/confirm", url.Values{"mobile": {webMobile}, "code": {s.lastAccountCode(t, webMobile)}}), "/me/")

		for _, mobile := range []string{cliMobile, webMobile, "9800000001"} {
			stranger := newMerchantBrowser(t, s)
			wantPage(t, "wallet log-in form", stranger.get(t, "/me/login/"), 200)
			for _, code := range []string{"000000", "987654", ""} {
				p := stranger.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {code}})
				if p.Status == http.StatusSeeOther || sessionCookieSet(p, "thaili_wallet") {
					t.Fatalf("confirming %s with code %q answered %d to %q and set a session", mobile, code, p.Status, p.Location)
				}
				if p.Status != http.StatusBadRequest {
					t.Fatalf("%s: status %d, want 400\n%s", mobile, p.Status, p.Body)
				}
			}
			if signedIn(t, stranger, "/me/") {
				t.Fatalf("the stranger opens the wallet of %s", mobile)
			}
			// Nor can the stranger ask for an MPIN reset code and read it
			// anywhere a web session reaches.
			stranger.get(t, "/me/reset/")
			stranger.post(t, "/me/reset/", url.Values{"mobile": {mobile}})
			if p := stranger.get(t, "/me/"); p.Status == http.StatusOK {
				t.Fatalf("the stranger reads the wallet of %s after asking for a reset", mobile)
			}
		}
		if !signedIn(t, owner, "/me/") {
			t.Fatal("the owner lost the wallet page")
		}
		if bal := s.walletBalanceProbe(t, cliMobile); bal != 500001 {
			t.Fatalf("the victim's balance changed: %d paisa (probe included)", bal)
		}
		if strings.Contains(s.Stderr.String(), "panic") {
			t.Fatal("the server panicked")
		}
	})
}
