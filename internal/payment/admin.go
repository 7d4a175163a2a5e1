package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// MerchantInfo is a merchant with its keys and balances.
type MerchantInfo struct {
	Merchant store.Merchant
	Keys     []identity.KeyInfo
	Balances map[ledger.Book]money.Paisa
	Fees     map[ledger.Book][]store.FeeTier // the fee schedule of each book
}

// ShowMerchant returns a merchant's details (ref is its idx or email) for
// actor. A secret key that was issued automatically (live keys on
// go-live) and not yet shown is revealed once, then forgotten; the reveal
// is audited (keys.reveal), a show that reveals nothing is a read and is
// not.
func (s *Service) ShowMerchant(ctx context.Context, actor identity.Actor, ref string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.id.OperatorAction(ctx, actor, identity.AuditRevealSecret, func(tx store.Tx) (identity.AuditRecord, error) {
		m, err := s.id.MerchantByRef(ctx, tx, ref)
		if err != nil {
			return identity.AuditRecord{}, err
		}
		if info, err = s.merchantInfo(ctx, tx, m, true); err != nil {
			return identity.AuditRecord{}, err
		}
		var shown []string
		for _, k := range info.Keys {
			if k.Secret != "" {
				shown = append(shown, fmt.Sprintf("%s %s key %s", k.Key.Book, k.Key.Kind, k.Key.Prefix))
			}
		}
		return identity.AuditRecord{Subject: m.Idx, Detail: strings.Join(shown, ", "), Skip: len(shown) == 0}, nil
	})
	return info, err
}

// ShowOwnMerchant is ShowMerchant for the merchant itself (its
// dashboard): a sealed secret is revealed to its owner, which is not an
// operator action, so nothing is audited.
func (s *Service) ShowOwnMerchant(ctx context.Context, merchantIdx string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.id.MerchantByRef(ctx, tx, merchantIdx)
		if err == nil {
			info, err = s.merchantInfo(ctx, tx, m, true)
		}
		return err
	})
	return info, fault.Wrap(err)
}

// MerchantDetails returns a merchant's details (ref is its idx or email)
// without revealing any secret: what an operator reads in the console.
func (s *Service) MerchantDetails(ctx context.Context, ref string) (MerchantInfo, error) {
	var info MerchantInfo
	err := s.store.View(ctx, func(tx store.Tx) error {
		m, err := s.id.MerchantByRef(ctx, tx, ref)
		if err == nil {
			info, err = s.merchantInfo(ctx, tx, m, false)
		}
		return err
	})
	return info, fault.Wrap(err)
}

// merchantInfo reads m's keys, balances and fee schedules in tx; with
// reveal, a sealed secret is unsealed into its identity.KeyInfo and forgotten.
func (s *Service) merchantInfo(ctx context.Context, tx store.Tx, m store.Merchant, reveal bool) (MerchantInfo, error) {
	info := MerchantInfo{Merchant: m, Balances: map[ledger.Book]money.Paisa{}, Fees: map[ledger.Book][]store.FeeTier{}}
	var err error
	if info.Keys, err = s.id.KeysOf(ctx, tx, m.ID, reveal); err != nil {
		return info, err
	}
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		if info.Balances[b], err = tx.Balance(ctx, account(b, ledger.Merchant, m.ID)); err != nil {
			return info, err
		}
		if info.Fees[b], err = tx.FeeTiers(ctx, m.ID, b); err != nil {
			return info, err
		}
	}
	return info, nil
}

// Topup credits a wallet from the platform's funding account for actor
// and returns the new balance. It is audited (wallet.topup, with the
// amount, book and new balance).
func (s *Service) Topup(ctx context.Context, actor identity.Actor, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	if !book.Valid() {
		return 0, fault.FieldError("book", "Book must be test or live.")
	}
	if !phone.Valid(mobile) {
		return 0, fault.FieldError("mobile", "Enter a valid mobile number.")
	}
	if amount < 1 {
		return 0, fault.FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	var bal money.Paisa
	err := s.id.OperatorAction(ctx, actor, identity.AuditTopup, func(tx store.Tx) (identity.AuditRecord, error) {
		var err error
		if bal, err = s.topup(ctx, tx, mobile, book, amount); err != nil {
			return identity.AuditRecord{}, err
		}
		return identity.AuditRecord{Subject: mobile, Detail: fmt.Sprintf("%s (%d paisa), %s book; balance %s", amount, int64(amount), book, bal)}, nil
	})
	return bal, err
}

// topup posts a top-up of the wallet of mobile in tx and returns its new
// balance; the caller has checked book and amount.
func (s *Service) topup(ctx context.Context, tx store.Tx, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	c, err := tx.ConsumerByMobile(ctx, mobile)
	if errors.Is(err, store.ErrNotFound) {
		return 0, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
	}
	if err != nil {
		return 0, err
	}
	if !c.Confirmed {
		return 0, fault.DetailError("This wallet's phone number is not confirmed yet: it cannot be topped up.")
	}
	wallet := account(book, ledger.Wallet, c.ID)
	if err := tx.Post(ctx, ledger.Transfer(book, "topup", 0, account(book, ledger.Funding, 0), wallet, amount), s.now()); err != nil {
		return 0, err
	}
	return tx.Balance(ctx, wallet)
}

// WalletBalance returns a consumer's balance in one book.
func (s *Service) WalletBalance(ctx context.Context, mobile string, book ledger.Book) (money.Paisa, error) {
	var bal money.Paisa
	err := s.store.View(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if err != nil {
			return err
		}
		bal, err = tx.Balance(ctx, account(book, ledger.Wallet, c.ID))
		return err
	})
	return bal, err
}

// CheckLedger reads a consistent snapshot and returns every broken
// invariant; an empty result means the books are sound.
func (s *Service) CheckLedger(ctx context.Context) ([]ledger.Violation, error) {
	var snap ledger.Snapshot
	err := s.store.Snapshot(ctx, func(tx store.Tx) error {
		var err error
		snap, err = tx.LedgerSnapshot(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ledger.Check(snap), nil
}
