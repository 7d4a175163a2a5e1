// Package identity is who is who in Thaili, and how they prove it:
// merchants (sign-up, password sign-in, KYC), wallets (sign-up, MPIN
// sign-in and its lock), operators and the audit log of what they do, the
// codes that prove a phone, dashboard, wallet and console sessions, and
// the API keys a merchant's servers and pages authenticate with. Every
// session starts only in the transaction that checked its proof
// (docs/identity.md). Like payment, it speaks to a store.Store and never
// to HTTP or a SQL driver.
package identity

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/notify"
	"github.com/thaili/thaili/internal/store"
)

// Config holds the rules of accounts and credentials. DefaultConfig
// gives Thaili's.
type Config struct {
	MaxMPINTries int           // wrong MPINs in a row before the wallet locks
	PasswordCost int           // bcrypt cost of merchant and operator passwords
	KeyCacheTTL  time.Duration // how long a resolved API key is remembered; 0 disables
	// DefaultFeeTiers is the fee schedule a new merchant starts with, in
	// both books (operators change it per merchant).
	DefaultFeeTiers []store.FeeTier
}

// DefaultConfig returns Thaili's rules (docs/identity.md).
func DefaultConfig() Config {
	return Config{
		MaxMPINTries:    3,
		PasswordCost:    12,
		KeyCacheTTL:     5 * time.Second,
		DefaultFeeTiers: []store.FeeTier{{MinAmount: 1000, MaxAmount: 0, PercentBps: 300}},
	}
}

// Service implements every identity operation.
type Service struct {
	store    store.Store
	cfg      Config
	now      func() time.Time
	ids      ids.Generator
	ring     *keyring.Ring // the server secret's MACs and sealing
	log      *slog.Logger
	notifier notify.Notifier
	keyCache sync.Map // API key -> cachedCaller
	// liveMerchants holds the ids of merchants known to have live keys.
	liveMerchants sync.Map
	// addrGuesses and keyGuesses limit wrong guesses per client address
	// and per merchant key (guesses.go); nil is no limit.
	addrGuesses, keyGuesses GuessLimiter
	// dummyOnce makes dummyHash, compared against for unknown emails, and
	// dummyMPINOnce dummyMPINHash, for numbers without a wallet.
	dummyOnce     sync.Once
	dummyHash     string
	dummyMPINOnce sync.Once
	dummyMPINHash string
	// mpinHashes and passwordHashes count the slow hashes made, so tests
	// can see that an account that does not exist costs the same work as
	// one that does.
	mpinHashes, passwordHashes atomic.Int64
}

// Deps are the Service's collaborators, all injected.
type Deps struct {
	Store    store.Store
	Config   Config
	Now      func() time.Time
	Rand     io.Reader
	Secret   []byte // the server secret, at least keyring.MinSecret bytes
	Log      *slog.Logger
	Notifier notify.Notifier // nil writes to Log (notify.Log)
	// AddressGuesses and KeyGuesses limit wrong MPINs and codes per
	// client address and per merchant (public key); nil is no limit.
	AddressGuesses, KeyGuesses GuessLimiter
}

// New returns a Service. Its store is fenced (idempotency.Fence): an
// MPIN checked in a request under an Idempotency-Key commits with the
// key's mark.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Now == nil || d.Rand == nil || d.Log == nil {
		return nil, errors.New("identity: store, clock, randomness and logger are required")
	}
	ring, err := keyring.New(d.Secret, d.Rand)
	if err != nil {
		return nil, err
	}
	if d.Notifier == nil {
		d.Notifier = notify.Log{Logger: d.Log}
	}
	return &Service{store: idempotency.Fence(d.Store), cfg: d.Config, now: d.Now, ids: ids.Generator{Rand: d.Rand}, ring: ring,
		log: d.Log, notifier: d.Notifier, addrGuesses: d.AddressGuesses, keyGuesses: d.KeyGuesses}, nil
}

// Config returns the service's rules.
func (s *Service) Config() Config { return s.cfg }
