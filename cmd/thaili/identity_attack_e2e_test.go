package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestIdentityAttacks attacks, as a stranger who knows only an email or
// a mobile number, every flow that can start a session or change a
// credential: merchant sign-up confirm, merchant log-in, password change,
// wallet sign-up confirm, wallet log-in, MPIN reset, operator log-in and
// the hosted page's sign-in. It takes them as a state machine: for each
// state of the attacked account (unconfirmed, confirmed, locked, made by
// an operator) and each code the stranger can bring (none, made up,
// wrong, used, sent for the stranger's own account, sent for another
// purpose), the flow must refuse without starting a session for the
// account and without changing it. Expiry (of codes and of unconfirmed
// sign-ups) needs a clock, and is attacked in the payment package
// (identity_test.go). Both stores.
func TestIdentityAttacks(t *testing.T) { onBothStores(t, identityAttacks) }

// identitySnapshot is what must not change under attack: every account's
// credential and phone state, and how many sessions exist.
type identitySnapshot struct {
	Merchants, Consumers, Operators map[string]string
	Sessions                        [3]int
}

// openTestDB opens the server's database directly, to look at what the
// pages do not show.
func openTestDB(t *testing.T, s *testServer) *sql.DB { return openDatabase(t, s.DB) }

// openDatabase opens dsn (a SQLite path or a postgres:// URL) with SQL
// alone, so that what a test reads there does not depend on the code
// under test; it is closed when the test ends.
func openDatabase(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func snapshotIdentity(t *testing.T, db *sql.DB) identitySnapshot {
	t.Helper()
	rows := func(query string) map[string]string {
		t.Helper()
		rs, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		out := map[string]string{}
		for rs.Next() {
			var k, a, b, c string
			if err := rs.Scan(&k, &a, &b, &c); err != nil {
				t.Fatal(err)
			}
			out[k] = a + "|" + b + "|" + c
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var snap identitySnapshot
	snap.Merchants = rows(`SELECT email, password_hash, CAST(phone_confirmed AS TEXT), kyc FROM merchants`)
	snap.Consumers = rows(`SELECT mobile, mpin_hash, CAST(phone_confirmed AS TEXT), CAST(locked AS TEXT) FROM consumers`)
	snap.Operators = rows(`SELECT email, password_hash, '', '' FROM operators`)
	for i, table := range []string{"sessions", "consumer_sessions", "operator_sessions"} {
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&snap.Sessions[i]); err != nil {
			t.Fatal(err)
		}
	}
	return snap
}

var attackChallengeRE = regexp.MustCompile(`name="challenge" value="([^"]*)"`)

// challengeOn is the code form's challenge on a page ("" if none).
func challengeOn(body string) string {
	if m := attackChallengeRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// attackCode is a code a stranger brings to a code form.
type attackCode struct {
	name      string
	challenge string
	code      string
}

func identityAttacks(t *testing.T, s *testServer) {
	db := openTestDB(t, s)
	const password, mpin = "owner's long password", "4826"

	// --- accounts in every state ---
	signUp := func(email, phone string) (*merchantBrowser, string) {
		b := newMerchantBrowser(t, s)
		b.get(t, "/join/merchant/")
		p := b.post(t, "/join/merchant/", url.Values{"name": {"Shop " + phone}, "email": {email}, "phone": {phone}, "password": {password}, "challenge": {""}})
		wantPage(t, "sign-up "+email, p, 200, "Confirm your phone")
		return b, challengeOn(p.Body)
	}
	confirmMerchant := func(b *merchantBrowser, email, phone, challenge string) {
		p := b.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {s.lastAccountCode(t, phone)}, "challenge": {challenge}})
		wantRedirect(t, "confirm "+email, p, "/dashboard/keys/")
	}
	mConf, ch := signUp("confirmed@attack.example", "9812350001")
	confirmMerchant(mConf, "confirmed@attack.example", "9812350001", ch)
	signUp("unconfirmed@attack.example", "9812350002")
	mLocked, ch := signUp("locked@attack.example", "9812350003")
	confirmMerchant(mLocked, "locked@attack.example", "9812350003", ch)
	locker := newMerchantBrowser(t, s)
	locker.get(t, "/login/")
	for i := range 10 {
		locker.post(t, "/login/", url.Values{"email": {"locked@attack.example"}, "password": {fmt.Sprintf("wrong password %d", i)}})
	}
	cliMerchant(t, s, "Operator Made", "cli@attack.example")
	merchants := []string{"confirmed@attack.example", "unconfirmed@attack.example", "locked@attack.example", "cli@attack.example"}

	joinWallet := func(mobile string) (*merchantBrowser, string) {
		b := newMerchantBrowser(t, s)
		b.get(t, "/join/")
		p := b.post(t, "/join/", url.Values{"mobile": {mobile}, "name": {"Owner " + mobile}, "mpin": {mpin}, "mpin2": {mpin}, "challenge": {""}})
		wantPage(t, "wallet sign-up "+mobile, p, 200, `action="/join/confirm"`)
		return b, challengeOn(p.Body)
	}
	confirmWallet := func(b *merchantBrowser, mobile, challenge string) {
		p := b.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {s.lastAccountCode(t, mobile)}, "challenge": {challenge}})
		wantRedirect(t, "wallet confirm "+mobile, p, "/me/")
	}
	wConf, ch := joinWallet("9812350011")
	confirmWallet(wConf, "9812350011", ch)
	joinWallet("9812350012")
	wLocked, ch := joinWallet("9812350013")
	confirmWallet(wLocked, "9812350013", ch)
	s.cliOK(t, "consumer", "create", "--mobile", "9812350014", "--name", "Operator Made", "--mpin", mpin)
	for _, w := range []string{"9812350011", "9812350013", "9812350014"} {
		s.cliOK(t, "consumer", "topup", "--mobile", w, "--amount", "100000")
	}
	lockWallet := func(mobile string) {
		b := newMerchantBrowser(t, s)
		b.get(t, "/me/login/")
		for range 3 {
			b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"0000"}})
		}
		if p := b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {mpin}}); p.Status == http.StatusSeeOther {
			t.Fatalf("setup: %s is not locked", mobile)
		}
	}
	lockWallet("9812350013")
	wallets := []string{"9812350011", "9812350012", "9812350013", "9812350014", "9800000001", "9800000013"}

	const opPassword = "operator long password"
	s.cliOK(t, "admin", "create", "--email", "ops@attack.example", "--password", opPassword)
	s.cliOK(t, "admin", "create", "--email", "lockedops@attack.example", "--password", opPassword)
	opLocker := newMerchantBrowser(t, s)
	opLocker.get(t, "/admin/login/")
	for i := range 10 {
		opLocker.post(t, "/admin/login/", url.Values{"email": {"lockedops@attack.example"}, "password": {fmt.Sprintf("wrong password %d", i)}})
	}

	// --- what the stranger brings ---
	// Codes of the stranger's own: a merchant sign-up, a wallet sign-up, a
	// wallet's MPIN reset; one of each used up already.
	const strangerEmail, strangerPhone, strangerWallet = "stranger@attack.example", "9812350099", "9812350098"
	_, ownMerchantCh := signUp(strangerEmail, strangerPhone)
	ownMerchantCode := s.lastAccountCode(t, strangerPhone)
	_, ownWalletCh := joinWallet(strangerWallet)
	ownWalletCode := s.lastAccountCode(t, strangerWallet)
	usedB, usedCh := joinWallet("9812350097")
	usedCode := s.lastAccountCode(t, "9812350097")
	confirmWallet(usedB, "9812350097", usedCh)
	s.cliOK(t, "consumer", "create", "--mobile", "9812350096", "--name", "Stranger", "--mpin", "1111")
	rb := newMerchantBrowser(t, s)
	rb.get(t, "/me/reset/")
	resetPage := rb.post(t, "/me/reset/", url.Values{"mobile": {"9812350096"}, "challenge": {""}})
	ownResetCh, ownResetCode := challengeOn(resetPage.Body), s.lastAccountCode(t, "9812350096")

	codes := []attackCode{
		{"no code", "", ""},
		{"made-up code, no challenge", "", "123456"},
		{"made-up challenge", "AAAAAAAAAAAAAAAAAAAAAA", "123456"},
		{"the sandbox's test OTP", "", "987654"},
		{"a used code", usedCh, usedCode},
		{"another purpose's code", ownResetCh, ownResetCode},
	}
	// Codes sent for the stranger's own accounts: used as they were sent,
	// they open (only) the stranger's own account.
	ownMerchant := attackCode{"the stranger's own merchant code", ownMerchantCh, ownMerchantCode}
	ownWallet := attackCode{"the stranger's own wallet code", ownWalletCh, ownWalletCode}

	// --- the attacks ---
	check := func(what string, before identitySnapshot, allowed ...string) {
		t.Helper()
		after := snapshotIdentity(t, db)
		for _, k := range allowed { // the stranger's own account may change
			delete(before.Merchants, k)
			delete(after.Merchants, k)
			delete(before.Consumers, k)
			delete(after.Consumers, k)
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s changed an account or started a session:\n before %+v\n after  %+v", what, before, after)
		}
	}
	noSession := func(what string, p mpage, cookie, path string) {
		t.Helper()
		if p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, path) || sessionCookieSet(p, cookie) {
			t.Errorf("%s: %d to %q, cookie %v: a session", what, p.Status, p.Location, p.Header.Values("Set-Cookie"))
		}
		if p.Status < 400 || p.Status >= 500 {
			t.Errorf("%s: status %d, want a refusal", what, p.Status)
		}
	}
	stranger := func(formPage string) *merchantBrowser {
		b := newMerchantBrowser(t, s)
		b.get(t, formPage)
		return b
	}

	// Merchant sign-up confirm: every state, every code.
	for _, email := range merchants {
		for _, c := range codes {
			what := fmt.Sprintf("merchant confirm of %s with %s", email, c.name)
			before := snapshotIdentity(t, db)
			b := stranger("/login/")
			noSession(what, b.post(t, "/join/merchant/confirm", url.Values{"email": {email}, "code": {c.code}, "challenge": {c.challenge}}), "thaili_session", "/dashboard/")
			check(what, before)
		}
	}
	// The stranger's own code opens the stranger's own account, whatever
	// email the form carries, never the victim's.
	{
		before := snapshotIdentity(t, db)
		b := stranger("/login/")
		p := b.post(t, "/join/merchant/confirm", url.Values{"email": {"confirmed@attack.example"}, "code": {ownMerchant.code}, "challenge": {ownMerchant.challenge}})
		if p.Status == http.StatusSeeOther {
			if d := b.get(t, "/dashboard/"); strings.Contains(d.Body, "confirmed@attack.example") || !strings.Contains(d.Body, strangerEmail) {
				t.Errorf("the stranger's own code opened another merchant's dashboard:\n%s", d.Body)
			}
			before.Sessions[0]++ // the stranger's own session
		}
		check("merchant confirm with the stranger's own code", before, strangerEmail)
		for _, k := range []string{"confirmed@attack.example"} {
			if before.Merchants[k] != snapshotIdentity(t, db).Merchants[k] {
				t.Errorf("the victim %s changed", k)
			}
		}
	}

	// Merchant log-in: a wrong password in every state; the right one of
	// a locked account is refused too.
	for _, email := range merchants {
		what := "merchant log-in of " + email + " with a wrong password"
		before := snapshotIdentity(t, db)
		b := stranger("/login/")
		noSession(what, b.post(t, "/login/", url.Values{"email": {email}, "password": {"a guessed password"}}), "thaili_session", "/dashboard/")
		check(what, before)
	}
	{
		before := snapshotIdentity(t, db)
		b := stranger("/login/")
		noSession("locked merchant log-in with the right password", b.post(t, "/login/", url.Values{"email": {"locked@attack.example"}, "password": {password}}),
			"thaili_session", "/dashboard/")
		check("locked merchant log-in with the right password", before)
	}

	// Password change: without a session it goes to the log-in page; the
	// owner's session with a wrong current password changes nothing.
	{
		before := snapshotIdentity(t, db)
		b := stranger("/login/")
		p := b.post(t, "/dashboard/password", url.Values{"current_password": {"x"}, "new_password": {"a new long password"}})
		if p.Status != http.StatusSeeOther || p.Location != "/login/" {
			t.Errorf("password change without a session: %d %q", p.Status, p.Location)
		}
		mConf.get(t, "/dashboard/")
		p = mConf.post(t, "/dashboard/password", url.Values{"current_password": {"a guessed password"}, "new_password": {"a new long password"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "The current password is wrong.") {
			t.Errorf("password change with a wrong current password: %d", p.Status)
		}
		check("password change", before)
	}

	// Wallet sign-up confirm: every state, every code.
	for _, mobile := range wallets {
		for _, c := range codes {
			what := fmt.Sprintf("wallet confirm of %s with %s", mobile, c.name)
			before := snapshotIdentity(t, db)
			b := stranger("/me/login/")
			noSession(what, b.post(t, "/join/confirm", url.Values{"mobile": {mobile}, "code": {c.code}, "challenge": {c.challenge}}), "thaili_wallet", "/me/")
			check(what, before)
		}
	}
	{
		before := snapshotIdentity(t, db)
		b := stranger("/me/login/")
		p := b.post(t, "/join/confirm", url.Values{"mobile": {"9812350011"}, "code": {ownWallet.code}, "challenge": {ownWallet.challenge}})
		if p.Status == http.StatusSeeOther {
			if w := b.get(t, "/me/"); strings.Contains(w.Body, "9812350011") || !strings.Contains(w.Body, strangerWallet) {
				t.Errorf("the stranger's own code opened another wallet:\n%s", w.Body)
			}
			before.Sessions[1]++ // the stranger's own session
		}
		check("wallet confirm with the stranger's own code", before, strangerWallet)
	}

	// Wallet log-in: a wrong MPIN in every state; the right one of a
	// locked wallet is refused too.
	for _, mobile := range wallets {
		what := "wallet log-in of " + mobile + " with a wrong MPIN"
		before := snapshotIdentity(t, db)
		b := stranger("/me/login/")
		noSession(what, b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {"7391"}}), "thaili_wallet", "/me/")
		check(what, before)
	}
	for _, mobile := range []string{"9812350013", "9800000013"} {
		what := "locked wallet log-in of " + mobile + " with the right MPIN"
		pin := mpin
		if mobile == "9800000013" {
			pin = "1111"
		}
		before := snapshotIdentity(t, db)
		b := stranger("/me/login/")
		noSession(what, b.post(t, "/me/login/", url.Values{"mobile": {mobile}, "mpin": {pin}}), "thaili_wallet", "/me/")
		check(what, before)
	}

	// MPIN reset: every state, every code (a wallet's own sign-up code is
	// another purpose here), and the stranger's own reset code, which sets
	// only the stranger's MPIN.
	resetCodes := append(codes[:len(codes)-1:len(codes)-1], attackCode{"a sign-up code", ownWallet.challenge, ownWallet.code})
	for _, mobile := range wallets {
		for _, c := range resetCodes {
			what := fmt.Sprintf("MPIN reset of %s with %s", mobile, c.name)
			before := snapshotIdentity(t, db)
			b := stranger("/me/reset/")
			p := b.post(t, "/me/reset/confirm", url.Values{"mobile": {mobile}, "code": {c.code}, "challenge": {c.challenge}, "mpin": {"2222"}, "mpin2": {"2222"}})
			noSession(what, p, "thaili_wallet", "/me/")
			check(what, before)
		}
	}
	{
		// A fresh reset code of the stranger's own (the one above has used
		// its tries on the attacks).
		b := stranger("/me/reset/")
		ch := challengeOn(b.post(t, "/me/reset/", url.Values{"mobile": {"9812350096"}, "challenge": {""}}).Body)
		before := snapshotIdentity(t, db)
		p := b.post(t, "/me/reset/confirm", url.Values{"mobile": {"9812350011"}, "code": {s.lastAccountCode(t, "9812350096")}, "challenge": {ch},
			"mpin": {"2222"}, "mpin2": {"2222"}})
		after := snapshotIdentity(t, db)
		if after.Consumers["9812350011"] != before.Consumers["9812350011"] {
			t.Error("the stranger's own reset code changed another wallet's MPIN")
		}
		if p.Status == http.StatusOK && after.Consumers["9812350096"] == before.Consumers["9812350096"] {
			t.Error("the stranger's own reset code was accepted but set no MPIN")
		}
		check("MPIN reset with the stranger's own reset code", before, "9812350096")
	}

	// Operator log-in: a wrong password; the right one of a locked operator.
	for _, tc := range []struct{ email, pw string }{
		{"ops@attack.example", "a guessed password"}, {"lockedops@attack.example", "a guessed password"}, {"lockedops@attack.example", opPassword},
		{"nobody@attack.example", opPassword},
	} {
		what := "operator log-in of " + tc.email
		before := snapshotIdentity(t, db)
		b := stranger("/admin/login/")
		noSession(what, b.post(t, "/admin/login/", url.Values{"email": {tc.email}, "password": {tc.pw}}), "thaili_operator", "/admin/")
		check(what, before)
	}

	// The hosted page's sign-in, by a stranger who has the payment link: a
	// wrong MPIN in every state; the right MPIN of a locked wallet, and of
	// an unconfirmed one (which may not pay), gets no code either.
	pidx, path := initiateEPayment(t, s)
	for _, tc := range []struct{ mobile, pin string }{
		{"9812350011", "7391"}, {"9812350012", "7391"}, {"9812350013", "7391"}, {"9812350014", "7391"}, {"9812359999", "7391"},
		{"9812350013", mpin}, {"9800000013", "1111"}, {"9812350012", mpin},
	} {
		what := "hosted sign-in of " + tc.mobile + " with MPIN " + tc.pin
		before := snapshotIdentity(t, db)
		hp := newPage(t, s)
		token := csrf(t, hp.get(path))
		r := hp.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {tc.mobile}, "mpin": {tc.pin}})
		if r.Status < 400 || strings.Contains(r.Body, `name="code"`) {
			t.Errorf("%s: %d, and the code form: %t", what, r.Status, strings.Contains(r.Body, `name="code"`))
		}
		check(what, before)
	}
	s.ledgerOK(t)
}
