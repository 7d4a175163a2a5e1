package payment

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// ePayment (KPG-2): the merchant's server initiates with its secret key,
// the payer pays on the hosted page (mobile and MPIN, then the OTP), and
// the merchant looks the payment up. Paying debits the wallet and
// credits the merchant (minus the fee) in one ledger entry.

// Default link lifetimes (docs/khalti.md §3.1): the sandbox sample shows 1800 s,
// production documents 60 minutes.
const (
	DefaultTestTTL = 30 * time.Minute
	DefaultLiveTTL = 60 * time.Minute
	MinTTL         = time.Minute
	MaxTTL         = 7 * 24 * time.Hour
)

// EPaymentInput is a decoded ePayment initiate request.
type EPaymentInput struct {
	ReturnURL         string
	WebsiteURL        string
	Amount            money.Paisa
	PurchaseOrderID   string
	PurchaseOrderName string
	// Breakdown holds the amount_breakdown amounts, nil when absent.
	Breakdown []money.Paisa
	// Details is kept as sent: customer_info, amount_breakdown,
	// product_details, modes, bank.
	Details map[string]any
	TTL     time.Duration // 0 means the book's default
	Extra   map[string]any
}

// InitiateEPayment creates an Initiated ePayment whose pidx the payer
// pays on the hosted page before ExpiresAt.
func (s *Service) InitiateEPayment(ctx context.Context, caller identity.Caller, in EPaymentInput) (store.Payment, error) {
	if in.Breakdown != nil {
		var sum money.Paisa
		for _, a := range in.Breakdown {
			sum += a // each is within ±money.Max, so a few cannot overflow
		}
		if sum != in.Amount {
			return store.Payment{}, fault.FieldError("amount", "Amount Breakdown mismatch.")
		}
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultTestTTL
		if caller.Book == ledger.Live {
			ttl = DefaultLiveTTL
		}
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return store.Payment{}, fault.FieldError("ttl", fmt.Sprintf("Ensure this value is between %d and %d seconds.", int(MinTTL.Seconds()), int(MaxTTL.Seconds())))
	}
	extra, err := json.Marshal(in.Extra)
	if err != nil {
		return store.Payment{}, fault.Internal(err)
	}
	details, err := json.Marshal(in.Details)
	if err != nil {
		return store.Payment{}, fault.Internal(err)
	}
	now := s.now()
	p := store.Payment{
		Idx: s.ids.NewAt(now), Token: s.ids.NewAt(now), FeeIdx: s.ids.New(),
		Book: caller.Book, MerchantID: caller.Merchant.ID, Kind: store.EPayment, State: store.Initiated,
		Amount: in.Amount, ProductIdentity: in.PurchaseOrderID, ProductName: in.PurchaseOrderName, ProductURL: in.WebsiteURL,
		Extra: extra, Details: details, PurchaseOrderID: in.PurchaseOrderID, PurchaseOrderName: in.PurchaseOrderName,
		ReturnURL: in.ReturnURL, WebsiteURL: in.WebsiteURL, ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
	}
	// Priced from the schedule resolved with the key: a refused amount
	// costs no transaction.
	if p.FeeAmount, err = s.checkAmount(ctx, caller, in.Amount); err != nil {
		return store.Payment{}, err
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error { return tx.CreatePayment(ctx, &p) })
	if err != nil {
		return store.Payment{}, fault.Wrap(err)
	}
	return p, nil
}

// PaymentURL is the payment_url of p on the host at publicURL (spec
// §4.3): the hosted page with pidx first (an old Android SDK matched
// "?pidx=" right after the path), then return_url and mode, which the
// newer SDKs read back.
func PaymentURL(publicURL string, p store.Payment) string {
	return strings.TrimRight(publicURL, "/") + "/?pidx=" + url.QueryEscape(p.Token) +
		"&return_url=" + url.QueryEscape(p.ReturnURL) + "&mode=wallet"
}

// LookupEPayment returns one of the caller's ePayments by pidx, settling
// an expired link first.
func (s *Service) LookupEPayment(ctx context.Context, caller identity.Caller, pidx string) (Transaction, error) {
	t, err := s.find(ctx, caller.Scope(), pidx, false)
	if err != nil {
		return Transaction{}, err
	}
	if t.Payment.Kind != store.EPayment {
		return Transaction{}, errNotFound
	}
	return t, nil
}

// EPaymentForPage finds an ePayment for the hosted page, where the pidx
// itself is the credential, settling an expired link first.
func (s *Service) EPaymentForPage(ctx context.Context, pidx string) (Transaction, error) {
	if !ids.Valid(pidx) {
		return Transaction{}, fault.NotFound()
	}
	var t Transaction
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := tx.PaymentByPidx(ctx, pidx)
		if err != nil {
			return err
		}
		t, err = s.parties(ctx, tx, p)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return t, fault.NotFound()
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

// payable refuses a payment the page can no longer act on.
func payable(p store.Payment) error {
	switch p.State {
	case store.Initiated:
		return nil
	case store.Completed, store.PartiallyRefunded, store.Refunded:
		return fault.DetailError("This payment is already paid.")
	case store.Expired:
		return fault.DetailError("This payment link has expired.")
	case store.UserCanceled:
		return fault.DetailError("This payment was canceled.")
	case store.Pending:
		return fault.DetailError("This payment is already paid and is being processed.")
	}
	return fault.DetailError("This payment can no longer be paid.")
}

// MsgSignInFirst refuses a code, or a request for a new one, on a
// payment nobody has signed in to pay.
const MsgSignInFirst = "Sign in with your mobile number and MPIN first."

// MsgOtherBrowser refuses a hosted page's post from a browser other than
// the one paying.
const MsgOtherBrowser = "This payment is being paid in another browser. If that was not you, wait a few minutes and sign in again here."

// BoundElsewhere reports whether p is being paid in a browser other than
// browser: another browser signed in to pay it, and the code it was sent
// is still fresh. Until the code expires only that browser may enter it,
// cancel, or sign in again, so a stranger who knows the pidx can neither
// spend the payer's code tries nor take the payment over.
func BoundElsewhere(p store.Payment, browser string, now time.Time) bool {
	return p.Browser != "" && p.Browser != browser && p.ConsumerID != 0 && now.Before(p.OTPExpiresAt)
}

// StartEPayment signs the payer in on the hosted page: it checks the
// mobile and MPIN (with the legacy lock rules) and the balance, sends the
// confirmation code, and binds the payment and the code to browser (an
// opaque id of the browser signing in) while the code is fresh.
func (s *Service) StartEPayment(ctx context.Context, pidx, mobile, mpin, browser string) (Transaction, error) {
	t, err := s.EPaymentForPage(ctx, pidx)
	if err != nil {
		return t, err
	}
	if err := payable(t.Payment); err != nil {
		return t, err
	}
	code := s.cfg.TestOTP
	if t.Payment.Book == ledger.Live {
		code = s.ids.Digits(6)
	}
	via := "the payment page of " + t.Merchant.Name
	scope := "merchant:" + strconv.FormatInt(t.Payment.MerchantID, 10) + ":" + string(t.Payment.Book)
	_, err = s.id.CheckPayer(ctx, identity.PayerCheck{Mobile: mobile, MPIN: mpin, Via: via, Scope: scope}, func(tx store.Tx, c store.Consumer, _ money.Paisa) error {
		if !c.Confirmed {
			return fault.DetailError(identity.MsgWalletNotActive)
		}
		p, err := tx.PaymentByID(ctx, t.Payment.ID)
		if err != nil {
			return err
		}
		if err := payable(p); err != nil {
			return err
		}
		if BoundElsewhere(p, browser, s.now()) {
			return fault.DetailError(MsgOtherBrowser)
		}
		if c.Mobile == t.Merchant.Mobile {
			return fault.FieldError("mobile", "A merchant cannot pay itself.")
		}
		bal, err := tx.Balance(ctx, account(p.Book, ledger.Wallet, c.ID))
		if err != nil {
			return err
		}
		if bal < p.Amount {
			return fault.DetailError("Insufficient balance in the wallet.")
		}
		now := s.now()
		p.ConsumerID, p.OTPTries, p.UpdatedAt, p.Browser = c.ID, 0, now, browser
		p.OTPHash, p.OTPExpiresAt = s.otpHash(p.Token, code, browser), now.Add(s.cfg.OTPLifetime)
		if err := tx.UpdatePayment(ctx, &p); err != nil {
			return err
		}
		t.Payment, t.Consumer = p, c
		return nil
	})
	if err != nil {
		return t, err
	}
	if t.Payment.Book == ledger.Live {
		if err := s.notifier.SendOTP(ctx, mobile, code, t.Payment.Amount, t.Merchant.Name); err != nil {
			s.log.ErrorContext(ctx, "sending confirmation code", "err", err)
		}
	}
	return t, nil
}

// CompleteEPayment checks the confirmation code and pays: wallet to
// merchant and fee in one ledger entry. Only the browser that signed in
// with the MPIN may enter the code, and the code is bound to it, so the
// MPIN is not asked again (docs/identity.md, "The hosted page").
// Repeating a successful completion returns the paid payment again, so a
// double submit or a second tab never charges twice.
func (s *Service) CompleteEPayment(ctx context.Context, pidx, code, browser string) (Transaction, error) {
	t, err := s.EPaymentForPage(ctx, pidx)
	if err != nil {
		return t, err
	}
	scope := "merchant:" + strconv.FormatInt(t.Payment.MerchantID, 10) + ":" + string(t.Payment.Book)
	if err := s.id.AllowGuess(ctx, scope); err != nil {
		return t, err
	}
	var refusal error
	err = store.Retry(ctx, func() error {
		refusal = nil
		return s.store.InTx(ctx, func(tx store.Tx) error {
			p, err := tx.PaymentByID(ctx, t.Payment.ID)
			if err != nil {
				return err
			}
			codeOK := p.OTPHash != "" && subtle.ConstantTimeCompare([]byte(p.OTPHash), []byte(s.otpHash(p.Token, code, browser))) == 1
			// A repeat of a completion that paid, held or (sandbox) failed.
			if codeOK && (captured(p.State) || p.State == store.Pending || p.State == store.Failed) {
				t.Payment = p
				return nil
			}
			if err := payable(p); err != nil {
				return err
			}
			if p.ConsumerID == 0 {
				return fault.DetailError(MsgSignInFirst)
			}
			if p.Browser != "" && p.Browser != browser { // before a try is counted
				return fault.DetailError(MsgOtherBrowser)
			}
			now := s.now()
			if !codeOK {
				refusal, err = s.wrongCode(ctx, tx, &p, now)
				return err
			}
			if now.After(p.OTPExpiresAt) {
				return fault.FieldError("confirmation_code", "Confirmation code has expired.")
			}
			sc, err := s.paymentScenario(ctx, tx, p)
			if err != nil {
				return err
			}
			switch sc {
			case ScenarioFailMobile: // the payment fails; no money moves
				err = s.fail(ctx, tx, &p, now)
			case ScenarioPendingMobile: // held now, completed after the delay
				if err = move(&p, store.Pending, now); err == nil {
					err = tx.PostAndUpdate(ctx, holdEntry(p, "authorise"), now, &p)
				}
			default:
				err = tx.Post(ctx, payEntry(p), now)
				if err == nil {
					err = s.markCompleted(ctx, tx, &p, now)
				}
			}
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
		return t, fault.Wrap(err)
	}
	if refusal != nil {
		if fault.AsError(refusal).TriesRemaining != "" { // a wrong code, counted
			s.id.ChargeGuess(ctx, scope)
		}
		return t, refusal
	}
	return s.EPaymentForPage(ctx, pidx)
}

// ResendInterval is how long the hosted page's payer waits between two
// codes for one payment, so "send the code again" cannot flood a phone.
const ResendInterval = 30 * time.Second

// ResendEPaymentCode is the hosted page's "Send the code again": a new
// confirmation code for the payer who signed in to pay pidx in browser,
// sent the way sign-in sends one, replacing the old one. It needs no
// MPIN: only the browser that signed in with it may ask, and only while
// its code is fresh (after that the payer signs in again, which checks
// the MPIN). The wrong codes already entered stay counted, so asking
// again never buys more tries; a code sent less than ResendInterval ago
// is not sent again (identity.Throttled).
func (s *Service) ResendEPaymentCode(ctx context.Context, pidx, browser string) (Transaction, error) {
	t, err := s.EPaymentForPage(ctx, pidx)
	if err != nil {
		return t, err
	}
	code := s.cfg.TestOTP
	if t.Payment.Book == ledger.Live {
		code = s.ids.Digits(6)
	}
	err = store.Retry(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Tx) error {
			p, err := tx.PaymentByID(ctx, t.Payment.ID)
			if err != nil {
				return err
			}
			if err := payable(p); err != nil {
				return err
			}
			if p.ConsumerID == 0 {
				return fault.DetailError(MsgSignInFirst)
			}
			if p.Browser != browser {
				return fault.DetailError(MsgOtherBrowser)
			}
			now := s.now()
			if !now.Before(p.OTPExpiresAt) {
				return fault.FieldError("confirmation_code", "Confirmation code has expired.")
			}
			if wait := p.OTPExpiresAt.Add(-s.cfg.OTPLifetime).Add(ResendInterval).Sub(now); wait > 0 {
				return identity.Throttled(wait)
			}
			c, err := tx.Consumer(ctx, p.ConsumerID)
			if err != nil {
				return err
			}
			p.OTPHash, p.OTPExpiresAt, p.UpdatedAt = s.otpHash(p.Token, code, browser), now.Add(s.cfg.OTPLifetime), now
			if err := tx.UpdatePayment(ctx, &p); err != nil {
				return err
			}
			t.Payment, t.Consumer = p, c
			return nil
		})
	})
	if err != nil {
		return t, fault.Wrap(err)
	}
	if t.Payment.Book == ledger.Live {
		if err := s.notifier.SendOTP(ctx, t.Consumer.Mobile, code, t.Payment.Amount, t.Merchant.Name); err != nil {
			s.log.ErrorContext(ctx, "sending confirmation code", "err", err)
		}
	}
	return t, nil
}

// payEntry moves an ePayment from the payer's wallet straight to the
// merchant and the fee, on the payment's shard: there is no hold, since
// the payer's own action completes it.
func payEntry(p store.Payment) ledger.Entry {
	shard := ledger.ShardOf(p.ID)
	e := ledger.Entry{Book: p.Book, Reason: "capture", PaymentID: p.ID, Postings: []ledger.Posting{
		{Account: account(p.Book, ledger.Wallet, p.ConsumerID), Amount: -p.Amount},
	}}
	if net := p.Amount - p.FeeAmount; net > 0 {
		e.Postings = append(e.Postings, ledger.Posting{Account: account(p.Book, ledger.Merchant, p.MerchantID).WithShard(shard), Amount: net})
	}
	if p.FeeAmount > 0 {
		e.Postings = append(e.Postings, ledger.Posting{Account: account(p.Book, ledger.Fees, 0).WithShard(shard), Amount: p.FeeAmount})
	}
	return e
}

// holdEntry moves p's amount from the payer's wallet to holds, on the
// payment's shard, as a legacy confirm does.
func holdEntry(p store.Payment, reason string) ledger.Entry {
	return ledger.Transfer(p.Book, reason, p.ID,
		account(p.Book, ledger.Wallet, p.ConsumerID), account(p.Book, ledger.Holds, 0).WithShard(ledger.ShardOf(p.ID)), p.Amount)
}

// paymentScenario is the sandbox scenario p's payer follows, if any.
func (s *Service) paymentScenario(ctx context.Context, tx store.Tx, p store.Payment) (string, error) {
	if p.Book != ledger.Test || p.ConsumerID == 0 {
		return "", nil
	}
	c, err := tx.Consumer(ctx, p.ConsumerID)
	if err != nil {
		return "", err
	}
	return scenario(p.Book, c.Mobile), nil
}

// CancelEPayment is the page's Cancel button: an unpaid payment becomes
// User canceled, unless another browser is paying it (BoundElsewhere).
// Canceling a canceled payment is harmless.
func (s *Service) CancelEPayment(ctx context.Context, pidx, browser string) (Transaction, error) {
	t, err := s.EPaymentForPage(ctx, pidx)
	if err != nil {
		return t, err
	}
	err = store.Retry(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Tx) error {
			p, err := tx.PaymentByID(ctx, t.Payment.ID)
			if err != nil {
				return err
			}
			if p.State == store.UserCanceled {
				t.Payment = p
				return nil
			}
			if err := payable(p); err != nil {
				return err
			}
			if BoundElsewhere(p, browser, s.now()) {
				return fault.DetailError(MsgOtherBrowser)
			}
			if err := move(&p, store.UserCanceled, s.now()); err != nil {
				return err
			}
			if err := tx.UpdatePayment(ctx, &p); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, p, webhook.EventCanceled); err != nil {
				return err
			}
			t.Payment = p
			return nil
		})
	})
	return t, fault.Wrap(err)
}

func captured(st store.State) bool {
	return st == store.Completed || st == store.PartiallyRefunded || st == store.Refunded
}
