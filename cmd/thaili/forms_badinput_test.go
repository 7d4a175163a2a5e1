package main

// Bad input on every web form (issue 6): empty, too long, wrong formats,
// HTML and script, NUL bytes and invalid UTF-8, oversized and wrong-type
// uploads. Each must be answered with a 4xx (or a 200 re-rendered form)
// and the handler's own message, never a 500; the payload never comes
// back unescaped; and nothing is stored. Valid but hostile text (HTML in
// a name) is accepted and always shown escaped.

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// Hostile payloads for text fields.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
	badUTF8   = "Shop \xff\xfe\xfd"
	withNUL   = "Shop\x00Name"
)

// rawPayloads must never appear literally in a response body.
var rawPayloads = []string{xssScript, `<img src=x onerror=alert(1)>`, "\x00"}

var (
	long10k = strings.Repeat("a", 10000)
	digits  = strings.Repeat("9", 10000)
)

// formCase is one bad submission of a form: fields set over the form's
// valid values ("-" as a value deletes the field), the status expected,
// and the exact messages the page must show.
type formCase struct {
	name   string
	set    []string // key, value, key, value, ...
	status int
	msgs   []string
}

// badField is a formCase with one field set.
func badField(name, field, value string, status int, msgs ...string) formCase {
	return formCase{name: name, set: []string{field, value}, status: status, msgs: msgs}
}

// withFields returns base with kv applied.
func withFields(base url.Values, kv []string) url.Values {
	v := url.Values{}
	for k, vs := range base {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// wantRefused checks a refused submission: the status (never a 500), each
// message exactly (as the template escapes it), and no raw payload.
func wantRefused(t *testing.T, what string, p mpage, status int, msgs ...string) {
	t.Helper()
	if p.Status >= 500 {
		t.Fatalf("%s: server error %d\n%s", what, p.Status, p.Body)
	}
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.Status, status, p.Body)
	}
	for _, m := range msgs {
		if !strings.Contains(p.Body, template.HTMLEscapeString(m)) {
			t.Fatalf("%s: page lacks the message %q\n%s", what, m, p.Body)
		}
	}
	noRaw(t, what, p)
}

// noRaw fails if a hostile payload comes back unescaped.
func noRaw(t *testing.T, what string, p mpage) {
	t.Helper()
	for _, raw := range rawPayloads {
		if strings.Contains(p.Body, raw) {
			t.Fatalf("%s: the page contains %q unescaped\n%s", what, raw, p.Body)
		}
	}
}

// runForm posts every case to path over base, refreshing the CSRF token
// from get (a page with the form) first.
func runForm(t *testing.T, b *merchantBrowser, get, path string, base url.Values, cases []formCase) {
	t.Helper()
	for _, fc := range cases {
		if get != "" {
			b.get(t, get)
		}
		wantRefused(t, path+" "+fc.name, b.post(t, path, withFields(base, fc.set)), fc.status, fc.msgs...)
	}
}

// textCases are the cases every free-text field gets: too long (just
// over the limit and 10 000 characters), NUL bytes and invalid UTF-8.
func textCases(field string, limit int, tooLong, notText, control string) []formCase {
	return []formCase{
		badField(field+" just over the limit", field, strings.Repeat("b", limit+1), 400, tooLong),
		badField(field+" 10 000 characters", field, long10k, 400, tooLong),
		badField(field+" NUL byte", field, withNUL, 400, control),
		badField(field+" invalid UTF-8", field, badUTF8, 400, notText),
	}
}

// merchantExists reports whether `thaili merchant show` finds ref.
func merchantExists(t *testing.T, s *testServer, ref string) bool {
	t.Helper()
	_, err := s.cli(t, "merchant", "show", "--merchant", ref)
	return err == nil
}

// TestFormsBadInputMerchant covers the merchant pages' forms, the
// transaction filters and the hosted payment page.
func TestFormsBadInputMerchant(t *testing.T) { onBothStores(t, formsBadInputMerchant) }

// onBothStores runs test on a server over SQLite and, when PostgreSQL is
// reachable, over PostgreSQL, which refuses NUL bytes and invalid UTF-8
// that SQLite would store; args are extra serve flags.
func onBothStores(t *testing.T, test func(*testing.T, *testServer), args ...string) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, startServer(t, args...))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.NewDatabase(t)
		pre := &testServer{DB: url, env: pgEnv}
		pre.cliOK(t, "migrate")
		pre.cliOK(t, "sandbox", "seed")
		test(t, startServerDB(t, url, pgEnv, args...))
	})
}

func formsBadInputMerchant(t *testing.T, s *testServer) {
	const opEmail, opPassword = "ops@forms.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)

	// --- sign-up ---
	const newEmail = "new@forms.example"
	b := newMerchantBrowser(t, s)
	signUp := url.Values{"name": {"Forms Shop"}, "email": {newEmail}, "phone": {"9812345600"}, "password": {"long enough password"}}
	const (
		msgPhone    = "Enter a valid mobile number."
		msgEmail    = "Enter a valid email address."
		msgShortPW  = "The password must have at least 10 characters."
		msgLongPW   = "The password must have at most 128 characters."
		msgLongName = "Ensure this field has no more than 100 characters."
	)
	cases := []formCase{
		{name: "everything empty", set: []string{"name", "", "email", "", "phone", "", "password", ""}, status: 400, msgs: []string{msgPhone, msgShortPW}},
		badField("name empty", "name", "", 400, "This field may not be blank."),
		badField("name blank", "name", "   ", 400, "This field may not be blank."),
		badField("name missing", "name", "-", 400, "This field may not be blank."),
		badField("email empty", "email", "", 400, msgEmail),
		badField("email no at", "email", "not-an-email", 400, msgEmail),
		badField("email script", "email", xssScript, 400, msgEmail),
		badField("email img", "email", "a@b.example"+xssImg, 400, msgEmail),
		badField("email too long", "email", strings.Repeat("a", 250)+"@b.example", 400, msgEmail),
		badField("email 10 000", "email", long10k+"@b.example", 400, msgEmail),
		badField("email NUL", "email", "a\x00@b.example", 400, msgEmail),
		badField("phone empty", "phone", "", 400, msgPhone),
		badField("phone short", "phone", "12", 400, msgPhone),
		badField("phone 11 digits", "phone", "98123456789", 400, msgPhone),
		badField("phone letters", "phone", "98abcdefgh", 400, msgPhone),
		badField("phone country code", "phone", "+9779812345600", 400, msgPhone),
		badField("phone script", "phone", xssScript, 400, msgPhone),
		badField("phone 10 000", "phone", digits, 400, msgPhone),
		badField("password empty", "password", "", 400, msgShortPW),
		badField("password short", "password", "short", 400, msgShortPW),
		badField("password just over", "password", strings.Repeat("p", 129), 400, msgLongPW),
		badField("password 10 000", "password", long10k, 400, msgLongPW),
	}
	cases = append(cases, textCases("name", 100, msgLongName, "Business name is not valid text.", "Business name must not contain control characters.")...)
	cases = append(cases, formCase{name: "name script, bad phone", set: []string{"name", xssScript + xssImg, "phone", "x"}, status: 400, msgs: []string{msgPhone}})
	runForm(t, b, "/join/merchant/", "/join/merchant/", signUp, cases)
	for _, email := range []string{newEmail, "a@b.example"} {
		if merchantExists(t, s, email) {
			t.Fatalf("a refused sign-up stored merchant %s", email)
		}
	}
	// The echoed values are escaped in the re-rendered form.
	b.get(t, "/join/merchant/")
	p := b.post(t, "/join/merchant/", withFields(signUp, []string{"name", xssImg, "phone", "bad"}))
	wantRefused(t, "echoed name", p, 400, msgPhone)
	if !strings.Contains(p.Body, template.HTMLEscapeString(xssImg)) {
		t.Fatalf("the refused form does not echo the name escaped:\n%s", p.Body)
	}

	// Valid but hostile: HTML in the business name is accepted, and shown
	// escaped on the confirmation page, the dashboard and the console.
	const hostileName = xssScript + ` & ` + xssImg
	const hostileEmail = "hostile@forms.example"
	hb := newMerchantBrowser(t, s)
	hb.get(t, "/join/merchant/")
	p = hb.post(t, "/join/merchant/", url.Values{"name": {hostileName}, "email": {hostileEmail}, "phone": {"9812345601"}, "password": {"long enough password"}})
	wantPage(t, "hostile sign-up", p, 200, "Confirm your phone")
	noRaw(t, "hostile sign-up", p)

	// --- phone confirmation ---
	// The challenge (the form's hidden field) says which code is meant;
	// a bad one is answered as an expired code and costs no try. The
	// email is only shown. Four wrong codes leave the fifth try.
	code := s.lastAccountCode(t, "9812345601")
	confirm := url.Values{"email": {hostileEmail}, "code": {"000000"}}
	runForm(t, hb, "", "/join/merchant/confirm", confirm, []formCase{
		badField("challenge empty", "challenge", "", 400, identity.MsgCodeExpired),
		badField("challenge unknown", "challenge", "AAAAAAAAAAAAAAAAAAAAAA", 400, identity.MsgCodeExpired),
		badField("challenge script", "challenge", xssScript, 400, identity.MsgCodeExpired),
		badField("challenge 10 000", "challenge", long10k, 400, identity.MsgCodeExpired),
		badField("challenge NUL", "challenge", withNUL, 400, identity.MsgCodeExpired),
		badField("challenge invalid UTF-8", "challenge", badUTF8, 400, identity.MsgCodeExpired),
	})
	hb.challenge = dashChallengeRE.FindStringSubmatch(p.Body)[1]
	runForm(t, hb, "", "/join/merchant/confirm", confirm, []formCase{
		badField("code empty", "code", "", 400, "The code is wrong."),
		badField("code letters", "code", "abcdef", 400, "The code is wrong."),
		badField("code script", "code", xssScript, 400, "The code is wrong."),
		badField("code 10 000", "code", digits, 400, "The code is wrong."),
	})
	wantRedirect(t, "confirm after refusals", hb.post(t, "/join/merchant/confirm", url.Values{"email": {hostileEmail}, "code": {code}}), "/dashboard/keys/")
	d := hb.get(t, "/dashboard/")
	wantPage(t, "hostile dashboard", d, 200, template.HTMLEscapeString(hostileName))
	noRaw(t, "hostile dashboard", d)
	d = hb.get(t, "/dashboard/keys/")
	noRaw(t, "hostile keys", d)
	pk, sk := dashTestPublicRE.FindString(d.Body), dashTestSecretRE.FindString(d.Body)

	// --- log-in ---
	lb := newMerchantBrowser(t, s)
	msgBadLogin := "The email or password is wrong."
	runForm(t, lb, "/login/", "/login/", url.Values{"email": {hostileEmail}, "password": {"long enough password"}}, []formCase{
		{name: "both empty", set: []string{"email", "", "password", ""}, status: 400, msgs: []string{msgBadLogin}},
		badField("email script", "email", xssScript, 400, msgBadLogin),
		badField("email img", "email", xssImg, 400, msgBadLogin),
		badField("email 10 000", "email", long10k, 400, msgBadLogin),
		badField("email NUL", "email", "x\x00@forms.example", 400, msgBadLogin),
		badField("email invalid UTF-8", "email", badUTF8, 400, msgBadLogin),
		badField("password empty", "password", "", 400, msgBadLogin),
		badField("password script", "password", xssScript, 400, msgBadLogin),
		badField("password 10 000", "password", long10k, 400, msgBadLogin),
	})

	// --- password change ---
	runForm(t, hb, "/dashboard/settings/", "/dashboard/password", url.Values{"current_password": {"long enough password"}, "new_password": {"a new password!"}}, []formCase{
		badField("current empty", "current_password", "", 400, "The current password is wrong."),
		badField("current script", "current_password", xssScript, 400, "The current password is wrong."),
		badField("current 10 000", "current_password", long10k, 400, "The current password is wrong."),
		badField("new empty", "new_password", "", 400, msgShortPW),
		badField("new short", "new_password", "short", 400, msgShortPW),
		badField("new just over", "new_password", strings.Repeat("p", 129), 400, msgLongPW),
		badField("new 10 000", "new_password", long10k, 400, msgLongPW),
		badField("new missing", "new_password", "-", 400, msgShortPW),
	})
	check := newMerchantBrowser(t, s)
	check.get(t, "/login/")
	wantRedirect(t, "password unchanged", check.post(t, "/login/", url.Values{"email": {hostileEmail}, "password": {"long enough password"}}), "/dashboard/")

	// --- webhooks ---
	msgURL, msgEvents := "Enter a valid http or https URL.", "Choose one or more of: payment.completed, payment.refunded, payment.partially_refunded, payment.expired, payment.canceled, payment.failed."
	hook := url.Values{"book": {"test"}, "url": {"https://93.184.216.34/hooks"}, "events": {"payment.completed"}}
	runForm(t, hb, "/dashboard/webhooks/", "/dashboard/webhooks/", hook, []formCase{
		badField("url empty", "url", "", 400, msgURL),
		badField("url missing", "url", "-", 400, msgURL),
		badField("url ftp", "url", "ftp://93.184.216.34/", 400, msgURL),
		badField("url javascript", "url", "javascript:alert(1)", 400, msgURL),
		badField("url script", "url", xssScript, 400, msgURL),
		badField("url img", "url", "https://x"+xssImg, 400, msgURL),
		badField("url no host", "url", "https://", 400, msgURL),
		badField("url just over 2048", "url", "https://93.184.216.34/"+strings.Repeat("a", 2048-21), 400, msgURL),
		badField("url 10 000", "url", "https://93.184.216.34/"+long10k[:9000], 400, msgURL),
		badField("url NUL", "url", "https://93.184.216.34/\x00", 400, msgURL),
		badField("url loopback", "url", "http://127.0.0.1/hook", 400, "This URL points to a private, local or reserved address; this server does not send webhooks there (its operator can allow such addresses with --webhooks-allow-private, for local development)."),
		badField("events none", "events", "-", 400, msgEvents),
		badField("events script", "events", xssScript, 400, msgEvents),
		badField("events empty", "events", "", 400, msgEvents),
		badField("book script", "book", xssScript, 400, "Book must be test or live."),
		badField("book live before go-live", "book", "live", 400, "You have no live keys yet: they are issued after your first completed test payment."),
	})
	wantPage(t, "no webhook stored", hb.get(t, "/dashboard/webhooks/"), 200, `id="no-endpoints"`)
	// Valid but hostile: HTML in the URL's query is accepted and escaped.
	p = hb.post(t, "/dashboard/webhooks/", withFields(hook, []string{"url", "https://93.184.216.34/hook?x=" + xssScript}))
	wantPage(t, "hostile webhook url", p, 200, "The webhook endpoint was registered.")
	noRaw(t, "hostile webhook url", p)
	noRaw(t, "webhook list", hb.get(t, "/dashboard/webhooks/"))

	// --- transaction filters (GET) ---
	msgMin, msgMax := "Minimum amount must be in rupees, like 250 or 250.50.", "Maximum amount must be in rupees, like 250 or 250.50."
	for _, f := range []struct {
		name, query string
		status      int
		msgs        []string
	}{
		{"state script", "state=" + url.QueryEscape(xssScript), 400, []string{"Choose a state from the list."}},
		{"state 10 000", "state=" + long10k, 400, []string{"Choose a state from the list."}},
		{"from bad", "from=2024-13-45", 400, []string{"From date must be YYYY-MM-DD."}},
		{"from words", "from=yesterday", 400, []string{"From date must be YYYY-MM-DD."}},
		{"to script", "to=" + url.QueryEscape(xssImg), 400, []string{"To date must be YYYY-MM-DD."}},
		{"to 10 000", "to=" + long10k, 400, []string{"To date must be YYYY-MM-DD."}},
		{"min letters", "min=abc", 400, []string{msgMin}},
		{"min negative", "min=-5", 400, []string{msgMin}},
		{"min exponent", "min=1e3", 400, []string{msgMin}},
		{"min huge", "min=" + digits, 400, []string{msgMin}},
		{"max three decimals", "max=10.555", 400, []string{msgMax}},
		{"max script", "max=" + url.QueryEscape(xssScript), 400, []string{msgMax}},
		{"order just over", "order=" + strings.Repeat("o", 101), 400, []string{"Search must be at most 100 characters."}},
		{"order 10 000", "order=" + long10k, 400, []string{"Search must be at most 100 characters."}},
		{"page zero", "page=0", 400, []string{"Page must be a whole number from 1."}},
		{"page negative", "page=-1", 400, []string{"Page must be a whole number from 1."}},
		{"page letters", "page=abc", 400, []string{"Page must be a whole number from 1."}},
		{"page huge", "page=" + digits, 400, []string{"Page must be a whole number from 1."}},
		{"page max int", "page=9223372036854775807", 200, []string{`id="no-transactions"`}},
		{"book script", "book=" + url.QueryEscape(xssScript), 400, []string{"Book must be test or live."}},
		{"order script", "order=" + url.QueryEscape(xssScript), 200, []string{`id="no-transactions"`}},
		{"order NUL", "order=a%00b", 400, []string{"Search must be plain text, without control characters."}},
		{"order invalid UTF-8", "order=%FF%FE", 400, []string{"Search must be plain text, without control characters."}},
		{"all bad", "state=x&from=x&to=x&min=x&max=x&page=x", 400, []string{"Choose a state from the list.", "From date must be YYYY-MM-DD.",
			"To date must be YYYY-MM-DD.", msgMin, msgMax, "Page must be a whole number from 1."}},
	} {
		p := hb.get(t, "/dashboard/transactions/?"+f.query)
		if f.status == 200 {
			// Markup assertions, not messages.
			wantPage(t, "filter "+f.name, p, 200, f.msgs...)
			noRaw(t, "filter "+f.name, p)
			continue
		}
		wantRefused(t, "filter "+f.name, p, f.status, f.msgs...)
		csvMsgs := f.msgs
		if !strings.HasPrefix(f.name, "book") {
			csvMsgs = append([]string{"The export's filters are not valid."}, f.msgs...)
		}
		wantRefused(t, "CSV "+f.name, hb.get(t, "/dashboard/transactions.csv?"+f.query), f.status, csvMsgs...)
	}

	// --- refunds ---
	_, txn := s.pay(t, pk, sk, "9800000001", 5000)
	msgRupees := "Enter the amount to refund in rupees, like 250 or 250.50."
	refundPath := "/dashboard/transactions/" + txn + "/refund"
	runForm(t, hb, "/dashboard/transactions/"+txn+"/", refundPath, url.Values{"book": {"test"}, "amount": {"10"}}, []formCase{
		badField("amount empty", "amount", "", 400, msgRupees),
		badField("amount missing", "amount", "-", 400, msgRupees),
		badField("amount letters", "amount", "ten", 400, msgRupees),
		badField("amount negative", "amount", "-5", 400, msgRupees),
		badField("amount exponent", "amount", "1e3", 400, msgRupees),
		badField("amount three decimals", "amount", "1.005", 400, msgRupees),
		badField("amount script", "amount", xssScript, 400, msgRupees),
		badField("amount 10 000 digits", "amount", digits, 400, msgRupees),
		badField("amount NUL", "amount", "1\x00", 400, msgRupees),
		badField("amount zero", "amount", "0", 400, "Ensure this value is greater than or equal to 1."),
		badField("amount over the payment", "amount", "50.01", 400, "Refund amount is more than the refundable amount of Rs 50.00."),
		badField("amount huge", "amount", "99999999", 400, "Refund amount is more than the refundable amount of Rs 50.00."),
		badField("amount over the maximum", "amount", "999999999999", 400, msgRupees),
		badField("book script", "book", xssScript, 400, "Book must be test or live."),
	})
	wantRefused(t, "refund of a script idx", hb.post(t, "/dashboard/transactions/"+url.PathEscape(xssScript)+"/refund", url.Values{"amount": {"1"}}), 404,
		"There is no such transaction.")
	for _, idx := range []string{"%00", "%FF%FE", url.PathEscape(long10k)} {
		wantRefused(t, "refund of idx "+idx[:min(len(idx), 9)], hb.post(t, "/dashboard/transactions/"+idx+"/refund", url.Values{"amount": {"1"}}), 404,
			"There is no such transaction.")
		wantRefused(t, "transaction "+idx[:min(len(idx), 9)], hb.get(t, "/dashboard/transactions/"+idx+"/"), 404, "There is no such transaction.")
		wantRefused(t, "webhook log "+idx[:min(len(idx), 9)], hb.get(t, "/dashboard/webhooks/"+idx+"/"), 404, "There is no such webhook endpoint or delivery.")
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/"+txn+"/", sk, ""); r.Status != 200 || r.Body["refunded"] != false {
		t.Fatalf("a refused refund was stored: %d %s", r.Status, r.Raw)
	}

	// --- KYC ---
	kb := hb
	kb.get(t, "/dashboard/go-live/")
	png := testPNG(t)
	kycCase := func(name string, set []string, files []kycFile, status int, msgs ...string) {
		t.Helper()
		kb.get(t, "/dashboard/go-live/")
		wantRefused(t, "KYC "+name, postKYC(t, kb, withFields(kycFields(), set), files...), status, msgs...)
	}
	for _, f := range []struct{ field, label string }{{"business_name", "Registered business name"}, {"registration_number", "Registration number"},
		{"tax_number", "PAN/VAT number"}, {"address", "Address"}} {
		one := []kycFile{{"a.png", png}}
		kycCase(f.field+" empty", []string{f.field, ""}, one, 400, f.label+" is required.")
		kycCase(f.field+" blank", []string{f.field, "  \t "}, one, 400, f.label+" is required.")
		kycCase(f.field+" missing", []string{f.field, "-"}, one, 400, f.label+" is required.")
		kycCase(f.field+" just over", []string{f.field, strings.Repeat("k", 201)}, one, 400, f.label+" must be at most 200 characters.")
		kycCase(f.field+" 10 000", []string{f.field, long10k}, one, 400, f.label+" must be at most 200 characters.")
		kycCase(f.field+" NUL", []string{f.field, withNUL}, one, 400, f.label+" must not contain control characters.")
		kycCase(f.field+" invalid UTF-8", []string{f.field, badUTF8}, one, 400, f.label+" is not valid text.")
		kycCase(f.field+" script, no file", []string{f.field, xssScript}, nil, 400, "Upload at least one document (PDF, PNG or JPEG).")
	}
	msgType := func(i string) string {
		return "Document " + i + " is not a PDF, PNG or JPEG file (its content was checked, not its name)."
	}
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 64)...)
	big := bytes.Repeat([]byte{0}, 2<<20+1)
	copy(big, png)
	kycCase("no file", nil, nil, 400, "Upload at least one document (PDF, PNG or JPEG).")
	kycCase("empty file", nil, []kycFile{{"a.png", nil}}, 400, "Document 1 is empty.")
	kycCase("exe named png", nil, []kycFile{{"a.png", exe}}, 400, msgType("1"))
	kycCase("HTML named png", nil, []kycFile{{"a.png", []byte("<html><body>" + xssScript + "</body></html>")}}, 400, msgType("1"))
	kycCase("HTML named pdf", nil, []kycFile{{"a.pdf", []byte(`<!DOCTYPE html>` + xssImg)}}, 400, msgType("1"))
	kycCase("text named pdf", nil, []kycFile{{"pan.pdf", []byte("this is not a PDF at all\n")}}, 400, msgType("1"))
	kycCase("PDF magic late", nil, []kycFile{{"pan.pdf", []byte("  junk %PDF-1.4\n")}}, 400, msgType("1"))
	kycCase("script file name", nil, []kycFile{{xssScript + ".png", exe}}, 400, msgType("1"))
	kycCase("second file bad", nil, []kycFile{{"a.png", png}, {"b.png", exe}}, 400, msgType("2"))
	kycCase("four files", nil, []kycFile{{"1.png", png}, {"2.png", png}, {"3.png", png}, {"4.png", png}}, 400, "Upload at most 3 documents.")
	kycCase("one file over 2 MiB", nil, []kycFile{{"big.png", big}}, 400, "Document 1 is larger than 2 MiB; each document may be at most 2 MiB.")
	two := bytes.Repeat([]byte{0}, 2<<20)
	copy(two, png)
	kycCase("just over 6 MiB in all", nil, []kycFile{{"1.png", two}, {"2.png", two}, {"3.png", two}, {"4.png", png}}, 400,
		"Upload at most 3 documents.", "The documents together may be at most 6 MiB.")
	kycCase("over the body limit", nil, []kycFile{{"1.png", two}, {"2.png", two}, {"3.png", two}, {"4.png", two[:1<<20]}}, 413,
		"The upload is too large: the documents may be at most 6 MiB together, 2 MiB each. Nothing was stored.")
	// Not multipart at all: the form's own messages, not a crash.
	kb.get(t, "/dashboard/go-live/")
	wantRefused(t, "KYC not multipart", kb.post(t, "/dashboard/kyc/", kycFields()), 400, "Upload at least one document (PDF, PNG or JPEG).")
	kp := kb.get(t, "/dashboard/go-live/")
	wantPage(t, "no KYC stored", kp, 200, `<strong id="kyc-state">none</strong>`)
	if strings.Contains(kp.Body, `id="kyc-details"`) {
		t.Fatal("a refused KYC submission was stored")
	}
	// Valid but hostile: HTML in every text field is accepted and escaped
	// on the KYC page and in the console.
	hostile := kycFields()
	hostile.Set("business_name", xssScript+" Traders")
	hostile.Set("address", xssImg+" Thamel")
	p = postKYC(t, kb, hostile, kycFile{xssScript + ".png", png})
	wantPage(t, "hostile KYC", p, 200, "were submitted", template.HTMLEscapeString(xssScript+" Traders"), template.HTMLEscapeString(xssImg+" Thamel"))
	noRaw(t, "hostile KYC", p)

	// The console shows the hostile merchant escaped.
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	for _, path := range []string{"/admin/", "/admin/merchants/?q=hostile"} {
		p := op.get(t, path)
		wantPage(t, "console "+path, p, 200, template.HTMLEscapeString(hostileName))
		noRaw(t, "console "+path, p)
	}

	// --- the hosted payment page ---
	pb := newMerchantBrowser(t, s)
	pidx, path := initiateEPayment(t, s)
	pb.get(t, path)
	msgMobile, msgPIN := "Enter a valid 10 digit mobile number starting with 96, 97 or 98.", "Enter your 4-digit MPIN."
	signin := url.Values{"mobile": {"9800000003"}, "mpin": {"1111"}}
	runForm(t, pb, "", "/pay/"+pidx+"/signin", signin, []formCase{
		{name: "both empty", set: []string{"mobile", "", "mpin", ""}, status: 400, msgs: []string{msgMobile}},
		badField("mobile missing", "mobile", "-", 400, msgMobile),
		badField("mobile letters", "mobile", "98000000ab", 400, msgMobile),
		badField("mobile short", "mobile", "980", 400, msgMobile),
		badField("mobile script", "mobile", xssScript, 400, msgMobile),
		badField("mobile img", "mobile", xssImg, 400, msgMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgMobile),
		badField("mobile NUL", "mobile", "980000000\x00", 400, msgMobile),
		badField("mpin empty", "mpin", "", 400, msgPIN),
		badField("mpin letters", "mpin", "abcd", 400, msgPIN),
		badField("mpin five digits", "mpin", "11111", 400, msgPIN),
		badField("mpin script", "mpin", xssScript, 400, msgPIN),
		badField("mpin 10 000", "mpin", digits, 400, msgPIN),
		badField("unknown wallet", "mobile", "9811112222", 400, "Wrong mobile number or MPIN."),
	})
	// Confirming before signing in; then wrong-format codes after it.
	confirmForm := url.Values{"code": {"987654"}, "mpin": {"1111"}}
	wantRefused(t, "confirm before sign-in", pb.post(t, "/pay/"+pidx+"/confirm", confirmForm), 400, "Sign in with your mobile number and MPIN first.")
	wantPage(t, "sign-in", pb.post(t, "/pay/"+pidx+"/signin", signin), 200, `name="code"`)
	msgCode := "Wrong confirmation code."
	runForm(t, pb, "", "/pay/"+pidx+"/confirm", confirmForm, []formCase{
		badField("code script", "code", xssScript, 400, msgCode, "2 tries left."),
		badField("code 10 000", "code", digits, 400, msgCode, "1 try left."),
	})
	wantRefused(t, "cancel with a script pidx", pb.post(t, "/pay/"+url.PathEscape(xssScript)+"/cancel", url.Values{}), 403,
		"This form has expired or did not come from this page. Open the payment link again.")
	for _, bad := range []string{"%00", "%FF%FE", url.QueryEscape(xssScript), long10k} {
		wantRefused(t, "hosted page pidx "+bad[:min(len(bad), 9)], pb.get(t, "/?pidx="+bad), 404,
			"This payment link is not valid. Check the link or start the payment again from the shop.")
	}
	if r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); r.Body["status"] != "Initiated" {
		t.Fatalf("refused page posts changed the payment: %s", r.Raw)
	}
	if out := s.cliOK(t, "consumer", "topup", "--mobile", "9800000003", "--amount", "1"); !strings.Contains(out, "balance 100000001 paisa") {
		t.Fatalf("refused page posts moved money:\n%s", out)
	}
	s.ledgerOK(t)
}

var walletRowRE = regexp.MustCompile(`balance (\d+) paisa`)

// TestFormsBadInputWalletAndConsole covers the consumer pages' forms and
// the operator console's forms and searches.
func TestFormsBadInputWalletAndConsole(t *testing.T) { onBothStores(t, formsBadInputWalletAndConsole) }

func formsBadInputWalletAndConsole(t *testing.T, s *testServer) {
	const opEmail, opPassword = "ops@forms.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	noWallet := func(mobile string) {
		t.Helper()
		wantPage(t, "no wallet "+mobile, op.get(t, "/admin/consumers/?q="+url.QueryEscape(mobile)), 200, "No wallet matches.")
	}

	// --- wallet sign-up ---
	const mobile = "9812340000"
	msgMobile, msgPIN := "Enter a valid mobile number.", "Khalti PIN must be 4 digits long."
	b := newMerchantBrowser(t, s)
	join := url.Values{"mobile": {mobile}, "name": {"Sita"}, "mpin": {"2580"}, "mpin2": {"2580"}}
	cases := []formCase{
		{name: "everything empty", set: []string{"mobile", "", "name", "", "mpin", "", "mpin2", ""}, status: 400,
			msgs: []string{msgMobile, msgPIN, "This field may not be blank."}},
		badField("mobile missing", "mobile", "-", 400, msgMobile),
		badField("mobile letters", "mobile", "98123abcde", 400, msgMobile),
		badField("mobile 9 digits", "mobile", "981234000", 400, msgMobile),
		badField("mobile 11 digits", "mobile", "98123400001", 400, msgMobile),
		badField("mobile script", "mobile", xssScript, 400, msgMobile),
		badField("mobile img", "mobile", xssImg, 400, msgMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgMobile),
		badField("mobile NUL", "mobile", "981234000\x00", 400, msgMobile),
		badField("name empty", "name", "", 400, "This field may not be blank."),
		badField("name blank", "name", "  ", 400, "This field may not be blank."),
		{name: "mpin letters", set: []string{"mpin", "abcd", "mpin2", "abcd"}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin 5 digits", set: []string{"mpin", "12345", "mpin2", "12345"}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin script", set: []string{"mpin", xssScript, "mpin2", xssScript}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin 10 000", set: []string{"mpin", digits, "mpin2", "-"}, status: 400, msgs: []string{msgPIN}},
		badField("mpin2 different", "mpin2", "2581", 400, "The two MPINs do not match."),
		badField("mpin2 missing", "mpin2", "-", 400, "The two MPINs do not match."),
	}
	cases = append(cases, textCases("name", 100, "Ensure this field has no more than 100 characters.", "Full name is not valid text.", "Full name must not contain control characters.")...)
	runForm(t, b, "/join/", "/join/", join, cases)
	noWallet(mobile)

	// --- phone confirmation ---
	msgExpired := identity.MsgCodeExpired
	b.get(t, "/join/")
	runForm(t, b, "", "/join/confirm", url.Values{"mobile": {mobile}, "code": {"000000"}}, []formCase{
		badField("unknown wallet", "mobile", mobile, 400, msgExpired),
		badField("mobile empty", "mobile", "", 400, msgExpired),
		badField("mobile script", "mobile", xssScript, 400, msgExpired),
		badField("mobile 10 000", "mobile", digits, 400, msgExpired),
		badField("code script", "code", xssScript, 400, msgExpired),
	})

	// Valid but hostile: HTML in the name is accepted and shown escaped.
	const hostileName = xssScript + " " + xssImg
	wantPage(t, "hostile sign-up", b.post(t, "/join/", withFields(join, []string{"name", hostileName})), 200, `action="/join/confirm"`)
	code := s.lastAccountCode(t, mobile)
	runForm(t, b, "", "/join/confirm", url.Values{"mobile": {mobile}, "code": {"000000"}}, []formCase{
		badField("code empty", "code", "", 400, "The code is wrong."),
		badField("code letters", "code", "abcdef", 400, "The code is wrong."),
		badField("code 10 000", "code", digits, 400, "The code is wrong."),
	})
	wantRedirect(t, "confirm", b.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {code}}), "/me/")
	p := b.get(t, "/me/")
	wantPage(t, "hostile wallet", p, 200, template.HTMLEscapeString(hostileName))
	noRaw(t, "hostile wallet", p)
	p = op.get(t, "/admin/consumers/?q="+mobile)
	wantPage(t, "hostile wallet in the console", p, 200, template.HTMLEscapeString(hostileName))
	noRaw(t, "hostile wallet in the console", p)

	// --- wallet log-in ---
	lb := newMerchantBrowser(t, s)
	msgPayMobile := "Enter a valid 10 digit mobile number starting with 96, 97 or 98."
	runForm(t, lb, "/me/login/", "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"2580"}}, []formCase{
		{name: "both empty", set: []string{"mobile", "", "mpin", ""}, status: 400, msgs: []string{msgPayMobile}},
		badField("mobile script", "mobile", xssScript, 400, msgPayMobile),
		badField("mobile img", "mobile", xssImg, 400, msgPayMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgPayMobile),
		badField("mobile invalid UTF-8", "mobile", badUTF8, 400, msgPayMobile),
		badField("mpin empty", "mpin", "", 400, msgPIN),
		badField("mpin letters", "mpin", "abcd", 400, msgPIN),
		badField("mpin script", "mpin", xssScript, 400, msgPIN),
		badField("mpin 10 000", "mpin", digits, 400, msgPIN),
		badField("unknown wallet", "mobile", "9812349999", 400, "Mobile or pin invalid."),
	})
	// None of those counted as a wrong MPIN.
	wantRedirect(t, "log-in after refusals", lb.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"2580"}}), "/me/")

	// --- MPIN reset ---
	rb := newMerchantBrowser(t, s)
	runForm(t, rb, "/me/reset/", "/me/reset/", url.Values{"mobile": {mobile}}, []formCase{
		badField("mobile empty", "mobile", "", 400, msgMobile),
		badField("mobile missing", "mobile", "-", 400, msgMobile),
		badField("mobile letters", "mobile", "98abcdefgh", 400, msgMobile),
		badField("mobile script", "mobile", xssScript, 400, msgMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgMobile),
		badField("mobile NUL", "mobile", "\x00", 400, msgMobile),
	})
	// A number without a wallet gets the same page as one with a wallet.
	same := func(p mpage) string {
		return dashChallengeRE.ReplaceAllString(dashCSRFRE.ReplaceAllString(p.Body, ""), "")
	}
	rb.get(t, "/me/reset/")
	known := rb.post(t, "/me/reset/", url.Values{"mobile": {mobile}})
	rb.get(t, "/me/reset/")
	unknown := rb.post(t, "/me/reset/", url.Values{"mobile": {"9812349999"}})
	wantPage(t, "reset code for a wallet", known, 200, `action="/me/reset/confirm"`)
	if known.Status != unknown.Status || strings.ReplaceAll(same(known), mobile, "") != strings.ReplaceAll(strings.ReplaceAll(same(unknown), "9812349999", ""), "98XXXXX999", "98XXXXX"+mobile[7:]) {
		t.Fatalf("the reset page differs for a number without a wallet:\n%s\n---\n%s", known.Body, unknown.Body)
	}
	reset := url.Values{"mobile": {mobile}, "code": {"000000"}, "mpin": {"1357"}, "mpin2": {"1357"}}
	rb.get(t, "/me/reset/")
	rb.challenge = "" // a code form posted without the code sent for it
	runForm(t, rb, "", "/me/reset/confirm", reset, []formCase{
		{name: "everything empty", set: []string{"mobile", "", "code", "", "mpin", "", "mpin2", ""}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin letters", set: []string{"mpin", "abcd", "mpin2", "abcd"}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin script", set: []string{"mpin", xssScript, "mpin2", xssScript}, status: 400, msgs: []string{msgPIN}},
		{name: "mpin 10 000", set: []string{"mpin", digits, "mpin2", "-"}, status: 400, msgs: []string{msgPIN}},
		badField("mpin2 different", "mpin2", "1358", 400, "The two MPINs do not match."),
		badField("no code was sent", "code", "123456", 400, msgExpired),
		badField("code script", "code", xssScript, 400, msgExpired),
		badField("mobile script", "mobile", xssScript, 400, msgExpired),
	})
	// The MPIN is unchanged.
	lb2 := newMerchantBrowser(t, s)
	lb2.get(t, "/me/login/")
	wantRedirect(t, "MPIN unchanged", lb2.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"2580"}}), "/me/")

	// --- operator log-in ---
	ob := newMerchantBrowser(t, s)
	msgBadLogin := "The email or password is wrong."
	runForm(t, ob, "/admin/login/", "/admin/login/", url.Values{"email": {"nobody@forms.example"}, "password": {opPassword}}, []formCase{
		{name: "both empty", set: []string{"email", "", "password", ""}, status: 400, msgs: []string{msgBadLogin}},
		badField("email script", "email", xssScript, 400, msgBadLogin),
		badField("email img", "email", xssImg, 400, msgBadLogin),
		badField("email 10 000", "email", long10k, 400, msgBadLogin),
		badField("email NUL", "email", "ops\x00@forms.example", 400, msgBadLogin),
		badField("password 10 000", "password", long10k, 400, msgBadLogin),
	})

	// --- KYC decisions ---
	idx, _, _ := cliMerchant(t, s, "Plain Shop", "plain@forms.example")
	kyc := url.Values{"merchant": {idx}, "decision": {"reject"}, "reason": {"blurry"}, "q": {"plain"}}
	msgReason := "Ensure this field has no more than 500 characters."
	runForm(t, op, "/admin/merchants/?q=plain", "/admin/merchants/kyc", kyc, []formCase{
		badField("merchant empty", "merchant", "", 404, "No such merchant."),
		badField("merchant script", "merchant", xssScript, 404, "No such merchant."),
		badField("merchant 10 000", "merchant", long10k, 404, "No such merchant."),
		badField("reason empty", "reason", "", 400, "Give the reason for the rejection."),
		badField("reason blank", "reason", " \t ", 400, "Give the reason for the rejection."),
		badField("reason missing", "reason", "-", 400, "Give the reason for the rejection."),
		badField("reason just over", "reason", strings.Repeat("r", 501), 400, msgReason),
		badField("reason 10 000", "reason", long10k, 400, msgReason),
		badField("reason NUL", "reason", "blurry\x00", 400, "Reason must not contain control characters."),
		badField("reason invalid UTF-8", "reason", badUTF8, 400, "Reason is not valid text."),
		badField("decision empty", "decision", "", 400, "Choose approve or reject."),
		badField("decision script", "decision", xssScript, 400, "Choose approve or reject."),
	})
	if out := s.cliOK(t, "merchant", "show", "--merchant", idx); !strings.Contains(out, "KYC: none") {
		t.Fatalf("a refused KYC decision was stored:\n%s", out)
	}
	// Valid but hostile: HTML in the reason is accepted and escaped.
	p = op.post(t, "/admin/merchants/kyc", withFields(kyc, []string{"reason", xssScript + " blurry"}))
	wantPage(t, "hostile reason", p, 200, "KYC of Plain Shop is now rejected.", template.HTMLEscapeString(xssScript+" blurry"))
	noRaw(t, "hostile reason", p)
	noRaw(t, "audit", op.get(t, "/admin/audit/"))

	// --- top-up (in rupees) ---
	msgEmpty, msgRupees := "Enter an amount in rupees, such as 1,500.50.", "Enter the amount in rupees as digits, such as 1,500.50 or 1500.5."
	msgTooLarge := "The amount can be at most Rs 1,00,00,00,00,000.00."
	topup := url.Values{"mobile": {mobile}, "amount": {"100"}, "book": {"test"}, "q": {mobile}}
	runForm(t, op, "/admin/consumers/", "/admin/consumers/topup", topup, []formCase{
		badField("amount empty", "amount", "", 400, msgEmpty),
		badField("amount missing", "amount", "-", 400, msgEmpty),
		badField("amount letters", "amount", "abc", 400, msgRupees),
		badField("amount three decimals", "amount", "10.505", 400, "Enter at most two decimals: the smallest amount is 1 paisa, Rs 0.01."),
		badField("amount badly grouped", "amount", "1,50,0", 400, msgRupees),
		badField("amount exponent", "amount", "1e3", 400, msgRupees),
		badField("amount script", "amount", xssScript, 400, msgRupees),
		badField("amount 10 000 digits", "amount", digits, 400, msgTooLarge),
		badField("amount NUL", "amount", "100\x00", 400, msgRupees),
		badField("amount zero", "amount", "0", 400, "Enter an amount of at least Rs 0.01."),
		badField("amount negative", "amount", "-100", 400, "The amount cannot be negative."),
		badField("amount over the maximum", "amount", "100000000000.01", 400, msgTooLarge),
		badField("book empty", "book", "", 400, "Book must be test or live."),
		badField("book script", "book", xssScript, 400, "Book must be test or live."),
		badField("mobile empty", "mobile", "", 400, msgMobile),
		badField("mobile script", "mobile", xssScript, 400, msgMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgMobile),
		badField("unknown wallet", "mobile", "9812349999", 404, "No wallet for 9812349999."),
	})
	if out := s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "1"); walletRowRE.FindStringSubmatch(out)[1] != "1" {
		t.Fatalf("a refused top-up moved money:\n%s", out)
	}

	// --- unlock ---
	runForm(t, op, "/admin/consumers/", "/admin/consumers/unlock", url.Values{"mobile": {mobile}, "q": {mobile}}, []formCase{
		badField("mobile empty", "mobile", "", 400, msgMobile),
		badField("mobile missing", "mobile", "-", 400, msgMobile),
		badField("mobile script", "mobile", xssScript, 400, msgMobile),
		badField("mobile 10 000", "mobile", digits, 400, msgMobile),
		badField("mobile NUL", "mobile", "\x00", 400, msgMobile),
		badField("unknown wallet", "mobile", "9812349999", 404, "No wallet for 9812349999."),
	})

	// --- searches (GET) ---
	for _, q := range []string{xssScript, xssImg, long10k, "a\x00b", "\xff\xfe", "%", "_", "' OR 1=1 --"} {
		for _, path := range []string{"/admin/merchants/", "/admin/consumers/"} {
			p := op.get(t, path+"?q="+url.QueryEscape(q))
			if p.Status != 200 {
				t.Fatalf("search %s %q: status %d\n%s", path, q, p.Status, p.Body)
			}
			noRaw(t, "search "+path, p)
		}
	}
	p = op.get(t, "/admin/merchants/?q="+url.QueryEscape(xssScript))
	wantPage(t, "merchant search echo", p, 200, template.HTMLEscapeString(xssScript), "No merchant matches.")
	p = op.get(t, "/admin/consumers/?q="+url.QueryEscape(xssImg))
	wantPage(t, "wallet search echo", p, 200, template.HTMLEscapeString(xssImg), "No wallet matches.")

	// Nothing unsafe was audited, and no refused console action (the
	// command line's top-up above is audited as the command line's).
	a := op.get(t, "/admin/audit/")
	noRaw(t, "audit", a)
	if strings.Count(plainCells(a.Body), "<td>"+opEmail+"</td><td>wallet.topup</td>") != 0 || strings.Contains(a.Body, "wallet.unlock") {
		t.Fatalf("refused console actions were audited:\n%s", a.Body)
	}
	s.ledgerOK(t)
}

// TestFormsOversizedBody posts a form body over the 16 KiB limit to each
// kind of form: a clear message, not a crash and not the CSRF refusal.
func TestFormsOversizedBody(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	huge := strings.Repeat("<", 20000) // 60 KB once encoded
	msg := "The form is too large: what was typed is longer than this form takes. Shorten it and send the form again."
	b := newMerchantBrowser(t, s)
	for _, f := range []struct{ get, post string }{{"/join/merchant/", "/join/merchant/"}, {"/login/", "/login/"}, {"/join/", "/join/"},
		{"/me/login/", "/me/login/"}, {"/me/reset/", "/me/reset/"}, {"/admin/login/", "/admin/login/"}} {
		b.get(t, f.get)
		wantRefused(t, "oversized "+f.post, b.post(t, f.post, url.Values{"name": {huge}, "email": {huge}}), http.StatusRequestEntityTooLarge, msg)
	}
	signUpMerchant(t, b, "Big Forms", "big@forms.example", "9812345602", "long enough password")
	b.get(t, "/dashboard/")
	wantRefused(t, "oversized password form", b.post(t, "/dashboard/password", url.Values{"new_password": {huge}}), http.StatusRequestEntityTooLarge, msg)
	pidx, path := initiateEPayment(t, s)
	b.get(t, path)
	wantRefused(t, "oversized hosted sign-in", b.post(t, "/pay/"+pidx+"/signin", url.Values{"mobile": {huge}}), http.StatusRequestEntityTooLarge, msg)
}
