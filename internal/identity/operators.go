package identity

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// The operator console (issue 6): operators are created on the command
// line, sign in with a password (bcrypt like merchants, the same lockout,
// failures counted under "operator:"+email) to server-side sessions of
// their own, and every action they take is written to the audit log in
// the transaction that makes it.

// ConsoleListLimit is how many rows a console search or the audit page shows.
const ConsoleListLimit = 50

const maxReasonLen = 500

// CreateOperator creates an operator account for actor. It is audited
// (operator.create).
func (s *Service) CreateOperator(ctx context.Context, actor Actor, email, password string) (store.Operator, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	fields := map[string][]string{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		fields["email"] = []string{"Enter a valid email address."}
	}
	if msg := passwordProblem(password); msg != "" {
		fields["password"] = []string{msg}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Operator{}, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return store.Operator{}, fault.Internal(err)
	}
	o := store.Operator{Email: email, PasswordHash: hash, CreatedAt: s.now()}
	err = s.OperatorAction(ctx, actor, AuditCreateOperator, func(tx store.Tx) (AuditRecord, error) {
		err := tx.CreateOperator(ctx, &o)
		if errors.Is(err, store.ErrDuplicate) {
			return AuditRecord{}, fault.FieldError("email", "An operator with this email already exists.")
		}
		return AuditRecord{Subject: o.Email, Detail: fmt.Sprintf("operator %d", o.ID)}, err
	})
	return o, err
}

// OperatorLogin checks an operator's email and password, with the
// merchants' lockout (failures counted under "operator:"+email), and
// starts a console session in the transaction that audits the log-in;
// it returns the session's id.
func (s *Service) OperatorLogin(ctx context.Context, email, password string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > 4*MaxPasswordLen || textProblem("email", email) != "" {
		return "", fault.DetailError(MsgBadLogin)
	}
	var session string
	err := s.passwordAttempt(ctx, "operator:"+email, password, func(tx store.Tx) (string, error) {
		o, err := tx.OperatorByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return o.PasswordHash, err
	}, func(tx store.Tx) error {
		now := s.now()
		if _, err := tx.PurgeOperatorSessions(ctx, now.Add(-SessionIdle), now.Add(-SessionLifetime)); err != nil {
			return err
		}
		o, err := tx.OperatorByEmail(ctx, email)
		if err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, ConsoleOperator(o), AuditLogin, AuditRecord{Subject: o.Email}); err != nil {
			return err
		}
		session, err = s.startSessionTx(ctx, tx, operatorSessions(), o.ID)
		return err
	})
	return session, err
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
	return o, fault.Wrap(err)
}

// OperatorLogout ends one console session.
func (s *Service) OperatorLogout(ctx context.Context, id string) error {
	return s.endSession(ctx, operatorSessions(), id)
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
	return out, fault.Wrap(err)
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
	return out, fault.Wrap(err)
}

// AuditLog returns the newest audit entries.
func (s *Service) AuditLog(ctx context.Context) ([]store.AuditEntry, error) {
	var out []store.AuditEntry
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.AuditLog(ctx, ConsoleListLimit*4)
		return err
	})
	return out, fault.Wrap(err)
}

// UnlockConsumer clears a wallet's lock and wrong-MPIN count for actor,
// keeping its MPIN. It is audited (wallet.unlock).
func (s *Service) UnlockConsumer(ctx context.Context, actor Actor, mobile string) error {
	if !phone.Valid(mobile) {
		return fault.FieldError("mobile", "Enter a valid mobile number.")
	}
	return s.OperatorAction(ctx, actor, AuditUnlock, func(tx store.Tx) (AuditRecord, error) {
		c, err := tx.ConsumerByMobile(ctx, mobile)
		if errors.Is(err, store.ErrNotFound) {
			return AuditRecord{}, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No wallet for %s.", mobile)}
		}
		if err != nil {
			return AuditRecord{}, err
		}
		detail := fmt.Sprintf("was locked: %t, locked until: %s, wrong MPINs: %d", c.Locked, lockedUntilText(c.MPINLockedUntil), c.FailedMPIN)
		if err := tx.ResetConsumerSecurity(ctx, c.ID, c.MPINHash, false); err != nil {
			return AuditRecord{}, err
		}
		return AuditRecord{Subject: mobile, Detail: detail}, s.notify(ctx, tx, c.ID, "An operator unlocked your wallet on "+nepal.Minute(s.now())+".")
	})
}

// lockedUntilText is a timed lock's end for the audit log.
func lockedUntilText(t time.Time) string {
	if t.IsZero() {
		return "never locked"
	}
	return t.UTC().Format(time.RFC3339)
}
