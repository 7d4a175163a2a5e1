package identity

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
)

// Operator actions are audited (issue 11): whatever door an operator uses
// (the console at /admin/ or the command line), the action runs through
// OperatorAction, which writes its audit_log entry in the transaction
// that makes the change, so there is no change without an entry and no
// entry without a change. Work that no operator does is not audited: a
// merchant's or a wallet's own sign-up, key rotation or MPIN reset, and
// the sandbox seed (fixed, documented fixtures).

// Audit actions.
const (
	AuditLogin          = "login"
	AuditKYCApprove     = "kyc.approve"
	AuditKYCReject      = "kyc.reject"
	AuditKYCSet         = "kyc.set" // another state (none, submitted), from the command line
	AuditTopup          = "wallet.topup"
	AuditUnlock         = "wallet.unlock"
	AuditResetMPIN      = "wallet.reset_mpin"
	AuditCreateConsumer = "wallet.create"
	AuditCreateMerchant = "merchant.create"
	AuditRevealSecret   = "keys.reveal"
	AuditRotateKeys     = "keys.rotate"
	AuditAddBank        = "bank.add"
	AuditCreateOperator = "operator.create"
	AuditFees           = "fees.set"     // a fee schedule change
	AuditKYCDocument    = "kyc.document" // a KYC document downloaded
)

// commandLineName is how the audit log names the command line.
const commandLineName = "command line"

// maxActorUser bounds the OS user name an audit entry keeps.
const maxActorUser = 64

// Actor is who performs an operator action: an operator signed in to the
// console, or whoever runs thaili on the command line. The zero Actor is
// no one, and OperatorAction refuses it, so an action cannot be recorded
// without saying who took it.
type Actor struct {
	operatorID int64  // the console operator's id; 0 for the command line
	name       string // as the audit log shows it
}

// ConsoleOperator is operator o acting in the console.
func ConsoleOperator(o store.Operator) Actor { return Actor{operatorID: o.ID, name: o.Email} }

// CommandLine is someone acting through the thaili command, named by the
// OS user the environment reports ($USER or $LOGNAME; "" if neither is
// set). The name is what the caller's environment claims, not proof: the
// command line acts with the database credentials and the server secret,
// and whoever holds them could write anything.
func CommandLine(osUser string) Actor {
	osUser = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(strings.TrimSpace(osUser), ""))
	if utf8.RuneCountInString(osUser) > maxActorUser {
		osUser = string([]rune(osUser)[:maxActorUser])
	}
	if osUser == "" {
		return Actor{name: commandLineName}
	}
	return Actor{name: commandLineName + " (" + osUser + ")"}
}

// String is the actor's name as the audit log shows it.
func (a Actor) String() string { return a.name }

// AuditRecord is what an operator action says about itself in its audit
// entry: on what it acted (a merchant idx, a mobile, an email) and how.
// skip marks an action that turned out to change nothing worth recording
// (a merchant show that revealed no secret).
type AuditRecord struct {
	Subject, Detail string
	Skip            bool
}

// errNoActor is a programming error: an operator action without an actor.
var errNoActor = errors.New("identity: operator action without an actor")

// OperatorAction runs fn in one transaction and, unless fn fails or asks
// to skip, writes the audit entry of action by actor in that same
// transaction: if the entry cannot be written the action rolls back, and
// if the action fails nothing is recorded.
func (s *Service) OperatorAction(ctx context.Context, actor Actor, action string, fn func(tx store.Tx) (AuditRecord, error)) error {
	if actor.name == "" {
		return fault.Internal(errNoActor)
	}
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		rec, err := fn(tx)
		if err != nil || rec.Skip {
			return err
		}
		return s.auditIn(ctx, tx, actor, action, rec)
	}))
}

// auditIn writes the audit entry of action by actor in tx, for an action
// whose transaction is opened elsewhere (an operator's log-in, decided
// in the transaction that counts its password attempts).
func (s *Service) auditIn(ctx context.Context, tx store.Tx, actor Actor, action string, rec AuditRecord) error {
	if actor.name == "" {
		return errNoActor
	}
	return tx.AddAudit(ctx, &store.AuditEntry{OperatorID: actor.operatorID, Operator: actor.name, Action: action,
		Subject: rec.Subject, Detail: rec.Detail, At: s.now()})
}
