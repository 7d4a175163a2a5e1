package payment

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// ConfirmInput is a legacy wallet confirm request.
type ConfirmInput struct {
	PublicKey        string
	Token            string
	ConfirmationCode string
	MPIN             string
}

func invalidToken() *fault.Error {
	return &fault.Error{Kind: fault.KindValidation, Fields: map[string][]string{"token": {fault.MsgInvalidToken}}}
}

// Confirm checks the confirmation code and MPIN and authorises the
// payment: the amount moves from the payer's wallet to holds. Repeating a
// successful confirm with the same code and PIN returns the same answer.
func (s *Service) Confirm(ctx context.Context, in ConfirmInput) (Transaction, error) {
	caller, err := s.publicCaller(ctx, in.PublicKey)
	if err != nil {
		return Transaction{}, err
	}
	t, err := s.findRecent(ctx, caller.Scope(), in.Token)
	if errors.Is(err, errNotFound) || (err == nil && t.Payment.Kind == store.EPayment) {
		return Transaction{}, invalidToken()
	}
	if err != nil {
		return Transaction{}, err
	}
	if err := s.id.AllowGuess(ctx, in.PublicKey); err != nil {
		return Transaction{}, err
	}
	var refusal error
	found := true // the first attempt may start from the payment find read
	err = store.Retry(ctx, func() error {
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
			now := s.now()
			step, err := s.decideConfirm(p, t.Consumer, in, now)
			switch step {
			case confirmRefuse:
				return err
			case confirmRepeat:
				t.Payment = p
				return nil
			case confirmWrongCode:
				refusal, err = s.wrongCode(ctx, tx, &p, now)
				return err
			case confirmFail:
				refusal = fault.DetailError("The payment failed (sandbox scenario payer " + ScenarioFailMobile + ").")
				return s.fail(ctx, tx, &p, now)
			}
			err = s.authorise(ctx, tx, &p, now)
			if errors.Is(err, store.ErrInsufficientFunds) {
				return fault.DetailError("Insufficient balance in the wallet.")
			}
			if err != nil {
				return err
			}
			t.Payment = p
			return nil
		})
	})
	if err != nil {
		s.recent.forget(in.Token)
		return Transaction{}, fault.Wrap(err)
	}
	if refusal != nil {
		s.recent.forget(in.Token)
		if fault.AsError(refusal).TriesRemaining != "" { // a wrong code, counted
			s.id.ChargeGuess(ctx, in.PublicKey)
		}
		return Transaction{}, refusal
	}
	if t.Payment.State == store.Confirmed {
		s.recent.put(t, s.now()) // for the merchant's verify
	}
	return t, nil
}

// confirmStep is what a legacy confirm does with a payment as read.
type confirmStep int

const (
	confirmAuthorise confirmStep = iota // hold the amount: Initiated to Confirmed
	confirmRepeat                       // a retry of a confirm that succeeded: answer the payment as it is
	confirmWrongCode                    // count a wrong code or MPIN
	confirmFail                         // the sandbox's failing payer: Initiated to Failed, no money moves
	confirmRefuse                       // refuse with the error returned
)

// decideConfirm is the one decision of a legacy confirm, for the common
// case on the payment find read (confirmFound) and for the fresh read
// inside the write transaction alike. The code is a MAC bound to the MPIN
// checked at initiate, so one comparison checks both without a second
// slow hash.
func (s *Service) decideConfirm(p store.Payment, payer store.Consumer, in ConfirmInput, now time.Time) (confirmStep, error) {
	codeOK := subtle.ConstantTimeCompare([]byte(p.OTPHash), []byte(s.otpHash(p.Token, in.ConfirmationCode, in.MPIN))) == 1
	switch p.State {
	case store.Initiated:
	case store.Confirmed, store.Completed, store.PartiallyRefunded, store.Refunded:
		if codeOK {
			return confirmRepeat, nil
		}
		return confirmRefuse, fault.DetailError("This transaction is already confirmed.")
	default:
		return confirmRefuse, fault.DetailError("This transaction can no longer be confirmed.")
	}
	switch {
	case !codeOK:
		return confirmWrongCode, nil
	case now.After(p.OTPExpiresAt):
		return confirmRefuse, fault.FieldError("confirmation_code", "Confirmation code has expired.")
	case scenario(p.Book, payer.Mobile) == ScenarioFailMobile:
		return confirmFail, nil
	}
	return confirmAuthorise, nil
}

// confirmFound is Confirm's common case decided (decideConfirm) on the
// payment find read, without reading it again: only an authorisation is
// done this way. The update is a compare-and-set on the version read, so
// it commits only if the payment is still exactly what was read, when a
// fresh read would have decided the same. In any other case it returns
// done false, and on an overdraft or a lost compare-and-set ErrConflict
// (the transaction rolls back and is tried again); either way the caller
// then decides on a fresh read.
func (s *Service) confirmFound(ctx context.Context, tx store.Tx, t *Transaction, in ConfirmInput) (done bool, err error) {
	p := t.Payment
	now := s.now()
	if step, _ := s.decideConfirm(p, t.Consumer, in, now); step != confirmAuthorise {
		return false, nil
	}
	err = s.authorise(ctx, tx, &p, now)
	if errors.Is(err, store.ErrInsufficientFunds) {
		return true, store.ErrConflict // perhaps a concurrent confirm of this payment: read it again
	}
	if err != nil {
		return true, err
	}
	t.Payment = p
	return true, nil
}

// authorise holds p's amount (wallet to holds) and moves it to
// Confirmed, in one statement where the store allows.
func (s *Service) authorise(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) error {
	next := *p
	if err := move(&next, store.Confirmed, now); err != nil {
		return err
	}
	if err := tx.PostAndUpdate(ctx, holdEntry(*p, "authorise"), now, &next); err != nil {
		return err
	}
	*p = next
	return nil
}

// fail moves p to Failed, with no money moving, and emits its event.
func (s *Service) fail(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) error {
	if err := move(p, store.Failed, now); err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	return s.emit(ctx, tx, *p, webhook.EventFailed)
}

// verifyStep is what a legacy verify does with a payment as read.
type verifyStep int

const (
	verifyCapture verifyStep = iota // holds to the merchant: Confirmed to Completed
	verifyRepeat                    // already captured: answer the payment as it is
	verifyRefuse                    // refuse with the error returned
)

// decideVerify is the one decision of a legacy verify, for the payment
// find read (verifyFound) and a fresh read alike.
func (s *Service) decideVerify(p store.Payment, payer store.Consumer, now time.Time) (verifyStep, error) {
	switch p.State {
	case store.Completed, store.PartiallyRefunded, store.Refunded:
		return verifyRepeat, nil
	case store.Confirmed:
		if scenario(p.Book, payer.Mobile) == ScenarioPendingMobile && now.Before(p.ConfirmedAt.Add(s.cfg.SandboxPendingDelay)) {
			return verifyRefuse, fault.DetailError("Transaction is pending. Verify again later.")
		}
		return verifyCapture, nil
	case store.Initiated:
		return verifyRefuse, fault.DetailError("Transaction is not confirmed yet.")
	}
	return verifyRefuse, fault.DetailError("Transaction failed and cannot be verified.")
}

// verifyFound is Verify's common case decided (decideVerify) on the
// payment find read, like confirmFound: only a capture is done this way.
func (s *Service) verifyFound(ctx context.Context, tx store.Tx, t *Transaction) (done bool, err error) {
	p := t.Payment
	now := s.now()
	if step, _ := s.decideVerify(p, t.Consumer, now); step != verifyCapture {
		return false, nil
	}
	err = s.capture(ctx, tx, &p, now)
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
func (s *Service) Verify(ctx context.Context, caller identity.Caller, token string, amount money.Paisa) (Transaction, error) {
	t, err := s.findRecent(ctx, caller.Scope(), token)
	if errors.Is(err, errNotFound) || (err == nil && t.Payment.Kind == store.EPayment) {
		return Transaction{}, invalidToken()
	}
	if err != nil {
		return Transaction{}, err
	}
	if amount != t.Payment.Amount {
		return Transaction{}, fault.FieldError("amount", "Amount does not match the transaction amount.")
	}
	found := true // the first attempt may start from the payment find read
	err = store.Retry(ctx, func() error {
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
			now := s.now()
			switch step, err := s.decideVerify(p, t.Consumer, now); step {
			case verifyRefuse:
				return err
			case verifyRepeat:
				t.Payment = p
				return nil
			}
			if err := s.capture(ctx, tx, &p, now); err != nil {
				return err
			}
			t.Payment = p
			return nil
		})
	})
	s.recent.forget(token) // captured, or refused: verify goes on from the database
	if err != nil {
		return Transaction{}, fault.Wrap(err)
	}
	return t, nil
}

// wrongCode counts a wrong confirmation code (or MPIN) against p, which
// becomes Disabled at the last try, and returns the refusal to give once
// the count is committed.
func (s *Service) wrongCode(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) (error, error) {
	p.OTPTries++
	p.UpdatedAt = now
	if p.OTPTries >= s.cfg.MaxOTPTries {
		if err := move(p, store.Disabled, now); err != nil {
			return nil, err
		}
	}
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return nil, err
	}
	if p.State == store.Disabled {
		if err := s.emit(ctx, tx, *p, webhook.EventFailed); err != nil {
			return nil, err
		}
	}
	return &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgCodeOrPin, TriesRemaining: fmt.Sprint(max(0, s.cfg.MaxOTPTries-p.OTPTries))}, nil
}

// captureEntry moves a payment's hold to the merchant and the fee to the
// platform, all on the payment's shard.
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
	if err := move(p, store.Completed, now); err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	return s.completed(ctx, tx, *p)
}

// capture posts a confirmed wallet payment's capture entry and marks it
// completed: Post and then markCompleted, with the posting and the
// payment's compare-and-set in one statement where the store allows. Most
// merchants have no webhook endpoint, so the capture is first tried on
// that condition (PostAndUpdateUnhooked), which on PostgreSQL saves the
// statement that reads the endpoints; a merchant with endpoints takes the
// way that writes the event.
func (s *Service) capture(ctx context.Context, tx store.Tx, p *store.Payment, now time.Time) error {
	entry := captureEntry(*p)
	done := *p
	if err := move(&done, store.Completed, now); err != nil {
		return err
	}
	err := tx.PostAndUpdateUnhooked(ctx, entry, now, &done)
	hooked := errors.Is(err, store.ErrHooked)
	if hooked {
		err = tx.PostAndUpdate(ctx, entry, now, &done)
	}
	if err != nil {
		return err
	}
	*p = done
	if !hooked {
		return s.goLive(ctx, tx, *p) // no endpoint, so no event to write
	}
	return s.completed(ctx, tx, *p)
}

// completed follows a payment's completion: its webhook event, and live
// keys on the merchant's first completed test payment.
func (s *Service) completed(ctx context.Context, tx store.Tx, p store.Payment) error {
	if err := s.emit(ctx, tx, p, webhook.EventCompleted); err != nil {
		return err
	}
	return s.goLive(ctx, tx, p)
}

// goLive issues live keys on the merchant's first completed test payment.
func (s *Service) goLive(ctx context.Context, tx store.Tx, p store.Payment) error {
	if p.Book == ledger.Test {
		return s.id.IssueLiveKeys(ctx, tx, p.MerchantID)
	}
	return nil
}

var errNotFound = fault.NotFound()

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
		return t, fault.Wrap(err)
	}
	if s.overdue(t.Payment) {
		p, err := s.settle(ctx, t.Payment.ID)
		if err != nil {
			return t, fault.Wrap(err)
		}
		t.Payment = p
	}
	return t, nil
}

// findRecent is find for legacy confirm and verify, which try first the
// payment as this node last wrote it (recentPayments): they only act on
// it through a compare-and-set on its version.
func (s *Service) findRecent(ctx context.Context, scope store.Scope, token string) (Transaction, error) {
	if t, ok := s.recent.get(scope, token, s.now()); ok && !s.overdue(t.Payment) {
		return t, nil
	}
	return s.find(ctx, scope, token, false)
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
