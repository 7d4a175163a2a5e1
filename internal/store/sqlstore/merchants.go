package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

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

// keyByLookup resolves every API request's key, by its unique lookup.
const keyByLookup = `SELECT ` + keyColumns + ` FROM api_keys WHERE lookup = ?`

func (t *txn) KeyByLookup(ctx context.Context, lookup string) (store.Key, error) {
	return scanKey(t.queryRow(ctx, keyByLookup, lookup))
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
