package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Merchant accounts (issue 6, hardened in issue 11): sign-up with a
// password, a code that confirms the owner's phone (codes.go), sign-in
// with a lockout counted in the database, and server-side dashboard
// sessions. A session starts only in the transaction that checked the
// proof: the right password, or the right code, used there.
const (
	MinPasswordLen   = 10
	MaxPasswordLen   = 128
	LoginWindow      = 30 * time.Minute
	MaxLoginFailures = 10
	SessionIdle      = 12 * time.Hour
	SessionLifetime  = 7 * 24 * time.Hour
	// UnconfirmedTTL is how long a sign-up whose phone is not confirmed
	// keeps its email or mobile; then it is deleted (a new sign-up may
	// replace it before that).
	UnconfirmedTTL = 24 * time.Hour
	sessionTouch   = time.Minute // last_seen_at is written at most this often
	maxNameLen     = 100
)

// Sign-in messages.
const (
	MsgBadLogin      = "The email or password is wrong."
	MsgLoginLocked   = "Too many failed sign-ins for this email. Try again in 30 minutes."
	MsgWrongPassword = "The current password is wrong."
	MsgConfirmFirst  = "Confirm your phone first: we sent a new code to it."
)

// SignIn is what a step that can start a session gives: the new
// session's id for the cookie, or, for an account whose phone is not
// confirmed yet, the code sent to confirm it first.
type SignIn struct {
	Session string
	Code    *CodeSent
}

// SignUp describes a merchant signing up on the web.
type SignUp struct {
	Name     string
	Email    string
	Phone    string
	Password string
}

// SignUpMerchant signs a merchant up: it creates the merchant, with test
// keys kept sealed until the dashboard shows them once, and sends a code
// to the phone; the merchant may sign in once the code is confirmed.
//
// The answer is the same whether or not the email is taken, so sign-up
// cannot be used to learn who has an account: the password is hashed
// either way, and an email that belongs to a confirmed or used merchant
// gets a decoy code that nothing opens (the phone typed gets no code). An
// unconfirmed, unused sign-up with the email is replaced.
func (s *Service) SignUpMerchant(ctx context.Context, in SignUp) (CodeSent, error) {
	in.Name, in.Email, in.Phone = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email)), strings.TrimSpace(in.Phone)
	fields := merchantFields(in.Name, in.Email)
	if utf8.RuneCountInString(in.Name) > maxNameLen {
		fields["name"] = []string{"Ensure this field has no more than 100 characters."}
	} else if msg := textProblem("Business name", in.Name); msg != "" {
		fields["name"] = []string{msg}
	}
	if !phone.Valid(in.Phone) {
		fields["phone"] = []string{"Enter a valid mobile number."}
	}
	if msg := passwordProblem(in.Password); msg != "" {
		fields["password"] = []string{msg}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return CodeSent{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return CodeSent{}, fault.Internal(err)
	}
	kp := s.newKeyPair(ledger.Test)
	var code pendingCode
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		taken, err := s.freeSignUp(ctx, tx, func() (int64, bool, error) {
			m, err := tx.MerchantByEmail(ctx, in.Email)
			return m.ID, m.Confirmed, err
		}, tx.DeleteUnconfirmedMerchant)
		if err != nil {
			return err
		}
		if taken {
			code, err = s.newCode(ctx, tx, in.Phone, "", PurposeConfirm, "")
			return err
		}
		m := store.Merchant{Idx: s.ids.New(), Name: in.Name, Email: in.Email, Mobile: in.Phone, KYC: store.KYCNone,
			PasswordHash: hash, CreatedAt: s.now()}
		if err := s.insertMerchant(ctx, tx, &m, kp, true); err != nil {
			return err
		}
		code, err = s.newCode(ctx, tx, in.Phone, store.CodeSubjectMerchant(m.ID), PurposeConfirm, m.Mobile)
		return err
	})
	if err != nil {
		return CodeSent{}, fault.Wrap(err)
	}
	code.sent.To = phone.Mask(in.Phone)
	return code.sent, s.send(ctx, code)
}

// freeSignUp reports whether a sign-up's email or mobile is taken by an
// account that stays: a confirmed one, or an unconfirmed one in use. An
// unconfirmed, unused account holding it is deleted, which frees it.
func (s *Service) freeSignUp(ctx context.Context, tx store.Tx, find func() (id int64, confirmed bool, err error),
	deleteUnconfirmed func(context.Context, int64) (bool, error)) (taken bool, err error) {
	id, confirmed, err := find()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case confirmed:
		return true, nil
	}
	deleted, err := deleteUnconfirmed(ctx, id)
	return !deleted, err
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
	return []byte(s.ring.MAC("password", pw)) // 64 hex digits
}

func (s *Service) hashPassword(pw string) (string, error) {
	s.passwordHashes.Add(1)
	cost := max(s.cfg.PasswordCost, bcrypt.MinCost)
	h, err := bcrypt.GenerateFromPassword(s.passwordInput(pw), cost)
	return string(h), err
}

// dummyHash is compared against when the email is unknown, so an unknown
// email takes as long as a wrong password.
func (s *Service) checkPassword(hash, pw string) bool {
	s.passwordHashes.Add(1)
	if hash == "" {
		s.dummyOnce.Do(func() { s.dummyHash, _ = s.hashPassword("no such account") })
		bcrypt.CompareHashAndPassword([]byte(s.dummyHash), s.passwordInput(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), s.passwordInput(pw)) == nil
}

// ConfirmMerchantPhone checks the code sent for challenge and, in the
// same transaction that uses the code, confirms the merchant's phone and
// starts a dashboard session, whose id it returns.
func (s *Service) ConfirmMerchantPhone(ctx context.Context, challenge, code string) (string, error) {
	return s.confirmPhone(ctx, challenge, code, "merchant:", func(tx store.Tx) func(context.Context, int64) error { return tx.ConfirmMerchant },
		merchantSessions())
}

// confirmPhone checks the sign-up code sent for challenge to an account
// of kind ("merchant:" or "consumer:") and, in the transaction that uses
// the code, confirms the account's phone (confirm) and starts a session
// in sessions, whose id it returns. A wrong or spent code is refused
// after its try is committed.
func (s *Service) confirmPhone(ctx context.Context, challenge, code, kind string,
	confirm func(store.Tx) func(context.Context, int64) error, sessions sessionTable) (string, error) {
	var session string
	var refusal *fault.Error
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		session, refusal = "", nil
		subject, r, err := s.useCode(ctx, tx, challenge, PurposeConfirm, kind, code)
		if err != nil || r != nil {
			refusal = r
			return err
		}
		id, _ := subjectID(subject)
		if err := confirm(tx)(ctx, id); err != nil {
			return err
		}
		session, err = s.startSessionTx(ctx, tx, sessions, id)
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

// passwordAttempt counts one attempt at the password of the account with
// failure key key (an email, "operator:"+email), refusing with
// MsgLoginLocked once MaxLoginFailures were recorded within LoginWindow,
// reads the password hash with hashOf in the same transaction, and
// checks the password outside it (the hash is slow). A right password
// clears the failures in finish's transaction, where finish acts on it.
// Every attempt first records a failure, under a lock on the key, so
// that simultaneous guesses are all counted.
func (s *Service) passwordAttempt(ctx context.Context, key, password string, hashOf func(tx store.Tx) (string, error),
	finish func(tx store.Tx) error) error {
	now := s.now()
	var hash string
	var locked bool
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.LockKey(ctx, "login:"+key); err != nil {
			return err
		}
		n, err := tx.LoginFailures(ctx, key, now.Add(-LoginWindow))
		if err != nil {
			return err
		}
		if locked = n >= MaxLoginFailures; locked {
			return nil
		}
		if err := tx.ClearLoginFailures(ctx, key, now.Add(-LoginWindow)); err != nil {
			return err
		}
		if err := tx.AddLoginFailure(ctx, key, now); err != nil {
			return err
		}
		hash, err = hashOf(tx)
		return err
	})
	if err != nil {
		return fault.Wrap(err)
	}
	if locked {
		return &fault.Error{Kind: fault.KindLocked, Detail: MsgLoginLocked}
	}
	if !s.checkPassword(hash, password) {
		return fault.DetailError(MsgBadLogin)
	}
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ClearLoginFailures(ctx, key, now.Add(time.Second)); err != nil {
			return err
		}
		return finish(tx)
	}))
}

// Login checks a merchant's email and password (passwordAttempt's
// lockout) and starts a dashboard session in the transaction that clears
// the failures. An account whose phone is not confirmed yet gets a new
// code instead; one that expired unconfirmed is told to sign up again.
func (s *Service) Login(ctx context.Context, email, password string) (SignIn, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > 4*MaxPasswordLen || textProblem("email", email) != "" {
		return SignIn{}, fault.DetailError(MsgBadLogin)
	}
	var in SignIn
	var code pendingCode
	err := s.passwordAttempt(ctx, email, password, func(tx store.Tx) (string, error) {
		m, err := tx.MerchantByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return m.PasswordHash, err
	}, func(tx store.Tx) error {
		in, code = SignIn{}, pendingCode{}
		now := s.now()
		if _, err := tx.PurgeSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		m, err := tx.MerchantByEmail(ctx, email)
		if err != nil {
			return err
		}
		if m.Confirmed {
			in.Session, err = s.startSessionTx(ctx, tx, merchantSessions(), m.ID)
			return err
		}
		if now.Sub(m.CreatedAt) > UnconfirmedTTL {
			return fault.DetailError(MsgSignUpExpired) // the sweeper deletes it
		}
		code, err = s.newCode(ctx, tx, m.Mobile, store.CodeSubjectMerchant(m.ID), PurposeConfirm, m.Mobile)
		code.sent.To = phone.Mask(m.Mobile)
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

// sessionHash is how a session id is stored.
func sessionHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
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
	return m, fault.Wrap(err)
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, id string) error {
	return s.endSession(ctx, merchantSessions(), id)
}

// LogoutEverywhere ends every session of the merchant.
func (s *Service) LogoutEverywhere(ctx context.Context, merchantID int64) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteSessions(ctx, merchantID, "")
		return err
	}))
}

// ChangePassword sets a new password after checking the current one,
// and ends the merchant's other sessions (keep is the current session
// id). A wrong current password counts towards the email's lockout, as a
// wrong log-in does, so a stolen session cannot guess the password.
func (s *Service) ChangePassword(ctx context.Context, merchantID int64, current, next, keep string) error {
	if msg := passwordProblem(next); msg != "" {
		return fault.FieldError("new_password", msg)
	}
	if len(current) > 4*MaxPasswordLen {
		return fault.FieldError("current_password", MsgWrongPassword)
	}
	var m store.Merchant
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		m, err = tx.Merchant(ctx, merchantID)
		return err
	})
	if err != nil {
		return fault.Wrap(err)
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return fault.Internal(err)
	}
	err = s.passwordAttempt(ctx, m.Email, current, func(tx store.Tx) (string, error) {
		m, err := tx.Merchant(ctx, merchantID)
		return m.PasswordHash, err
	}, func(tx store.Tx) error {
		if err := tx.SetMerchantPassword(ctx, merchantID, hash); err != nil {
			return err
		}
		_, err := tx.DeleteSessions(ctx, merchantID, sessionHash(keep))
		return err
	})
	if e := fault.AsError(err); e.Detail == MsgBadLogin {
		return fault.FieldError("current_password", MsgWrongPassword)
	}
	return err
}

// CSRFToken is the token of the forms of session id: an HMAC of the id
// under the server secret.
func (s *Service) CSRFToken(id string) string {
	mac := s.ring.HMAC()
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
	return books, fault.Wrap(err)
}

// NewMerchant describes a merchant to create.
type NewMerchant struct {
	Name   string
	Email  string
	Mobile string // optional: the owner's wallet, which may not pay this merchant
	KYC    store.KYC
	// TestKeys, if set, are used instead of random test keys (the sandbox
	// seed uses the keys from Khalti's documentation).
	TestKeys *KeyPair
}

// merchantFields checks a merchant's name and email, the fields every way
// of making a merchant needs.
func merchantFields(name, email string) map[string][]string {
	fields := map[string][]string{}
	if name == "" {
		fields["name"] = []string{fault.MsgBlank}
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		fields["email"] = []string{"Enter a valid email address."}
	}
	return fields
}

// CreateMerchant creates a merchant for actor with test keys and the
// default fee schedule in both books, returning the keys (shown only this
// once). It is audited (merchant.create).
func (s *Service) CreateMerchant(ctx context.Context, actor Actor, in NewMerchant) (store.Merchant, KeyPair, error) {
	m, kp, err := s.newMerchant(in)
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	err = s.OperatorAction(ctx, actor, AuditCreateMerchant, func(tx store.Tx) (AuditRecord, error) {
		if err := s.insertMerchant(ctx, tx, &m, kp, false); err != nil {
			return AuditRecord{}, err
		}
		detail := fmt.Sprintf("%s, KYC %s", m.Email, m.KYC)
		if m.Mobile != "" {
			detail += ", owner's wallet " + m.Mobile
		}
		return AuditRecord{Subject: m.Idx, Detail: detail}, nil
	})
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	return m, kp, nil
}

// ProvisionMerchant is CreateMerchant where no operator acts (a merchant's
// own sign-up, the sandbox seed), so nothing is audited.
func (s *Service) ProvisionMerchant(ctx context.Context, in NewMerchant) (store.Merchant, KeyPair, error) {
	m, kp, err := s.newMerchant(in)
	if err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	if err := s.store.InTx(ctx, func(tx store.Tx) error { return s.insertMerchant(ctx, tx, &m, kp, false) }); err != nil {
		return store.Merchant{}, KeyPair{}, fault.Wrap(err)
	}
	return m, kp, nil
}

// newMerchant checks in and returns the merchant to insert and its test keys.
func (s *Service) newMerchant(in NewMerchant) (store.Merchant, KeyPair, error) {
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
	fields := merchantFields(in.Name, in.Email)
	if in.Mobile != "" && !phone.Valid(in.Mobile) {
		fields["mobile"] = []string{"Enter a valid mobile number."}
	}
	if in.KYC == "" {
		in.KYC = store.KYCNone
	}
	if !in.KYC.Valid() {
		fields["kyc"] = []string{"Unknown KYC state."}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Merchant{}, KeyPair{}, err
	}
	kp := s.newKeyPair(ledger.Test)
	if in.TestKeys != nil {
		kp = *in.TestKeys
	}
	// An operator vouches for the merchants it makes (and the sandbox for
	// its demo merchant): they count as confirmed.
	m := store.Merchant{Idx: s.ids.New(), Name: in.Name, Email: in.Email, Mobile: in.Mobile, KYC: in.KYC, Confirmed: true, CreatedAt: s.now()}
	return m, kp, nil
}

// insertMerchant stores m (setting its ID) with the default fee
// schedules and the test keys kp, the secret sealed to be shown once on
// the dashboard if seal is set.
func (s *Service) insertMerchant(ctx context.Context, tx store.Tx, m *store.Merchant, kp KeyPair, seal bool) error {
	if err := tx.CreateMerchant(ctx, m); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return fault.FieldError("email", "A merchant with this email already exists.")
		}
		return err
	}
	for _, book := range []ledger.Book{ledger.Test, ledger.Live} {
		if err := tx.SetFeeTiers(ctx, m.ID, book, s.cfg.DefaultFeeTiers); err != nil {
			return err
		}
	}
	return s.storeKeyPair(ctx, tx, m.ID, kp, seal)
}
