package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// merchantBrowser is a person using the merchant pages: a cookie jar and
// no automatic redirects, so each 303 can be checked.
type merchantBrowser struct {
	s         *testServer
	client    *http.Client
	csrf      string // the last CSRF token seen on a page
	challenge string // the last code form's challenge seen on a page
}

func newMerchantBrowser(t *testing.T, s *testServer) *merchantBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &merchantBrowser{s: s, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type mpage struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

var (
	dashCSRFRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	dashChallengeRE = regexp.MustCompile(`name="challenge" value="([^"]*)"`)
)

func (b *merchantBrowser) send(t *testing.T, req *http.Request) mpage {
	t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := mpage{Status: res.StatusCode, Location: res.Header.Get("Location"), Header: res.Header, Body: string(raw)}
	if m := dashCSRFRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	if m := dashChallengeRE.FindStringSubmatch(p.Body); m != nil {
		b.challenge = m[1]
	}
	return p
}

func (b *merchantBrowser) get(t *testing.T, path string) mpage {
	t.Helper()
	req, _ := http.NewRequest("GET", b.s.URL+path, nil)
	return b.send(t, req)
}

// post submits a form with the last CSRF token (unless form sets csrf)
// and, as a browser submitting the code form it was shown would, the last
// code challenge (unless form sets challenge).
func (b *merchantBrowser) post(t *testing.T, path string, form url.Values) mpage {
	t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	if _, ok := form["challenge"]; !ok && b.challenge != "" {
		form.Set("challenge", b.challenge)
	}
	req, _ := http.NewRequest("POST", b.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(t, req)
}

func wantPage(t *testing.T, what string, p mpage, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.Status, status, p.Body)
	}
	for _, c := range contains {
		if !strings.Contains(p.Body, c) {
			t.Fatalf("%s: page lacks %q\n%s", what, c, p.Body)
		}
	}
}

func wantRedirect(t *testing.T, what string, p mpage, to string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Location != to {
		t.Fatalf("%s: %d to %q, want 303 to %q\n%s", what, p.Status, p.Location, to, p.Body)
	}
}

var accountCodeRE = regexp.MustCompile(`msg="account code" mobile=(\d+) code=(\d{6})`)

// lastAccountCode is the most recent phone code logged for mobile.
func (s *testServer) lastAccountCode(t testing.TB, mobile string) string {
	t.Helper()
	code := ""
	for _, m := range accountCodeRE.FindAllStringSubmatch(s.Stderr.String(), -1) {
		if m[1] == mobile {
			code = m[2]
		}
	}
	if code == "" {
		t.Fatalf("no account code logged for %s", mobile)
	}
	return code
}

var (
	dashTestPublicRE = regexp.MustCompile(`test_public_key_[0-9a-f]{32}`)
	dashTestSecretRE = regexp.MustCompile(`test_secret_key_[0-9a-f]{32}`)
	dashLivePublicRE = regexp.MustCompile(`live_public_key_[0-9a-f]{32}`)
	dashLiveSecretRE = regexp.MustCompile(`live_secret_key_[0-9a-f]{32}`)
)

// forgeToken changes the first character of a CSRF token, so it is
// certainly another token ("x"+token[1:] is the same one when the token
// starts with x).
func forgeToken(token string) string {
	if strings.HasPrefix(token, "x") {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

// signUpMerchant signs a merchant up and confirms its phone; the browser
// ends signed in. It returns the test keys the dashboard shows once.
func signUpMerchant(t *testing.T, b *merchantBrowser, name, email, phone, password string) (pk, sk string) {
	t.Helper()
	wantPage(t, "sign-up form", b.get(t, "/join/merchant/"), 200, `action="/join/merchant/"`)
	p := b.post(t, "/join/merchant/", url.Values{"name": {name}, "email": {email}, "phone": {phone}, "password": {password}})
	wantPage(t, "sign-up", p, 200, "Confirm your phone", `name="challenge"`)
	if dashTestSecretRE.MatchString(p.Body) {
		t.Fatalf("the sign-up page shows a secret key before the phone is confirmed:\n%s", p.Body)
	}
	wantRedirect(t, "confirm", b.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {b.s.lastAccountCode(t, phone)}}), "/dashboard/keys/")
	d := b.get(t, "/dashboard/keys/")
	wantPage(t, "first keys page", d, 200, "shown only this once")
	pk, sk = dashTestPublicRE.FindString(d.Body), dashTestSecretRE.FindString(d.Body)
	if pk == "" || sk == "" {
		t.Fatalf("the first keys page shows no test keys:\n%s", d.Body)
	}
	return pk, sk
}

func TestDashboardJourney(t *testing.T) {
	s := startServer(t)
	const name, email, phone, password = `<script>alert("x")</script> Himal & Co`, "owner@himal.example", "9812345670", "correct horse battery"

	// Unauthenticated: the dashboard sends to the log-in page.
	anon := newMerchantBrowser(t, s)
	wantRedirect(t, "anonymous dashboard", anon.get(t, "/dashboard/"), "/login/")
	// A sign-in form posted without its CSRF token (or cookie) is refused.
	wantPage(t, "login without CSRF", anon.post(t, "/login/", url.Values{"email": {email}, "password": {password}, "csrf": {""}}), 403)

	// Sign up; a weak password and a bad phone are refused first.
	a := newMerchantBrowser(t, s)
	wantPage(t, "sign-up form", a.get(t, "/join/merchant/"), 200)
	wantPage(t, "short password", a.post(t, "/join/merchant/", url.Values{"name": {name}, "email": {email}, "phone": {"12"}, "password": {"short"}}),
		400, "at least 10 characters", "Enter a valid mobile number.")
	p := a.post(t, "/join/merchant/", url.Values{"name": {name}, "email": {email}, "phone": {phone}, "password": {password}})
	wantPage(t, "sign-up", p, 200, "Confirm your phone", "98XXXXX670")
	if dashTestSecretRE.MatchString(p.Body) || dashTestPublicRE.MatchString(p.Body) {
		t.Fatalf("keys on the sign-up page, before the phone is confirmed:\n%s", p.Body)
	}
	if strings.Contains(p.Body, "<script>") {
		t.Fatal("raw script on the confirmation page")
	}

	// Unconfirmed: log-in with the right password only sends a new code.
	first := s.lastAccountCode(t, phone)
	firstChallenge := a.challenge
	wantPage(t, "login unconfirmed", a.post(t, "/login/", url.Values{"email": {email}, "password": {password}}), 200, "Confirm your phone first")
	code, challenge := s.lastAccountCode(t, phone), a.challenge
	wantPage(t, "old code", a.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {first}, "challenge": {firstChallenge}}), 400,
		"This code has expired, was used")
	wantPage(t, "old code with the new challenge", a.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {first}, "challenge": {challenge}}), 400)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	wantPage(t, "wrong code", a.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {wrong}, "challenge": {challenge}}), 400, "The code is wrong.")
	wantPage(t, "no challenge", a.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {code}, "challenge": {""}}), 400,
		"This code has expired, was used")
	confirmed := a.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {code}, "challenge": {challenge}})
	wantRedirect(t, "confirm", confirmed, "/dashboard/keys/")
	cookie := ""
	for _, c := range confirmed.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "thaili_session=") {
			cookie = c
		}
	}
	for _, attr := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure on http", cookie)
	}

	// The overview says a secret waits; Keys shows the test keys, the
	// secret this once.
	wantPage(t, "first overview", a.get(t, "/dashboard/"), 200, `id="secret-waiting"`, `href="/dashboard/keys/?book=test"`)
	d := a.get(t, "/dashboard/keys/")
	wantPage(t, "first keys page", d, 200, "shown only this once", `action="/dashboard/saved"`)
	pk, sk := dashTestPublicRE.FindString(d.Body), dashTestSecretRE.FindString(d.Body)
	if pk == "" || sk == "" {
		t.Fatalf("no test keys on the first keys page:\n%s", d.Body)
	}
	wantRedirect(t, "I have saved it", a.post(t, "/dashboard/saved", url.Values{"book": {"test"}, "back": {"keys"}}), "/dashboard/keys/?book=test")

	// Signing up again with the email answers alike and changes nothing.
	again := newMerchantBrowser(t, s)
	again.get(t, "/join/merchant/")
	wantPage(t, "same email again", again.post(t, "/join/merchant/", url.Values{"name": {"x"}, "email": {email}, "phone": {"9812345679"}, "password": {password}}),
		200, "Confirm your phone", "98XXXXX679")

	// The overview: name escaped, KYC and checklist, the balance; Keys:
	// test public key in full, secret as prefix only.
	d = a.get(t, "/dashboard/")
	wantPage(t, "overview", d, 200, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Himal &amp; Co", "KYC", "none",
		"Complete a test payment", "Rs 0.00")
	if strings.Contains(d.Body, "<script>") || strings.Contains(d.Body, `id="secret-waiting"`) {
		t.Fatal("overview shows raw script, or a secret still waiting")
	}
	if csp := d.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	d = a.get(t, "/dashboard/keys/")
	wantPage(t, "keys", d, 200, pk, sk[:20])
	if strings.Contains(d.Body, sk) || dashLivePublicRE.MatchString(d.Body) {
		t.Fatal("keys page shows the test secret again, or live keys before go-live")
	}

	// A completed test payment with these keys: the checklist ticks and
	// the live keys appear, the secret once.
	s.pay(t, pk, sk, "9800000001", 1000)
	d = a.get(t, "/dashboard/")
	wantPage(t, "overview after test payment", d, 200, "✓ Completed a test payment", "○ KYC approved", "Rs 9.70", `id="secret-waiting"`)
	d = a.get(t, "/dashboard/keys/?book=live")
	wantPage(t, "live keys", d, 200, "Rotate live keys", "shown only this once")
	livePK, liveSK := dashLivePublicRE.FindString(d.Body), dashLiveSecretRE.FindString(d.Body)
	if livePK == "" || liveSK == "" {
		t.Fatalf("live keys not shown after go-live:\n%s", d.Body)
	}
	d = a.get(t, "/dashboard/keys/?book=live")
	if !strings.Contains(d.Body, livePK) || strings.Contains(d.Body, liveSK) {
		t.Fatal("live secret shown twice, or live public key gone")
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/", liveSK, ""); r.Status != 200 {
		t.Fatalf("live secret from the dashboard: %d %s", r.Status, r.Raw)
	}
	if out, err := s.cli(t, "kyc", "approve", "--merchant", email); err != nil {
		t.Fatalf("kyc approve: %v\n%s", err, out)
	}
	wantPage(t, "overview after KYC", a.get(t, "/dashboard/"), 200, "✓ KYC approved", "approved")

	// Rotation: the new test secret is shown once; the old one is revoked.
	wantPage(t, "rotate without CSRF", a.post(t, "/dashboard/rotate", url.Values{"book": {"test"}, "csrf": {""}}), 403)
	wantPage(t, "rotate with a forged token", a.post(t, "/dashboard/rotate", url.Values{"book": {"test"}, "csrf": {forgeToken(a.csrf)}}), 403)
	a.get(t, "/dashboard/keys/")
	r := a.post(t, "/dashboard/rotate", url.Values{"book": {"test"}})
	wantPage(t, "rotate", r, 200, "New test keys", "rotated", "shown only this once")
	newSK := dashTestSecretRE.FindString(r.Body)
	if newSK == "" || newSK == sk || dashTestPublicRE.FindString(r.Body) == pk {
		t.Fatalf("rotation shows no new keys:\n%s", r.Body)
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/", sk, ""); r.Status != 401 {
		t.Fatalf("old test secret after rotation: %d", r.Status)
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/", newSK, ""); r.Status != 200 {
		t.Fatalf("new test secret: %d %s", r.Status, r.Raw)
	}
	if strings.Contains(a.get(t, "/dashboard/keys/").Body, newSK) {
		t.Fatal("rotated secret shown twice")
	}

	// Another merchant sees only its own dashboard.
	other := newMerchantBrowser(t, s)
	otherPK, _ := signUpMerchant(t, other, "Other Shop", "other@shop.example", "9812345671", "another password!")
	wantPage(t, "other overview", other.get(t, "/dashboard/"), 200, "Other Shop")
	for _, path := range []string{"/dashboard/", "/dashboard/keys/", "/dashboard/settings/", "/dashboard/go-live/"} {
		od := other.get(t, path)
		if path == "/dashboard/keys/" {
			wantPage(t, "other keys", od, 200, otherPK)
		}
		for _, leak := range []string{email, "Himal", livePK, pk} {
			if strings.Contains(od.Body, leak) {
				t.Fatalf("other merchant's %s shows %q", path, leak)
			}
		}
	}

	// Password change: the current password must be right; other sessions end.
	second := newMerchantBrowser(t, s)
	wantPage(t, "login form", second.get(t, "/login/"), 200)
	wantRedirect(t, "second login", second.post(t, "/login/", url.Values{"email": {email}, "password": {password}}), "/dashboard/")
	wantPage(t, "second keys page", second.get(t, "/dashboard/keys/?book=live"), 200, livePK)
	wantPage(t, "wrong current password", a.post(t, "/dashboard/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {"a new password"}}),
		400, "The current password is wrong.")
	const newPassword = "a brand new password"
	wantPage(t, "change password", a.post(t, "/dashboard/password", url.Values{"current_password": {password}, "new_password": {newPassword}}),
		200, "password was changed")
	wantRedirect(t, "other session after password change", second.get(t, "/dashboard/"), "/login/")
	wantPage(t, "this session kept", a.get(t, "/dashboard/keys/?book=live"), 200, livePK)
	second.get(t, "/login/")
	wantPage(t, "old password", second.post(t, "/login/", url.Values{"email": {email}, "password": {password}}), 400, "email or password is wrong")
	wantRedirect(t, "new password", second.post(t, "/login/", url.Values{"email": {email}, "password": {newPassword}}), "/dashboard/")

	// Logout ends one session; logout everywhere ends all of them.
	third := newMerchantBrowser(t, s)
	third.get(t, "/login/")
	wantRedirect(t, "third login", third.post(t, "/login/", url.Values{"email": {email}, "password": {newPassword}}), "/dashboard/")
	third.get(t, "/dashboard/")
	wantRedirect(t, "logout", third.post(t, "/logout/", url.Values{}), "/login/")
	wantRedirect(t, "dashboard after logout", third.get(t, "/dashboard/"), "/login/")
	wantPage(t, "second still signed in", second.get(t, "/dashboard/"), 200)
	wantRedirect(t, "logout everywhere", second.post(t, "/dashboard/logout-everywhere", url.Values{}), "/login/")
	wantRedirect(t, "first session after logout everywhere", a.get(t, "/dashboard/"), "/login/")
	wantRedirect(t, "second session after logout everywhere", second.get(t, "/dashboard/"), "/login/")
	wantPage(t, "other merchant unaffected", other.get(t, "/dashboard/"), 200, "Other Shop")

	// Lockout: 10 wrong passwords in 30 minutes lock the email, even for the right one.
	l := newMerchantBrowser(t, s)
	l.get(t, "/login/")
	for i := range 10 {
		wantPage(t, "wrong password "+string(rune('0'+i)), l.post(t, "/login/", url.Values{"email": {email}, "password": {"wrong password"}}), 400,
			"email or password is wrong")
	}
	// A locked sign-in answers 400 with its message, as the API answers a
	// locked wallet (fault.KindLocked, internal/site).
	wantPage(t, "locked", l.post(t, "/login/", url.Values{"email": {email}, "password": {newPassword}}), 400, "Too many failed sign-ins")
	// Another account is not locked.
	l2 := newMerchantBrowser(t, s)
	l2.get(t, "/login/")
	wantRedirect(t, "other account", l2.post(t, "/login/", url.Values{"email": {"other@shop.example"}, "password": {"another password!"}}), "/dashboard/")
	s.ledgerOK(t)
}

// tdRE matches a table cell: its attributes and its content.
var tdRE = regexp.MustCompile(`(?s)<td([^>]*)>(.*?)</td>`)

// cells is the text of the page's table cells in order, each trimmed and
// joined by "|", so a test can look for a row whatever the cells' markup.
func cells(body string) string {
	var out []string
	for _, m := range tdRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(strings.Join(strings.Fields(htmlTagRE.ReplaceAllString(m[2], " ")), " ")))
	}
	return strings.Join(out, "|")
}

// hasCell reports whether the page has a table cell of class class (one
// of its classes) whose text is text.
func hasCell(body, class, text string) bool {
	for _, m := range tdRE.FindAllStringSubmatch(body, -1) {
		c := regexp.MustCompile(`class="([^"]*)"`).FindStringSubmatch(m[1])
		if c != nil && slices.Contains(strings.Fields(c[1]), class) &&
			html.UnescapeString(strings.Join(strings.Fields(htmlTagRE.ReplaceAllString(m[2], " ")), " ")) == text {
			return true
		}
	}
	return false
}
