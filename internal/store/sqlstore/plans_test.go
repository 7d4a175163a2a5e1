package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

// Microsecond times of the seeded history: payment g of the busy
// merchant is created at planBase + g*planDay/10, so 4,000 payments span
// 400 days.
const (
	planBase = int64(1_780_000_000_000_000)
	planDay  = int64(86_400_000_000)
)

// planSeed is a fresh database's rows: a busy merchant with 4,000
// payments (nine in ten completed, the rest open wallet payments and
// ePayment links), a second merchant with a few, and a few thousand
// payers with wallets, keys and idempotency keys, and a thousand more
// merchants with two webhook endpoints each, so that a unique index
// beats reading a table's few pages. It runs no ANALYZE. The same text
// serves SQLite and PostgreSQL; series holds the numbers 1 to 4,000.
var planSeed = []string{
	`CREATE TABLE series (g INTEGER PRIMARY KEY)`,
	`WITH RECURSIVE s (g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 4000) INSERT INTO series SELECT g FROM s`,
	`INSERT INTO merchants (idx, name, email, created_at) VALUES ('m-busy', 'Busy', 'busy@example.com', 1), ('m-other', 'Other', 'other@example.com', 1)`,
	`INSERT INTO consumers (idx, mobile, name, mpin_hash, created_at) VALUES ('c-payer', '9800000001', 'Payer', 'h', 1)`,
	`INSERT INTO consumers (idx, mobile, name, mpin_hash, created_at)
		SELECT 'c-' || g, '97' || (10000000 + g), 'Payer', 'h', 1 FROM series WHERE g <= 2000`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) SELECT 'test', 'wallet', id, 0, 100000000 FROM consumers`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) SELECT 'test', 'merchant', id, 0, 0 FROM merchants`,
	`INSERT INTO accounts (book, kind, owner, shard, balance) VALUES ('test', 'holds', 0, 0, 0), ('test', 'fees', 0, 0, 0), ('test', 'funding', 0, 0, 0)`,
	`INSERT INTO api_keys (merchant_id, book, kind, lookup, prefix, created_at) SELECT id, 'test', 'public', 'lookup-busy', 'p', 1 FROM merchants WHERE idx = 'm-busy'`,
	`INSERT INTO api_keys (merchant_id, book, kind, lookup, prefix, created_at)
		SELECT id, 'test', 'public', 'lookup-' || g, 'p', 1 FROM merchants, series WHERE idx = 'm-other' AND g <= 2000`,
	`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) SELECT 'scope-busy', 'key-' || g, 'h', 1 FROM series WHERE g <= 2000`,
	`INSERT INTO merchants (idx, name, email, created_at) SELECT 'm-' || g, 'Hooked', 'm' || g || '@example.com', 1 FROM series WHERE g <= 1000`,
	`INSERT INTO webhook_endpoints (idx, merchant_id, book, url, secret, events, created_at)
		SELECT 'we-' || g || '-' || m.id, m.id, 'test', 'https://example.com/' || g, 's', 'payment.completed', 1
		FROM merchants m, series WHERE m.name = 'Hooked' AND g <= 2`,
	`INSERT INTO payments (idx, token, fee_idx, book, merchant_id, consumer_id, kind, state, amount, fee_amount,
		product_identity, product_name, product_url, otp_hash, otp_expires_at, created_at, confirmed_at, completed_at, updated_at, expires_at)
	SELECT 'idx-' || g, 'token-' || g, 'fee-' || g, 'test', m.id, c.id,
		CASE WHEN g % 20 = 2 THEN 'epayment' ELSE 'wallet' END,
		CASE g % 20 WHEN 0 THEN 'Initiated' WHEN 1 THEN 'Confirmed' WHEN 2 THEN 'Initiated' ELSE 'Completed' END,
		1000, 30, 'p', 'n', '', '', 0, ` + fmt.Sprint(planBase) + ` + g * ` + fmt.Sprint(planDay/10) + `,
		CASE WHEN g % 20 IN (0, 2) THEN 0 ELSE ` + fmt.Sprint(planBase) + ` + g * ` + fmt.Sprint(planDay/10) + ` + 1000000 END,
		CASE WHEN g % 20 IN (0, 1, 2) THEN 0 ELSE ` + fmt.Sprint(planBase) + ` + g * ` + fmt.Sprint(planDay/10) + ` + 2000000 END,
		` + fmt.Sprint(planBase) + `,
		CASE WHEN g % 20 = 2 THEN ` + fmt.Sprint(planBase) + ` + g * ` + fmt.Sprint(planDay/10) + ` + 3600000000 ELSE 0 END
	FROM series, merchants m, consumers c WHERE m.idx = 'm-busy' AND c.idx = 'c-payer'`,
	`INSERT INTO payments (idx, token, fee_idx, book, merchant_id, kind, state, amount, fee_amount,
		product_identity, product_name, product_url, otp_hash, otp_expires_at, created_at, updated_at)
	SELECT 'other-idx-' || g, 'other-token-' || g, 'other-fee-' || g, 'test', m.id, 'wallet', 'Initiated', 1000, 30, 'p', 'n', '', '', 0,
		` + fmt.Sprint(planBase) + ` + g, ` + fmt.Sprint(planBase) + `
	FROM series, merchants m WHERE m.idx = 'm-other' AND g <= 20`,
	// A capture for each completed payment: holds to the merchant and fees.
	`INSERT INTO ledger_txns (book, reason, payment_id, created_at) SELECT 'test', 'capture', id, completed_at FROM payments WHERE state = 'Completed'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount) SELECT l.id, a.id, -1000 FROM ledger_txns l, accounts a WHERE a.kind = 'holds'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount) SELECT l.id, a.id, 30 FROM ledger_txns l, accounts a WHERE a.kind = 'fees'`,
	`INSERT INTO postings (ledger_txn_id, account_id, amount)
		SELECT l.id, a.id, 970 FROM ledger_txns l, accounts a, merchants m WHERE a.kind = 'merchant' AND a.owner = m.id AND m.idx = 'm-busy'`,
}

// planCheck is one statement whose plan must read each relation of want
// through one of the indexes listed for it. With unique, the statement is
// a lookup by a unique key: no row may be read and then filtered away.
// With write, it is explained without being run.
type planCheck struct {
	name   string
	query  string
	args   []any
	want   map[string][]string
	unique bool
	write  bool
	// sqlite is what SQLite's plan must show (EXPLAIN QUERY PLAN), which
	// must scan no table either; without it, the statement is checked in
	// PostgreSQL only.
	sqlite string
}

// TestPlansPostgres checks the plans of the payment hot path's lookups
// and updates and of the queries of the indexes that migration 0019
// changed, on a fresh PostgreSQL database: empty, as when a new
// database's first payments arrive; then holding a busy merchant's
// history without statistics (autovacuum is off for the test, and
// nothing runs ANALYZE); then after ANALYZE. Each statement is checked
// both as the store runs it once (a custom plan for its parameters) and
// as a prepared statement forced to a generic plan, as a statement
// cached by pgx gets after five runs and keeps for the connection's life.
func TestPlansPostgres(t *testing.T) {
	db := servicetest.Postgres(t).SQL()
	// Statistics must not appear while the test runs: autoanalyze would
	// otherwise decide, by its timing, which plans are checked.
	for _, table := range []string{"payments", "merchants", "consumers", "accounts", "api_keys", "idempotency_keys", "ledger_txns", "postings"} {
		mustExec(t, db, `ALTER TABLE `+table+` SET (autovacuum_enabled = false)`)
	}
	for _, stats := range []string{"empty", "without statistics", "analyzed"} {
		switch stats {
		case "without statistics":
			seedPlans(t, db)
		case "analyzed":
			mustExec(t, db, `ANALYZE`)
		}
		for _, c := range planChecks(t, db) {
			for _, generic := range []bool{false, true} {
				name := c.name + ", " + stats
				if generic {
					name += ", generic plan"
				}
				plan := explain(t, db, c, generic)
				for _, problem := range plan.problems(c) {
					t.Errorf("%s: %s\n%s", name, problem, plan.raw)
				}
			}
		}
	}
}

// seedPlans writes planSeed to db.
func seedPlans(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, q := range planSeed {
		mustExec(t, db, q)
	}
}

// planChecks returns the statements to check, for the seeded payment
// idx-2003, or for ids 1 if db has not been seeded (as a new database is
// when the first payments arrive, and pgx prepares their statements).
func planChecks(t *testing.T, db *sql.DB) []planCheck {
	t.Helper()
	ctx := context.Background()
	id, merchantID, consumerID := int64(1), int64(1), int64(1)
	err := db.QueryRowContext(ctx, `SELECT id, merchant_id, consumer_id FROM payments WHERE idx = 'idx-2003'`).Scan(&id, &merchantID, &consumerID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	p := store.Payment{ID: id, Idx: "idx-2003", Book: ledger.Test, MerchantID: merchantID, ConsumerID: consumerID,
		State: store.Confirmed, Amount: 1000, FeeAmount: 30, Version: 1}
	completed := p
	completed.State = store.Completed
	capture := ledger.Entry{Book: ledger.Test, Reason: "capture", PaymentID: id, Postings: []ledger.Posting{ // in lock order
		{Account: ledger.AccountRef{Book: ledger.Test, Kind: ledger.Fees}, Amount: 30},
		{Account: ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}, Amount: -1000},
		{Account: ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: merchantID}, Amount: 970},
	}}
	update, updateArgs := sqlstore.UpdatePayment(&completed)
	authorise, authoriseArgs := sqlstore.UpdatePayment(&p)
	post, postArgs := sqlstore.PostAndUpdate(capture, time.UnixMicro(planBase), &completed, false)
	unhooked, unhookedArgs := sqlstore.PostAndUpdate(capture, time.UnixMicro(planBase), &completed, true)
	hold := ledger.Entry{Book: ledger.Test, Reason: "authorise", PaymentID: id, Postings: []ledger.Posting{ // in lock order
		{Account: ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}, Amount: 1000},
		{Account: ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: consumerID}, Amount: -1000},
	}}
	postHold, postHoldArgs := sqlstore.PostAndUpdate(hold, time.UnixMicro(planBase), &p, false)
	future := planBase + 1000*planDay

	payments := func(index ...string) map[string][]string { return map[string][]string{"payments": index} }
	return []planCheck{
		{name: "PaymentByToken", query: sqlstore.PaymentByToken, args: []any{"token-2003"}, want: payments("payments_token_key"), unique: true, sqlite: "(token=?)"},
		{name: "PaymentByIdx", query: sqlstore.PaymentByIdx, args: []any{"idx-2003"}, want: payments("payments_idx_key"), unique: true, sqlite: "(idx=?)"},
		{name: "PaymentWithParties(token)", query: sqlstore.PartiesByToken, args: []any{"token-2003"}, want: payments("payments_token_key"), unique: true, sqlite: "SEARCH py USING INDEX sqlite_autoindex_payments_2 (token=?)"},
		{name: "PaymentWithParties(idx)", query: sqlstore.PartiesByIdx, args: []any{"idx-2003"}, want: payments("payments_idx_key"), unique: true, sqlite: "SEARCH py USING INDEX sqlite_autoindex_payments_1 (idx=?)"},
		{name: "PaymentByPidx", query: sqlstore.PaymentByPidx, args: []any{"token-2002"}, want: payments("payments_token_key"), unique: true, sqlite: "(token=?)"},
		{name: "PaymentByID", query: sqlstore.PaymentByID, args: []any{id}, want: payments("payments_pkey"), unique: true, sqlite: "(rowid=?)"},
		{name: "KeyByLookup", query: sqlstore.KeyByLookup, args: []any{"lookup-busy"},
			want: map[string][]string{"api_keys": {"api_keys_lookup_key"}}, unique: true, sqlite: "(lookup=?)"},
		{name: "ConsumerByMobile", query: sqlstore.ConsumerByMobile, args: []any{"9800000001"},
			want: map[string][]string{"consumers": {"consumers_mobile_key"}}, unique: true, sqlite: "(mobile=?)"},
		{name: "ConsumerWithBalance", query: sqlstore.ConsumerWithBalance + " FOR UPDATE", args: []any{ledger.Test, ledger.Wallet, "9800000001"},
			want: map[string][]string{"consumers": {"consumers_mobile_key"}, "accounts": {"accounts_book_kind_owner_shard_key"}}, unique: true, sqlite: "(book=? AND kind=? AND owner=?)"},
		{name: "Hooked", query: sqlstore.Hooked, args: []any{merchantID, ledger.Test},
			want: map[string][]string{"webhook_endpoints": {"webhook_endpoints_merchant"}}, sqlite: "USING INDEX webhook_endpoints_merchant"},
		{name: "Idempotency", query: sqlstore.IdempotencyByKey, args: []any{"scope-busy", "key-1"},
			want: map[string][]string{"idempotency_keys": {"idempotency_keys_pkey"}}, unique: true, sqlite: "(scope=? AND key=?)"},
		{name: "UpdatePayment(Confirmed)", query: authorise, args: authoriseArgs, want: payments("payments_pkey"), write: true, sqlite: "(rowid=?)"},
		{name: "UpdatePayment(Completed)", query: update, args: updateArgs, want: payments("payments_pkey"), write: true, sqlite: "(rowid=?)"},
		{name: "PostAndUpdate(authorise)", query: postHold, args: postHoldArgs,
			want: map[string][]string{"payments": {"payments_pkey"}, "accounts": {"accounts_book_kind_owner_shard_key", "accounts_pkey"}}, write: true},
		{name: "PostAndUpdate(capture)", query: post, args: postArgs,
			want: map[string][]string{"payments": {"payments_pkey"}, "accounts": {"accounts_book_kind_owner_shard_key", "accounts_pkey"}}, write: true},
		{name: "PostAndUpdateUnhooked(capture)", query: unhooked, args: unhookedArgs,
			want: map[string][]string{"payments": {"payments_pkey"}, "accounts": {"accounts_book_kind_owner_shard_key", "accounts_pkey"},
				"webhook_endpoints": {"webhook_endpoints_merchant"}}, write: true},
		// The queries of the indexes migration 0019 made partial.
		{name: "DuePayments", query: sqlstore.DuePayments, args: []any{future, future, 100}, want: payments("payments_wallet_open"), sqlite: "USING INDEX payments_wallet_open"},
		{name: "DueEPayments(links)", query: sqlstore.DueLinks, args: []any{future, 100}, want: payments("payments_epayment_open"), sqlite: "USING INDEX payments_epayment_open"},
		{name: "DueEPayments(held)", query: sqlstore.DueHeld, args: []any{future, 100}, want: payments("payments_epayment_open"), sqlite: "USING INDEX payments_epayment_open"},
		{name: "DailyTotals", query: sqlstore.DailyTotals, args: []any{0, merchantID, ledger.Test, planBase + 300*planDay, planBase + 330*planDay},
			want: payments("payments_completed"), sqlite: "USING INDEX payments_completed"},
	}
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType    string     `json:"Node Type"`
	Parent      string     `json:"Parent Relationship"`
	Loops       float64    `json:"Actual Loops"`
	Relation    string     `json:"Relation Name"`
	Index       string     `json:"Index Name"`
	Filter      string     `json:"Filter"`
	RowsRemoved *float64   `json:"Rows Removed by Filter"`
	Plans       []planNode `json:"Plans"`
}

type plan struct {
	root planNode
	raw  string
}

// explain explains c as the store runs it, or, if generic, as a prepared
// statement forced to its generic plan; a read is also run (ANALYZE), so
// that rows read and filtered away show.
func explain(t *testing.T, db *sql.DB, c planCheck, generic bool) plan {
	t.Helper()
	ctx := context.Background()
	options := "ANALYZE, FORMAT JSON"
	if c.write {
		options = "FORMAT JSON"
	}
	query := sqlstore.Numbered(c.query)
	var raw string
	if !generic {
		if err := db.QueryRowContext(ctx, "EXPLAIN ("+options+") "+query, c.args...).Scan(&raw); err != nil {
			t.Fatalf("%s: EXPLAIN: %v", c.name, err)
		}
	} else {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{`SET plan_cache_mode = force_generic_plan`, `PREPARE planned AS ` + query} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %s: %v", c.name, q, err)
			}
		}
		literals := make([]string, len(c.args))
		for i, a := range c.args {
			literals[i] = literal(a)
		}
		execute := "EXECUTE planned"
		if len(literals) > 0 {
			execute += "(" + strings.Join(literals, ", ") + ")"
		}
		err = conn.QueryRowContext(ctx, "EXPLAIN ("+options+") "+execute).Scan(&raw)
		for _, q := range []string{`DEALLOCATE planned`, `RESET plan_cache_mode`} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %s: %v", c.name, q, err)
			}
		}
		if err != nil {
			t.Fatalf("%s: EXPLAIN EXECUTE: %v", c.name, err)
		}
	}
	var out []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		t.Fatalf("%s: reading the plan: %v\n%s", c.name, err, raw)
	}
	return plan{root: out[0].Plan, raw: raw}
}

// literal is a statement argument as an SQL literal, for EXECUTE; the
// prepared statement's parameter types convert it.
func literal(a any) string {
	v := reflect.ValueOf(a)
	switch v.Kind() {
	case reflect.String:
		return "'" + strings.ReplaceAll(v.String(), "'", "''") + "'"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprint(v.Int())
	case reflect.Bool:
		return fmt.Sprint(v.Bool())
	case reflect.Invalid:
		return "NULL"
	}
	panic(fmt.Sprintf("no literal for %T", a))
}

// problems lists where the plan reads a relation of c.want other than
// through its indexes, or, for a unique lookup, reads rows it then
// filters away.
func (p plan) problems(c planCheck) []string {
	var out []string
	var walk func(n planNode)
	walk = func(n planNode) {
		if allowed, ok := c.want[n.Relation]; ok && n.NodeType != "ModifyTable" {
			var used []string
			switch n.NodeType {
			case "Index Scan", "Index Only Scan":
				used = []string{n.Index}
			case "Bitmap Heap Scan":
				var bitmaps func(planNode)
				bitmaps = func(b planNode) {
					if b.NodeType == "Bitmap Index Scan" {
						used = append(used, b.Index)
					}
					for _, child := range b.Plans {
						bitmaps(child)
					}
				}
				bitmaps(n)
			}
			if len(used) == 0 {
				out = append(out, fmt.Sprintf("%s on %s, want an index scan on %s", n.NodeType, n.Relation, strings.Join(allowed, " or ")))
			}
			for _, index := range used {
				if !contains(allowed, index) {
					out = append(out, fmt.Sprintf("%s on %s uses %s, want %s", n.NodeType, n.Relation, index, strings.Join(allowed, " or ")))
				}
			}
			if c.unique && n.RowsRemoved != nil && *n.RowsRemoved > 0 {
				out = append(out, fmt.Sprintf("%s on %s removes %v rows by its filter %s", n.NodeType, n.Relation, *n.RowsRemoved, n.Filter))
			}
		}
		for _, child := range n.Plans {
			walk(child)
		}
	}
	walk(p.root)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPlansSQLite checks the same statements' plans in SQLite (without
// sqlite_stat1, and then with it): SQLite uses a partial index only when
// the query names its predicate, which the sweeper's queries and the
// daily totals do.
func TestPlansSQLite(t *testing.T) {
	db := seededSQLite(t)
	checks := planChecks(t, db)
	for _, stats := range []string{"without statistics", "analyzed"} {
		if stats == "analyzed" {
			mustExec(t, db, `ANALYZE`)
		}
		for _, c := range checks {
			if c.sqlite == "" {
				continue
			}
			// SQLite has no FOR UPDATE: its single writer queues deciders.
			plan := strings.Join(sqlitePlan(t, db, strings.TrimSuffix(c.query, " FOR UPDATE"), c.args...), "\n\t")
			if !strings.Contains(plan, c.sqlite) || strings.Contains("\n\t"+plan, "\tSCAN ") {
				t.Errorf("%s, %s: want a plan showing %q and scanning no table, got:\n\t%s", c.name, stats, c.sqlite, plan)
			}
		}
	}
}

// seededSQLite is a fresh migrated SQLite database holding planSeed.
func seededSQLite(t *testing.T) *sql.DB {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := s.SQL()
	seedPlans(t, db)
	return db
}

// sqlitePlan is the detail column of EXPLAIN QUERY PLAN for query, a
// step a line.
func sqlitePlan(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var details []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		details = append(details, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return details
}

// The ledger check's per-payment sums (migration 0020) read the capture
// and refund entries' postings in one pass, finding each posting's entry
// and account by primary key, instead of looking up every payment's
// entries by indexes that every entry on the hot path would pay for.
// Without those indexes a lookup per payment would read the whole ledger
// per payment: these tests pin that each table is read once.

func TestLedgerCheckPlanPostgres(t *testing.T) {
	db := servicetest.Postgres(t).SQL()
	seedPlans(t, db)
	for _, stats := range []string{"without statistics", "analyzed"} {
		if stats == "analyzed" {
			mustExec(t, db, `ANALYZE`)
		}
		var raw string
		if err := db.QueryRow(`EXPLAIN (ANALYZE, FORMAT JSON) ` + sqlstore.SnapshotPayments).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var out []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
			t.Fatalf("reading the plan: %v\n%s", err, raw)
		}
		read := map[string]int{}
		var walk func(n planNode)
		walk = func(n planNode) {
			if n.Parent == "SubPlan" {
				t.Errorf("%s: a subquery run per row of its parent (%s), want one pass", stats, n.NodeType)
			}
			if n.Relation == "ledger_txns" || n.Relation == "postings" {
				read[n.Relation]++
				// Finding each posting's entry by primary key, once per
				// posting, is one pass; anything else run more than once
				// reads the ledger again for each row of its parent.
				byKey := (n.NodeType == "Index Scan" || n.NodeType == "Index Only Scan") && n.Index == n.Relation+"_pkey"
				if n.Loops > 1 && !byKey {
					t.Errorf("%s: %s on %s runs %v times, want once", stats, n.NodeType, n.Relation, n.Loops)
				}
			}
			for _, c := range n.Plans {
				walk(c)
			}
		}
		walk(out[0].Plan)
		if read["ledger_txns"] != 1 || read["postings"] != 1 {
			t.Errorf("%s: ledger_txns read by %d nodes and postings by %d, want 1 each", stats, read["ledger_txns"], read["postings"])
		}
		if t.Failed() {
			t.Logf("%s", raw)
		}
	}
}

func TestLedgerCheckPlanSQLite(t *testing.T) {
	db := seededSQLite(t)
	want := []string{
		"SCAN p", // the postings, once
		"SEARCH l USING INTEGER PRIMARY KEY (rowid=?)", // each posting's entry
		"SEARCH a USING INTEGER PRIMARY KEY (rowid=?)", // and account
		"SCAN py", // the payments, once
		"SEARCH s USING AUTOMATIC COVERING INDEX (payment_id=?)", // each one's sums
	}
	for _, stats := range []string{"without statistics", "analyzed"} {
		if stats == "analyzed" {
			mustExec(t, db, `ANALYZE`)
		}
		details := sqlitePlan(t, db, sqlstore.SnapshotPayments)
		plan := "\n\t" + strings.Join(details, "\n\t")
		for _, w := range want {
			if !slices.ContainsFunc(details, func(d string) bool { return strings.HasPrefix(d, w) }) {
				t.Errorf("%s: want a step %q in the plan, got:%s", stats, w, plan)
			}
		}
		if strings.Contains(plan, "CORRELATED") || strings.Count(plan, "\tSCAN ") != 2 {
			t.Errorf("%s: want two scans (postings and payments) and no correlated subquery, got:%s", stats, plan)
		}
	}
}
