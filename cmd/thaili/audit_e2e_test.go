package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// Operator actions from the command line are audited like the console's
// (issue 11): in the transaction of the action, as "command line (<OS
// user>)", without a console operator id.

// auditRow is one audit_log row as the database holds it.
type auditRow struct {
	operatorID sql.NullInt64
	operator   string
	action     string
	subject    string
	detail     string
}

func (r auditRow) String() string {
	return fmt.Sprintf("{operator_id %v, %q, %s, %q, %q}", r.operatorID, r.operator, r.action, r.subject, r.detail)
}

// readAudit returns the audit log of db (a SQLite path or a postgres://
// URL), oldest first, read with SQL so that it does not depend on the
// code under test.
func readAudit(t *testing.T, db string) []auditRow {
	t.Helper()
	rows, err := openDatabase(t, db).Query(`SELECT operator_id, operator, action, subject, detail FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.operatorID, &r.operator, &r.action, &r.subject, &r.detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantAudit is an expected entry; detail is a regular expression (the
// whole detail must match it).
type wantAudit struct {
	operator, action, subject, detail string
}

// auditLog follows a database's audit log: each check compares the
// entries written since the previous one.
type auditLog struct {
	db   string
	seen int
}

// newEntries fails unless the entries written since the last call are
// exactly want, in order, none with a console operator id. It goes on
// after a failure, so that a run reports every command that was not
// audited.
func (a *auditLog) newEntries(t *testing.T, after string, want ...wantAudit) {
	t.Helper()
	all := readAudit(t, a.db)
	if len(all) < a.seen {
		t.Fatalf("after %s: the audit log shrank from %d to %d entries", after, a.seen, len(all))
	}
	got := all[a.seen:]
	a.seen = len(all)
	if len(got) != len(want) {
		t.Errorf("after %s: %d new audit entries, want %d:\n got  %v\n want %+v", after, len(got), len(want), got, want)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.operatorID.Valid || g.operator != w.operator || g.action != w.action || g.subject != w.subject ||
			!regexp.MustCompile(`^(?:`+w.detail+`)$`).MatchString(g.detail) {
			t.Errorf("after %s: audit entry %v, want operator_id NULL, %q, %s, %q, detail matching %q", after, g, w.operator, w.action, w.subject, w.detail)
		}
	}
}

var (
	createdMerchantRE = regexp.MustCompile(`created merchant ([0-9A-Za-z]{22}) `)
	createdWalletRE   = regexp.MustCompile(`created wallet ([0-9A-Za-z]{22}) `)
	testPublicKeyRE   = regexp.MustCompile(`test public key: (test_public_key_[0-9a-f]{32})`)
	testSecretKeyRE   = regexp.MustCompile(`test secret key: (test_secret_key_[0-9a-f]{32})`)
	liveSecretShownRE = regexp.MustCompile(`live secret key: (live_secret_key_([0-9a-f]{4})[0-9a-f]{28})  \(shown once; store it now\)`)
)

// TestCLIOperatorActionsAudited runs every operator command of the command
// line through run() and checks its audit entry: action, subject,
// detail and actor; setup (the sandbox seed) and reads write none, and
// the console's audit page shows the entries.
func TestCLIOperatorActionsAudited(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testCLIOperatorActionsAudited(t, filepath.Join(t.TempDir(), "audit.db"), map[string]string{})
	})
	t.Run("postgres", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range pgEnv {
			env[k] = v
		}
		testCLIOperatorActionsAudited(t, pgtest.NewDatabase(t), env)
	})
}

func testCLIOperatorActionsAudited(t *testing.T, db string, env map[string]string) {
	env["USER"] = "asha"
	const asha = "command line (asha)"
	s := &testServer{DB: db, env: env}
	log := &auditLog{db: db}
	s.cliOK(t, "migrate")
	s.cliOK(t, "sandbox", "seed")
	log.newEntries(t, "migrate and sandbox seed") // setup, not an operator action

	const opEmail, opPassword = "ops@audit.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)
	log.newEntries(t, "admin create", wantAudit{asha, "operator.create", opEmail, `operator [0-9]+`})

	out := s.cliOK(t, "merchant", "create", "--name", "Audit Shop", "--email", "Shop@Audit.example", "--mobile", "9841000009")
	m := createdMerchantRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("merchant create output:\n%s", out)
	}
	idx := m[1]
	log.newEntries(t, "merchant create", wantAudit{asha, "merchant.create", idx, `shop@audit\.example, KYC none, owner's wallet 9841000009`})

	s.cliOK(t, "merchant", "show", "--merchant", "shop@audit.example")
	log.newEntries(t, "merchant show without a secret to reveal") // a read

	s.cliOK(t, "kyc", "approve", "--merchant", "shop@audit.example")
	log.newEntries(t, "kyc approve", wantAudit{asha, "kyc.approve", idx, `shop@audit\.example: none -> approved`})
	s.cliOK(t, "kyc", "approve", "--merchant", idx, "--state", "submitted")
	log.newEntries(t, "kyc approve --state submitted", wantAudit{asha, "kyc.set", idx, `shop@audit\.example: approved -> submitted`})
	if out, err := s.cli(t, "kyc", "approve", "--merchant", idx, "--state", "rejected", "--reason", "The scan is blurry."); err != nil {
		t.Errorf("kyc approve --state rejected --reason: %v\n%s", err, out)
	}
	log.newEntries(t, "kyc approve --state rejected", wantAudit{asha, "kyc.reject", idx, `shop@audit\.example: submitted -> rejected; The scan is blurry\.`})

	const mobile = "9841000001"
	out = s.cliOK(t, "consumer", "create", "--mobile", mobile, "--name", "Sita Rai", "--mpin", "2468")
	w := createdWalletRE.FindStringSubmatch(out)
	if w == nil {
		t.Fatalf("consumer create output:\n%s", out)
	}
	log.newEntries(t, "consumer create", wantAudit{asha, "wallet.create", mobile, w[1] + `, Sita Rai`})

	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "2500")
	log.newEntries(t, "consumer topup", wantAudit{asha, "wallet.topup", mobile, `Rs 25\.00 \(2500 paisa\), test book; balance Rs 25\.00`})
	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "700", "--book", "live")
	log.newEntries(t, "consumer topup --book live", wantAudit{asha, "wallet.topup", mobile, `Rs 7\.00 \(700 paisa\), live book; balance Rs 7\.00`})

	s.cliOK(t, "consumer", "reset-mpin", "--mobile", mobile, "--mpin", "1357")
	log.newEntries(t, "consumer reset-mpin", wantAudit{asha, "wallet.reset_mpin", mobile, `was locked: false, wrong MPINs: 0`})

	out = s.cliOK(t, "keys", "rotate", "--merchant", "shop@audit.example", "--book", "test")
	pk, sk := testPublicKeyRE.FindStringSubmatch(out), testSecretKeyRE.FindStringSubmatch(out)
	if pk == nil || sk == nil {
		t.Fatalf("keys rotate output:\n%s", out)
	}
	log.newEntries(t, "keys rotate", wantAudit{asha, "keys.rotate", idx, `test book; new public key ` + pk[1]})

	bank := s.addBank(t, "--name", "Nabil Bank Limited", "--short-name", "NABIL", "--ebanking")
	log.newEntries(t, "bank add", wantAudit{asha, "bank.add", bank, `NABIL Nabil Bank Limited`})
	s.cliOK(t, "bank", "list")
	s.cliOK(t, "ledger", "check")
	log.newEntries(t, "bank list and ledger check") // reads

	// Without $USER the actor is $LOGNAME; without either, just "command line".
	delete(env, "USER")
	env["LOGNAME"] = "ravi"
	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "1")
	delete(env, "LOGNAME")
	s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "1")
	log.newEntries(t, "consumer topup as $LOGNAME, then as nobody",
		wantAudit{"command line (ravi)", "wallet.topup", mobile, `Rs 0\.01 \(1 paisa\), test book; balance Rs 25\.01`},
		wantAudit{"command line", "wallet.topup", mobile, `Rs 0\.01 \(1 paisa\), test book; balance Rs 25\.02`})
	env["USER"] = "asha"

	// The first completed test payment issues live keys, kept sealed until
	// merchant show reveals the secret once: that reveal is audited.
	srv := startServerDB(t, db, env)
	log.newEntries(t, "serve (which seeds the sandbox on SQLite)")
	srv.pay(t, pk[1], sk[1], "9800000001", 1000)
	out = s.cliOK(t, "merchant", "show", "--merchant", idx)
	live := liveSecretShownRE.FindStringSubmatch(out)
	if live == nil {
		t.Fatalf("merchant show after the first payment does not reveal the live secret:\n%s", out)
	}
	log.newEntries(t, "merchant show revealing the live secret",
		wantAudit{asha, "keys.reveal", idx, `live secret key live_secret_key_` + live[2] + `…`})
	if out = s.cliOK(t, "merchant", "show", "--merchant", idx); strings.Contains(out, live[1]) {
		t.Fatalf("the live secret was shown twice:\n%s", out)
	}
	log.newEntries(t, "merchant show after the reveal") // nothing revealed: a read

	// The console's audit page shows the command line's entries beside
	// the operator's own.
	op := newMerchantBrowser(t, srv)
	operatorLogin(t, op, opEmail, opPassword)
	auditPage := op.get(t, "/admin/audit/")
	auditPage.Body = plainCells(auditPage.Body)
	wantPage(t, "audit page", auditPage, 200,
		"<td>"+asha+"</td><td>wallet.topup</td><td>"+mobile+"</td><td>Rs 25.00 (2500 paisa), test book; balance Rs 25.00</td>",
		"<td>"+asha+"</td><td>kyc.reject</td><td>"+idx+"</td>",
		"<td>command line (ravi)</td><td>wallet.topup</td>",
		"<td>"+asha+"</td><td>keys.reveal</td><td>"+idx+"</td>",
		"<td>"+opEmail+"</td><td>login</td>")
	all := readAudit(t, db)
	if last := all[len(all)-1]; last.action != "login" || !last.operatorID.Valid || last.operator != opEmail {
		t.Fatalf("the console login's entry is %v, want the operator's id and email", last)
	}
	srv.ledgerOK(t)
}

// TestCLIFailedActionsNotAudited runs operator commands whose work fails:
// each must exit non-zero and leave the audit log as it was.
func TestCLIFailedActionsNotAudited(t *testing.T) {
	db := filepath.Join(t.TempDir(), "audit.db")
	s := &testServer{DB: db, env: map[string]string{"USER": "asha"}}
	s.cliOK(t, "migrate")
	s.cliOK(t, "admin", "create", "--email", "ops@audit.example", "--password", "operator password 1")
	s.cliOK(t, "merchant", "create", "--name", "Audit Shop", "--email", "shop@audit.example")
	s.cliOK(t, "consumer", "create", "--mobile", "9841000001", "--name", "Sita", "--mpin", "2468")
	log := &auditLog{db: db, seen: len(readAudit(t, db))}
	if log.seen != 3 {
		t.Fatalf("setup wrote %d audit entries, want 3", log.seen)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"consumer", "topup", "--mobile", "9841000002", "--amount", "100"}, "No wallet for 9841000002."},
		{[]string{"consumer", "topup", "--mobile", "9841000001", "--amount", "100", "--book", "gold"}, "Book must be test or live."},
		{[]string{"consumer", "topup", "--mobile", "9841000001", "--amount", "0"}, "greater than or equal to 1"},
		{[]string{"consumer", "reset-mpin", "--mobile", "9841000002", "--mpin", "1357"}, "No wallet for 9841000002."},
		{[]string{"consumer", "reset-mpin", "--mobile", "9841000001", "--mpin", "12"}, "--mpin: Khalti PIN must be 4 digits long."},
		{[]string{"consumer", "create", "--mobile", "9841000001", "--name", "Sita", "--mpin", "2468"}, "already exists"},
		{[]string{"merchant", "create", "--name", "Again", "--email", "shop@audit.example"}, "already exists"},
		{[]string{"merchant", "show", "--merchant", "nobody@audit.example"}, `No merchant "nobody@audit.example".`},
		{[]string{"kyc", "approve", "--merchant", "shop@audit.example", "--state", "maybe"}, "Unknown KYC state."},
		{[]string{"kyc", "approve", "--merchant", "nobody@audit.example"}, `No merchant "nobody@audit.example".`},
		{[]string{"kyc", "approve", "--merchant", "shop@audit.example", "--state", "rejected"}, "--reason: Give the reason for the rejection."},
		{[]string{"keys", "rotate", "--merchant", "shop@audit.example", "--book", "live"}, "no live keys yet"},
		{[]string{"keys", "rotate", "--merchant", "nobody@audit.example"}, `No merchant "nobody@audit.example".`},
		{[]string{"bank", "add", "--short-name", "NABIL"}, "--name:"},
		{[]string{"admin", "create", "--email", "ops@audit.example", "--password", "operator password 1"}, "already exists"},
	} {
		what := strings.Join(c.args, " ")
		out, err := s.cli(t, c.args...)
		if err == nil || !strings.Contains(out+err.Error(), c.want) {
			t.Fatalf("thaili %s: %v, want an error saying %q\n%s", what, err, c.want, out)
		}
		log.newEntries(t, "the failed "+what)
	}
	out := s.cliOK(t, "merchant", "show", "--merchant", "shop@audit.example")
	if !strings.Contains(out, "KYC: none") || strings.Contains(out, "[revoked") {
		t.Fatalf("a failed action changed the merchant:\n%s", out)
	}
}

// TestCLIAuditFailureRollsBack makes the database refuse audit entries (a
// trigger) and runs each operator command: the command fails and its work
// is rolled back with the entry it could not write.
func TestCLIAuditFailureRollsBack(t *testing.T) {
	db := filepath.Join(t.TempDir(), "audit.db")
	s := &testServer{DB: db, env: map[string]string{"USER": "asha"}}
	s.cliOK(t, "migrate")
	s.cliOK(t, "merchant", "create", "--name", "Audit Shop", "--email", "shop@audit.example")
	s.cliOK(t, "consumer", "create", "--mobile", "9841000001", "--name", "Sita", "--mpin", "2468")
	s.cliOK(t, "consumer", "topup", "--mobile", "9841000001", "--amount", "2500")
	before := s.cliOK(t, "merchant", "show", "--merchant", "shop@audit.example")

	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	mpinHash := func() string {
		t.Helper()
		var h string
		if err := raw.QueryRow(`SELECT mpin_hash FROM consumers WHERE mobile = '9841000001'`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	hash := mpinHash()
	if _, err := raw.Exec(`CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}
	log := &auditLog{db: db, seen: len(readAudit(t, db))}
	for _, args := range [][]string{
		{"consumer", "topup", "--mobile", "9841000001", "--amount", "100"},
		{"consumer", "reset-mpin", "--mobile", "9841000001", "--mpin", "1357"},
		{"consumer", "create", "--mobile", "9841000002", "--name", "Gita", "--mpin", "2468"},
		{"merchant", "create", "--name", "Second Shop", "--email", "second@audit.example"},
		{"kyc", "approve", "--merchant", "shop@audit.example"},
		{"keys", "rotate", "--merchant", "shop@audit.example", "--book", "test"},
		{"bank", "add", "--name", "Nabil Bank Limited", "--short-name", "NABIL"},
		{"admin", "create", "--email", "ops@audit.example", "--password", "operator password 1"},
	} {
		what := strings.Join(args, " ")
		if out, err := s.cli(t, args...); err == nil || !strings.Contains(err.Error(), "audit refused") {
			t.Errorf("thaili %s with the audit log refusing entries: %v, want the refusal\n%s", what, err, out)
		}
		log.newEntries(t, what)
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_refused`); err != nil {
		t.Fatal(err)
	}

	// Nothing the refused commands did remains.
	if h := mpinHash(); h != hash {
		t.Error("the refused reset-mpin changed the MPIN")
	}
	if after := s.cliOK(t, "merchant", "show", "--merchant", "shop@audit.example"); after != before {
		t.Errorf("the refused kyc approve or keys rotate changed the merchant:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if out := s.cliOK(t, "consumer", "topup", "--mobile", "9841000001", "--amount", "1"); !strings.Contains(out, "balance 2501 paisa") {
		t.Errorf("the refused top-up moved money:\n%s", out)
	}
	s.cliOK(t, "consumer", "create", "--mobile", "9841000002", "--name", "Gita", "--mpin", "2468")
	s.cliOK(t, "merchant", "create", "--name", "Second Shop", "--email", "second@audit.example")
	s.cliOK(t, "admin", "create", "--email", "ops@audit.example", "--password", "operator password 1")
	if out := s.cliOK(t, "bank", "list"); !strings.Contains(out, "the bank list is empty") {
		t.Errorf("the refused bank add added a bank:\n%s", out)
	}
	if out := s.cliOK(t, "ledger", "check"); !strings.Contains(out, "ledger ok") {
		t.Errorf("ledger check:\n%s", out)
	}
}

// TestConsoleFeePageKeepsSealedSecret: an operator reading a merchant's
// fee page must not use up the one reveal of its sealed live secret (the
// page called the revealing ShowMerchant, so the secret was unsealed,
// forgotten and never shown to anyone).
func TestConsoleFeePageKeepsSealedSecret(t *testing.T) {
	s := startServer(t)
	s.pay(t, testPK, testSK, "9800000001", 1000) // the demo merchant's first payment: live keys, secret sealed
	raw, err := sql.Open("sqlite", s.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var idx string
	if err := raw.QueryRow(`SELECT idx FROM merchants WHERE email = ?`, payment.DemoMerchantEmail).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	const opEmail, opPassword = "ops@audit.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	wantPage(t, "fee page", op.get(t, "/admin/merchants/"+idx+"/fees/"), 200, "Fees of")
	if out := s.cliOK(t, "merchant", "show", "--merchant", idx); !liveSecretShownRE.MatchString(out) {
		t.Fatalf("after an operator read the fee page, merchant show no longer reveals the live secret:\n%s", out)
	}
}
