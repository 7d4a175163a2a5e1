package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// apply adds amount to ref's balance, creating the account on its first
// credit, and returns the account id. It is the overdraft guard: a
// conditional update that changes no row when a non-funding balance would
// go negative, reported as ErrInsufficientFunds.
func (t *txn) apply(ctx context.Context, ref ledger.AccountRef, amount money.Paisa) (int64, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var id int64
		err := t.queryRow(ctx, `UPDATE accounts SET balance = balance + ?
			WHERE book = ? AND kind = ? AND owner = ? AND shard = ? AND (balance + ? >= 0 OR kind = 'funding')
			RETURNING id`, amount, ref.Book, ref.Kind, ref.Owner, ref.Shard, amount).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, t.d.MapErr(err)
		}
		// No row: the account is new, or the debit would overdraw it.
		if amount < 0 && !ref.Kind.MayGoNegative() {
			return 0, fmt.Errorf("%w: %s", store.ErrInsufficientFunds, ref)
		}
		err = t.queryRow(ctx, `INSERT INTO accounts (book, kind, owner, shard, balance) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (book, kind, owner, shard) DO NOTHING RETURNING id`, ref.Book, ref.Kind, ref.Owner, ref.Shard, amount).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, t.d.MapErr(err)
		}
		// A concurrent transaction created it first: update it instead.
	}
	return 0, fmt.Errorf("sqlstore: account %s could not be created or updated", ref)
}

func (t *txn) Post(ctx context.Context, e ledger.Entry, at time.Time) error {
	if err := e.Validate(); err != nil {
		return err
	}
	postings := slices.Clone(e.Postings)
	// Balances are updated in one fixed order of accounts, so concurrent
	// entries always lock rows in the same order and cannot deadlock.
	slices.SortStableFunc(postings, func(a, b ledger.Posting) int { return compareRefs(a.Account, b.Account) })
	if t.d.WritableCTEs && t.write && distinctAccounts(postings) {
		return t.postOne(ctx, e, postings, at, nil, false)
	}
	ltx, err := t.insert(ctx, `INSERT INTO ledger_txns (book, reason, payment_id, created_at) VALUES (?, ?, ?, ?)`, e.Book, e.Reason, e.PaymentID, micros(at))
	if err != nil {
		return err
	}
	values := make([]string, 0, len(postings))
	args := make([]any, 0, 3*len(postings))
	for _, p := range postings {
		id, err := t.apply(ctx, p.Account, p.Amount)
		if err != nil {
			return err
		}
		values = append(values, "(?, ?, ?)")
		args = append(args, ltx, id, p.Amount)
	}
	_, err = t.exec(ctx, `INSERT INTO postings (ledger_txn_id, account_id, amount) VALUES `+strings.Join(values, ", "), args...)
	return err
}

func (t *txn) PostAndUpdate(ctx context.Context, e ledger.Entry, at time.Time, p *store.Payment) error {
	if postings, ok := t.oneStatement(e); ok {
		return t.postOne(ctx, e, postings, at, p, false)
	}
	if err := t.Post(ctx, e, at); err != nil {
		return t.overdraftOrConflict(ctx, err, p)
	}
	return t.UpdatePayment(ctx, p)
}

// overdraftOrConflict is err, from posting an entry with payment p's
// compare-and-set, except for an overdraft of a payment that changed
// since it was read: the change already moved the money the entry meant
// to move (the same payment confirmed or captured at once on another
// committer lane or node), so it is ErrConflict, and the caller reads the
// payment again and decides on what it finds.
func (t *txn) overdraftOrConflict(ctx context.Context, err error, p *store.Payment) error {
	if !errors.Is(err, store.ErrInsufficientFunds) {
		return err
	}
	var one int
	switch qerr := noRows(t.queryRow(ctx, `SELECT 1 FROM payments WHERE id = ? AND version = ?`, p.ID, p.Version).Scan(&one)); {
	case errors.Is(qerr, store.ErrNotFound):
		return store.ErrConflict
	case qerr != nil:
		return t.d.MapErr(qerr)
	}
	return err
}

func (t *txn) PostAndUpdateUnhooked(ctx context.Context, e ledger.Entry, at time.Time, p *store.Payment) error {
	if postings, ok := t.oneStatement(e); ok {
		return t.postOne(ctx, e, postings, at, p, true)
	}
	var hooked bool
	if err := t.queryRow(ctx, `SELECT EXISTS (`+hookedQuery+`)`, p.MerchantID, p.Book).Scan(&hooked); err != nil {
		return t.d.MapErr(err)
	}
	if hooked {
		return store.ErrHooked
	}
	return t.PostAndUpdate(ctx, e, at, p)
}

// hookedQuery finds an enabled webhook endpoint of a merchant (its id) in
// a book.
const hookedQuery = `SELECT 1 FROM webhook_endpoints WHERE merchant_id = CAST(? AS BIGINT) AND book = CAST(? AS TEXT) AND disabled_at = 0 LIMIT 1`

// oneStatement reports whether e can be applied by postOne, with its
// postings in lock order.
func (t *txn) oneStatement(e ledger.Entry) ([]ledger.Posting, bool) {
	if !t.d.WritableCTEs || !t.write || e.Validate() != nil {
		return nil, false
	}
	postings := slices.Clone(e.Postings)
	slices.SortStableFunc(postings, func(a, b ledger.Posting) int { return compareRefs(a.Account, b.Account) })
	return postings, distinctAccounts(postings)
}

// compareRefs is the fixed order in which an entry's accounts are locked.
func compareRefs(a, b ledger.AccountRef) int {
	return cmp.Or(strings.Compare(string(a.Book), string(b.Book)), strings.Compare(string(a.Kind), string(b.Kind)),
		cmp.Compare(a.Owner, b.Owner), cmp.Compare(a.Shard, b.Shard))
}

// distinctAccounts reports whether sorted postings name each account once.
func distinctAccounts(sorted []ledger.Posting) bool {
	for i := 1; i < len(sorted); i++ {
		if compareRefs(sorted[i-1].Account, sorted[i].Account) == 0 {
			return false
		}
	}
	return true
}

// postQuery is the whole of Post as one statement (PostgreSQL), for n
// postings to distinct accounts given in lock order. It locks the
// existing accounts in that order (FOR UPDATE after the sort), and only
// if all n exist and none would be overdrawn does it update every balance,
// insert the ledger transaction and insert the postings; otherwise it
// changes nothing. It returns, for each existing account, the posting's
// position, whether its balance suffices, and whether the entry was
// applied. With payment, it is also UpdatePayment's compare-and-set and move check,
// and the entry is applied only if that succeeds; with unhooked as well,
// both happen only if the payment's merchant has no enabled webhook
// endpoint in its book (PostAndUpdateUnhooked), and each row also says
// whether it has one.
// Building the text each time costs microseconds; the prepared
// statement itself is cached by its text (StmtCache).
func postQuery(n int, payment *store.Payment, unhooked bool) string {
	var b strings.Builder
	b.WriteString(`WITH v (i, book, kind, owner, shard, amount) AS (VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`(CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS BIGINT))`)
	}
	count := strconv.Itoa(n)
	b.WriteString(`),
	l AS MATERIALIZED (SELECT a.id, v.i, v.amount, (a.balance + v.amount >= 0 OR a.kind = 'funding') AS ok
		FROM v JOIN accounts a ON a.book = v.book AND a.kind = v.kind AND a.owner = v.owner AND a.shard = v.shard
		ORDER BY v.i FOR UPDATE OF a),`)
	gate := `(SELECT count(*) FROM l WHERE l.ok) = ` + count
	hooked := `0`
	if payment != nil && unhooked {
		b.WriteString(`
	h AS (` + hookedQuery + `),`)
		gate += ` AND NOT EXISTS (SELECT 1 FROM h)`
		hooked = `(SELECT count(*) FROM h)`
	}
	if payment != nil {
		b.WriteString(`
	pu AS (` + updatePayment(payment.State) + ` AND ` + gate + ` RETURNING id),`)
		gate = `(SELECT count(*) FROM pu) = 1`
	}
	b.WriteString(`
	u AS (UPDATE accounts a SET balance = a.balance + l.amount FROM l
		WHERE a.id = l.id AND (a.balance + l.amount >= 0 OR a.kind = 'funding')
		AND ` + gate + `
		RETURNING a.id),
	t AS (INSERT INTO ledger_txns (book, reason, payment_id, created_at) SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT)
		WHERE (SELECT count(*) FROM u) = ` + count + ` RETURNING id),
	p AS (INSERT INTO postings (ledger_txn_id, account_id, amount) SELECT t.id, l.id, l.amount FROM t CROSS JOIN l ORDER BY l.i)
	SELECT l.i, l.ok, (SELECT count(*) FROM t), ` + hooked + ` FROM l`)
	return b.String()
}

// postArgs are postQuery's arguments.
func postArgs(e ledger.Entry, postings []ledger.Posting, at time.Time, pay *store.Payment, unhooked bool) []any {
	args := make([]any, 0, 6*len(postings)+18)
	for i, p := range postings {
		args = append(args, i, p.Account.Book, p.Account.Kind, p.Account.Owner, p.Account.Shard, p.Amount)
	}
	if pay != nil && unhooked {
		args = append(args, pay.MerchantID, pay.Book)
	}
	if pay != nil {
		args = append(args, updatePaymentArgs(pay)...)
	}
	return append(args, e.Book, e.Reason, e.PaymentID, micros(at))
}

// postOne is Post (with pay, PostAndUpdate; with unhooked as well,
// PostAndUpdateUnhooked) in one statement, plus, on an account's first
// use, one more to create the missing accounts and the statement again.
func (t *txn) postOne(ctx context.Context, e ledger.Entry, postings []ledger.Posting, at time.Time, pay *store.Payment, unhooked bool) error {
	args := postArgs(e, postings, at, pay, unhooked)
	query := postQuery(len(postings), pay, unhooked)
	for attempt := 0; attempt < 3; attempt++ {
		found := make([]bool, len(postings))
		ok := make([]bool, len(postings))
		applied, hooked := false, false
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var i int
			var sufficient bool
			var n, h int64
			if err := rows.Scan(&i, &sufficient, &n, &h); err != nil {
				rows.Close()
				return t.d.MapErr(err)
			}
			if i < 0 || i >= len(postings) {
				rows.Close()
				return fmt.Errorf("sqlstore: posting %d out of range", i)
			}
			found[i], ok[i], applied, hooked = true, sufficient, n == 1, h > 0
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t.d.MapErr(err)
		}
		if applied {
			if pay != nil {
				pay.Version++
			}
			return nil
		}
		if hooked {
			return store.ErrHooked // and nothing changed
		}
		// Nothing changed. Report the first posting, in lock order, that
		// would overdraw its account, as the posting-by-posting path does.
		var missing []ledger.Posting
		for i, p := range postings {
			switch {
			case found[i] && !ok[i], !found[i] && p.Amount < 0 && !p.Account.Kind.MayGoNegative():
				err := fmt.Errorf("%w: %s", store.ErrInsufficientFunds, p.Account)
				if pay != nil {
					return t.overdraftOrConflict(ctx, err, pay)
				}
				return err
			case !found[i]:
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			if pay != nil {
				return t.refusedUpdate(ctx, pay) // nothing was applied
			}
			return fmt.Errorf("sqlstore: entry could not be applied")
		}
		// Accounts are created on their first use, empty, and the entry
		// is applied again.
		values := make([]string, 0, len(missing))
		cargs := make([]any, 0, 4*len(missing))
		for _, p := range missing {
			values = append(values, "(?, ?, ?, ?, 0)")
			cargs = append(cargs, p.Account.Book, p.Account.Kind, p.Account.Owner, p.Account.Shard)
		}
		if _, err := t.exec(ctx, `INSERT INTO accounts (book, kind, owner, shard, balance) VALUES `+strings.Join(values, ", ")+`
			ON CONFLICT (book, kind, owner, shard) DO NOTHING`, cargs...); err != nil {
			return err
		}
	}
	return fmt.Errorf("sqlstore: entry could not be applied: accounts could not be created")
}

func (t *txn) Balance(ctx context.Context, ref ledger.AccountRef) (money.Paisa, error) {
	var b money.Paisa
	err := t.queryRow(ctx, `SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE book = ? AND kind = ? AND owner = ?`, ref.Book, ref.Kind, ref.Owner).Scan(&b)
	return b, err
}

func (t *txn) ShardBalances(ctx context.Context, ref ledger.AccountRef) (map[int]money.Paisa, error) {
	rows, err := t.query(ctx, `SELECT shard, balance FROM accounts WHERE book = ? AND kind = ? AND owner = ? AND balance <> 0`, ref.Book, ref.Kind, ref.Owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]money.Paisa{}
	for rows.Next() {
		var shard int
		var b money.Paisa
		if err := rows.Scan(&shard, &b); err != nil {
			return nil, err
		}
		out[shard] = b
	}
	return out, rows.Err()
}

const (
	snapshotAccounts = `SELECT a.id, a.book, a.kind, a.owner, a.shard, a.balance, COALESCE(SUM(p.amount), 0)
		FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
		GROUP BY a.id ORDER BY a.id`
	snapshotUnbalanced = `SELECT ledger_txn_id FROM postings GROUP BY ledger_txn_id HAVING SUM(amount) <> 0`
	// Captured is what capture entries credited to the merchant and the
	// fee (from holds for wallet payments, from the wallet for ePayments);
	// refunded is what reached wallets in refund entries. Both come from
	// the ledger, not from the payment row, so the check is independent.
	// They are summed for every payment in one pass over the capture and
	// refund entries' postings, each found by its entry's primary key:
	// no index leads with a posting's entry or an entry's payment, since
	// every entry on the hot path would pay for one (docs/storage.md,
	// "Indexes and plans").
	snapshotPayments = `WITH sums AS (SELECT l.payment_id,
			SUM(CASE WHEN l.reason = 'capture' AND a.kind IN ('merchant', 'fees') THEN p.amount ELSE 0 END) AS captured,
			SUM(CASE WHEN l.reason = 'refund' AND a.kind = 'wallet' THEN p.amount ELSE 0 END) AS refunded
			FROM postings p JOIN ledger_txns l ON l.id = p.ledger_txn_id JOIN accounts a ON a.id = p.account_id
			WHERE l.reason IN ('capture', 'refund')
			GROUP BY l.payment_id)
		SELECT py.idx, COALESCE(s.captured, 0), COALESCE(s.refunded, 0)
		FROM payments py LEFT JOIN sums s ON s.payment_id = py.id
		WHERE py.refunded > 0 OR py.state IN ('Completed', 'Refunded', 'Partially refunded')`
)

func (t *txn) LedgerSnapshot(ctx context.Context) (ledger.Snapshot, error) {
	var s ledger.Snapshot
	rows, err := t.query(ctx, snapshotAccounts)
	if s.Accounts, err = collect(rows, err, func(row scanner) (ledger.AccountState, error) {
		var a ledger.AccountState
		return a, row.Scan(&a.ID, &a.Ref.Book, &a.Ref.Kind, &a.Ref.Owner, &a.Ref.Shard, &a.Balance, &a.PostingsSum)
	}); err != nil {
		return s, err
	}
	rows, err = t.query(ctx, snapshotUnbalanced)
	if s.UnbalancedTxns, err = collect(rows, err, func(row scanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}); err != nil {
		return s, err
	}
	rows, err = t.query(ctx, snapshotPayments)
	s.Payments, err = collect(rows, err, func(row scanner) (ledger.PaymentState, error) {
		var p ledger.PaymentState
		return p, row.Scan(&p.Idx, &p.Captured, &p.Refunded)
	})
	return s, err
}
