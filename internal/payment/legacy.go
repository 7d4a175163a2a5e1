package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
func (s *Service) publicCaller(ctx context.Context, key string) (Caller, error) {
	c, err := s.resolveKey(ctx, key, store.PublicKey)
	if err != nil {
		return Caller{}, err
	}
	if c == nil {
		return Caller{}, FieldError("public_key", "Invalid public key.")
	}
	return *c, nil
}

// checkAmount applies the minimum, the non-KYC cap and the fee schedule,
// returning the fee.
func (s *Service) checkAmount(ctx context.Context, tx store.Tx, m store.Merchant, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	if amount < s.cfg.MinAmount {
		return 0, FieldError("amount", MsgMinAmount)
	}
	if m.KYC != store.KYCApproved && amount > s.cfg.NonKYCCap {
		return 0, FieldError("amount", fmt.Sprintf("Amount must be less than %d.", s.cfg.NonKYCCap/100))
	}
	tiers, err := tx.FeeTiers(ctx, m.ID, book)
	if err != nil {
		return 0, err
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
	return 0, DetailError(MsgFeeNotFound)
}

func lockedError() *Error {
	return &Error{Kind: KindLocked, ErrorKey: "third_party_transaction_locked",
		Detail: "Your wallet is locked for third-party payments after too many wrong Khalti PINs. Reset your PIN to unlock it."}
}

// Initiate checks the payer's MPIN and creates an Initiated payment with
// a confirmation code sent to the payer.
func (s *Service) Initiate(ctx context.Context, in InitiateInput) (InitiateResult, error) {
	caller, err := s.publicCaller(ctx, in.PublicKey)
	if err != nil {
		return InitiateResult{}, err
	}
	if !ValidMobile(in.Mobile) {
		return InitiateResult{}, FieldError("mobile", "Enter a valid 10 digit mobile number starting with 96, 97 or 98.")
	}
	if !ValidMPIN(in.MPIN) {
		return InitiateResult{}, FieldError("transaction_pin", "Khalti PIN must be 4 digits long.")
	}
	var consumer store.Consumer
	var fee money.Paisa
	err = s.store.View(ctx, func(tx store.Tx) error {
		// The fee is fixed here, from the schedule read for this request;
		// the transaction below does not read the schedule again.
		if fee, err = s.checkAmount(ctx, tx, caller.Merchant, caller.Book, in.Amount); err != nil {
			return err
		}
		consumer, err = tx.ConsumerByMobile(ctx, in.Mobile)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// Same answer as a wrong PIN, so initiate cannot be used to learn
		// which numbers have wallets.
		return InitiateResult{}, &Error{Kind: KindValidation, Detail: MsgMobileOrPin, TriesRemaining: fmt.Sprint(s.cfg.MaxMPINTries - 1), ErrorKey: ErrorKeyValidation}
	}
	if err != nil {
		return InitiateResult{}, s.wrap(err)
	}
	if consumer.Locked {
		return InitiateResult{}, lockedError()
	}
	// The slow hash runs outside the write transaction.
	pinOK := s.checkMPIN(consumer.MPINHash, in.MPIN)
	now := s.now()
	var result InitiateResult
	var code string
	var refusal error // returned to the client after the transaction commits
	err = retry(ctx, func() error {
		refusal = nil
		return s.store.InTx(ctx, func(tx store.Tx) error {
			// The wallet balance comes with the consumer, in one read; it
			// is only looked at once the PIN and the amount are accepted.
			c, bal, err := tx.ConsumerWithBalance(ctx, in.Mobile, caller.Book)
			if err != nil {
				return err
			}
			if c.Locked {
				return lockedError()
			}
			if !pinOK {
				if c.FailedMPIN, c.Locked, err = tx.CountWrongMPIN(ctx, c.ID, s.cfg.MaxMPINTries); err != nil {
					return err
				}
				refusal = s.wrongPIN(c)
				return nil
			}
			if c.FailedMPIN != 0 {
				if err := tx.ClearWrongMPIN(ctx, c.ID); errors.Is(err, store.ErrConflict) {
					return lockedError() // locked by wrong MPINs sent meanwhile
				} else if err != nil {
					return err
				}
			}
			if c.Mobile == caller.Merchant.Mobile {
				return FieldError("mobile", "A merchant cannot pay itself.")
			}
			if bal < in.Amount {
				return DetailError("Insufficient balance in the wallet.")
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
				Idx: s.ids.New(), Token: s.ids.New(), FeeIdx: s.ids.New(),
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
			return nil
		})
	})
	if err != nil {
		return InitiateResult{}, s.wrap(err)
	}
	if refusal != nil {
		return InitiateResult{}, refusal
	}
	if caller.Book == ledger.Live {
		if err := s.notifier.SendOTP(ctx, in.Mobile, code, in.Amount, caller.Merchant.Name); err != nil {
			s.log.ErrorContext(ctx, "sending confirmation code", "err", err)
		}
	}
	return result, nil
}

func (s *Service) wrongPIN(c store.Consumer) error {
	if c.Locked {
		return lockedError()
	}
	return &Error{Kind: KindValidation, Detail: MsgMobileOrPin, TriesRemaining: fmt.Sprint(s.cfg.MaxMPINTries - c.FailedMPIN), ErrorKey: ErrorKeyValidation}
}

// wrap passes service errors through and hides everything else.
func (s *Service) wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindInternal, Detail: "Request cancelled.", Cause: err}
	}
	return Internal(err)
}
