package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Consumer sign-up and wallet pages (issue 6, hardened in issue 11): a
// consumer signs up with mobile, name and MPIN, confirms the phone with a
// code (codes.go), signs in with mobile and MPIN (the wallet's lock rules
// apply: guesses.go), and resets the MPIN with a code sent to the phone.
// The wallet page shows the owner's notices (locks, MPIN changes,
// sign-ups and resets asked for with the number), never a code: a web
// session is not the phone.
const (
	noticesKept  = 30 * 24 * time.Hour
	noticesShown = 20
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
			notice = fmt.Sprintf(noticeSignUpAttempt, nepal.Minute(s.now()))
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
	return s.confirmPhone(ctx, challenge, code, "consumer:", func(tx store.Tx) func(context.Context, int64) error { return tx.ConfirmConsumer },
		consumerSessions())
}

// ConsumerLogin checks a wallet's mobile and MPIN with the payment rules
// (wrong MPINs lock it: guesses.go) and starts a wallet-page session in the
// transaction that accepted the MPIN. A wallet whose phone is not
// confirmed yet gets a new code instead.
func (s *Service) ConsumerLogin(ctx context.Context, mobile, mpin string) (SignIn, error) {
	mobile = strings.TrimSpace(mobile)
	var in SignIn
	var code pendingCode
	_, err := s.CheckPayer(ctx, PayerCheck{Mobile: mobile, MPIN: mpin, Via: "the wallet log-in"}, func(tx store.Tx, c store.Consumer, _ money.Paisa) error {
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
		notice = fmt.Sprintf(noticeResetAsked, nepal.Minute(s.now()), fromClient(ctx))
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
		mobile, notice = c.Mobile, fmt.Sprintf(noticeMPINChanged, nepal.Minute(s.now()), fromClient(ctx))
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

// Notices returns the newest notices to the wallet's owner, read in tx:
// what its page shows.
func (s *Service) Notices(ctx context.Context, tx store.Tx, consumerID int64) ([]store.ConsumerNotice, error) {
	return tx.ConsumerNotices(ctx, consumerID, s.now().Add(-noticesKept), noticesShown)
}

// LockText says how c's wallet is locked now, or "" if it is not.
func (s *Service) LockText(c store.Consumer) string {
	switch {
	case c.Locked:
		return "locked for payments until the MPIN is reset"
	case s.mpinPolicy().Locked(consumerGuard(c), s.now()):
		return "locked for payments after wrong MPINs until " + nepal.Minute(c.MPINLockedUntil) + " (Nepal time)"
	}
	return ""
}

// CreateConsumer creates a wallet holder for actor. It is audited
// (wallet.create).
func (s *Service) CreateConsumer(ctx context.Context, actor Actor, mobile, name, mpin string) (store.Consumer, error) {
	c, err := s.newConsumer(mobile, name, mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	err = s.OperatorAction(ctx, actor, AuditCreateConsumer, func(tx store.Tx) (AuditRecord, error) {
		return AuditRecord{Subject: c.Mobile, Detail: c.Idx + ", " + c.Name}, insertConsumer(ctx, tx, &c)
	})
	return c, err
}

// ProvisionConsumer is CreateConsumer where no operator acts (a wallet's own
// sign-up, the sandbox seed), so nothing is audited.
func (s *Service) ProvisionConsumer(ctx context.Context, mobile, name, mpin string) (store.Consumer, error) {
	c, err := s.newConsumer(mobile, name, mpin)
	if err != nil {
		return store.Consumer{}, err
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error { return insertConsumer(ctx, tx, &c) })
	return c, fault.Wrap(err)
}

// newConsumer checks a new wallet's details and returns the consumer to
// insert, its MPIN hashed.
func (s *Service) newConsumer(mobile, name, mpin string) (store.Consumer, error) {
	fields := map[string][]string{}
	if !phone.Valid(mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if !ValidMPIN(mpin) {
		fields["mpin"] = []string{"Khalti PIN must be 4 digits long."}
	}
	if strings.TrimSpace(name) == "" {
		fields["name"] = []string{fault.MsgBlank}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Consumer{}, err
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return store.Consumer{}, fault.Internal(err)
	}
	// An operator vouches for the wallets it makes (and the sandbox for its
	// payers): they count as confirmed.
	return store.Consumer{Idx: s.ids.New(), Mobile: mobile, Name: strings.TrimSpace(name), MPINHash: hash, Confirmed: true, CreatedAt: s.now()}, nil
}

// insertConsumer stores c, setting its ID, and forgets the wrong MPINs
// counted for its number before it had a wallet.
func insertConsumer(ctx context.Context, tx store.Tx, c *store.Consumer) error {
	err := tx.CreateConsumer(ctx, c)
	if errors.Is(err, store.ErrDuplicate) {
		return fault.FieldError("mobile", "A wallet with this mobile number already exists.")
	}
	if err != nil {
		return err
	}
	return tx.DeleteMPINGuard(ctx, c.Mobile)
}

// ResetMPIN sets a new MPIN and unlocks the wallet, for actor. It is
// audited (wallet.reset_mpin, with the lock and wrong-MPIN count it
// cleared; never the MPIN).
func (s *Service) ResetMPIN(ctx context.Context, actor Actor, mobile, mpin string) error {
	hash, err := s.newMPINHash(mpin)
	if err != nil {
		return err
	}
	return s.OperatorAction(ctx, actor, AuditResetMPIN, func(tx store.Tx) (AuditRecord, error) {
		c, err := s.setMPIN(ctx, tx, mobile, hash)
		return AuditRecord{Subject: mobile, Detail: fmt.Sprintf("was locked: %t, wrong MPINs: %d", c.Locked, c.FailedMPIN)}, err
	})
}

// resetMPIN is ResetMPIN for the wallet's owner (after a reset code),
// which is not an operator action, so nothing is audited.
func (s *Service) resetMPIN(ctx context.Context, mobile, mpin string) error {
	hash, err := s.newMPINHash(mpin)
	if err != nil {
		return err
	}
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := s.setMPIN(ctx, tx, mobile, hash)
		return err
	}))
}

// newMPINHash checks a new MPIN and hashes it.
func (s *Service) newMPINHash(mpin string) (string, error) {
	if !ValidMPIN(mpin) {
		return "", fault.FieldError("mpin", "Khalti PIN must be 4 digits long.")
	}
	hash, err := s.hashMPIN(mpin)
	if err != nil {
		return "", fault.Internal(err)
	}
	return hash, nil
}

// setMPIN gives the wallet of mobile the MPIN hash and unlocks it in tx,
// returning the wallet as it was.
func (s *Service) setMPIN(ctx context.Context, tx store.Tx, mobile, hash string) (store.Consumer, error) {
	c, err := tx.ConsumerByMobile(ctx, mobile)
	if errors.Is(err, store.ErrNotFound) {
		return c, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
	}
	if err != nil {
		return c, err
	}
	return c, tx.ResetConsumerSecurity(ctx, c.ID, hash, false)
}

// HoldLocked locks the wallet of mobile until its MPIN is reset, unless
// it is already: the sandbox's locked scenario payer, locked again at
// every start. It is setup, not an operator action, and is not audited.
func (s *Service) HoldLocked(ctx context.Context, mobile string) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if err != nil || c.Locked {
			return err
		}
		return tx.ResetConsumerSecurity(ctx, c.ID, c.MPINHash, true)
	}))
}
