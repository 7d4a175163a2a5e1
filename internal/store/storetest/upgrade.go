package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Upgradable is a store that can be migrated step by step, with its
// database at hand for rows written in an old schema.
type Upgradable interface {
	store.Store
	MigrateTo(ctx context.Context, version int) (int, error)
	SQL() *sql.DB
}

// upgradeSeed is realistic data in the first schema (migration 1), as a
// database made before every later migration holds it: an operator-made
// merchant with a key and a fee schedule, an unconfirmed web sign-up, a
// payer with a wrong MPIN counted and one locked, a top-up and a
// completed payment in the ledger. Ids are the database's own, so rows
// refer to each other through subqueries; values are literals, valid in
// both databases.
var upgradeSeed = []string{
	`INSERT INTO merchants (idx, name, email, mobile, password_hash, kyc, created_at)
		VALUES ('upgrade-m-cli', 'Operator Made', 'cli@upgrade.example', '', '', 'approved', 1700000000000000)`,
	`INSERT INTO merchants (idx, name, email, mobile, password_hash, kyc, created_at)
		VALUES ('upgrade-m-web', 'Web Sign-up', 'web@upgrade.example', '9812345000', 'bcrypt-hash', 'none', 1700000000000000)`,
	`INSERT INTO api_keys (merchant_id, book, kind, lookup, prefix, created_at)
		SELECT id, 'test', 'public', 'upgrade-public-key', 'upgrade-public-key', 1700000000000000 FROM merchants WHERE idx = 'upgrade-m-cli'`,
	`INSERT INTO fee_tiers (merchant_id, book, min_amount, max_amount, percent_bps, flat)
		SELECT id, 'test', 1000, 0, 300, 0 FROM merchants WHERE idx = 'upgrade-m-cli'`,
	`INSERT INTO consumers (idx, mobile, name, mpin_hash, failed_mpin, locked, created_at)
		VALUES ('upgrade-c-payer', '9812345001', 'Payer', 'mpin-hash', 1, FALSE, 1700000000000000)`,
	`INSERT INTO consumers (idx, mobile, name, mpin_hash, failed_mpin, locked, created_at)
		VALUES ('upgrade-c-held', '9812345002', 'Held', 'mpin-hash', 3, TRUE, 1700000000000000)`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) VALUES ('test', 'funding', 0, 0, -5000)`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) SELECT 'test', 'wallet', id, 0, 4000 FROM consumers WHERE idx = 'upgrade-c-payer'`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) SELECT 'test', 'merchant', id, 3, 970 FROM merchants WHERE idx = 'upgrade-m-cli'`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) VALUES ('test', 'fees', 0, 3, 30)`,
	`INSERT INTO payments (idx, token, fee_idx, book, merchant_id, consumer_id, state, amount, fee_amount, refunded,
		product_identity, product_name, product_url, otp_hash, otp_expires_at, created_at, confirmed_at, completed_at, updated_at)
		SELECT 'upgrade-p-1', 'upgrade-token-1', 'upgrade-fee-1', 'test', m.id, c.id, 'Completed', 1000, 30, 0,
		'book-1', 'A book', '', '', 1700000000000000, 1700000000000000, 1700000001000000, 1700000002000000, 1700000002000000
		FROM merchants m, consumers c WHERE m.idx = 'upgrade-m-cli' AND c.idx = 'upgrade-c-payer'`,
	`INSERT INTO ledger_txns (book, reason, payment_id, created_at) VALUES ('test', 'topup', 0, 1700000000000000)`,
	`INSERT INTO ledger_txns (book, reason, payment_id, created_at) SELECT 'test', 'capture', id, 1700000002000000 FROM payments WHERE idx = 'upgrade-p-1'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT t.id, a.id, -5000 FROM ledger_txns t, accounts a WHERE t.reason = 'topup' AND a.kind = 'funding'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT t.id, a.id, 5000 FROM ledger_txns t, accounts a WHERE t.reason = 'topup' AND a.kind = 'wallet'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT t.id, a.id, -1000 FROM ledger_txns t, accounts a WHERE t.reason = 'capture' AND a.kind = 'wallet'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT t.id, a.id, 970 FROM ledger_txns t, accounts a WHERE t.reason = 'capture' AND a.kind = 'merchant'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT t.id, a.id, 30 FROM ledger_txns t, accounts a WHERE t.reason = 'capture' AND a.kind = 'fees'`,
}

// upgradeCounts are the seeded rows each migration must keep.
var upgradeCounts = map[string]int{"merchants": 2, "api_keys": 1, "fee_tiers": 1, "consumers": 2, "accounts": 4, "ledger_txns": 2,
	"postings": 5, "payments": 1}

// upgradeLater is realistic data for tables a later migration made,
// written right after that migration (by its number) and then kept
// through every migration after it, like upgradeSeed: a webhook endpoint
// of the operator-made merchant with a failed delivery of a payment
// event (migration 6), made before deliveries kept their answer's body
// (migration 18).
var upgradeLater = map[int]struct {
	rows   []string
	counts map[string]int
}{
	6: {rows: []string{
		`INSERT INTO webhook_endpoints (idx, merchant_id, book, url, secret, events, created_at)
			SELECT 'upgrade-ep-1', id, 'test', 'https://hooks.upgrade.example/in', 'sealed-secret', 'payment.completed,payment.failed', 1700000003000000
			FROM merchants WHERE idx = 'upgrade-m-cli'`,
		`INSERT INTO webhook_events (idx, merchant_id, book, type, payment_id, payload, created_at)
			SELECT 'upgrade-ev-1', m.id, 'test', 'payment.completed', p.id, '{"id":"upgrade-ev-1","type":"payment.completed"}', 1700000003000000
			FROM merchants m, payments p WHERE m.idx = 'upgrade-m-cli' AND p.idx = 'upgrade-p-1'`,
		`INSERT INTO webhook_deliveries (idx, event_id, endpoint_id, attempt, status, next_attempt_at, last_status_code, last_error,
			created_at, updated_at)
			SELECT 'upgrade-d-1', e.id, ep.id, 2, 'pending', 1700000300000000, 503, 'HTTP 503', 1700000003000000, 1700000100000000
			FROM webhook_events e, webhook_endpoints ep WHERE e.idx = 'upgrade-ev-1' AND ep.idx = 'upgrade-ep-1'`,
	}, counts: map[string]int{"webhook_endpoints": 1, "webhook_events": 1, "webhook_deliveries": 1}},
}

// RunUpgrade is the upgrade test: a database at migration 1 holding
// realistic rows is migrated one migration at a time, and after every
// step each seeded row is still there and the books still balance
// (checked with SQL that every schema understands); at the end the store
// reads the old rows as this build expects them (migration 13 confirms
// operator-made merchants and keeps web sign-ups unconfirmed; a webhook
// delivery made before migration 18 has no answer's body), the ledger
// check passes, and the store writes on top of them. Rows of tables a
// later migration made (upgradeLater) are written right after it.
// versions are this build's migrations in order.
func RunUpgrade(t *testing.T, s Upgradable, versions []int) {
	ctx := context.Background()
	if len(versions) == 0 || versions[0] != 1 {
		t.Fatalf("migrations %v do not start at 1", versions)
	}
	if _, err := s.MigrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, q := range upgradeSeed {
		if _, err := s.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("seeding at migration 1: %v\n%s", err, q)
		}
	}
	counts := maps.Clone(upgradeCounts)
	checkRaw(t, s.SQL(), "migration 1", counts)
	for _, v := range versions[1:] {
		if n, err := s.MigrateTo(ctx, v); err != nil || n != 1 {
			t.Fatalf("migrating to %d: applied %d, %v", v, n, err)
		}
		for _, q := range upgradeLater[v].rows {
			if _, err := s.SQL().ExecContext(ctx, q); err != nil {
				t.Fatalf("seeding at migration %d: %v\n%s", v, err, q)
			}
		}
		maps.Copy(counts, upgradeLater[v].counts)
		checkRaw(t, s.SQL(), fmt.Sprintf("migration %d", v), counts)
	}

	// The store reads the old rows as this build expects them.
	view(t, s, func(tx store.Tx) error {
		cli, err := tx.MerchantByEmail(ctx, "cli@upgrade.example")
		if err != nil {
			return err
		}
		web, err := tx.MerchantByEmail(ctx, "web@upgrade.example")
		if err != nil {
			return err
		}
		if !cli.Confirmed || web.Confirmed || cli.KYC != store.KYCApproved {
			t.Errorf("merchants after the upgrade: operator-made %+v, web sign-up %+v", cli, web)
		}
		payer, err := tx.ConsumerByMobile(ctx, "9812345001")
		if err != nil {
			return err
		}
		held, err := tx.ConsumerByMobile(ctx, "9812345002")
		if err != nil {
			return err
		}
		if !payer.Confirmed || payer.FailedMPIN != 1 || payer.Locked || !held.Locked || !payer.MPINLockedUntil.IsZero() {
			t.Errorf("consumers after the upgrade: %+v, %+v", payer, held)
		}
		p, err := tx.PaymentByIdx(ctx, store.Scope{MerchantID: cli.ID, Book: ledger.Test}, "upgrade-p-1")
		if err != nil {
			return err
		}
		if p.State != store.Completed || p.Amount != 1000 || p.Kind != store.WalletPayment || p.Browser != "" || p.Version != 1 {
			t.Errorf("payment after the upgrade: %+v", p)
		}
		ep, err := tx.WebhookEndpointByIdx(ctx, store.Scope{MerchantID: cli.ID, Book: ledger.Test}, "upgrade-ep-1")
		if err != nil {
			return err
		}
		if string(ep.Secret) != "sealed-secret" || !slices.Equal(ep.Events, []string{"payment.completed", "payment.failed"}) || !ep.DisabledAt.IsZero() {
			t.Errorf("webhook endpoint after the upgrade: %+v", ep)
		}
		// A delivery made before migration 18 has no answer's body.
		d, err := tx.WebhookDeliveryByIdx(ctx, "upgrade-d-1")
		if err != nil {
			return err
		}
		if d.Attempt != 2 || d.Status != store.DeliveryPending || d.LastStatusCode != 503 || d.LastError != "HTTP 503" ||
			d.ResponseBody != "" || d.ResponseTruncated || !d.NextAttemptAt.Equal(time.UnixMicro(1700000300000000)) {
			t.Errorf("webhook delivery after the upgrade: %+v", d)
		}
		ev, err := tx.WebhookEvent(ctx, d.EventID)
		if err != nil {
			return err
		}
		if ev.Idx != "upgrade-ev-1" || ev.PaymentID != p.ID || string(ev.Payload) != `{"id":"upgrade-ev-1","type":"payment.completed"}` {
			t.Errorf("webhook event after the upgrade: %+v", ev)
		}
		times, err := tx.WebhookEventTimes(ctx, cli.ID, "payment.completed", time.UnixMicro(0), 10)
		if err != nil {
			return err
		}
		if len(times) != 1 || !times[0].Equal(time.UnixMicro(1700000003000000)) {
			t.Errorf("webhook event times after the upgrade: %v", times)
		}
		return nil
	})
	if v := checkLedger(t, s); len(v.Accounts) != 4 {
		t.Errorf("ledger after the upgrade: %d accounts, want 4", len(v.Accounts))
	}

	// And writes on top of them: a refund of the old payment, a wrong MPIN
	// counted on the old payer, a code, an audit entry by the command line.
	inTx(t, s, func(tx store.Tx) error {
		cli, err := tx.MerchantByEmail(ctx, "cli@upgrade.example")
		if err != nil {
			return err
		}
		payer, err := tx.ConsumerForUpdate(ctx, "9812345001")
		if err != nil {
			return err
		}
		p, err := tx.PaymentByIdx(ctx, store.Scope{MerchantID: cli.ID, Book: ledger.Test}, "upgrade-p-1")
		if err != nil {
			return err
		}
		refund := ledger.Transfer(ledger.Test, "refund", p.ID, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: cli.ID}.WithShard(3),
			ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: payer.ID}, 500)
		p.Refunded, p.State, p.UpdatedAt = 500, store.PartiallyRefunded, base
		if err := tx.PostAndUpdate(ctx, refund, base, &p); err != nil {
			return err
		}
		payer.FailedMPIN++
		if err := tx.SetConsumerGuard(ctx, payer); err != nil {
			return err
		}
		if err := tx.CreateCode(ctx, store.Code{ChallengeHash: "upgrade-challenge", Subject: store.CodeSubjectConsumer(payer.ID),
			Purpose: "reset MPIN", Target: payer.Mobile, CodeHash: "h", ExpiresAt: base.Add(time.Hour), CreatedAt: base}); err != nil {
			return err
		}
		return tx.AddAudit(ctx, &store.AuditEntry{Operator: "command line (upgrade)", Action: "wallet.topup", Subject: payer.Mobile, At: base})
	})
	checkLedger(t, s)

	// The old delivery is claimed and answered, and keeps the answer.
	due := time.UnixMicro(1700000300000000).UTC()
	var claimed []store.WebhookDelivery
	inTx(t, s, func(tx store.Tx) error {
		var err error
		claimed, err = tx.ClaimWebhookDeliveries(ctx, due, due.Add(time.Minute), 10)
		if err != nil || len(claimed) != 1 {
			return fmt.Errorf("claiming the old delivery: %d claimed, %v", len(claimed), err)
		}
		d := claimed[0]
		d.Attempt, d.Status, d.LastStatusCode, d.LastError, d.ResponseBody, d.ResponseTruncated, d.UpdatedAt =
			3, store.DeliverySucceeded, 200, "", "ok", true, due
		return tx.FinishWebhookDelivery(ctx, &d, due.Add(time.Minute))
	})
	view(t, s, func(tx store.Tx) error {
		d, err := tx.WebhookDeliveryByIdx(ctx, "upgrade-d-1")
		if err == nil && (d.Status != store.DeliverySucceeded || d.ResponseBody != "ok" || !d.ResponseTruncated) {
			t.Errorf("webhook delivery answered after the upgrade: %+v", d)
		}
		return err
	})
}

// checkRaw checks the seeded rows (counts, by table) and the books with SQL every schema
// version understands.
func checkRaw(t *testing.T, db *sql.DB, when string, counts map[string]int) {
	t.Helper()
	for table, want := range counts {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatalf("after %s: %v", when, err)
		}
		if n != want {
			t.Errorf("after %s: %d rows in %s, want %d", when, n, table, want)
		}
	}
	var unbalancedBooks, unmatched int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT book FROM accounts GROUP BY book HAVING SUM(balance) <> 0) b`).Scan(&unbalancedBooks); err != nil {
		t.Fatalf("after %s: %v", when, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM accounts a WHERE a.balance <> (SELECT COALESCE(SUM(p.amount), 0) FROM postings p WHERE p.account_id = a.id)`).
		Scan(&unmatched); err != nil {
		t.Fatalf("after %s: %v", when, err)
	}
	if unbalancedBooks != 0 || unmatched != 0 {
		t.Errorf("after %s: %d books out of balance, %d accounts unlike their postings", when, unbalancedBooks, unmatched)
	}
}
