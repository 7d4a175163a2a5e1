package payment

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// InitiateInput is a legacy wallet initiate request, already decoded.
type InitiateInput struct {
	PublicKey       string
	Mobile          string
	MPIN            string
	Amount          money.Paisa
	ProductIdentity string
	ProductName     string
	ProductURL      string
	Extra           map[string]any // merchant_* fields
}

// InitiateResult is what initiate returns to the payer's client.
type InitiateResult struct {
	Token string
}

// Transaction is a payment with the parties a record shows.
type Transaction struct {
	Payment  store.Payment
	Consumer store.Consumer
	Merchant store.Merchant
}

func account(book ledger.Book, kind ledger.Kind, owner int64) ledger.AccountRef {
	return ledger.AccountRef{Book: book, Kind: kind, Owner: owner}
}

// publicCaller resolves the public_key sent in a legacy request body.
func (s *Service) publicCaller(ctx context.Context, key string) (identity.Caller, error) {
	c, err := s.id.Resolve(ctx, key, store.PublicKey)
	if err != nil {
		return identity.Caller{}, err
	}
	if c == nil {
		return identity.Caller{}, fault.FieldError("public_key", "Invalid public key.")
	}
	return *c, nil
}

// checkAmount applies the minimum, the non-KYC cap and the fee schedule
// of the caller as resolved (identity.Caller.Fees; read here for a
// caller without one), returning the fee.
func (s *Service) checkAmount(ctx context.Context, caller identity.Caller, amount money.Paisa) (money.Paisa, error) {
	m := caller.Merchant
	if amount < s.cfg.MinAmount {
		return 0, fault.FieldError("amount", fault.MsgMinAmount)
	}
	if m.KYC != store.KYCApproved && amount > s.cfg.NonKYCCap {
		return 0, fault.FieldError("amount", fmt.Sprintf("Amount must be less than %d.", s.cfg.NonKYCCap/100))
	}
	tiers := caller.Fees
	if tiers == nil {
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			tiers, err = tx.FeeTiers(ctx, m.ID, caller.Book)
			return err
		})
		if err != nil {
			return 0, fault.Wrap(err)
		}
	}
	for _, t := range tiers {
		if t.Covers(amount) {
			fee := money.Fee(amount, t.PercentBps, t.Flat)
			if fee > amount {
				fee = amount
			}
			return fee, nil
		}
	}
	return 0, fault.DetailError(fault.MsgFeeNotFound)
}

// Initiate checks the payer's MPIN and creates an Initiated payment with
// a confirmation code sent to the payer.
func (s *Service) Initiate(ctx context.Context, in InitiateInput) (InitiateResult, error) {
	caller, err := s.publicCaller(ctx, in.PublicKey)
	if err != nil {
		return InitiateResult{}, err
	}
	var fee money.Paisa
	now := s.now()
	var result InitiateResult
	var code string
	var created Transaction
	check := identity.PayerCheck{Mobile: in.Mobile, MPIN: in.MPIN, Via: "a payment to " + caller.Merchant.Name, Scope: in.PublicKey,
		Book: caller.Book, Check: func() error {
			// The fee is fixed here, from the schedule resolved with the
			// key (identity.Caller.Fees).
			var err error
			fee, err = s.checkAmount(ctx, caller, in.Amount)
			return err
		}}
	// The payment is created in the transaction that accepts the MPIN,
	// with the payer's row locked and its balance read in one statement;
	// the balance is only looked at once the MPIN and the amount are
	// accepted.
	_, err = s.id.CheckPayer(ctx, check, func(tx store.Tx, c store.Consumer, bal money.Paisa) error {
		if !c.Confirmed {
			return fault.DetailError(identity.MsgWalletNotActive)
		}
		if c.Mobile == caller.Merchant.Mobile {
			return fault.FieldError("mobile", "A merchant cannot pay itself.")
		}
		if bal < in.Amount {
			return fault.DetailError("Insufficient balance in the wallet.")
		}
		code = s.cfg.TestOTP
		if caller.Book == ledger.Live {
			code = s.ids.Digits(6)
		}
		extra, err := json.Marshal(in.Extra)
		if err != nil {
			return err
		}
		p := store.Payment{
			Idx: s.ids.NewAt(now), Token: s.ids.NewAt(now), FeeIdx: s.ids.New(),
			Book: caller.Book, MerchantID: caller.Merchant.ID, ConsumerID: c.ID,
			State: store.Initiated, Amount: in.Amount, FeeAmount: fee,
			ProductIdentity: in.ProductIdentity, ProductName: in.ProductName, ProductURL: in.ProductURL,
			Extra: extra, OTPExpiresAt: now.Add(s.cfg.OTPLifetime),
			CreatedAt: now, UpdatedAt: now,
		}
		p.OTPHash = s.otpHash(p.Token, code, in.MPIN)
		if err := tx.CreatePayment(ctx, &p); err != nil {
			return err
		}
		result.Token = p.Token
		created = Transaction{Payment: p, Consumer: c, Merchant: caller.Merchant}
		return nil
	})
	if err != nil {
		return InitiateResult{}, err
	}
	s.recent.put(created, now)
	if caller.Book == ledger.Live {
		if err := s.notifier.SendOTP(ctx, in.Mobile, code, in.Amount, caller.Merchant.Name); err != nil {
			s.log.ErrorContext(ctx, "sending confirmation code", "err", err)
		}
	}
	return result, nil
}
