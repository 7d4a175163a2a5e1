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

// txn implements store.Tx on one database/sql transaction, or on a
// read-only pool (NewReader).
type txn struct {
	q     querier
	tx    *sql.Tx // nil for a reader outside any transaction
	d     *Dialect
	cache *StmtCache
}

// querier is what both *sql.Tx and *sql.DB offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// NewTx returns the store.Tx for a transaction opened by a store; cache
// may be nil.
func NewTx(tx *sql.Tx, d *Dialect, cache *StmtCache) store.Tx {
	return &txn{q: tx, tx: tx, d: d, cache: cache}
}

// NewReader returns a store.Tx whose statements each run on their own,
// outside any transaction, on db: no BEGIN and COMMIT round trips, but no
// snapshot across statements either. db should refuse writes (a
// read-only pool), since nothing here would roll them back.
func NewReader(db *sql.DB, d *Dialect) store.Tx { return &txn{q: db, d: d} }

// stmt returns the transaction's copy of the cached statement for query,
// or nil to run the query unprepared.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.cache == nil || t.tx == nil {
		return nil
	}
	s := t.cache.get(query)
	if s == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, s)
}

func (t *txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, query, args...)
}

func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		rows, err := s.QueryContext(ctx, args...)
		return rows, t.d.MapErr(err)
	}
	rows, err := t.q.QueryContext(ctx, query, args...)
	return rows, t.d.MapErr(err)
}

// insert runs an INSERT ... RETURNING id and returns the id.
func (t *txn) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, t.d.MapErr(err)
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		res, err := s.ExecContext(ctx, args...)
		return res, t.d.MapErr(err)
	}
	res, err := t.q.ExecContext(ctx, query, args...)
	return res, t.d.MapErr(err)
}

func (t *txn) execOne(ctx context.Context, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const merchantColumns = `id, idx, name, email, mobile, password_hash, kyc, phone_confirmed, created_at`

// scanMerchant reads merchantColumns, then extra.
func scanMerchant(row scanner, extra ...any) (store.Merchant, error) {
	var m store.Merchant
	var created int64
	err := row.Scan(append([]any{&m.ID, &m.Idx, &m.Name, &m.Email, &m.Mobile, &m.PasswordHash, &m.KYC, &m.Confirmed, &created}, extra...)...)
	m.CreatedAt = fromMicros(created)
	return m, noRows(err)
}

func (t *txn) CreateMerchant(ctx context.Context, m *store.Merchant) error {
	var err error
	m.ID, err = t.insert(ctx, `INSERT INTO merchants (idx, name, email, mobile, password_hash, kyc, phone_confirmed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Idx, m.Name, m.Email, m.Mobile, m.PasswordHash, m.KYC, flag(m.Confirmed), micros(m.CreatedAt))
	return err
}

// flag is a boolean as the schema's INTEGER flags store it.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *txn) Merchant(ctx context.Context, id int64) (store.Merchant, error) {
	return scanMerchant(t.queryRow(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE id = ?`, id))
}

func (t *txn) MerchantByIdx(ctx context.Context, idx string) (store.Merchant, error) {
	return scanMerchant(t.queryRow(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE idx = ?`, idx))
}

func (t *txn) MerchantByEmail(ctx context.Context, email string) (store.Merchant, error) {
	return scanMerchant(t.queryRow(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE email = ?`, email))
}

func (t *txn) SetMerchantKYC(ctx context.Context, id int64, kyc store.KYC) error {
	return t.execOne(ctx, `UPDATE merchants SET kyc = ? WHERE id = ?`, kyc, id)
}

const keyColumns = `id, merchant_id, book, kind, lookup, prefix, sealed, created_at, revoked_at, signing_key, signing_key_sealed`

type scanner interface{ Scan(...any) error }

func scanKey(row scanner) (store.Key, error) {
	var k store.Key
	var created, revoked int64
	err := row.Scan(&k.ID, &k.MerchantID, &k.Book, &k.Kind, &k.Lookup, &k.Prefix, &k.Sealed, &created, &revoked, &k.SigningKey, &k.SealedSigningKey)
	k.CreatedAt, k.RevokedAt = fromMicros(created), fromMicros(revoked)
	return k, noRows(err)
}

func (t *txn) CreateKey(ctx context.Context, k *store.Key) error {
	var err error
	k.ID, err = t.insert(ctx, `INSERT INTO api_keys (merchant_id, book, kind, lookup, prefix, sealed, created_at, signing_key, signing_key_sealed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.MerchantID, k.Book, k.Kind, k.Lookup, k.Prefix, k.Sealed, micros(k.CreatedAt), k.SigningKey, k.SealedSigningKey)
	return err
}

func (t *txn) KeyByLookup(ctx context.Context, lookup string) (store.Key, error) {
	return scanKey(t.queryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE lookup = ?`, lookup))
}

func (t *txn) Keys(ctx context.Context, merchantID int64) ([]store.Key, error) {
	rows, err := t.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE merchant_id = ? ORDER BY id`, merchantID)
	return collect(rows, err, scanKey)
}

func (t *txn) RevokeKeys(ctx context.Context, merchantID int64, book ledger.Book, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE api_keys SET revoked_at = ?, sealed = NULL WHERE merchant_id = ? AND book = ? AND revoked_at = 0`, micros(at), merchantID, book)
	return err
}

func (t *txn) ForgetSealedSecret(ctx context.Context, keyID int64) error {
	return t.execOne(ctx, `UPDATE api_keys SET sealed = NULL WHERE id = ?`, keyID)
}

func (t *txn) KeysWithClearSigningKey(ctx context.Context, afterID int64, limit int) ([]store.Key, error) {
	rows, err := t.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE signing_key IS NOT NULL AND id > ? ORDER BY id LIMIT ?`, afterID, limit)
	return collect(rows, err, scanKey)
}

func (t *txn) SealSigningKey(ctx context.Context, keyID int64, clear, sealed []byte) error {
	err := t.execOne(ctx, `UPDATE api_keys SET signing_key_sealed = ?, signing_key = NULL WHERE id = ? AND signing_key = ?`, sealed, keyID, clear)
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrConflict
	}
	return err
}

func (t *txn) SetFeeTiers(ctx context.Context, merchantID int64, book ledger.Book, tiers []store.FeeTier) error {
	if _, err := t.exec(ctx, `DELETE FROM fee_tiers WHERE merchant_id = ? AND book = ?`, merchantID, book); err != nil {
		return err
	}
	for _, ft := range tiers {
		if _, err := t.exec(ctx, `INSERT INTO fee_tiers (merchant_id, book, min_amount, max_amount, percent_bps, flat) VALUES (?, ?, ?, ?, ?, ?)`,
			merchantID, book, ft.MinAmount, ft.MaxAmount, ft.PercentBps, ft.Flat); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) FeeTiers(ctx context.Context, merchantID int64, book ledger.Book) ([]store.FeeTier, error) {
	rows, err := t.query(ctx, `SELECT min_amount, max_amount, percent_bps, flat FROM fee_tiers WHERE merchant_id = ? AND book = ? ORDER BY min_amount`, merchantID, book)
	return collect(rows, err, func(row scanner) (store.FeeTier, error) {
		var ft store.FeeTier
		return ft, row.Scan(&ft.MinAmount, &ft.MaxAmount, &ft.PercentBps, &ft.Flat)
	})
}

const consumerColumns = `id, idx, mobile, name, mpin_hash, failed_mpin, mpin_locked_until, mpin_lock_level, locked, phone_confirmed, created_at`

// scanConsumer reads consumerColumns, then extra.
func scanConsumer(row scanner, extra ...any) (store.Consumer, error) {
	var c store.Consumer
	var lockedUntil, created int64
	err := row.Scan(append([]any{&c.ID, &c.Idx, &c.Mobile, &c.Name, &c.MPINHash, &c.FailedMPIN, &lockedUntil, &c.MPINLockLevel,
		&c.Locked, &c.Confirmed, &created}, extra...)...)
	c.MPINLockedUntil, c.CreatedAt = fromMicros(lockedUntil), fromMicros(created)
	return c, noRows(err)
}

func (t *txn) CreateConsumer(ctx context.Context, c *store.Consumer) error {
	var err error
	c.ID, err = t.insert(ctx, `INSERT INTO consumers (idx, mobile, name, mpin_hash, failed_mpin, mpin_locked_until, mpin_lock_level, locked,
		phone_confirmed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Idx, c.Mobile, c.Name, c.MPINHash, c.FailedMPIN, micros(c.MPINLockedUntil), c.MPINLockLevel, c.Locked, flag(c.Confirmed), micros(c.CreatedAt))
	return err
}

func (t *txn) Consumer(ctx context.Context, id int64) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE id = ?`, id))
}

func (t *txn) ConsumerByMobile(ctx context.Context, mobile string) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE mobile = ?`, mobile))
}

func (t *txn) ConsumerForUpdate(ctx context.Context, mobile string) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE mobile = ?`+t.d.forUpdate(), mobile))
}

func (t *txn) ConsumerWithBalance(ctx context.Context, mobile string, book ledger.Book) (store.Consumer, money.Paisa, error) {
	var bal money.Paisa
	c, err := scanConsumer(t.queryRow(ctx, `SELECT `+consumerColumns+`,
		(SELECT COALESCE(SUM(a.balance), 0) FROM accounts a WHERE a.book = ? AND a.kind = ? AND a.owner = consumers.id)
		FROM consumers WHERE mobile = ?`+t.d.forUpdate(), book, ledger.Wallet, mobile), &bal)
	if err != nil {
		return store.Consumer{}, 0, err
	}
	return c, bal, nil
}

func (t *txn) SetConsumerGuard(ctx context.Context, c store.Consumer) error {
	return t.execOne(ctx, `UPDATE consumers SET failed_mpin = ?, mpin_locked_until = ?, mpin_lock_level = ? WHERE id = ?`,
		c.FailedMPIN, micros(c.MPINLockedUntil), c.MPINLockLevel, c.ID)
}

func (t *txn) ResetConsumerSecurity(ctx context.Context, id int64, mpinHash string, locked bool) error {
	return t.execOne(ctx, `UPDATE consumers SET mpin_hash = ?, locked = ?, failed_mpin = 0, mpin_locked_until = 0, mpin_lock_level = 0
		WHERE id = ?`, mpinHash, locked, id)
}

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
	if t.d.WritableCTEs && t.tx != nil && distinctAccounts(postings) {
		return t.postOne(ctx, e, postings, at, nil)
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
	if t.d.WritableCTEs && t.tx != nil && e.Validate() == nil {
		postings := slices.Clone(e.Postings)
		slices.SortStableFunc(postings, func(a, b ledger.Posting) int { return compareRefs(a.Account, b.Account) })
		if distinctAccounts(postings) {
			return t.postOne(ctx, e, postings, at, p)
		}
	}
	if err := t.Post(ctx, e, at); err != nil {
		return err
	}
	return t.UpdatePayment(ctx, p)
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

// updatePaymentSet is what UpdatePayment writes, and its arguments.
const updatePaymentSet = `UPDATE payments SET consumer_id = ?, state = ?, fee_amount = ?, refunded = ?, otp_hash = ?, otp_expires_at = ?, otp_tries = ?,
		confirmed_at = ?, completed_at = ?, updated_at = ?, payer_browser = ?, version = version + 1
		WHERE id = ? AND version = ?`

func updatePaymentArgs(p *store.Payment) []any {
	return []any{consumerRef(p.ConsumerID), p.State, p.FeeAmount, p.Refunded, p.OTPHash, micros(p.OTPExpiresAt), p.OTPTries,
		micros(p.ConfirmedAt), micros(p.CompletedAt), micros(p.UpdatedAt), p.Browser, p.ID, p.Version}
}

// postQuery is the whole of Post as one statement (PostgreSQL), for n
// postings to distinct accounts given in lock order. It locks the
// existing accounts in that order (FOR UPDATE after the sort), and only
// if all n exist and none would be overdrawn does it update every balance,
// insert the ledger transaction and insert the postings; otherwise it
// changes nothing. It returns, for each existing account, the posting's
// position, whether its balance suffices, and whether the entry was
// applied. With payment, it is also UpdatePayment's compare-and-set,
// and the entry is applied only if that succeeds.
// Building the text each time costs microseconds; the prepared
// statement itself is cached by its text (StmtCache).
func postQuery(n int, payment bool) string {
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
	if payment {
		b.WriteString(`
	pu AS (` + updatePaymentSet + ` AND ` + gate + ` RETURNING id),`)
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
	SELECT l.i, l.ok, (SELECT count(*) FROM t) FROM l`)
	return b.String()
}

// postOne is Post (with pay, PostAndUpdate) in one statement, plus, on
// an account's first use, one more to create the missing accounts and the
// statement again.
func (t *txn) postOne(ctx context.Context, e ledger.Entry, postings []ledger.Posting, at time.Time, pay *store.Payment) error {
	args := make([]any, 0, 6*len(postings)+16)
	for i, p := range postings {
		args = append(args, i, p.Account.Book, p.Account.Kind, p.Account.Owner, p.Account.Shard, p.Amount)
	}
	if pay != nil {
		args = append(args, updatePaymentArgs(pay)...)
	}
	args = append(args, e.Book, e.Reason, e.PaymentID, micros(at))
	query := postQuery(len(postings), pay != nil)
	for attempt := 0; attempt < 3; attempt++ {
		found := make([]bool, len(postings))
		ok := make([]bool, len(postings))
		applied := false
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var i int
			var sufficient bool
			var n int64
			if err := rows.Scan(&i, &sufficient, &n); err != nil {
				rows.Close()
				return t.d.MapErr(err)
			}
			if i < 0 || i >= len(postings) {
				rows.Close()
				return fmt.Errorf("sqlstore: posting %d out of range", i)
			}
			found[i], ok[i], applied = true, sufficient, n == 1
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
		// Nothing changed. Report the first posting, in lock order, that
		// would overdraw its account, as the posting-by-posting path does.
		var missing []ledger.Posting
		for i, p := range postings {
			switch {
			case found[i] && !ok[i], !found[i] && p.Amount < 0 && !p.Account.Kind.MayGoNegative():
				return fmt.Errorf("%w: %s", store.ErrInsufficientFunds, p.Account)
			case !found[i]:
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			if pay != nil {
				return store.ErrConflict // the payment changed: nothing was applied
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
	snapshotPayments = `SELECT py.idx,
		COALESCE((SELECT SUM(p.amount) FROM ledger_txns l JOIN postings p ON p.ledger_txn_id = l.id JOIN accounts a ON a.id = p.account_id
			WHERE l.payment_id = py.id AND l.reason = 'capture' AND a.kind IN ('merchant', 'fees')), 0),
		COALESCE((SELECT SUM(p.amount) FROM ledger_txns l JOIN postings p ON p.ledger_txn_id = l.id JOIN accounts a ON a.id = p.account_id
			WHERE l.payment_id = py.id AND l.reason = 'refund' AND a.kind = 'wallet'), 0)
		FROM payments py WHERE py.refunded > 0 OR py.state IN ('Completed', 'Refunded', 'Partially refunded')`
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

const paymentColumns = `id, idx, token, fee_idx, book, merchant_id, COALESCE(consumer_id, 0), kind, state, amount, fee_amount, refunded,
	product_identity, product_name, product_url, extra, otp_hash, otp_expires_at, otp_tries,
	created_at, confirmed_at, completed_at, updated_at, version,
	purchase_order_id, purchase_order_name, return_url, website_url, expires_at, details, payer_browser`

// consumerRef stores a payment's consumer, NULL while there is none.
func consumerRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func scanPayment(row scanner) (store.Payment, error) {
	var p store.Payment
	var otpExp, created, confirmed, completed, updated, expires int64
	err := row.Scan(&p.ID, &p.Idx, &p.Token, &p.FeeIdx, &p.Book, &p.MerchantID, &p.ConsumerID, &p.Kind, &p.State, &p.Amount, &p.FeeAmount, &p.Refunded,
		&p.ProductIdentity, &p.ProductName, &p.ProductURL, &p.Extra, &p.OTPHash, &otpExp, &p.OTPTries,
		&created, &confirmed, &completed, &updated, &p.Version,
		&p.PurchaseOrderID, &p.PurchaseOrderName, &p.ReturnURL, &p.WebsiteURL, &expires, &p.Details, &p.Browser)
	p.ExpiresAt = fromMicros(expires)
	p.OTPExpiresAt, p.CreatedAt, p.ConfirmedAt = fromMicros(otpExp), fromMicros(created), fromMicros(confirmed)
	p.CompletedAt, p.UpdatedAt = fromMicros(completed), fromMicros(updated)
	return p, noRows(err)
}

func (t *txn) CreatePayment(ctx context.Context, p *store.Payment) error {
	p.Version = 1
	var err error
	if p.Kind == "" {
		p.Kind = store.WalletPayment
	}
	p.ID, err = t.insert(ctx, `INSERT INTO payments (idx, token, fee_idx, book, merchant_id, consumer_id, kind, state, amount, fee_amount, refunded,
		product_identity, product_name, product_url, extra, otp_hash, otp_expires_at, otp_tries, created_at, confirmed_at, completed_at, updated_at, version,
		purchase_order_id, purchase_order_name, return_url, website_url, expires_at, details, payer_browser)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Idx, p.Token, p.FeeIdx, p.Book, p.MerchantID, consumerRef(p.ConsumerID), p.Kind, p.State, p.Amount, p.FeeAmount, p.Refunded,
		p.ProductIdentity, p.ProductName, p.ProductURL, p.Extra, p.OTPHash, micros(p.OTPExpiresAt), p.OTPTries,
		micros(p.CreatedAt), micros(p.ConfirmedAt), micros(p.CompletedAt), micros(p.UpdatedAt), p.Version,
		p.PurchaseOrderID, p.PurchaseOrderName, p.ReturnURL, p.WebsiteURL, micros(p.ExpiresAt), p.Details, p.Browser)
	return err
}

func (t *txn) PaymentByID(ctx context.Context, id int64) (store.Payment, error) {
	return scanPayment(t.queryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = ?`, id))
}

func (t *txn) PaymentByIdx(ctx context.Context, s store.Scope, idx string) (store.Payment, error) {
	return scanPayment(t.queryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE idx = ? AND merchant_id = ? AND book = ?`, idx, s.MerchantID, s.Book))
}

func (t *txn) PaymentByToken(ctx context.Context, s store.Scope, token string) (store.Payment, error) {
	return scanPayment(t.queryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE token = ? AND merchant_id = ? AND book = ?`, token, s.MerchantID, s.Book))
}

// qualify prefixes each column of a column list with alias; a column
// wrapped in COALESCE(column, default) gets the prefix inside.
func qualify(alias, columns string) string {
	var cols []string
	depth, start := 0, 0
	for i, r := range columns + "," {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth > 0 {
				continue
			}
			c := strings.TrimSpace(columns[start:i])
			if rest, ok := strings.CutPrefix(c, "COALESCE("); ok {
				c = "COALESCE(" + alias + "." + rest
			} else {
				c = alias + "." + c
			}
			cols = append(cols, c)
			start = i + 1
		}
	}
	return strings.Join(cols, ", ")
}

var (
	partiesQuery = `SELECT ` + qualify("py", paymentColumns) + `, ` + qualify("c", consumerColumns) + `, ` + qualify("m", merchantColumns) + `
		FROM payments py JOIN merchants m ON m.id = py.merchant_id LEFT JOIN consumers c ON c.id = py.consumer_id
		WHERE py.`
	partiesByToken = partiesQuery + `token = ? AND py.merchant_id = ? AND py.book = ?`
	partiesByIdx   = partiesQuery + `idx = ? AND py.merchant_id = ? AND py.book = ?`
)

func (t *txn) PaymentWithParties(ctx context.Context, s store.Scope, tokenOrIdx string, byIdx bool) (store.Payment, store.Consumer, store.Merchant, error) {
	query := partiesByToken
	if byIdx {
		query = partiesByIdx
	}
	var (
		p                           store.Payment
		m                           store.Merchant
		otpExp, created, confirmed  int64
		completed, updated, expires int64
		c                           nullConsumer
		mCreated                    int64
	)
	err := t.queryRow(ctx, query, tokenOrIdx, s.MerchantID, s.Book).Scan(
		&p.ID, &p.Idx, &p.Token, &p.FeeIdx, &p.Book, &p.MerchantID, &p.ConsumerID, &p.Kind, &p.State, &p.Amount, &p.FeeAmount, &p.Refunded,
		&p.ProductIdentity, &p.ProductName, &p.ProductURL, &p.Extra, &p.OTPHash, &otpExp, &p.OTPTries,
		&created, &confirmed, &completed, &updated, &p.Version,
		&p.PurchaseOrderID, &p.PurchaseOrderName, &p.ReturnURL, &p.WebsiteURL, &expires, &p.Details, &p.Browser,
		&c.id, &c.idx, &c.mobile, &c.name, &c.hash, &c.failed, &c.lockedUntil, &c.level, &c.locked, &c.confirmed, &c.created,
		&m.ID, &m.Idx, &m.Name, &m.Email, &m.Mobile, &m.PasswordHash, &m.KYC, &m.Confirmed, &mCreated)
	if err != nil {
		return store.Payment{}, store.Consumer{}, store.Merchant{}, noRows(err)
	}
	p.ExpiresAt = fromMicros(expires)
	p.OTPExpiresAt, p.CreatedAt, p.ConfirmedAt = fromMicros(otpExp), fromMicros(created), fromMicros(confirmed)
	p.CompletedAt, p.UpdatedAt = fromMicros(completed), fromMicros(updated)
	m.CreatedAt = fromMicros(mCreated)
	if p.ConsumerID == 0 {
		return p, store.Consumer{}, m, nil
	}
	if !c.id.Valid {
		return store.Payment{}, store.Consumer{}, store.Merchant{}, store.ErrNotFound
	}
	return p, c.consumer(), m, nil
}

// nullConsumer is consumerColumns read from the outer join of a payment
// that may have no consumer yet.
type nullConsumer struct {
	id, failed, lockedUntil, level, created sql.NullInt64
	idx, mobile, name, hash                 sql.NullString
	locked, confirmed                       sql.NullBool
}

func (c nullConsumer) consumer() store.Consumer {
	return store.Consumer{ID: c.id.Int64, Idx: c.idx.String, Mobile: c.mobile.String, Name: c.name.String, MPINHash: c.hash.String,
		FailedMPIN: int(c.failed.Int64), MPINLockedUntil: fromMicros(c.lockedUntil.Int64), MPINLockLevel: int(c.level.Int64),
		Locked: c.locked.Bool, Confirmed: c.confirmed.Bool, CreatedAt: fromMicros(c.created.Int64)}
}

func (t *txn) PaymentByPidx(ctx context.Context, pidx string) (store.Payment, error) {
	return scanPayment(t.queryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE token = ? AND kind = 'epayment'`, pidx))
}

func (t *txn) UpdatePayment(ctx context.Context, p *store.Payment) error {
	res, err := t.exec(ctx, updatePaymentSet, updatePaymentArgs(p)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrConflict
	}
	p.Version++
	return nil
}

func (t *txn) ListPayments(ctx context.Context, f store.PaymentFilter) ([]store.Payment, int, error) {
	where := []string{"merchant_id = ?", "book = ?"}
	args := []any{f.MerchantID, f.Book}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if !f.From.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, micros(f.To))
	}
	if f.MinAmount > 0 {
		where = append(where, "amount >= ?")
		args = append(args, f.MinAmount)
	}
	if f.MaxAmount > 0 {
		where = append(where, "amount <= ?")
		args = append(args, f.MaxAmount)
	}
	if f.Query != "" {
		pat := likeContains(strings.ToLower(f.Query))
		where = append(where, `(idx = ? OR lower(product_identity) LIKE ? ESCAPE '\' OR lower(product_name) LIKE ? ESCAPE '\'
			OR lower(purchase_order_id) LIKE ? ESCAPE '\' OR lower(purchase_order_name) LIKE ? ESCAPE '\')`)
		args = append(args, f.Query, pat, pat, pat, pat)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM payments WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	out, err := collect(rows, err, scanPayment)
	return out, total, err
}

func (t *txn) DuePayments(ctx context.Context, initiatedBefore, confirmedBefore time.Time, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE kind = 'wallet' AND ((state = 'Initiated' AND created_at < ?) OR (state = 'Confirmed' AND confirmed_at < ?))
		ORDER BY created_at LIMIT ?`, micros(initiatedBefore), micros(confirmedBefore), limit)
	return collect(rows, err, scanPayment)
}

func (t *txn) DueEPayments(ctx context.Context, now, heldBefore time.Time, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE state = 'Initiated' AND expires_at <= ? AND kind = 'epayment'
		ORDER BY expires_at LIMIT ?`, micros(now), limit)
	links, err := collect(rows, err, scanPayment)
	if err != nil {
		return nil, err
	}
	rows, err = t.query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE state = 'Pending' AND confirmed_at <= ? AND kind = 'epayment'
		ORDER BY confirmed_at LIMIT ?`, micros(heldBefore), limit)
	held, err := collect(rows, err, scanPayment)
	return append(links, held...), err
}

// collect scans every row of a query's result with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
