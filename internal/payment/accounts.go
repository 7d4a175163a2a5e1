package payment

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Merchant accounts (issue 6): sign-up with a password, a one-time code
// that confirms the owner's phone, sign-in with a lockout counted in the
// database, and server-side dashboard sessions.
const (
	MinPasswordLen   = 10
	MaxPasswordLen   = 128
	PhoneCodeTTL     = 10 * time.Minute
	MaxPhoneTries    = 5
	LoginWindow      = 30 * time.Minute
	MaxLoginFailures = 10
	SessionIdle      = 12 * time.Hour
	SessionLifetime  = 7 * 24 * time.Hour
	sessionTouch     = time.Minute // last_seen_at is written at most this often
	maxNameLen       = 100
)

// Sign-in messages.
const (
	MsgBadLogin      = "The email or password is wrong."
	MsgLoginLocked   = "Too many failed sign-ins for this email. Try again in 30 minutes."
	MsgCodeWrong     = "The code is wrong."
	MsgCodeExpired   = "This code has expired or was entered wrongly too many times. Sign in to get a new one."
	MsgWrongPassword = "The current password is wrong."
)

// CodeSender is implemented by a Notifier that can also deliver account
// codes (phone confirmation). LogNotifier writes them to the log.
type CodeSender interface {
	SendCode(ctx context.Context, mobile, code, purpose string) error
}

// SendCode logs the code.
func (n LogNotifier) SendCode(ctx context.Context, mobile, code, purpose string) error {
	n.Log.InfoContext(ctx, "account code", "mobile", mobile, "code", code, "purpose", purpose)
	return nil
}

// SignUp describes a merchant signing up on the web.
type SignUp struct {
	Name     string
	Email    string
	Phone    string
	Password string
}

// SignUpMerchant creates a merchant with a password and test keys (the
// secret is returned only this once) and sends a code to its phone; it
// may sign in once the code is confirmed.
func (s *Service) SignUpMerchant(ctx context.Context, in SignUp) (store.Merchant, KeyPair, error) {
	fields := map[string][]string{}
	if utf8.RuneCountInString(strings.TrimSpace(in.Name)) > maxNameLen {
		fields["name"] = []string{"Ensure this field has no more than 100 characters."}
	} else if msg := textProblem("Business name", strings.TrimSpace(in.Name)); msg != "" {
		fields["name"] = []string{msg}
	}
	if !ValidMobile(strings.TrimSpace(in.Phone)) {
		fields["phone"] = []string{"Enter a valid mobile number."}
	}
	if msg := passwordProblem(in.Password); msg != "" {
		fields["password"] = []string{msg}
	}
	if len(in.Email) > 254 {
		fields["email"] = []string{"Enter a valid email address."}
	}
	if err := FieldErrors(fields); err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return store.Merchant{}, KeyPair{}, Internal(err)
	}
	m, kp, err := s.createMerchant(ctx, NewMerchant{Name: in.Name, Email: in.Email, Mobile: strings.TrimSpace(in.Phone), passwordHash: hash})
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	if err := s.sendPhoneCode(ctx, m); err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	return m, kp, nil
}

// textProblem checks one line of text typed into a form: it must be
// valid UTF-8 without control characters (NUL, escapes, line breaks),
// which no name needs and some databases refuse to store.
func textProblem(label, v string) string {
	switch {
	case !utf8.ValidString(v):
		return label + " is not valid text."
	case strings.ContainsFunc(v, unicode.IsControl):
		return label + " must not contain control characters."
	}
	return ""
}

func passwordProblem(pw string) string {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLen:
		return "The password must have at least 10 characters."
	case n > MaxPasswordLen:
		return "The password must have at most 128 characters."
	}
	return ""
}

// passwordInput is what bcrypt hashes: HMAC-SHA256 of the password under
// the server secret, base64. bcrypt reads only 72 bytes; the HMAC lets
// passwords be 128 characters long and adds a pepper the database lacks.
func (s *Service) passwordInput(pw string) []byte {
	return []byte(s.mac("password", pw)) // 64 hex digits
}

func (s *Service) hashPassword(pw string) (string, error) {
	cost := max(s.cfg.PasswordCost, bcrypt.MinCost)
	h, err := bcrypt.GenerateFromPassword(s.passwordInput(pw), cost)
	return string(h), err
}

// dummyHash is compared against when the email is unknown, so an unknown
// email takes as long as a wrong password.
func (s *Service) checkPassword(hash, pw string) bool {
	if hash == "" {
		s.dummyOnce.Do(func() { s.dummyHash, _ = s.hashPassword("no such account") })
		bcrypt.CompareHashAndPassword([]byte(s.dummyHash), s.passwordInput(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), s.passwordInput(pw)) == nil
}

func (s *Service) phoneCodeHash(m store.Merchant, code string) string {
	return s.mac("phone-code", m.Idx, m.Mobile, code)
}

// sendPhoneCode stores a new confirmation code for m's phone and sends it.
func (s *Service) sendPhoneCode(ctx context.Context, m store.Merchant) error {
	code := s.ids.Digits(6)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		return tx.SetMerchantAccount(ctx, m.ID, store.Account{CodeHash: s.phoneCodeHash(m, code), CodeExpiresAt: s.now().Add(PhoneCodeTTL)})
	})
	if err != nil {
		return s.wrap(err)
	}
	if cs, ok := s.notifier.(CodeSender); ok {
		err = cs.SendCode(ctx, m.Mobile, code, "confirm phone")
	} else {
		s.log.InfoContext(ctx, "account code", "mobile", m.Mobile, "code", code, "purpose", "confirm phone")
	}
	if err != nil {
		return Internal(err)
	}
	return nil
}

// ConfirmPhone checks the code sent to the phone of the merchant with
// email. The code allows MaxPhoneTries wrong tries; signing in again with
// the password sends a new one.
func (s *Service) ConfirmPhone(ctx context.Context, email, code string) (store.Merchant, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || textProblem("email", email) != "" {
		return store.Merchant{}, DetailError(MsgCodeExpired)
	}
	var m store.Merchant
	var refused *Error
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		refused = nil
		var err error
		if m, err = tx.MerchantByEmail(ctx, email); errors.Is(err, store.ErrNotFound) {
			refused = DetailError(MsgCodeExpired)
			return nil
		} else if err != nil {
			return err
		}
		if err := tx.LockKey(ctx, "merchant-code:"+strconv.FormatInt(m.ID, 10)); err != nil {
			return err
		}
		a, err := tx.MerchantAccount(ctx, m.ID)
		if err != nil {
			return err
		}
		switch {
		case a.PhoneConfirmed:
			return nil
		case a.CodeHash == "" || !s.now().Before(a.CodeExpiresAt) || a.CodeTries >= MaxPhoneTries:
			refused = DetailError(MsgCodeExpired)
			return nil
		case subtle.ConstantTimeCompare([]byte(a.CodeHash), []byte(s.phoneCodeHash(m, strings.TrimSpace(code)))) != 1:
			a.CodeTries++
			refused = DetailError(MsgCodeWrong)
			if a.CodeTries >= MaxPhoneTries {
				refused = DetailError(MsgCodeExpired)
			}
			return tx.SetMerchantAccount(ctx, m.ID, a)
		}
		return tx.SetMerchantAccount(ctx, m.ID, store.Account{PhoneConfirmed: true})
	})
	if err != nil {
		return store.Merchant{}, s.wrap(err)
	}
	if refused != nil {
		return store.Merchant{}, refused
	}
	return m, nil
}

// ErrPhoneNotConfirmed is returned by Login for the right password of an
// account whose phone is not confirmed yet; a new code has been sent.
var ErrPhoneNotConfirmed = &Error{Kind: KindConflict, Detail: "Confirm your phone first: we sent a new code to it."}

// Login checks a merchant's email and password. Every attempt first takes
// a failure slot (so concurrent guesses count too); after MaxLoginFailures
// within LoginWindow the email is locked until they age out, and success
// clears them.
func (s *Service) Login(ctx context.Context, email, password string) (store.Merchant, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > 4*MaxPasswordLen || textProblem("email", email) != "" {
		return store.Merchant{}, DetailError(MsgBadLogin)
	}
	now := s.now()
	var m store.Merchant
	var locked bool
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockKey(ctx, "login:"+email); err != nil {
			return err
		}
		n, err := tx.LoginFailures(ctx, email, now.Add(-LoginWindow))
		if err != nil {
			return err
		}
		if locked = n >= MaxLoginFailures; locked {
			return nil
		}
		if err := tx.ClearLoginFailures(ctx, email, now.Add(-LoginWindow)); err != nil {
			return err
		}
		if err := tx.AddLoginFailure(ctx, email, now); err != nil {
			return err
		}
		m, err = tx.MerchantByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			m, err = store.Merchant{}, nil
		}
		return err
	})
	if err != nil {
		return store.Merchant{}, s.wrap(err)
	}
	if locked {
		return store.Merchant{}, &Error{Kind: KindLocked, Detail: MsgLoginLocked}
	}
	if !s.checkPassword(m.PasswordHash, password) {
		return store.Merchant{}, DetailError(MsgBadLogin)
	}
	var confirmed bool
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ClearLoginFailures(ctx, email, now.Add(time.Second)); err != nil {
			return err
		}
		if _, err := tx.PurgeSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		a, err := tx.MerchantAccount(ctx, m.ID)
		confirmed = a.PhoneConfirmed
		return err
	})
	if err != nil {
		return store.Merchant{}, s.wrap(err)
	}
	if !confirmed {
		if err := s.sendPhoneCode(ctx, m); err != nil {
			return store.Merchant{}, err
		}
		return m, ErrPhoneNotConfirmed
	}
	return m, nil
}

// sessionHash is how a session id is stored.
func sessionHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// NewSession starts a dashboard session for the merchant and returns its
// id for the cookie.
func (s *Service) NewSession(ctx context.Context, merchantID int64) (string, error) {
	return s.startSession(ctx, merchantSessions(), merchantID)
}

// SessionMerchant returns the merchant signed in with session id. An
// unknown, idle (SessionIdle) or too old (SessionLifetime) session is
// KindUnauthorized.
func (s *Service) SessionMerchant(ctx context.Context, id string) (store.Merchant, error) {
	owner, err := s.resumeSession(ctx, merchantSessions(), id)
	if err != nil {
		return store.Merchant{}, err
	}
	var m store.Merchant
	err = s.store.View(ctx, func(tx store.Tx) error {
		m, err = tx.Merchant(ctx, owner)
		return err
	})
	return m, s.wrap(err)
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, id string) error {
	return s.endSession(ctx, merchantSessions(), id)
}

// LogoutEverywhere ends every session of the merchant.
func (s *Service) LogoutEverywhere(ctx context.Context, merchantID int64) error {
	return s.wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteSessions(ctx, merchantID, "")
		return err
	}))
}

// ChangePassword sets a new password after checking the current one, and
// ends the merchant's other sessions (keep is the current session id).
func (s *Service) ChangePassword(ctx context.Context, merchantID int64, current, next, keep string) error {
	var m store.Merchant
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		m, err = tx.Merchant(ctx, merchantID)
		return err
	})
	if err != nil {
		return s.wrap(err)
	}
	if !s.checkPassword(m.PasswordHash, current) {
		return FieldError("current_password", MsgWrongPassword)
	}
	if msg := passwordProblem(next); msg != "" {
		return FieldError("new_password", msg)
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return Internal(err)
	}
	return s.wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.SetMerchantPassword(ctx, merchantID, hash); err != nil {
			return err
		}
		_, err := tx.DeleteSessions(ctx, merchantID, sessionHash(keep))
		return err
	}))
}

// CSRFToken is the token of the forms of session id: an HMAC of the id
// under the server secret.
func (s *Service) CSRFToken(id string) string {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("thaili dashboard csrf v1\x00"))
	mac.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// MerchantBooks lists the books a merchant's pages may choose: test, and
// live once live keys were issued (revoked or not). Unlike ShowMerchant it
// reveals nothing.
func (s *Service) MerchantBooks(ctx context.Context, merchantID int64) ([]ledger.Book, error) {
	books := []ledger.Book{ledger.Test}
	err := s.store.View(ctx, func(tx store.Tx) error {
		keys, err := tx.Keys(ctx, merchantID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.Book == ledger.Live {
				books = append(books, ledger.Live)
				break
			}
		}
		return nil
	})
	return books, s.wrap(err)
}
