// Package payment is Thaili's service layer: it decides. It owns the
// transaction state machine, the business rules (limits, fees, MPIN and
// OTP checks, expiry, refunds), merchants and their keys. It speaks to a
// store.Store and never to HTTP or a SQL driver.
package payment

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/notify"
	"github.com/thaili/thaili/internal/store"
)

// Nepal is the zone Thaili shows times and days in: Nepal Standard Time,
// UTC+05:45 all year, as Khalti's timestamps are.
var Nepal = time.FixedZone("+0545", 5*3600+45*60)

// Config holds the business rules. DefaultConfig gives Thaili's defaults.
type Config struct {
	MinAmount       money.Paisa   // smallest payment
	NonKYCCap       money.Paisa   // largest payment to a merchant without approved KYC
	OTPLifetime     time.Duration // how long a confirmation code is valid
	InitiatedTTL    time.Duration // an unconfirmed payment fails after this
	ConfirmedTTL    time.Duration // an unverified authorisation is released after this
	RefundWindow    time.Duration // refunds allowed this long after completion
	MaxMPINTries    int           // wrong MPINs in a row before the wallet locks
	MaxOTPTries     int           // wrong codes before a payment is Disabled
	TestOTP         string        // the fixed confirmation code of the test book
	MPINIterations  int           // PBKDF2 rounds for MPIN hashes
	PasswordCost    int           // bcrypt cost of merchant passwords (accounts.go)
	KeyCacheTTL     time.Duration // how long a resolved API key is remembered; 0 disables
	DefaultFeeTiers []store.FeeTier
	// SandboxPendingDelay is how long the sandbox's pending scenario payer
	// (ScenarioPendingMobile) leaves a test payment Pending before it
	// completes.
	SandboxPendingDelay time.Duration
}

// DefaultConfig returns Thaili's rules (docs/payments.md, docs/identity.md).
func DefaultConfig() Config {
	return Config{
		MinAmount:       1000,
		NonKYCCap:       20000,
		OTPLifetime:     5 * time.Minute,
		InitiatedTTL:    15 * time.Minute,
		ConfirmedTTL:    24 * time.Hour,
		RefundWindow:    30 * 24 * time.Hour,
		MaxMPINTries:    3,
		MaxOTPTries:     3,
		TestOTP:         "987654",
		MPINIterations:  10000,
		PasswordCost:    12,
		KeyCacheTTL:     5 * time.Second,
		DefaultFeeTiers: []store.FeeTier{{MinAmount: 1000, MaxAmount: 0, PercentBps: 300}},

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
	keyCache sync.Map // API key -> cachedCaller
	// liveMerchants holds the ids of merchants known to have live keys.
	liveMerchants sync.Map
	// addrGuesses and keyGuesses limit wrong guesses per client address
	// and per merchant key (guess.go); nil is no limit.
	addrGuesses, keyGuesses GuessLimiter
	// dummyOnce makes dummyHash, compared against for unknown emails, and
	// dummyMPINHash, for numbers without a wallet.
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
	Secret   []byte
	Log      *slog.Logger
	Notifier notify.Notifier
	// AddressGuesses and KeyGuesses limit wrong MPINs and codes per
	// client address and per merchant (public key); nil is no limit.
	AddressGuesses, KeyGuesses GuessLimiter
}

// New returns a Service. Secret must be at least 32 bytes.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Now == nil || d.Rand == nil || d.Log == nil {
		return nil, errors.New("payment: store, clock, randomness and logger are required")
	}
	ring, err := keyring.New(d.Secret, d.Rand)
	if err != nil {
		return nil, err
	}
	if d.Notifier == nil {
		d.Notifier = notify.Log{Logger: d.Log}
	}
	return &Service{store: idempotency.Fence(d.Store), cfg: d.Config, now: d.Now, ids: ids.Generator{Rand: d.Rand},
		ring: ring, log: d.Log, notifier: d.Notifier, addrGuesses: d.AddressGuesses, keyGuesses: d.KeyGuesses}, nil
}

// Config returns the service's rules.
func (s *Service) Config() Config { return s.cfg }

// --- keys ---

var keyPattern = regexp.MustCompile(`^(test|live)_(public|secret)_key_[0-9a-f]{32}$`)

// keyLookup is how a key is found in the store: public keys in clear,
// secret keys by keyed hash so a database leak does not leak them.
func (s *Service) keyLookup(key string) string {
	if strings.Contains(key, "_secret_key_") {
		return "hmac:" + s.ring.MAC("api-key", key)
	}
	return key
}

// Caller is an authenticated merchant acting in one book.
type Caller struct {
	Merchant store.Merchant
	Book     ledger.Book
	Kind     store.KeyKind
}

// Scope is the window of payments the caller may see.
func (c Caller) Scope() store.Scope { return store.Scope{MerchantID: c.Merchant.ID, Book: c.Book} }

// Authenticate resolves an API key of the wanted kind. Any unknown,
// revoked, malformed or wrong-kind key is the same "Invalid token." 401.
func (s *Service) Authenticate(ctx context.Context, key string, kind store.KeyKind) (Caller, error) {
	c, err := s.resolveKey(ctx, key, kind)
	if err != nil {
		return Caller{}, err
	}
	if c == nil {
		return Caller{}, fault.Unauthorized(fault.MsgInvalidToken)
	}
	return *c, nil
}

// cachedCaller is a resolved key remembered for Config.KeyCacheTTL.
type cachedCaller struct {
	caller  Caller
	expires time.Time
}

// resolveKey finds the merchant and book of an active key of the wanted
// kind, or nil. Resolved keys are remembered briefly, since every API
// request starts with this lookup; only known keys are remembered, so a
// new key works at once, and this node forgets everything when keys are
// rotated or KYC changes. Another node may honour a revoked key, or an
// old KYC state, for up to KeyCacheTTL.
func (s *Service) resolveKey(ctx context.Context, key string, kind store.KeyKind) (*Caller, error) {
	if !keyPattern.MatchString(key) || !strings.Contains(key, "_"+string(kind)+"_key_") {
		return nil, nil
	}
	now := s.now()
	if v, ok := s.keyCache.Load(key); ok {
		if cc := v.(cachedCaller); now.Before(cc.expires) {
			c := cc.caller
			return &c, nil
		}
		s.keyCache.Delete(key)
	}
	var c *Caller
	err := s.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.KeyByLookup(ctx, s.keyLookup(key))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() || k.Kind != kind || !strings.HasPrefix(key, string(k.Book)+"_") {
			return nil
		}
		m, err := tx.Merchant(ctx, k.MerchantID)
		if err != nil || !m.Confirmed {
			return err // an unconfirmed sign-up may not take payments
		}
		c = &Caller{Merchant: m, Book: k.Book, Kind: k.Kind}
		return nil
	})
	if err != nil {
		return nil, fault.Internal(err)
	}
	if c != nil && s.cfg.KeyCacheTTL > 0 {
		s.keyCache.Store(key, cachedCaller{caller: *c, expires: now.Add(s.cfg.KeyCacheTTL)})
	}
	return c, nil
}

// forgetKeys empties the key cache after keys or merchants change.
func (s *Service) forgetKeys() { s.keyCache.Clear() }

// KeyPair is a newly issued public and secret key for one book.
type KeyPair struct {
	Book   ledger.Book
	Public string
	Secret string
}

// newKeyPair makes random keys in Khalti's format (UUID-v4-shaped hex).
func (s *Service) newKeyPair(book ledger.Book) KeyPair {
	return KeyPair{Book: book,
		Public: string(book) + "_public_key_" + s.uuidHex(),
		Secret: string(book) + "_secret_key_" + s.uuidHex()}
}

func (s *Service) uuidHex() string {
	h := []byte(s.ids.Hex(16))
	h[12] = '4'
	h[16] = "89ab"[strings.IndexByte("0123456789abcdef", h[16])%4]
	return string(h)
}

// storeKeyPair records kp for merchant m, with the secret key's redirect
// signing key sealed. When seal is true the secret is also kept encrypted
// so an operator can be shown it once later.
func (s *Service) storeKeyPair(ctx context.Context, tx store.Tx, merchantID int64, kp KeyPair, seal bool) error {
	now := s.now()
	pub := store.Key{MerchantID: merchantID, Book: kp.Book, Kind: store.PublicKey, Lookup: kp.Public, Prefix: kp.Public, CreatedAt: now}
	sec := store.Key{MerchantID: merchantID, Book: kp.Book, Kind: store.SecretKey, Lookup: s.keyLookup(kp.Secret),
		Prefix: kp.Secret[:len(kp.Book)+len("_secret_key_")+4] + "…", CreatedAt: now}
	var err error
	if sec.SealedSigningKey, err = s.sealSigningKey(sec.Lookup, RedirectSigningKey(kp.Secret)); err != nil {
		return err
	}
	if seal {
		sealed, err := s.ring.Seal([]byte(kp.Secret), nil)
		if err != nil {
			return err
		}
		sec.Sealed = sealed
	}
	if err := tx.CreateKey(ctx, &pub); err != nil {
		return err
	}
	return tx.CreateKey(ctx, &sec)
}

// --- MPIN and OTP ---

// hashMPIN stores a 4-digit MPIN as PBKDF2-SHA256 over an HMAC with the
// server secret. Ten thousand PINs are cheap to brute-force whatever the
// cost factor, so the pepper (absent from the database) and the lock after
// three wrong tries are the real protection; the rounds add a little.
func (s *Service) hashMPIN(mpin string) (string, error) {
	s.mpinHashes.Add(1)
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.ids.Rand, salt); err != nil {
		return "", err
	}
	iter := s.cfg.MPINIterations
	dk, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(dk)), nil
}

func (s *Service) checkMPIN(hash, mpin string) bool {
	s.mpinHashes.Add(1)
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// dummyMPIN is an MPIN hash of the configured cost that no MPIN given is
// checked against for real: a number without a wallet is hashed against
// it, so it takes as long as a wallet's wrong MPIN.
func (s *Service) dummyMPIN() string {
	s.dummyMPINOnce.Do(func() { s.dummyMPINHash, _ = s.hashMPIN("0000") })
	return s.dummyMPINHash
}

// otpHash is the keyed MAC a payment keeps of its confirmation code and
// the MPIN that initiated it: confirm must present both, and the MPIN's
// slow hash is then computed once per payment, at initiate.
func (s *Service) otpHash(token, code, mpin string) string {
	return s.ring.MAC("otp", token, code, mpin)
}

var mpinPattern = regexp.MustCompile(`^[0-9]{4}$`)

// ValidMPIN reports whether mpin is four digits.
func ValidMPIN(mpin string) bool { return mpinPattern.MatchString(mpin) }
