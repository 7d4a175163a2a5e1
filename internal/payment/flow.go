package payment

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// ConfirmInput is a legacy wallet confirm request.
type ConfirmInput struct {
	PublicKey        string
	Token            string
	ConfirmationCode string
	MPIN             string
}

func invalidToken() *Error {
	return &Error{Kind: KindValidation, Fields: map[string][]string{"token": {MsgInvalidToken}}}
}

// Confirm checks the confirmation code and MPIN and authorises the
// payment: the amount moves from the payer's wallet to holds. Repeating a
// successful confirm with the same code and PIN returns the same answer.
func (s *Service) Confirm(ctx context.Context, in ConfirmInput) (Transaction, error) {
	caller, err := s.publicCaller(ctx, in.PublicKey)
	if err != nil {
		return Transaction{}, err
	}
	t, err := s.find(ctx, caller.Scope(), in.Token, false)
	if errors.Is(err, errNotFound) || (err == nil && t.Payment.Kind == store.EPayment) {
		return Transaction{}, invalidToken()
	}
	if err != nil {
		return Transaction{}, err
	}
	keys := s.guessKeysOf(ctx, in.PublicKey)
	if err := s.allowGuess(keys); err != nil {
		return Transaction{}, err
	}
	var refusal error
	found := true // the first attempt may start from the payment find read
	err = retry(ctx, func() error {
		refusal = nil
		fromFind := found
		found = false
		return s.store.InTx(ctx, func(tx store.Tx) error {
			if fromFind {
				if done, err := s.confirmFound(ctx, tx, &t, in); done {
					return err
				}
			}
			p, err := tx.PaymentByID(ctx, t.Payment.ID)
			if err != nil {
				return err
			}
			// The MAC binds the code to the MPIN checked at initiate, so
			// one comparison checks both without a second slow hash.
			codeOK := subtle.ConstantTimeCompare([]byte(p.OTPHash), []byte(s.otpHash(p.Token, in.ConfirmationCode, in.MPIN))) == 1
			switch p.State {
			case store.Initiated:
			case store.Confirmed, store.Completed, store.PartiallyRefunded, store.Refunded:
				if codeOK {
					t.Payment = p
					return nil // a retry of a confirm that succeeded
				}
				return DetailError("This transaction is already confirmed.")
			default:
				return DetailError("This transaction can no longer be confirmed.")
			}
			now := s.now()
			if !codeOK {
				refusal, err = s.wrongCode(ctx, tx, &p, now)
				return err
			}
			if now.After(p.OTPExpiresAt) {
				return FieldError("confirmation_code", "Confirmation code has expired.")
			}
			if scenario(p.Book, t.Consumer.Mobile) == ScenarioFailMobile {
				// The sandbox's failing payer: the transaction fails and
				// no money moves.
				p.State, p.UpdatedAt = store.Failed, now
				refusal = DetailError("The payment failed (sandbox scenario payer " + ScenarioFailMobile + ").")
				if err := tx.UpdatePayment(ctx, &p); err != nil {
					return err
				}
				return s.emit(ctx, tx, p, EventFailed)
			}
			entry := holdEntry(p, "authorise")
			p.State, p.ConfirmedAt, p.UpdatedAt = store.Confirmed, now, now
			err = tx.PostAndUpdate(ctx, entry, now, &p)
			if errors.Is(err, store.ErrInsufficientFunds) {
				return DetailError("Insufficient balance in the wallet.")
			}
			if err != nil {
				return err
			}
			t.Payment = p
			return nil
		})
	})
	if err != nil {
		return Transaction{}, s.wrap(err)
	}
	if refusal != nil {
		if AsError(refusal).TriesRemaining != "" { // a wrong code, counted
			s.chargeGuess(keys)
		}
		return Transaction{}, refusal
	}
	return t, nil
}

// confirmFound is Confirm's common case decided on the payment find
// read, without reading it again: an Initiated payment with the right
// code, not expired and not a sandbox failure, is authorised. The update
// is a compare-and-set on the version read, so it commits only if the
// payment is still exactly what was read, when a fresh read would have
// decided the same. In any other case it returns done false, and on an
// overdraft or a lost compare-and-set ErrConflict (the transaction rolls
// back and is tried again); either way the caller then decides on a
// fresh read, as before.
func (s *Service) confirmFound(ctx context.Context, tx store.Tx, t *Transaction, in ConfirmInput) (done bool, err error) {
	p := t.Payment
	codeOK := subtle.ConstantTimeCompare([]byte(p.OTPHash), []byte(s.otpHash(p.Token, in.ConfirmationCode, in.MPIN))) == 1
	now := s.now()
	if p.State != store.Initiated || !codeOK || now.After(p.OTPExpiresAt) || scenario(p.Book, t.Consumer.Mobile) == ScenarioFailMobile {
		return false, nil
	}
	entry := holdEntry(p, "authorise")
	p.State, p.ConfirmedAt, p.UpdatedAt = store.Confirmed, now, now
	err = tx.PostAndUpdate(ctx, entry, now, &p)
	if errors.Is(err, store.ErrInsufficientFunds) {
		return true, store.ErrConflict // perhaps a concurrent confirm of this payment: read it again
	}
	if err != nil {
		return true, err
	}
	t.Payment = p
	return true, nil
}

// verifyFound is Verify's common case decided on the payment find read,
// like confirmFound: a Confirmed payment (not the sandbox's pending
// payer) is captured, under a compare-and-set on the version read.
func (s *Service) verifyFound(ctx context.Context, tx store.Tx, t *Transaction) (done bool, err error) {
	p := t.Payment
	if p.State != store.Confirmed || scenario(p.Book, t.Consumer.Mobile) == ScenarioPendingMobile {
		return false, nil
	}
	err = s.capture(ctx, tx, &p, s.now())
	if errors.Is(err, store.ErrInsufficientFunds) {
		return true, store.ErrConflict // the hold is gone: read the payment again
	}
	if err != nil {
		return true, err
	}
	t.Payment = p
	return true, nil
}

// Verify captures a confirmed payment for the merchant: holds to the
// merchant's balance minus the fee. Verifying a captured payment again
// returns the same record.
func (s *Service) Verify(ctx context.Context, caller Caller, token string, amount money.Paisa) (Transaction, error) {
	t, err := s.find(ctx, caller.Scope(), token, false)
	if errors.Is(err, errNotFound) || (err == nil && t.Payment.Kind == store.EPayment) {
		return Transaction{}, invalidToken()
	}
	if err != nil {
		return Transaction{}, err
	}
	if amount != t.Payment.Amount {
		return Transaction{}, FieldError("amount", "Amount does not match the transaction amount.")
	}
	found := true // the first attempt may start from the payment find read
	err = retry(ctx, func() error {
		fromFind := found
		found = false
		return s.store.InTx(ctx, func(tx store.Tx) error {
			if fromFind {
				if done, err := s.verifyFound(ctx, tx, &t); done {
					return err
				}
			}
			p, err := tx.PaymentByID(ctx, t.Payment.ID)
			if err != nil {
				return err
			}
			switch p.State {
			case store.Completed, store.PartiallyRefunded, store.Refunded:
				t.Payment = p
				return nil
			case store.Confirmed:
				if scenario(p.Book, t.Consumer.Mobile) == ScenarioPendingMobile && s.now().Before(p.ConfirmedAt.Add(s.cfg.SandboxPendingDelay)) {
					return DetailError("Transaction is pending. Verify again later.")
				}
			case store.Initiated:
				return DetailError("Transaction is not confirmed yet.")
			default:
				return DetailError("Transaction failed and cannot be verified.")
			}
			if err := s.capture(ctx, tx, &p, s.now()); err != nil {
				return err
			}
			t.Payment = p
			return nil
		})
	})
	if err != nil {
		return Transaction{}, s.wrap(err)
	}
	return t, nil
}

// captureEntry moves a payment's hold to the merchant and the fee to the
// platform, all on the payment's shard.
// wrongCode counts a wrong confirmation code (or MPIN) against p, which
// becomes Disabled at the last try, and returns the refusal to give once
// the count is committed.
func (s *Service) wrongCode(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) (error, error) {
	p.OTPTries++
	if p.OTPTries >= s.cfg.MaxOTPTries {
		p.State = store.Disabled
	}
	p.UpdatedAt = now
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return nil, err
	}
	if p.State == store.Disabled {
		if err := s.emit(ctx, tx, *p, EventFailed); err != nil {
			return nil, err
		}
	}
	return &Error{Kind: KindValidation, Detail: MsgCodeOrPin, TriesRemaining: fmt.Sprint(max(0, s.cfg.MaxOTPTries-p.OTPTries))}, nil
}

func captureEntry(p store.Payment) ledger.Entry {
	shard := ledger.ShardOf(p.ID)
	e := ledger.Entry{Book: p.Book, Reason: "capture", PaymentID: p.ID, Postings: []ledger.Posting{
		{Account: account(p.Book, ledger.Holds, 0).WithShard(shard), Amount: -p.Amount},
	}}
	if net := p.Amount - p.FeeAmount; net > 0 {
		e.Postings = append(e.Postings, ledger.Posting{Account: account(p.Book, ledger.Merchant, p.MerchantID).WithShard(shard), Amount: net})
	}
	if p.FeeAmount > 0 {
		e.Postings = append(e.Postings, ledger.Posting{Account: account(p.Book, ledger.Fees, 0).WithShard(shard), Amount: p.FeeAmount})
	}
	return e
}

// markCompleted records that p's money reached the merchant, and issues
// live keys on a merchant's first completed test payment.
func (s *Service) markCompleted(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) error {
	setCompleted(p, now)
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	return s.completed(ctx, tx, *p)
}

// capture posts a confirmed wallet payment's capture entry and marks it
// completed: Post and then markCompleted, with the posting and the
// payment's compare-and-set in one statement where the store allows.
func (s *Service) capture(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) error {
	entry := captureEntry(*p)
	done := *p
	setCompleted(&done, now)
	if err := tx.PostAndUpdate(ctx, entry, now, &done); err != nil {
		return err
	}
	*p = done
	return s.completed(ctx, tx, *p)
}

func setCompleted(p *store.Payment, now time.Time) {
	if p.ConfirmedAt.IsZero() {
		p.ConfirmedAt = now
	}
	p.State, p.CompletedAt, p.UpdatedAt = store.Completed, now, now
}

// completed follows a payment's completion: its webhook event, and live
// keys on the merchant's first completed test payment.
func (s *Service) completed(ctx context.Context, tx store.Tx, p store.Payment) error {
	if err := s.emit(ctx, tx, p, EventCompleted); err != nil {
		return err
	}
	if p.Book == ledger.Test {
		return s.goLive(ctx, tx, p.MerchantID)
	}
	return nil
}

// goLive issues live keys to a merchant the first time one of its test
// payments completes. The secret is sealed so `thaili merchant show` can
// display it once.
//
// Merchants known to be live are remembered, so a busy test merchant's
// verifies do not look its keys up every time; live keys are never
// removed, only rotated, so the memory cannot go stale.
func (s *Service) goLive(ctx context.Context, tx store.Tx, merchantID int64) error {
	if _, ok := s.liveMerchants.Load(merchantID); ok {
		return nil
	}
	keys, err := tx.Keys(ctx, merchantID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Book == ledger.Live {
			s.liveMerchants.Store(merchantID, true)
			return nil
		}
	}
	return s.storeKeyPair(ctx, tx, merchantID, s.newKeyPair(ledger.Live), true)
}

var errNotFound = NotFound()

// find loads a payment by token (or, if byIdx, also by idx) within the
// caller's scope, settling it first if it is overdue.
func (s *Service) find(ctx context.Context, scope store.Scope, tokenOrIdx string, byIdx bool) (Transaction, error) {
	var t Transaction
	if !ids.Valid(tokenOrIdx) {
		// Never issued; and text a database may refuse (NUL, invalid
		// UTF-8) never reaches it.
		return t, errNotFound
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, c, m, err := tx.PaymentWithParties(ctx, scope, tokenOrIdx, false)
		if errors.Is(err, store.ErrNotFound) && byIdx {
			p, c, m, err = tx.PaymentWithParties(ctx, scope, tokenOrIdx, true)
		}
		if err != nil {
			return err
		}
		t = Transaction{Payment: p, Consumer: c, Merchant: m}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return t, errNotFound
	}
	if err != nil {
		return t, s.wrap(err)
	}
	if s.overdue(t.Payment) {
		p, err := s.settle(ctx, t.Payment.ID)
		if err != nil {
			return t, s.wrap(err)
		}
		t.Payment = p
	}
	return t, nil
}

func (s *Service) parties(ctx context.Context, tx store.Tx, p store.Payment) (Transaction, error) {
	var c store.Consumer
	if p.ConsumerID != 0 { // an ePayment has no payer until one signs in
		var err error
		if c, err = tx.Consumer(ctx, p.ConsumerID); err != nil {
			return Transaction{}, err
		}
	}
	m, err := tx.Merchant(ctx, p.MerchantID)
	if err != nil {
		return Transaction{}, err
	}
	return Transaction{Payment: p, Consumer: c, Merchant: m}, nil
}
