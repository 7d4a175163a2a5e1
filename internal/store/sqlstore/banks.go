package sqlstore

import (
	"context"
	"math"
	"strings"

	"github.com/thaili/thaili/internal/store"
)

const bankColumns = `id, idx, name, short_name, logo, swift_code, address, ebanking_url,
	has_ebanking, has_mobile_checkout, has_direct_withdraw, has_nchl, has_mobile_banking, has_cardpayment,
	play_store, app_store, created_at`

func scanBank(row scanner) (store.Bank, error) {
	var b store.Bank
	var created int64
	err := row.Scan(&b.ID, &b.Idx, &b.Name, &b.ShortName, &b.Logo, &b.SwiftCode, &b.Address, &b.EbankingURL,
		&b.HasEbanking, &b.HasMobileCheckout, &b.HasDirectWithdraw, &b.HasNCHL, &b.HasMobileBanking, &b.HasCardpayment,
		&b.PlayStore, &b.AppStore, &created)
	b.CreatedAt = fromMicros(created)
	return b, noRows(err)
}

func (t *txn) CreateBank(ctx context.Context, b *store.Bank) error {
	var err error
	b.ID, err = t.insert(ctx, `INSERT INTO banks (idx, name, short_name, logo, swift_code, address, ebanking_url,
		has_ebanking, has_mobile_checkout, has_direct_withdraw, has_nchl, has_mobile_banking, has_cardpayment,
		play_store, app_store, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.Idx, b.Name, b.ShortName, b.Logo, b.SwiftCode, b.Address, b.EbankingURL,
		b.HasEbanking, b.HasMobileCheckout, b.HasDirectWithdraw, b.HasNCHL, b.HasMobileBanking, b.HasCardpayment,
		b.PlayStore, b.AppStore, micros(b.CreatedAt))
	return err
}

func (t *txn) ListBanks(ctx context.Context, f store.BankFilter) ([]store.Bank, int, error) {
	var where []string
	var args []any
	for _, flag := range []struct {
		column string
		value  *bool
	}{
		{"has_ebanking", f.HasEbanking},
		{"has_mobile_checkout", f.HasMobileCheckout},
		{"has_nchl", f.HasNCHL},
		{"has_cardpayment", f.HasCardpayment},
		{"has_mobile_banking", f.HasMobileBanking},
	} {
		if flag.value != nil {
			where = append(where, flag.column+" = ?")
			args = append(args, *flag.value)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM banks`+cond, args...).Scan(&total); err != nil {
		return nil, 0, t.d.MapErr(err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt32 // both databases take a large LIMIT; neither takes the other's "none"
	}
	rows, err := t.query(ctx, `SELECT `+bankColumns+` FROM banks`+cond+` ORDER BY name, id LIMIT ? OFFSET ?`,
		append(args, limit, max(f.Offset, 0))...)
	out, err := collect(rows, err, scanBank)
	if out == nil {
		out = []store.Bank{} // an empty page lists no banks: [] on the wire, not null
	}
	return out, total, err
}
