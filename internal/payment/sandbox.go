package payment

import (
	"context"
	"errors"
	"fmt"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
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

// The sandbox scenario payers: like Stripe's test cards, each makes a
// test-book payment take one branch. Their MPIN is SandboxMPIN too. In
// the live book they are ordinary wallets (with no live balance).
const (
	// ScenarioPendingMobile's payments are Pending (the money held) for
	// Config.SandboxPendingDelay, then Completed. ePayment: lookup answers
	// Pending until then. Legacy: verify answers "pending" until then.
	ScenarioPendingMobile = "9800000010"
	// ScenarioFailMobile's payments fail once the code is entered: the
	// ePayment or transaction ends Failed and no money moves.
	ScenarioFailMobile = "9800000011"
	// ScenarioInsufficientMobile has a zero balance: the ordinary
	// insufficient balance refusal.
	ScenarioInsufficientMobile = "9800000012"
	// ScenarioLockedMobile is seeded locked, as after three wrong MPINs;
	// Seed locks it again at every start.
	ScenarioLockedMobile = "9800000013"
)

// scenarioPayers are seeded with these names and test balances.
var scenarioPayers = []struct {
	mobile, name string
	balance      money.Paisa
}{
	{ScenarioPendingMobile, "Scenario Pending then Completed", SandboxWalletBalance},
	{ScenarioFailMobile, "Scenario Fails", SandboxWalletBalance},
	{ScenarioInsufficientMobile, "Scenario Insufficient Balance", 0},
	{ScenarioLockedMobile, "Scenario MPIN Locked", SandboxWalletBalance},
}

// scenario returns the scenario payer mobile a payment in book by the
// payer with mobile follows, or "" for ordinary behaviour.
func scenario(book ledger.Book, mobile string) string {
	if book != ledger.Test {
		return ""
	}
	switch mobile {
	case ScenarioPendingMobile, ScenarioFailMobile:
		return mobile
	}
	return ""
}

// Sandbox describes what Seed ensured exists.
type Sandbox struct {
	Merchant store.Merchant
	Keys     identity.KeyPair
	Created  bool // false when everything already existed
}

// Seed creates the demo merchant and the sandbox payers if missing. It is
// idempotent, so it runs at every start of a sandbox database.
//
// Seed is setup, not an operator action, and writes no audit entry: it
// only ensures that fixed fixtures exist, whose keys, MPIN and balances
// are published in the README, and it moves test-book money only. At
// serve start no one acts at all, and `thaili sandbox seed` does exactly
// what every start of a SQLite sandbox does.
func (s *Service) Seed(ctx context.Context) (Sandbox, error) {
	out := Sandbox{Keys: identity.KeyPair{Book: ledger.Test, Public: DemoPublicKey, Secret: DemoSecretKey}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out.Merchant, err = tx.MerchantByEmail(ctx, DemoMerchantEmail)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		out.Merchant, _, err = s.id.ProvisionMerchant(ctx, identity.NewMerchant{Name: "Thaili Demo Shop", Email: DemoMerchantEmail,
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
		_, err := s.id.ProvisionConsumer(ctx, mobile, fmt.Sprintf("Test User %d", i), SandboxMPIN)
		var e *fault.Error
		if errors.As(err, &e) && e.Fields["mobile"] != nil {
			continue // already there
		}
		if err != nil {
			return out, fmt.Errorf("seeding payer %s: %w", mobile, err)
		}
		if err := s.fundSandboxWallet(ctx, mobile, SandboxWalletBalance); err != nil {
			return out, fmt.Errorf("funding payer %s: %w", mobile, err)
		}
		out.Created = true
	}
	for _, sp := range scenarioPayers {
		if err := s.seedScenario(ctx, sp.mobile, sp.name, sp.balance, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// fundSandboxWallet tops up a sandbox payer's test-book wallet from the
// funding account (Seed's top-up, which is not audited).
func (s *Service) fundSandboxWallet(ctx context.Context, mobile string, amount money.Paisa) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := s.topup(ctx, tx, mobile, ledger.Test, amount)
		return err
	}))
}

// seedScenario creates one scenario payer if missing, and keeps the
// locked one locked.
func (s *Service) seedScenario(ctx context.Context, mobile, name string, balance money.Paisa, out *Sandbox) error {
	_, err := s.id.ProvisionConsumer(ctx, mobile, name, SandboxMPIN)
	var e *fault.Error
	switch {
	case errors.As(err, &e) && e.Fields["mobile"] != nil: // already there
	case err != nil:
		return fmt.Errorf("seeding payer %s: %w", mobile, err)
	default:
		out.Created = true
		if balance > 0 {
			if err := s.fundSandboxWallet(ctx, mobile, balance); err != nil {
				return fmt.Errorf("funding payer %s: %w", mobile, err)
			}
		}
	}
	if mobile != ScenarioLockedMobile {
		return nil
	}
	err = s.id.HoldLocked(ctx, mobile)
	if err != nil {
		return fmt.Errorf("locking payer %s: %w", mobile, err)
	}
	return nil
}
