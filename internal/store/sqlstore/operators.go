package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) CreateOperator(ctx context.Context, o *store.Operator) error {
	var err error
	o.ID, err = t.insert(ctx, `INSERT INTO operators (email, password_hash, created_at) VALUES (?, ?, ?)`,
		o.Email, o.PasswordHash, micros(o.CreatedAt))
	return err
}

func (t *txn) scanOperator(row scanner) (store.Operator, error) {
	var o store.Operator
	var created int64
	err := row.Scan(&o.ID, &o.Email, &o.PasswordHash, &created)
	if err != nil {
		return store.Operator{}, noRows(t.d.MapErr(err))
	}
	o.CreatedAt = fromMicros(created)
	return o, nil
}

func (t *txn) Operator(ctx context.Context, id int64) (store.Operator, error) {
	return t.scanOperator(t.queryRow(ctx, `SELECT id, email, password_hash, created_at FROM operators WHERE id = ?`, id))
}

func (t *txn) OperatorByEmail(ctx context.Context, email string) (store.Operator, error) {
	return t.scanOperator(t.queryRow(ctx, `SELECT id, email, password_hash, created_at FROM operators WHERE email = ?`, email))
}

func (t *txn) CreateOperatorSession(ctx context.Context, s store.OperatorSession) error {
	_, err := t.exec(ctx, `INSERT INTO operator_sessions (id_hash, operator_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`,
		s.IDHash, s.OperatorID, micros(s.CreatedAt), micros(s.LastSeenAt))
	return err
}

func (t *txn) OperatorSession(ctx context.Context, idHash string) (store.OperatorSession, error) {
	s := store.OperatorSession{IDHash: idHash}
	var created, seen int64
	err := t.queryRow(ctx, `SELECT operator_id, created_at, last_seen_at FROM operator_sessions WHERE id_hash = ?`, idHash).
		Scan(&s.OperatorID, &created, &seen)
	if err != nil {
		return store.OperatorSession{}, noRows(t.d.MapErr(err))
	}
	s.CreatedAt, s.LastSeenAt = fromMicros(created), fromMicros(seen)
	return s, nil
}

func (t *txn) TouchOperatorSession(ctx context.Context, idHash string, at time.Time) error {
	return t.execOne(ctx, `UPDATE operator_sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(at), idHash)
}

func (t *txn) DeleteOperatorSession(ctx context.Context, idHash string) error {
	_, err := t.exec(ctx, `DELETE FROM operator_sessions WHERE id_hash = ?`, idHash)
	return err
}

func (t *txn) PurgeOperatorSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM operator_sessions WHERE last_seen_at < ? OR created_at < ?`, micros(idleBefore), micros(createdBefore))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *txn) SetMerchantKYCReason(ctx context.Context, id int64, reason string) error {
	return t.execOne(ctx, `UPDATE merchants SET kyc_reason = ? WHERE id = ?`, reason, id)
}

// likeContains is a LIKE pattern (escape character \) matching q anywhere.
func likeContains(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

func (t *txn) SearchMerchants(ctx context.Context, q string, kyc store.KYC, limit int) ([]store.MerchantSummary, error) {
	pat := likeContains(strings.ToLower(q))
	rows, err := t.query(ctx, `SELECT `+merchantColumns+`, kyc_reason FROM merchants
		WHERE (lower(name) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\') AND (? = '' OR kyc = ?)
		ORDER BY id DESC LIMIT ?`, pat, pat, string(kyc), string(kyc), limit)
	return collect(rows, t.d.MapErr(err), func(row scanner) (store.MerchantSummary, error) {
		var m store.MerchantSummary
		var err error
		m.Merchant, err = scanMerchant(row, &m.KYCReason)
		return m, err
	})
}

func (t *txn) SearchConsumers(ctx context.Context, q string, limit int) ([]store.Consumer, error) {
	rows, err := t.query(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE mobile LIKE ? ESCAPE '\' ORDER BY id DESC LIMIT ?`,
		likeContains(q), limit)
	return collect(rows, t.d.MapErr(err), func(row scanner) (store.Consumer, error) { return scanConsumer(row) })
}

func (t *txn) AddAudit(ctx context.Context, e *store.AuditEntry) error {
	operatorID := sql.NullInt64{Int64: e.OperatorID, Valid: e.OperatorID != 0} // NULL: not a console operator
	var err error
	e.ID, err = t.insert(ctx, `INSERT INTO audit_log (operator_id, operator, action, subject, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
		operatorID, e.Operator, e.Action, e.Subject, e.Detail, micros(e.At))
	return err
}

func (t *txn) AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	rows, err := t.query(ctx, `SELECT id, operator_id, operator, action, subject, detail, at FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	return collect(rows, t.d.MapErr(err), func(row scanner) (store.AuditEntry, error) {
		var e store.AuditEntry
		var operatorID sql.NullInt64
		var at int64
		err := row.Scan(&e.ID, &operatorID, &e.Operator, &e.Action, &e.Subject, &e.Detail, &at)
		e.OperatorID, e.At = operatorID.Int64, fromMicros(at)
		return e, err
	})
}
