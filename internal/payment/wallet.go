package payment

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// Consumer sign-up and wallet pages (issue 6): a consumer signs up with
// mobile, name and MPIN, confirms the phone with a code, signs in with
// mobile and MPIN (the wallet's lock rules apply), and resets the MPIN
// with a fresh code. Codes the notifier delivers are kept for an hour as
// the sandbox's OTP inbox, since no SMS gateway is reachable.
const (
	InboxTTL          = time.Hour
	PurposeConfirm    = "confirm phone"
	PurposeResetMPIN  = "reset MPIN"
	walletHistorySize = 50
)

// Wallet messages.
const (
	MsgMPINMismatch = "The two MPINs do not match."
	MsgNoWallet     = "No wallet with this mobile number can take a code."
)

// ErrConsumerNotConfirmed is returned by ConsumerLogin for the right MPIN
// of a wallet whose phone is not confirmed yet; a new code has been sent.
var ErrConsumerNotConfirmed = &Error{Kind: KindConflict, Detail: "Confirm your phone first: we sent a new code to it."}

// inboxNotifier keeps every code it delivers to a consumer in the OTP
// inbox (consumer_codes), then passes it on.
type inboxNotifier struct {
	next  Notifier
	store store.Store
	now   func() time.Time
	log   interface {
		WarnContext(ctx context.Context, msg string, args ...any)
	}
}

func (n inboxNotifier) keep(ctx context.Context, mobile, purpose, code string) {
	now := n.now()
	err := n.store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if errors.Is(err, store.ErrNotFound) {
			return nil // a merchant's phone, or an unknown payer
		}
		if err != nil {
			return err
		}
		if err := tx.PurgeConsumerCodes(ctx, now.Add(-InboxTTL)); err != nil {
			return err
		}
		return tx.AddConsumerCode(ctx, store.ConsumerCode{ConsumerID: c.ID, Purpose: purpose, Code: code, CreatedAt: now})
	})
	if err != nil {
		n.log.WarnContext(ctx, "keeping a code in the OTP inbox failed", "err", err)
	}
}

func (n inboxNotifier) SendOTP(ctx context.Context, mobile, code string, amount money.Paisa, merchant string) error {
	if err := n.next.SendOTP(ctx, mobile, code, amount, merchant); err != nil {
		return err
	}
	n.keep(ctx, mobile, "payment of Rs "+amount.String()+" to "+merchant, code)
	return nil
}

func (n inboxNotifier) SendCode(ctx context.Context, mobile, code, purpose string) error {
	if cs, ok := n.next.(CodeSender); ok {
		if err := cs.SendCode(ctx, mobile, code, purpose); err != nil {
			return err
		}
	} else if l, ok := n.log.(interface {
		InfoContext(ctx context.Context, msg string, args ...any)
	}); ok {
		l.InfoContext(ctx, "account code", "mobile", mobile, "code", code, "purpose", purpose)
	}
	n.keep(ctx, mobile, purpose, code)
	return nil
}

// SignUpConsumer creates a wallet from the web sign-up and sends a code
// to confirm its phone; it may sign in once the code is confirmed.
func (s *Service) SignUpConsumer(ctx context.Context, mobile, name, mpin, mpin2 string) (store.Consumer, error) {
	mobile = strings.TrimSpace(mobile)
	if utf8.RuneCountInString(strings.TrimSpace(name)) > maxNameLen {
		return store.Consumer{}, FieldError("name", "Ensure this field has no more than 100 characters.")
	}
	if msg := textProblem("Full name", strings.TrimSpace(name)); msg != "" {
		return store.Consumer{}, FieldError("name", msg)
	}
	if ValidMPIN(mpin) && mpin != mpin2 {
		return store.Consumer{}, FieldError("mpin2", MsgMPINMismatch)
	}
	c, err := s.createConsumer(ctx, mobile, name, mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	if err := s.sendConsumerCode(ctx, c, PurposeConfirm, false); err != nil {
		return store.Consumer{}, err
	}
	return c, nil
}

func (s *Service) consumerCodeHash(c store.Consumer, purpose, code string) string {
	return s.mac("consumer-code", c.Idx, c.Mobile, purpose, code)
}

// sendConsumerCode stores a new code for purpose on c (keeping confirmed
// as the phone state) and sends it.
func (s *Service) sendConsumerCode(ctx context.Context, c store.Consumer, purpose string, confirmed bool) error {
	code := s.ids.Digits(6)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		return tx.SetConsumerAccount(ctx, c.ID, store.Account{PhoneConfirmed: confirmed,
			CodeHash: s.consumerCodeHash(c, purpose, code), CodeExpiresAt: s.now().Add(PhoneCodeTTL)})
	})
	if err != nil {
		return s.wrap(err)
	}
	if cs, ok := s.notifier.(CodeSender); ok {
		err = cs.SendCode(ctx, c.Mobile, code, purpose)
	} else {
		s.log.InfoContext(ctx, "account code", "mobile", c.Mobile, "code", code, "purpose", purpose)
	}
	if err != nil {
		return Internal(err)
	}
	return nil
}

// checkConsumerCode checks a code for purpose; on success it clears the
// code and, if confirm, marks the phone confirmed. Wrong codes count.
func (s *Service) checkConsumerCode(ctx context.Context, mobile, purpose, code string, confirm bool) (store.Consumer, error) {
	mobile = strings.TrimSpace(mobile)
	if !ValidMobile(mobile) {
		return store.Consumer{}, DetailError(MsgCodeExpired)
	}
	var c store.Consumer
	var refused *Error
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		refused = nil
		var err error
		if c, err = tx.ConsumerByMobile(ctx, mobile); errors.Is(err, store.ErrNotFound) {
			refused = DetailError(MsgCodeExpired)
			return nil
		} else if err != nil {
			return err
		}
		if err := tx.LockKey(ctx, "consumer-code:"+strconv.FormatInt(c.ID, 10)); err != nil {
			return err
		}
		a, err := tx.ConsumerAccount(ctx, c.ID)
		if err != nil {
			return err
		}
		switch {
		case confirm && a.PhoneConfirmed:
			return nil
		case a.CodeHash == "" || !s.now().Before(a.CodeExpiresAt) || a.CodeTries >= MaxPhoneTries:
			refused = DetailError(MsgCodeExpired)
			return nil
		case subtle.ConstantTimeCompare([]byte(a.CodeHash), []byte(s.consumerCodeHash(c, purpose, strings.TrimSpace(code)))) != 1:
			a.CodeTries++
			refused = DetailError(MsgCodeWrong)
			if a.CodeTries >= MaxPhoneTries {
				refused = DetailError(MsgCodeExpired)
			}
			return tx.SetConsumerAccount(ctx, c.ID, a)
		}
		return tx.SetConsumerAccount(ctx, c.ID, store.Account{PhoneConfirmed: a.PhoneConfirmed || confirm})
	})
	if err != nil {
		return store.Consumer{}, s.wrap(err)
	}
	if refused != nil {
		return store.Consumer{}, refused
	}
	return c, nil
}

// ConfirmConsumerPhone checks the sign-up code of the wallet with mobile.
func (s *Service) ConfirmConsumerPhone(ctx context.Context, mobile, code string) (store.Consumer, error) {
	return s.checkConsumerCode(ctx, mobile, PurposeConfirm, code, true)
}

// ConsumerLogin checks a wallet's mobile and MPIN with the payment rules
// (MaxMPINTries wrong in a row lock the wallet until its MPIN is reset).
// An unconfirmed phone gets a new code and ErrConsumerNotConfirmed.
func (s *Service) ConsumerLogin(ctx context.Context, mobile, mpin string) (store.Consumer, error) {
	c, err := s.payerPIN(ctx, strings.TrimSpace(mobile), mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	now := s.now()
	var a store.Account
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.PurgeConsumerSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		var err error
		a, err = tx.ConsumerAccount(ctx, c.ID)
		return err
	})
	if err != nil {
		return store.Consumer{}, s.wrap(err)
	}
	if !a.PhoneConfirmed {
		if err := s.sendConsumerCode(ctx, c, PurposeConfirm, false); err != nil {
			return store.Consumer{}, err
		}
		return c, ErrConsumerNotConfirmed
	}
	return c, nil
}

// SendMPINResetCode sends a fresh code to a confirmed wallet's phone for
// resetting its MPIN. An unknown or unconfirmed mobile is refused.
func (s *Service) SendMPINResetCode(ctx context.Context, mobile string) error {
	mobile = strings.TrimSpace(mobile)
	if !ValidMobile(mobile) {
		return FieldError("mobile", "Enter a valid mobile number.")
	}
	var c store.Consumer
	var a store.Account
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if c, err = tx.ConsumerByMobile(ctx, mobile); err != nil {
			return err
		}
		a, err = tx.ConsumerAccount(ctx, c.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.PhoneConfirmed) {
		return DetailError(MsgNoWallet)
	}
	if err != nil {
		return s.wrap(err)
	}
	return s.sendConsumerCode(ctx, c, PurposeResetMPIN, true)
}

// ResetMPINWithCode checks a reset code, sets the new MPIN (which unlocks
// the wallet) and ends the wallet's sessions but keep (a session id).
func (s *Service) ResetMPINWithCode(ctx context.Context, mobile, code, mpin, mpin2, keep string) error {
	if !ValidMPIN(mpin) {
		return FieldError("mpin", "Khalti PIN must be 4 digits long.")
	}
	if mpin != mpin2 {
		return FieldError("mpin2", MsgMPINMismatch)
	}
	c, err := s.checkConsumerCode(ctx, mobile, PurposeResetMPIN, code, false)
	if err != nil {
		return err
	}
	if err := s.resetMPIN(ctx, c.Mobile, mpin); err != nil {
		return err
	}
	return s.wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteConsumerSessions(ctx, c.ID, sessionHash(keep))
		return err
	}))
}

// NewConsumerSession starts a wallet-page session and returns its id.
func (s *Service) NewConsumerSession(ctx context.Context, consumerID int64) (string, error) {
	return s.startSession(ctx, consumerSessions(), consumerID)
}

// SessionConsumer returns the consumer signed in with session id, with
// the same idle and lifetime limits as merchant sessions.
func (s *Service) SessionConsumer(ctx context.Context, id string) (store.Consumer, error) {
	owner, err := s.resumeSession(ctx, consumerSessions(), id)
	if err != nil {
		return store.Consumer{}, err
	}
	var c store.Consumer
	err = s.store.View(ctx, func(tx store.Tx) error {
		c, err = tx.Consumer(ctx, owner)
		return err
	})
	return c, s.wrap(err)
}

// ConsumerLogout ends one wallet-page session.
func (s *Service) ConsumerLogout(ctx context.Context, id string) error {
	return s.endSession(ctx, consumerSessions(), id)
}

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
	Codes    []store.ConsumerCode // the OTP inbox, newest first
}

// Wallet returns a consumer's balances, recent payments (with refunds)
// and OTP inbox.
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
		info.Codes, err = tx.ConsumerCodes(ctx, consumerID, s.now().Add(-InboxTTL))
		return err
	})
	return info, s.wrap(err)
}
