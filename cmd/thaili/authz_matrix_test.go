package main

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The authorisation matrix of the page routes: every dashboard, wallet
// and console route (GET pages and POST forms) requested by each
// principal, with the outcome spelled out per cell.

// Outcomes of one request.
const (
	azPage    = "200"        // GET: the page is served
	azHandled = "handled"    // POST: past the session and CSRF checks (not 403, not 5xx, not a 303 to a log-in page)
	azSignOut = "signed out" // POST: 303 to the area's log-in page, and the session has ended
	azRefused = "403"        // refused: no valid CSRF token for this browser

	azToLogin      = "303 /login/"                 // sent to the merchant log-in page
	azToMeLogin    = "303 /me/login/"              // sent to the wallet log-in page
	azToAdminLogin = "303 /admin/login/"           // sent to the console log-in page
	azToDashboard  = "303 /dashboard/"             // a log-in form asked for while signed in
	azToGoLive     = "303 /dashboard/go-live/#kyc" // the KYC page's old address
	azToMe         = "303 /me/"
	azToAdmin      = "303 /admin/"
)

// azRoute is one route and its policy. A POST carries the CSRF token of
// the page `form` as the principal's browser gets it; when that page
// offers no form (it redirects), the principal's own signed-in token.
type azRoute struct {
	method, path string
	form         string     // the page whose form posts here (POST only)
	fields       url.Values // harmless field values (POST only)

	anon, merchantA, merchantB, consumer, operator string
}

var azDashboardRoutes = []azRoute{
	{method: "GET", path: "/join/merchant/",
		anon: azPage, merchantA: azPage, merchantB: azPage, consumer: azPage, operator: azPage},
	{method: "POST", path: "/join/merchant/", form: "/join/merchant/", fields: url.Values{"name": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "POST", path: "/join/merchant/confirm", form: "/join/merchant/", fields: url.Values{"email": {""}, "code": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "GET", path: "/login/",
		anon: azPage, merchantA: azToDashboard, merchantB: azToDashboard, consumer: azPage, operator: azPage},
	// A signed-in merchant gets no log-in form, so holds no pre-session token.
	{method: "POST", path: "/login/", form: "/login/", fields: url.Values{"email": {""}, "password": {""}},
		anon: azHandled, merchantA: azRefused, merchantB: azRefused, consumer: azHandled, operator: azHandled},
	{method: "GET", path: "/dashboard/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/keys/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/rotate", form: "/dashboard/keys/", fields: url.Values{"book": {"neither"}},
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/saved", form: "/dashboard/keys/", fields: url.Values{"back": {"keys"}},
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/settings/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/password", form: "/dashboard/settings/", fields: url.Values{"current_password": {"not the password"}, "new_password": {"whatever password"}},
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/logout-everywhere", form: "/dashboard/settings/",
		anon: azToLogin, merchantA: azSignOut, merchantB: azSignOut, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/go-live/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/test-payment/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	// A test payment of the merchant's own, sent to the hosted page.
	{method: "POST", path: "/dashboard/test-payment", form: "/dashboard/test-payment/",
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/logout/", form: "/dashboard/",
		anon: azToLogin, merchantA: azSignOut, merchantB: azSignOut, consumer: azToLogin, operator: azToLogin},
}

// azDashboardWebhookRoutes are the merchant's webhook pages under
// /dashboard/webhooks/; extend it (same policy as /dashboard/rotate) as
// those routes land in internal/dashboard/routes.go.
// {A} in a path is merchant A's webhook endpoint: merchant B asking for
// it gets the not-found page. The matrix asks merchant B before merchant
// A, so B's attempt to delete A's endpoint comes before A's own.
var azDashboardWebhookRoutes = []azRoute{
	{method: "GET", path: "/dashboard/webhooks/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/webhooks/", form: "/dashboard/webhooks/", fields: url.Values{"url": {"not a url"}},
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/webhooks/{A}/",
		anon: azToLogin, merchantA: azPage, merchantB: "404", consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/webhooks/{A}/replay", form: "/dashboard/webhooks/", fields: url.Values{"delivery": {"no-such-delivery"}},
		anon: azToLogin, merchantA: azHandled, merchantB: "404", consumer: azToLogin, operator: azToLogin},
	// Merchant A's test event is sent (200: its name does not resolve, so
	// the log says it failed); B's, before it, must not be.
	{method: "POST", path: "/dashboard/webhooks/{A}/test", form: "/dashboard/webhooks/", fields: url.Values{"book": {"test"}},
		anon: azToLogin, merchantA: azPage, merchantB: "404", consumer: azToLogin, operator: azToLogin},
	// Merchant A's delete really deletes (200); B's, before it, must not.
	{method: "POST", path: "/dashboard/webhooks/{A}/delete", form: "/dashboard/webhooks/", fields: url.Values{"book": {"test"}},
		anon: azToLogin, merchantA: azPage, merchantB: "404", consumer: azToLogin, operator: azToLogin},
}

// azDashboardTransactionRoutes are the merchant's transaction pages.
// {T} in a path is merchant A's (test book) transaction: merchant B
// asking for it, or refunding it, gets the not-found page. A's refund
// posts amount 0, which the service refuses (nothing moves).
var azDashboardTransactionRoutes = []azRoute{
	{method: "GET", path: "/dashboard/transactions/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/transactions.csv",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/refunds/",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/refunds.csv",
		anon: azToLogin, merchantA: azPage, merchantB: azPage, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/dashboard/transactions/{T}/",
		anon: azToLogin, merchantA: azPage, merchantB: "404", consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/transactions/{T}/refund", form: "/dashboard/transactions/{T}/", fields: url.Values{"book": {"test"}, "amount": {"0"}},
		anon: azToLogin, merchantA: azHandled, merchantB: "404", consumer: azToLogin, operator: azToLogin},
}

// azDashboardKYCRoutes are the merchant's KYC form and the console's
// download of KYC documents. {K} is merchant A's idx and {D} one of its
// documents: only an operator gets it. The urlencoded POST carries no
// documents, so it is refused by validation (handled).
var azDashboardKYCRoutes = []azRoute{
	{method: "GET", path: "/dashboard/kyc/",
		anon: azToLogin, merchantA: azToGoLive, merchantB: azToGoLive, consumer: azToLogin, operator: azToLogin},
	{method: "POST", path: "/dashboard/kyc/", form: "/dashboard/go-live/", fields: url.Values{"business_name": {""}},
		anon: azToLogin, merchantA: azHandled, merchantB: azHandled, consumer: azToLogin, operator: azToLogin},
	{method: "GET", path: "/admin/kyc/{K}/documents/{D}",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
}

var azWalletRoutes = []azRoute{
	{method: "GET", path: "/join/",
		anon: azPage, merchantA: azPage, merchantB: azPage, consumer: azPage, operator: azPage},
	{method: "POST", path: "/join/", form: "/join/", fields: url.Values{"mobile": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "POST", path: "/join/confirm", form: "/join/", fields: url.Values{"mobile": {""}, "code": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "GET", path: "/me/login/",
		anon: azPage, merchantA: azPage, merchantB: azPage, consumer: azToMe, operator: azPage},
	// A signed-in consumer gets no log-in form, so holds no pre-session token.
	{method: "POST", path: "/me/login/", form: "/me/login/", fields: url.Values{"mobile": {""}, "mpin": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azRefused, operator: azHandled},
	{method: "GET", path: "/me/",
		anon: azToMeLogin, merchantA: azToMeLogin, merchantB: azToMeLogin, consumer: azPage, operator: azToMeLogin},
	{method: "GET", path: "/me/payments/",
		anon: azToMeLogin, merchantA: azToMeLogin, merchantB: azToMeLogin, consumer: azPage, operator: azToMeLogin},
	{method: "GET", path: "/me/notices/",
		anon: azToMeLogin, merchantA: azToMeLogin, merchantB: azToMeLogin, consumer: azPage, operator: azToMeLogin},
	// The MPIN reset works signed out (the locked-out path) and signed in.
	{method: "GET", path: "/me/reset/",
		anon: azPage, merchantA: azPage, merchantB: azPage, consumer: azPage, operator: azPage},
	{method: "POST", path: "/me/reset/", form: "/me/reset/", fields: url.Values{"mobile": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "POST", path: "/me/reset/confirm", form: "/me/reset/", fields: url.Values{"mobile": {""}, "code": {""}, "mpin": {""}, "mpin2": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azHandled},
	{method: "POST", path: "/me/logout/", form: "/me/",
		anon: azToMeLogin, merchantA: azToMeLogin, merchantB: azToMeLogin, consumer: azSignOut, operator: azToMeLogin},
}

var azConsoleRoutes = []azRoute{
	{method: "GET", path: "/admin/login/",
		anon: azPage, merchantA: azPage, merchantB: azPage, consumer: azPage, operator: azToAdmin},
	// A signed-in operator gets no log-in form, so holds no pre-session token.
	{method: "POST", path: "/admin/login/", form: "/admin/login/", fields: url.Values{"email": {""}, "password": {""}},
		anon: azHandled, merchantA: azHandled, merchantB: azHandled, consumer: azHandled, operator: azRefused},
	{method: "GET", path: "/admin/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
	{method: "GET", path: "/admin/merchants/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
	{method: "POST", path: "/admin/merchants/kyc", form: "/admin/merchants/", fields: url.Values{"merchant": {"no-such-merchant"}, "decision": {"approve"}},
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azHandled},
	// {M} is merchant A's idx: only an operator sees or edits its fees.
	{method: "GET", path: "/admin/merchants/{M}/fees/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
	{method: "POST", path: "/admin/merchants/{M}/fees/", form: "/admin/merchants/{M}/fees/", fields: url.Values{"book": {"test"}, "from0": {"x"}},
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azHandled},
	{method: "GET", path: "/admin/consumers/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
	{method: "POST", path: "/admin/consumers/topup", form: "/admin/consumers/", fields: url.Values{"mobile": {"9899999999"}, "amount": {"0"}, "book": {"test"}},
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azHandled},
	{method: "POST", path: "/admin/consumers/unlock", form: "/admin/consumers/", fields: url.Values{"mobile": {"9899999999"}},
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azHandled},
	{method: "GET", path: "/admin/audit/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azPage},
	{method: "POST", path: "/admin/logout/", form: "/admin/",
		anon: azToAdminLogin, merchantA: azToAdminLogin, merchantB: azToAdminLogin, consumer: azToAdminLogin, operator: azSignOut},
}

func azAllRoutes() []azRoute {
	var all []azRoute
	for _, rs := range [][]azRoute{azDashboardRoutes, azDashboardWebhookRoutes, azDashboardTransactionRoutes, azDashboardKYCRoutes, azWalletRoutes, azConsoleRoutes} {
		all = append(all, rs...)
	}
	return all
}

// azPrincipal is a browser of one principal, with its own cookie jar.
type azPrincipal struct {
	name  string
	b     *merchantBrowser
	home  string // the signed-in page whose token is the principal's own ("" for anonymous)
	login func(t *testing.T) *merchantBrowser
}

// own is the principal's signed-in CSRF token ("" for anonymous).
func (p *azPrincipal) own(t *testing.T) string {
	t.Helper()
	if p.home == "" {
		return ""
	}
	pg := p.b.get(t, p.home)
	m := dashCSRFRE.FindStringSubmatch(pg.Body)
	if pg.Status != 200 || m == nil {
		t.Fatalf("%s: no signed-in token on %s: %d", p.name, p.home, pg.Status)
	}
	return m[1]
}

// formToken is the token p's browser gets from page, or its own token
// when page has no form for it.
func (p *azPrincipal) formToken(t *testing.T, page string) string {
	t.Helper()
	pg := p.b.get(t, page)
	if m := dashCSRFRE.FindStringSubmatch(pg.Body); pg.Status == 200 && m != nil {
		return m[1]
	}
	return p.own(t)
}

// azPost posts fields with token csrf (none when ""), and header h.
func azPost(t *testing.T, b *merchantBrowser, path string, fields url.Values, csrf string, h http.Header) mpage {
	t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form[k] = v
	}
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	req, _ := http.NewRequest("POST", b.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range h {
		req.Header[k] = v
	}
	return b.send(t, req)
}

var azLoginPages = map[string]bool{"/login/": true, "/me/login/": true, "/admin/login/": true}

// azCheck compares p with the expected outcome.
func azCheck(t *testing.T, what string, p mpage, want string) {
	t.Helper()
	got := ""
	switch {
	case p.Status == http.StatusSeeOther:
		got = "303 " + p.Location
	default:
		got = strconv.Itoa(p.Status)
	}
	switch want {
	case azPage:
		if p.Status != 200 {
			t.Errorf("%s: got %d %s, want 200", what, p.Status, got)
		}
	case azRefused:
		if p.Status != http.StatusForbidden {
			t.Errorf("%s: got %d %s, want 403", what, p.Status, got)
		}
	case azHandled:
		if p.Status == http.StatusForbidden || p.Status >= 500 || (p.Status == http.StatusSeeOther && azLoginPages[p.Location]) {
			t.Errorf("%s: got %d %s, want handled", what, p.Status, got)
		}
	case azSignOut:
		if p.Status != http.StatusSeeOther || !azLoginPages[p.Location] {
			t.Errorf("%s: got %d %s, want a sign-out", what, p.Status, got)
		}
	default:
		if got != want {
			t.Errorf("%s: got %d %s, want %s", what, p.Status, got, want)
		}
	}
}

func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const (
		emailA, passA = "a@authz.example", "merchant a password"
		emailB, passB = "b@authz.example", "merchant b password"
		mobile, mpin  = "9812340001", "2580"
		opEmail, opPw = "ops@authz.example", "operator password 1"
	)

	// The principals.
	a := newMerchantBrowser(t, s)
	pkA, skA := signUpMerchant(t, a, "Alpha Traders", emailA, "9812340101", passA)
	b := newMerchantBrowser(t, s)
	signUpMerchant(t, b, "Beta Goods", emailB, "9812340102", passB)
	s.cliOK(t, "consumer", "create", "--mobile", mobile, "--name", "Sita", "--mpin", mpin)
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPw)
	merchantLogin := func(email, password string) func(t *testing.T) *merchantBrowser {
		return func(t *testing.T) *merchantBrowser {
			nb := newMerchantBrowser(t, s)
			nb.get(t, "/login/")
			wantRedirect(t, "merchant login "+email, nb.post(t, "/login/", url.Values{"email": {email}, "password": {password}}), "/dashboard/")
			return nb
		}
	}
	consumerLogin := func(t *testing.T) *merchantBrowser {
		nb := newMerchantBrowser(t, s)
		nb.get(t, "/me/login/")
		wantRedirect(t, "consumer login", nb.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {mpin}}), "/me/")
		return nb
	}
	operatorLoginFn := func(t *testing.T) *merchantBrowser {
		nb := newMerchantBrowser(t, s)
		operatorLogin(t, nb, opEmail, opPw)
		return nb
	}
	anon := &azPrincipal{name: "anonymous", b: newMerchantBrowser(t, s)}
	pA := &azPrincipal{name: "merchant A", b: a, home: "/dashboard/", login: merchantLogin(emailA, passA)}
	pB := &azPrincipal{name: "merchant B", b: b, home: "/dashboard/", login: merchantLogin(emailB, passB)}
	pC := &azPrincipal{name: "consumer", b: consumerLogin(t), home: "/me/", login: consumerLogin}
	pO := &azPrincipal{name: "operator", b: operatorLoginFn(t), home: "/admin/", login: operatorLoginFn}
	principals := []*azPrincipal{anon, pB, pA, pC, pO}
	cell := func(r azRoute, p *azPrincipal) string {
		return map[*azPrincipal]string{anon: r.anon, pA: r.merchantA, pB: r.merchantB, pC: r.consumer, pO: r.operator}[p]
	}

	// Give merchant A a balance and live keys, so there is something to leak.
	_, txA := s.pay(t, pkA, skA, "9800000001", 12345)
	pageA := a.get(t, "/dashboard/")
	wantPage(t, "merchant A dashboard", pageA, 200, "Alpha Traders")
	var secretsA []string // merchant A's keys, as its Keys pages show them
	for _, book := range []string{"test", "live"} {
		keys := a.get(t, "/dashboard/keys/?book="+book).Body
		secretsA = append(secretsA, regexp.MustCompile(`(test|live)_(public|secret)_key_[0-9a-f]{4,}…?`).FindAllString(keys, -1)...)
	}
	var balancesA []string // merchant A's non-zero balance
	for _, c := range regexp.MustCompile(`class="stat balance-[a-z]+">Rs [0-9,.]+<`).FindAllString(pageA.Body, -1) {
		if !strings.HasSuffix(c, ">Rs 0.00<") {
			balancesA = append(balancesA, c)
		}
	}
	if len(secretsA) < 4 || len(balancesA) == 0 {
		t.Fatalf("merchant A's keys %q and balances %q", secretsA, balancesA)
	}
	const hookA = "https://hooks.alpha-traders.example/thaili"
	hook := s.do(t, "POST", "/api/thaili/webhooks/", skA, jsonBody(t, map[string]any{"url": hookA, "events": []string{"payment.completed"}}))
	hookIdx, _ := hook.Body["idx"].(string)
	if hookIdx == "" {
		t.Fatalf("merchant A's webhook: %d %s", hook.Status, hook.Raw)
	}
	// Merchant A's KYC submission, and one of its documents as the operator sees it.
	idxA := submitKYC(t, a)
	docA := kycDocLinkRE.FindStringSubmatch(pO.b.get(t, "/admin/merchants/?q=alpha").Body)
	if docA == nil {
		t.Fatal("the console shows no KYC document of merchant A")
	}
	secretsA = append(secretsA, emailA, "Alpha Traders", hookA, hookIdx, txA, "Himal Traders Pvt. Ltd.", "601234567")
	var pagesB []string // every dashboard page body merchant B was shown

	// The matrix.
	routes := azAllRoutes()
	for i := range routes {
		routes[i].path = strings.ReplaceAll(routes[i].path, "{A}", hookIdx)
		routes[i].path = strings.ReplaceAll(routes[i].path, "{T}", txA)
		routes[i].path = strings.NewReplacer("{K}", idxA, "{D}", docA[2], "{M}", idxA).Replace(routes[i].path)
		routes[i].form = strings.NewReplacer("{T}", txA, "{M}", idxA).Replace(routes[i].form)
	}
	for _, r := range routes {
		for _, p := range principals {
			want := cell(r, p)
			what := p.name + " " + r.method + " " + r.path
			if want == "" {
				t.Errorf("%s: no outcome in the table", what)
				continue
			}
			var res mpage
			if r.method == "GET" {
				res = p.b.get(t, r.path)
			} else {
				res = azPost(t, p.b, r.path, r.fields, p.formToken(t, r.form), nil)
			}
			azCheck(t, what, res, want)
			if p == pB && strings.HasPrefix(r.path, "/dashboard/") && res.Status != http.StatusSeeOther && res.Status != http.StatusForbidden {
				pagesB = append(pagesB, res.Body)
			}
			if want == azSignOut {
				if g := p.b.get(t, p.home); g.Status != http.StatusSeeOther || !azLoginPages[g.Location] {
					t.Errorf("%s: session still open after sign-out (%d %s)", what, g.Status, g.Location)
				}
				p.b = p.login(t)
			}
		}
	}

	// CSRF: every POST route, by a principal it is allowed to, without a
	// token or with another principal's, same-site or from another origin.
	evil := http.Header{"Origin": {"https://evil.example"}, "Referer": {"https://evil.example/form"}}
	otherAnon := &azPrincipal{name: "another anonymous browser", b: newMerchantBrowser(t, s)}
	for _, r := range routes {
		if r.method != "POST" {
			continue
		}
		var owner *azPrincipal
		for _, p := range principals {
			if w := cell(r, p); w == azHandled || w == azSignOut || w == azPage {
				owner = p
				break
			}
		}
		if owner == nil {
			t.Errorf("POST %s: nobody may post it", r.path)
			continue
		}
		valid := owner.formToken(t, r.form) // also sets a pre-session cookie where the form has one
		forged := forgeToken(valid)
		foreign := map[string]string{"no token": "", "a forged token": forged}
		for _, p := range append([]*azPrincipal{otherAnon}, principals...) {
			if p == owner {
				continue
			}
			if tok := p.formToken(t, r.form); tok != "" && tok != valid {
				foreign[p.name+"'s token"] = tok
			}
			if tok := p.own(t); tok != "" && tok != valid {
				foreign[p.name+"'s signed-in token"] = tok
			}
		}
		for desc, tok := range foreign {
			for _, h := range []http.Header{nil, evil} {
				what := owner.name + " POST " + r.path + " with " + desc
				if h != nil {
					what += " from https://evil.example"
				}
				azCheck(t, what, azPost(t, owner.b, r.path, r.fields, tok, h), azRefused)
			}
		}
	}

	// Merchant B never sees merchant A's keys, name or balances.
	final := pB.b.get(t, "/dashboard/")
	wantPage(t, "merchant B's dashboard", final, 200, "Beta Goods", `class="stat balance-test">Rs 0.00<`)
	pagesB = append(pagesB, final.Body)
	for _, body := range pagesB {
		for _, leak := range append(secretsA, balancesA...) {
			if strings.Contains(body, leak) {
				t.Errorf("merchant B's dashboard shows merchant A's %q", leak)
			}
		}
	}
}

var azRouteRE = regexp.MustCompile(`mux\.Handle\("(GET|POST) (/[^"]*)"`)

// TestAuthzMatrixCoversEveryRoute fails when a page route of the
// dashboard, wallet or console is missing from the matrix above.
func TestAuthzMatrixCoversEveryRoute(t *testing.T) {
	var src []byte
	for _, pkg := range []string{"dashboard", "wallet", "console"} {
		b, err := os.ReadFile("../../internal/" + pkg + "/routes.go")
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	have := map[string]bool{}
	for _, r := range azAllRoutes() {
		have[r.method+" "+strings.NewReplacer("{A}", "{idx}", "{T}", "{idx}", "{K}", "{merchantIdx}", "{D}", "{id}", "{M}", "{idx}").Replace(r.path)] = true
	}
	n := 0
	for _, m := range azRouteRE.FindAllStringSubmatch(string(src), -1) {
		path := strings.TrimSuffix(m[2], "{$}")
		if !regexp.MustCompile(`^/(dashboard|me|admin|login|logout|join)/`).MatchString(path) {
			continue
		}
		n++
		if key := m[1] + " " + path; !have[key] {
			if strings.HasPrefix(path, "/dashboard/webhooks") {
				t.Logf("%s is not yet in azDashboardWebhookRoutes", key)
				continue
			}
			t.Errorf("%s is not in the authorisation matrix", key)
		}
	}
	if n < 30 {
		t.Fatalf("found only %d page routes in routes.go", n)
	}
}
