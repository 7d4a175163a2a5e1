package payment

import (
	"context"
	"errors"
	"fmt"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// The sandbox's fixed data: the demo merchant uses the test keys from
// Khalti's own documentation so copied examples work unchanged.
const (
	DemoMerchantEmail = "demo@thaili.local"
	DemoPublicKey     = "test_public_key_dc74e0fd57cb46cd93832aee0a507256"
	DemoSecretKey     = "test_secret_key_f59e8b7d18b4499ca40f68195a846e9b"
	SandboxMPIN       = "1111"
	// SandboxWalletBalance is each sandbox payer's test balance: Rs 10 lakh.
	SandboxWalletBalance money.Paisa = 100_000_000
	// DemoMerchantFloat is credited to the demo merchant's test balance so
	// that refunds, which never return the fee, can be tried at once.
	DemoMerchantFloat money.Paisa = 10_000_000
)

// SandboxPayers are Khalti's documented test wallets.
var SandboxPayers = []string{"9800000000", "9800000001", "9800000002", "9800000003", "9800000004", "9800000005"}

// Sandbox describes what Seed ensured exists.
type Sandbox struct {
	Merchant store.Merchant
	Keys     KeyPair
	Created  bool // false when everything already existed
}

// Seed creates the demo merchant and the sandbox payers if missing. It is
// idempotent, so it runs at every start of a sandbox database.
func (s *Service) Seed(ctx context.Context) (Sandbox, error) {
	out := Sandbox{Keys: KeyPair{Book: ledger.Test, Public: DemoPublicKey, Secret: DemoSecretKey}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out.Merchant, err = tx.MerchantByEmail(ctx, DemoMerchantEmail)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		out.Merchant, _, err = s.CreateMerchant(ctx, NewMerchant{Name: "Thaili Demo Shop", Email: DemoMerchantEmail,
			KYC: store.KYCApproved, TestKeys: &out.Keys})
		if err != nil {
			return out, fmt.Errorf("seeding demo merchant: %w", err)
		}
		err = s.store.InTx(ctx, func(tx store.Tx) error {
			return tx.Post(ctx, ledger.Transfer(ledger.Test, "topup", 0, account(ledger.Test, ledger.Funding, 0),
				account(ledger.Test, ledger.Merchant, out.Merchant.ID), DemoMerchantFloat), s.now())
		})
		out.Created = true
	}
	if err != nil {
		return out, fmt.Errorf("seeding demo merchant: %w", err)
	}
	for i, mobile := range SandboxPayers {
		_, err := s.CreateConsumer(ctx, mobile, fmt.Sprintf("Test User %d", i), SandboxMPIN)
		var e *Error
		if errors.As(err, &e) && e.Fields["mobile"] != nil {
			continue // already there
		}
		if err != nil {
			return out, fmt.Errorf("seeding payer %s: %w", mobile, err)
		}
		if _, err := s.Topup(ctx, mobile, ledger.Test, SandboxWalletBalance); err != nil {
			return out, fmt.Errorf("funding payer %s: %w", mobile, err)
		}
		out.Created = true
	}
	return out, nil
}
