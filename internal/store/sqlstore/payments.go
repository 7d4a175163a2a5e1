package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// updatePayment is UpdatePayment's statement for a payment moving to
// state to: a compare-and-set on the version that also refuses a move the
// state machine does not allow (store.CanMove) from the stored state. The
// states are the store's own constants, written into the text so that
// updatePaymentArgs stays the same for every state.
func updatePayment(to store.State) string {
	from := store.MovesTo(to)
	allowed := "1 = 0"
	if len(from) > 0 {
		quoted := make([]string, len(from))
		for i, st := range from {
			quoted[i] = "'" + strings.ReplaceAll(string(st), "'", "''") + "'"
		}
		allowed = "state IN (" + strings.Join(quoted, ", ") + ")"
	}
	return `UPDATE payments SET consumer_id = ?, state = ?, fee_amount = ?, refunded = ?, otp_hash = ?, otp_expires_at = ?, otp_tries = ?,
		confirmed_at = ?, completed_at = ?, updated_at = ?, payer_browser = ?, version = version + 1
		WHERE id = ? AND version = ? AND ` + allowed
}

func updatePaymentArgs(p *store.Payment) []any {
	return []any{consumerRef(p.ConsumerID), p.State, p.FeeAmount, p.Refunded, p.OTPHash, micros(p.OTPExpiresAt), p.OTPTries,
		micros(p.ConfirmedAt), micros(p.CompletedAt), micros(p.UpdatedAt), p.Browser, p.ID, p.Version}
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
	p.ID, err = t.insert(ctx, insertPayment, insertPaymentArgs(p)...)
	return err
}

// insertPayment is CreatePayment's statement, to which insert adds
// RETURNING id.
const insertPayment = `INSERT INTO payments (idx, token, fee_idx, book, merchant_id, consumer_id, kind, state, amount, fee_amount, refunded,
	product_identity, product_name, product_url, extra, otp_hash, otp_expires_at, otp_tries, created_at, confirmed_at, completed_at, updated_at, version,
	purchase_order_id, purchase_order_name, return_url, website_url, expires_at, details, payer_browser)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertPaymentArgs are insertPayment's arguments for p.
func insertPaymentArgs(p *store.Payment) []any {
	return []any{p.Idx, p.Token, p.FeeIdx, p.Book, p.MerchantID, consumerRef(p.ConsumerID), p.Kind, p.State, p.Amount, p.FeeAmount, p.Refunded,
		p.ProductIdentity, p.ProductName, p.ProductURL, p.Extra, p.OTPHash, micros(p.OTPExpiresAt), p.OTPTries,
		micros(p.CreatedAt), micros(p.ConfirmedAt), micros(p.CompletedAt), micros(p.UpdatedAt), p.Version,
		p.PurchaseOrderID, p.PurchaseOrderName, p.ReturnURL, p.WebsiteURL, micros(p.ExpiresAt), p.Details, p.Browser}
}

// Lookups by a unique key name that key alone in their WHERE clause, and
// the payment's merchant and book are checked in Go (inScope). With
// "AND merchant_id = ? AND book = ?" in the SQL, PostgreSQL could also
// use payments_list or payments_completed, which lead with those columns;
// on a table whose statistics are missing or stale, and in the generic
// plan of a cached prepared statement, it multiplies two default
// selectivities, finds that index more selective than the unique key,
// and walks the merchant's whole history filtering on the key
// (docs/storage.md, "Indexes and plans").
const (
	paymentByID    = `SELECT ` + paymentColumns + ` FROM payments WHERE id = ?`
	paymentByIdx   = `SELECT ` + paymentColumns + ` FROM payments WHERE idx = ?`
	paymentByToken = `SELECT ` + paymentColumns + ` FROM payments WHERE token = ?`
	paymentByPidx  = `SELECT ` + paymentColumns + ` FROM payments WHERE token = ? AND kind = 'epayment'`
)

// inScope is the scope check of a lookup by a unique key: a payment of
// another merchant or book is not found, exactly as if the key did not
// exist.
func inScope(p store.Payment, err error, s store.Scope) (store.Payment, error) {
	if err != nil {
		return store.Payment{}, err
	}
	if p.MerchantID != s.MerchantID || p.Book != s.Book {
		return store.Payment{}, store.ErrNotFound
	}
	return p, nil
}

func (t *txn) PaymentByID(ctx context.Context, id int64) (store.Payment, error) {
	return scanPayment(t.queryRow(ctx, paymentByID, id))
}

func (t *txn) PaymentByIdx(ctx context.Context, s store.Scope, idx string) (store.Payment, error) {
	p, err := scanPayment(t.queryRow(ctx, paymentByIdx, idx))
	return inScope(p, err, s)
}

func (t *txn) PaymentByToken(ctx context.Context, s store.Scope, token string) (store.Payment, error) {
	p, err := scanPayment(t.queryRow(ctx, paymentByToken, token))
	return inScope(p, err, s)
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
	// By the unique key alone, like paymentByToken; PaymentWithParties
	// checks the scope.
	partiesByToken = partiesQuery + `token = ?`
	partiesByIdx   = partiesQuery + `idx = ?`
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
	err := t.queryRow(ctx, query, tokenOrIdx).Scan(
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
	if p.MerchantID != s.MerchantID || p.Book != s.Book {
		return store.Payment{}, store.Consumer{}, store.Merchant{}, store.ErrNotFound
	}
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
	return scanPayment(t.queryRow(ctx, paymentByPidx, pidx))
}

func (t *txn) UpdatePayment(ctx context.Context, p *store.Payment) error {
	res, err := t.exec(ctx, updatePayment(p.State), updatePaymentArgs(p)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return t.refusedUpdate(ctx, p)
	}
	p.Version++
	return nil
}

// refusedUpdate tells why an update of p changed nothing: the payment
// changed since it was read (ErrConflict), or its stored state may not
// move to p.State (ErrIllegalMove).
func (t *txn) refusedUpdate(ctx context.Context, p *store.Payment) error {
	var from store.State
	err := noRows(t.queryRow(ctx, `SELECT state FROM payments WHERE id = ? AND version = ?`, p.ID, p.Version).Scan(&from))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.ErrConflict
	case err != nil:
		return err
	}
	return store.IllegalMove(p.Idx, from, p.State)
}

// paymentQuery is PaymentFilter.Query's condition: the idx, an
// ePayment's pidx (its token; a legacy token is the payer's secret
// until verify) or the payer's mobile exactly, or a substring of the
// order fields. Its arguments are the query three times, then the LIKE
// pattern four times.
const paymentQuery = `(idx = ? OR (kind = 'epayment' AND token = ?) OR consumer_id = (SELECT id FROM consumers WHERE mobile = ?)
	OR lower(product_identity) LIKE ? ESCAPE '\' OR lower(product_name) LIKE ? ESCAPE '\'
	OR lower(purchase_order_id) LIKE ? ESCAPE '\' OR lower(purchase_order_name) LIKE ? ESCAPE '\')`

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
		where = append(where, paymentQuery)
		args = append(args, f.Query, f.Query, f.Query, pat, pat, pat, pat)
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

// The sweeper's queries. Each names, word for word, the predicate of the
// partial index it reads (payments_wallet_open, payments_epayment_open;
// migration 0019): PostgreSQL would prove it from the narrower state
// condition, but SQLite uses a partial index only when the query's WHERE
// has the index's own terms.
const (
	duePayments = `SELECT ` + paymentColumns + ` FROM payments
		WHERE kind = 'wallet' AND state IN ('Initiated', 'Confirmed')
		AND ((state = 'Initiated' AND created_at < ?) OR (state = 'Confirmed' AND confirmed_at < ?))
		ORDER BY created_at LIMIT ?`
	dueLinks = `SELECT ` + paymentColumns + ` FROM payments
		WHERE kind = 'epayment' AND state IN ('Initiated', 'Pending')
		AND state = 'Initiated' AND expires_at <= ?
		ORDER BY expires_at LIMIT ?`
	dueHeld = `SELECT ` + paymentColumns + ` FROM payments
		WHERE kind = 'epayment' AND state IN ('Initiated', 'Pending')
		AND state = 'Pending' AND confirmed_at <= ?
		ORDER BY confirmed_at LIMIT ?`
)

func (t *txn) DuePayments(ctx context.Context, initiatedBefore, confirmedBefore time.Time, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, duePayments, micros(initiatedBefore), micros(confirmedBefore), limit)
	return collect(rows, err, scanPayment)
}

func (t *txn) DueEPayments(ctx context.Context, now, heldBefore time.Time, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, dueLinks, micros(now), limit)
	links, err := collect(rows, err, scanPayment)
	if err != nil {
		return nil, err
	}
	rows, err = t.query(ctx, dueHeld, micros(heldBefore), limit)
	held, err := collect(rows, err, scanPayment)
	return append(links, held...), err
}
