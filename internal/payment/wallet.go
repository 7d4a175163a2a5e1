package payment

import (
	"context"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// walletHistorySize is how many recent payments the wallet page shows.
const walletHistorySize = 50

// WalletPayment is one row of a wallet's history.
type WalletPayment struct {
	Payment  store.Payment
	Merchant string
}

// WalletInfo is what the wallet page shows.
type WalletInfo struct {
	Consumer store.Consumer
	Balances map[ledger.Book]money.Paisa
	Payments []WalletPayment
	Notices  []store.ConsumerNotice // newest first
	Lock     string                 // what the wallet's lock is, if it is locked now
}

// Wallet returns a consumer's balances, recent payments (with refunds)
// and notices.
func (s *Service) Wallet(ctx context.Context, consumerID int64) (WalletInfo, error) {
	info := WalletInfo{Balances: map[ledger.Book]money.Paisa{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if info.Consumer, err = tx.Consumer(ctx, consumerID); err != nil {
			return err
		}
		for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
			if info.Balances[b], err = tx.Balance(ctx, account(b, ledger.Wallet, consumerID)); err != nil {
				return err
			}
		}
		ps, err := tx.ConsumerPayments(ctx, consumerID, walletHistorySize)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, p := range ps {
			if _, ok := names[p.MerchantID]; !ok {
				m, err := tx.Merchant(ctx, p.MerchantID)
				if err != nil {
					return err
				}
				names[p.MerchantID] = m.Name
			}
			info.Payments = append(info.Payments, WalletPayment{Payment: p, Merchant: names[p.MerchantID]})
		}
		info.Lock = s.id.LockText(info.Consumer)
		info.Notices, err = s.id.Notices(ctx, tx, consumerID)
		return err
	})
	return info, fault.Wrap(err)
}
