// Package payment is the payment state machine and the money rules:
// legacy initiate, confirm and verify, ePayment and its hosted page,
// lookups and lists, refunds, expiry and release (sweeps), fees, the
// non-KYC cap, top-ups, and the sandbox's fixtures and scenario payers.
// Who the merchant or the payer is, and whether they proved it, is
// identity's; it decides everything else about a payment, with every
// state change checked against one table (store.Moves). It speaks to a
// store.Store and never to HTTP or a SQL driver.
package payment

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/notify"
	"github.com/thaili/thaili/internal/store"
)

// Config holds the business rules. DefaultConfig gives Thaili's defaults.
type Config struct {
	MinAmount    money.Paisa   // smallest payment
	NonKYCCap    money.Paisa   // largest payment to a merchant without approved KYC
	OTPLifetime  time.Duration // how long a confirmation code is valid
	InitiatedTTL time.Duration // an unconfirmed payment fails after this
	ConfirmedTTL time.Duration // an unverified authorisation is released after this
	RefundWindow time.Duration // refunds allowed this long after completion
	MaxOTPTries  int           // wrong codes before a payment is Disabled
	TestOTP      string        // the fixed confirmation code of the test book
	// SandboxPendingDelay is how long the sandbox's pending scenario payer
	// (ScenarioPendingMobile) leaves a test payment Pending before it
	// completes.
	SandboxPendingDelay time.Duration
}

// DefaultConfig returns Thaili's rules (docs/payments.md).
func DefaultConfig() Config {
	return Config{
		MinAmount:    1000,
		NonKYCCap:    20000,
		OTPLifetime:  5 * time.Minute,
		InitiatedTTL: 15 * time.Minute,
		ConfirmedTTL: 24 * time.Hour,
		RefundWindow: 30 * 24 * time.Hour,
		MaxOTPTries:  3,
		TestOTP:      "987654",

		SandboxPendingDelay: 30 * time.Second,
	}
}

// Service implements every payment operation.
type Service struct {
	store    store.Store
	cfg      Config
	now      func() time.Time
	ids      ids.Generator
	ring     *keyring.Ring // the server secret's MACs and sealing
	log      *slog.Logger
	notifier notify.Notifier
	// id knows the merchants and payers: it resolves API keys into
	// callers and checks payers' MPINs.
	id *identity.Service
	// recent remembers the legacy payments this node just created or
	// authorised, for the confirm or verify that follows (recent.go).
	recent *recentPayments
}

// Deps are the Service's collaborators, all injected.
type Deps struct {
	Store    store.Store
	Config   Config
	Now      func() time.Time
	Rand     io.Reader
	Secret   []byte
	Log      *slog.Logger
	Notifier notify.Notifier
	// Identity resolves API keys and checks payers' MPINs; required. It
	// must run on the same store.
	Identity *identity.Service
}

// New returns a Service. Secret must be at least 32 bytes. Its store is
// fenced (idempotency.Fence), so every transaction it commits for a
// request under an Idempotency-Key also marks the key.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Now == nil || d.Rand == nil || d.Log == nil || d.Identity == nil {
		return nil, errors.New("payment: store, clock, randomness, logger and identity are required")
	}
	ring, err := keyring.New(d.Secret, d.Rand)
	if err != nil {
		return nil, err
	}
	if d.Notifier == nil {
		d.Notifier = notify.Log{Logger: d.Log}
	}
	return &Service{store: idempotency.Fence(d.Store), cfg: d.Config, now: d.Now, ids: ids.Generator{Rand: d.Rand},
		ring: ring, log: d.Log, notifier: d.Notifier, id: d.Identity, recent: newRecentPayments()}, nil
}

// Config returns the service's rules.
func (s *Service) Config() Config { return s.cfg }

// otpHash is the keyed MAC a payment keeps of its confirmation code and
// what else the step that enters it must present: in the legacy flow the
// MPIN that initiated it (Khalti's confirm sends it again, and its slow
// hash is then computed once per payment, at initiate); on the hosted
// page the browser that signed in with the MPIN (docs/identity.md, "The
// hosted page").
func (s *Service) otpHash(token, code, bound string) string {
	return s.ring.MAC("otp", token, code, bound)
}
