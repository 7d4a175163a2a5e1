package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Consumer sign-up and wallet pages (issue 6, hardened in issue 11): a
// consumer signs up with mobile, name and MPIN, confirms the phone with a
// code (codes.go), signs in with mobile and MPIN (the wallet's lock rules
// apply: guess.go), and resets the MPIN with a code sent to the phone.
// The wallet page shows the owner's notices (locks, MPIN changes,
// sign-ups and resets asked for with the number), never a code: a web
// session is not the phone.
const (
	noticesKept       = 30 * 24 * time.Hour
	noticesShown      = 20
	walletHistorySize = 50
)

// Wallet messages.
const (
	MsgMPINMismatch     = "The two MPINs do not match."
	MsgWalletNotActive  = "This wallet is not active yet: its phone number is not confirmed. Log in on the wallet page to get a code."
	MsgSignUpExpired    = "This sign-up expired before its phone number was confirmed. Sign up again."
	noticeSignUpAttempt = "Someone asked to open a wallet with this number on %s. You already have one: if this was you, log in, or reset your MPIN if you forgot it. Nothing was changed."
	noticeResetAsked    = "A code to reset your MPIN was sent to this phone on %s%s. If this was not you, ignore it: your MPIN stays as it is."
	noticeMPINChanged   = "Your MPIN was changed on %s%s, and your other sessions were signed out. If this was not you, reset your MPIN now."
)

// SignUpConsumer opens a wallet from the web sign-up and sends a code to
// confirm its phone; the wallet may sign in and pay once it is confirmed.
// The answer is the same whether or not the number has a wallet: the
// MPIN is hashed either way, and a number with a confirmed or used wallet
// gets a decoy code and its owner a notice instead. An unconfirmed,
// unused sign-up with the number is replaced.
func (s *Service) SignUpConsumer(ctx context.Context, mobile, name, mpin, mpin2 string) (CodeSent, error) {
	mobile, name = strings.TrimSpace(mobile), strings.TrimSpace(name)
	fields := map[string][]string{}
	switch {
	case name == "":
		fields["name"] = []string{fault.MsgBlank}
	case utf8.RuneCountInString(name) > maxNameLen:
		fields["name"] = []string{"Ensure this field has no more than 100 characters."}
	default:
		if msg := textProblem("Full name", name); msg != "" {
			fields["name"] = []string{msg}
		}
	}
	if !phone.Valid(mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if !ValidMPIN(mpin) {
		fields["mpin"] = []string{"Khalti PIN must be 4 digits long."}
	} else if mpin != mpin2 {
		fields["mpin2"] = []string{MsgMPINMismatch}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return CodeSent{}, err
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return CodeSent{}, fault.Internal(err)
	}
	var code pendingCode
	var notice string
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		notice = ""
		var owner store.Consumer
		taken, err := s.freeSignUp(ctx, tx, func() (int64, bool, error) {
			var err error
			owner, err = tx.ConsumerByMobile(ctx, mobile)
			return owner.ID, owner.Confirmed, err
		}, tx.DeleteUnconfirmedConsumer)
		if err != nil {
			return err
		}
		if taken {
			notice = fmt.Sprintf(noticeSignUpAttempt, nepalTime(s.now()))
			if err := s.notify(ctx, tx, owner.ID, notice); err != nil {
				return err
			}
			code, err = s.newCode(ctx, tx, mobile, "", PurposeConfirm, "")
			return err
		}
		c := store.Consumer{Idx: s.ids.New(), Mobile: mobile, Name: name, MPINHash: hash, CreatedAt: s.now()}
		if err := tx.CreateConsumer(ctx, &c); err != nil {
			return err
		}
		if err := tx.DeleteMPINGuard(ctx, mobile); err != nil {
			return err
		}
		code, err = s.newCode(ctx, tx, mobile, store.CodeSubjectConsumer(c.ID), PurposeConfirm, mobile)
		return err
	})
	if err != nil {
		return CodeSent{}, fault.Wrap(err)
	}
	code.sent.To = phone.Mask(mobile)
	if notice != "" {
		s.sendNotice(ctx, mobile, notice)
	}
	return code.sent, s.send(ctx, code)
}

// ConfirmConsumerPhone checks the sign-up code sent for challenge and, in
// the transaction that uses it, confirms the wallet's phone and starts a
// wallet-page session, whose id it returns.
func (s *Service) ConfirmConsumerPhone(ctx context.Context, challenge, code string) (string, error) {
	var session string
	var refusal *fault.Error
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		session, refusal = "", nil
		subject, r, err := s.useCode(ctx, tx, challenge, PurposeConfirm, "consumer:", code)
		if err != nil || r != nil {
			refusal = r
			return err
		}
		id, _ := subjectID(subject)
		if err := tx.ConfirmConsumer(ctx, id); err != nil {
			return err
		}
		session, err = s.startSessionTx(ctx, tx, consumerSessions(), id)
		return err
	})
	if err != nil {
		return "", fault.Wrap(err)
	}
	if refusal != nil {
		return "", refusal
	}
	return session, nil
}

// ConsumerLogin checks a wallet's mobile and MPIN with the payment rules
// (wrong MPINs lock it: guess.go) and starts a wallet-page session in the
// transaction that accepted the MPIN. A wallet whose phone is not
// confirmed yet gets a new code instead.
func (s *Service) ConsumerLogin(ctx context.Context, mobile, mpin string) (SignIn, error) {
	mobile = strings.TrimSpace(mobile)
	var in SignIn
	var code pendingCode
	_, err := s.payerPIN(ctx, mobile, mpin, "the wallet log-in", "", func(tx store.Tx, c store.Consumer) error {
		in, code = SignIn{}, pendingCode{}
		now := s.now()
		if _, err := tx.PurgeConsumerSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		if c.Confirmed {
			var err error
			in.Session, err = s.startSessionTx(ctx, tx, consumerSessions(), c.ID)
			return err
		}
		if now.Sub(c.CreatedAt) > UnconfirmedTTL {
			return fault.DetailError(MsgSignUpExpired)
		}
		var err error
		code, err = s.newCode(ctx, tx, mobile, store.CodeSubjectConsumer(c.ID), PurposeConfirm, mobile)
		code.sent.To = phone.Mask(mobile)
		in.Code = &code.sent
		return err
	})
	if err != nil {
		return SignIn{}, err
	}
	if in.Code != nil {
		if err := s.send(ctx, code); err != nil {
			return SignIn{}, err
		}
	}
	return in, nil
}

// SendMPINResetCode sends a code for resetting the MPIN to a confirmed
// wallet's phone and tells its owner. The answer is the same for a
// number without a confirmed wallet, which gets a decoy code.
func (s *Service) SendMPINResetCode(ctx context.Context, mobile string) (CodeSent, error) {
	mobile = strings.TrimSpace(mobile)
	if !phone.Valid(mobile) {
		return CodeSent{}, fault.FieldError("mobile", "Enter a valid mobile number.")
	}
	var code pendingCode
	var notice string
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		notice = ""
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Confirmed) {
			code, err = s.newCode(ctx, tx, mobile, "", PurposeResetMPIN, "")
			return err
		}
		if err != nil {
			return err
		}
		notice = fmt.Sprintf(noticeResetAsked, nepalTime(s.now()), fromClient(ctx))
		if err := s.notify(ctx, tx, c.ID, notice); err != nil {
			return err
		}
		code, err = s.newCode(ctx, tx, mobile, store.CodeSubjectConsumer(c.ID), PurposeResetMPIN, mobile)
		return err
	})
	if err != nil {
		return CodeSent{}, fault.Wrap(err)
	}
	code.sent.To = phone.Mask(mobile)
	return code.sent, s.send(ctx, code)
}

// ResetMPINWithCode checks the reset code sent for challenge and, in the
// transaction that uses it, sets the new MPIN (which unlocks the wallet),
// ends the wallet's sessions but keep (a session id) and tells the owner.
func (s *Service) ResetMPINWithCode(ctx context.Context, challenge, code, mpin, mpin2, keep string) error {
	if !ValidMPIN(mpin) {
		return fault.FieldError("mpin", "Khalti PIN must be 4 digits long.")
	}
	if mpin != mpin2 {
		return fault.FieldError("mpin2", MsgMPINMismatch)
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return fault.Internal(err)
	}
	var refusal *fault.Error
	var mobile, notice string
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		refusal = nil
		subject, r, err := s.useCode(ctx, tx, challenge, PurposeResetMPIN, "consumer:", code)
		if err != nil || r != nil {
			refusal = r
			return err
		}
		id, _ := subjectID(subject)
		c, err := tx.Consumer(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.ResetConsumerSecurity(ctx, c.ID, hash, false); err != nil {
			return err
		}
		if _, err := tx.DeleteConsumerSessions(ctx, c.ID, sessionHash(keep)); err != nil {
			return err
		}
		mobile, notice = c.Mobile, fmt.Sprintf(noticeMPINChanged, nepalTime(s.now()), fromClient(ctx))
		return s.notify(ctx, tx, c.ID, notice)
	})
	if err != nil {
		return fault.Wrap(err)
	}
	if refusal != nil {
		return refusal
	}
	s.sendNotice(ctx, mobile, notice)
	return nil
}

// notify adds a notice to a wallet's page in tx (the sweeper forgets
// notices older than noticesKept).
func (s *Service) notify(ctx context.Context, tx store.Tx, consumerID int64, text string) error {
	return tx.AddConsumerNotice(ctx, store.ConsumerNotice{ConsumerID: consumerID, Text: text, CreatedAt: s.now()})
}

// sendNotice also sends a notice to the wallet's phone; a failure is
// logged, as the notice is on the wallet page anyway.
func (s *Service) sendNotice(ctx context.Context, mobile, text string) {
	if err := s.notifier.SendNotice(ctx, mobile, text); err != nil {
		s.log.ErrorContext(ctx, "sending a notice", "to", phone.Mask(mobile), "err", err)
	}
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
	return c, fault.Wrap(err)
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
		info.Lock = s.LockText(info.Consumer)
		info.Notices, err = tx.ConsumerNotices(ctx, consumerID, s.now().Add(-noticesKept), noticesShown)
		return err
	})
	return info, fault.Wrap(err)
}

// LockText says how c's wallet is locked now, or "" if it is not.
func (s *Service) LockText(c store.Consumer) string {
	switch {
	case c.Locked:
		return "locked for payments until the MPIN is reset"
	case s.mpinPolicy().Locked(consumerGuard(c), s.now()):
		return "locked for payments after wrong MPINs until " + nepalTime(c.MPINLockedUntil) + " (Nepal time)"
	}
	return ""
}
