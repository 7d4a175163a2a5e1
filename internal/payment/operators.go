package payment

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// The operator console (issue 6): operators are created on the command
// line, sign in with a password (bcrypt like merchants, the same lockout,
// failures counted under "operator:"+email) to server-side sessions of
// their own, and every action they take is written to the audit log in
// the transaction that makes it.

// Audit actions.
const (
	AuditLogin      = "login"
	AuditKYCApprove = "kyc.approve"
	AuditKYCReject  = "kyc.reject"
	AuditTopup      = "wallet.topup"
	AuditUnlock     = "wallet.unlock"
)

// ConsoleListLimit is how many rows a console search or the audit page shows.
const ConsoleListLimit = 50

const maxReasonLen = 500

// CreateOperator creates an operator account.
func (s *Service) CreateOperator(ctx context.Context, email, password string) (store.Operator, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	fields := map[string][]string{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		fields["email"] = []string{"Enter a valid email address."}
	}
	if msg := passwordProblem(password); msg != "" {
		fields["password"] = []string{msg}
	}
	if err := FieldErrors(fields); err != nil {
		return store.Operator{}, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return store.Operator{}, Internal(err)
	}
	o := store.Operator{Email: email, PasswordHash: hash, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		err := tx.CreateOperator(ctx, &o)
		if errors.Is(err, store.ErrDuplicate) {
			return FieldError("email", "An operator with this email already exists.")
		}
		return err
	})
	return o, s.wrap(err)
}

// OperatorLogin checks an operator's email and password, with the
// merchants' lockout (MaxLoginFailures within LoginWindow).
func (s *Service) OperatorLogin(ctx context.Context, email, password string) (store.Operator, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > 4*MaxPasswordLen || textProblem("email", email) != "" {
		return store.Operator{}, DetailError(MsgBadLogin)
	}
	key, now := "operator:"+email, s.now()
	var o store.Operator
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
		o, err = tx.OperatorByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			o, err = store.Operator{}, nil
		}
		return err
	})
	if err != nil {
		return store.Operator{}, s.wrap(err)
	}
	if locked {
		return store.Operator{}, &Error{Kind: KindLocked, Detail: MsgLoginLocked}
	}
	if !s.checkPassword(o.PasswordHash, password) {
		return store.Operator{}, DetailError(MsgBadLogin)
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.ClearLoginFailures(ctx, key, now.Add(time.Second)); err != nil {
			return err
		}
		if _, err := tx.PurgeOperatorSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		return s.audit(ctx, tx, o, AuditLogin, o.Email, "")
	})
	return o, s.wrap(err)
}

// NewOperatorSession starts a console session and returns its id.
func (s *Service) NewOperatorSession(ctx context.Context, operatorID int64) (string, error) {
	return s.startSession(ctx, operatorSessions(), operatorID)
}

// SessionOperator returns the operator signed in with console session id;
// unknown, idle or too old sessions are KindUnauthorized.
func (s *Service) SessionOperator(ctx context.Context, id string) (store.Operator, error) {
	owner, err := s.resumeSession(ctx, operatorSessions(), id)
	if err != nil {
		return store.Operator{}, err
	}
	var o store.Operator
	err = s.store.View(ctx, func(tx store.Tx) error {
		o, err = tx.Operator(ctx, owner)
		return err
	})
	return o, s.wrap(err)
}

// OperatorLogout ends one console session.
func (s *Service) OperatorLogout(ctx context.Context, id string) error {
	return s.endSession(ctx, operatorSessions(), id)
}

// operatorMerchant finds the merchant an operator acts on by idx; an
// unknown or malformed one is "No such merchant." (malformed ones are not
// looked up: PostgreSQL refuses NUL bytes and invalid UTF-8).
func operatorMerchant(ctx context.Context, tx store.Tx, idx string) (store.Merchant, error) {
	if !ids.Valid(idx) {
		return store.Merchant{}, &Error{Kind: KindNotFound, Detail: "No such merchant."}
	}
	m, err := tx.MerchantByIdx(ctx, idx)
	if errors.Is(err, store.ErrNotFound) {
		return store.Merchant{}, &Error{Kind: KindNotFound, Detail: "No such merchant."}
	}
	return m, err
}

// audit records an operator action in tx.
func (s *Service) audit(ctx context.Context, tx store.Tx, o store.Operator, action, subject, detail string) error {
	return tx.AddAudit(ctx, &store.AuditEntry{OperatorID: o.ID, Operator: o.Email, Action: action, Subject: subject, Detail: detail, At: s.now()})
}

// SearchMerchants lists merchants whose name or email contains q, only
// those in state kyc if it is set.
func (s *Service) SearchMerchants(ctx context.Context, q string, kyc store.KYC) ([]store.MerchantSummary, error) {
	if textProblem("q", q) != "" {
		return nil, nil // no name or email has a NUL byte or invalid UTF-8
	}
	var out []store.MerchantSummary
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.SearchMerchants(ctx, strings.TrimSpace(q), kyc, ConsoleListLimit)
		return err
	})
	return out, s.wrap(err)
}

// SearchConsumers lists wallets whose mobile contains q.
func (s *Service) SearchConsumers(ctx context.Context, q string) ([]store.Consumer, error) {
	if textProblem("q", q) != "" {
		return nil, nil // no mobile has a NUL byte or invalid UTF-8
	}
	var out []store.Consumer
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.SearchConsumers(ctx, strings.TrimSpace(q), ConsoleListLimit)
		return err
	})
	return out, s.wrap(err)
}

// AuditLog returns the newest audit entries.
func (s *Service) AuditLog(ctx context.Context) ([]store.AuditEntry, error) {
	var out []store.AuditEntry
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.AuditLog(ctx, ConsoleListLimit*4)
		return err
	})
	return out, s.wrap(err)
}

// ReviewKYC approves or rejects a merchant's KYC for operator o; a
// rejection needs a reason, which is kept and audited.
func (s *Service) ReviewKYC(ctx context.Context, o store.Operator, merchantIdx string, approve bool, reason string) (store.Merchant, error) {
	reason = strings.TrimSpace(reason)
	kyc, action := store.KYCApproved, AuditKYCApprove
	if !approve {
		kyc, action = store.KYCRejected, AuditKYCReject
		if reason == "" {
			return store.Merchant{}, FieldError("reason", "Give the reason for the rejection.")
		}
	}
	if utf8.RuneCountInString(reason) > maxReasonLen {
		return store.Merchant{}, FieldError("reason", "Ensure this field has no more than 500 characters.")
	}
	if msg := textProblem("Reason", reason); msg != "" {
		return store.Merchant{}, FieldError("reason", msg)
	}
	var m store.Merchant
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = operatorMerchant(ctx, tx, merchantIdx); err != nil {
			return err
		}
		m.KYC = kyc
		if err := tx.SetMerchantKYC(ctx, m.ID, kyc); err != nil {
			return err
		}
		if err := tx.SetMerchantKYCReason(ctx, m.ID, reason); err != nil {
			return err
		}
		return s.audit(ctx, tx, o, action, m.Idx, strings.TrimSpace(m.Email+" "+reason))
	})
	s.forgetKeys()
	return m, s.wrap(err)
}

// OperatorTopup credits a wallet from the funding account for operator o
// and returns the new balance.
func (s *Service) OperatorTopup(ctx context.Context, o store.Operator, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	if !book.Valid() {
		return 0, FieldError("book", "Book must be test or live.")
	}
	if !ValidMobile(mobile) {
		return 0, FieldError("mobile", "Enter a valid mobile number.")
	}
	if amount < 1 {
		return 0, FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	var bal money.Paisa
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if bal, err = s.topup(ctx, tx, mobile, book, amount); err != nil {
			return err
		}
		return s.audit(ctx, tx, o, AuditTopup, mobile, fmt.Sprintf("%d paisa, %s book; balance %d paisa", amount, book, bal))
	})
	return bal, s.wrap(err)
}

// UnlockConsumer clears a wallet's lock and wrong-MPIN count for operator
// o, keeping its MPIN.
func (s *Service) UnlockConsumer(ctx context.Context, o store.Operator, mobile string) error {
	if !ValidMobile(mobile) {
		return FieldError("mobile", "Enter a valid mobile number.")
	}
	return s.wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Kind: KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
		}
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("was locked: %t, wrong MPINs: %d", c.Locked, c.FailedMPIN)
		if err := tx.UpdateConsumerSecurity(ctx, c.ID, c.MPINHash, 0, false); err != nil {
			return err
		}
		return s.audit(ctx, tx, o, AuditUnlock, mobile, detail)
	}))
}
