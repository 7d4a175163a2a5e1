// Package servicetest builds Thaili's services for tests as cmd/thaili
// builds them for a node: identity and payment over one store, with the
// hash costs lowered so tests stay fast, a clock tests can move, and a
// phone that records what was sent. It also opens fresh stores of either
// kind. Only tests import it.
package servicetest

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
	"github.com/thaili/thaili/internal/store/sqlite"
)

// Secret is the server secret the services are built with.
var Secret = make([]byte, 32)

// Actor is who tests' operator actions are audited as.
var Actor = identity.CommandLine("test")

// Deps are both services' collaborators; a test changes them before
// New builds the services.
type Deps struct {
	Payment  payment.Deps
	Identity identity.Deps
}

// New builds identity and payment over st with now as the clock and
// phone (if not nil) as where codes and notices go, after opts changed
// their deps. MPIN hashes take 100 rounds and passwords bcrypt's least
// cost unless opts say otherwise.
func New(t testing.TB, st store.Store, now func() time.Time, phone *Phone, opts ...func(*Deps)) (*payment.Service, *identity.Service) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := Deps{
		Payment:  payment.Deps{Store: st, Config: payment.DefaultConfig(), Now: now, Rand: rand.Reader, Secret: Secret, Log: log},
		Identity: identity.Deps{Store: st, Config: identity.DefaultConfig(), Now: now, Rand: rand.Reader, Secret: Secret, Log: log},
	}
	d.Identity.Config.PasswordCost = 4
	if phone != nil {
		d.Payment.Notifier, d.Identity.Notifier = phone, phone
	}
	for _, o := range opts {
		o(&d)
	}
	id, err := identity.New(d.Identity)
	if err != nil {
		t.Fatal(err)
	}
	d.Payment.Identity = id
	svc, err := payment.New(d.Payment)
	if err != nil {
		t.Fatal(err)
	}
	return svc, id
}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d ahead.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Phone records what the services send to phones, by mobile: the last
// payment confirmation code, the last account code, and every notice.
type Phone struct {
	mu                   sync.Mutex
	confirmations, codes map[string]string
	notices              map[string][]string
}

// NewPhone returns a phone that has received nothing.
func NewPhone() *Phone {
	return &Phone{confirmations: map[string]string{}, codes: map[string]string{}, notices: map[string][]string{}}
}

// SendOTP records a payment's confirmation code.
func (p *Phone) SendOTP(_ context.Context, mobile, code string, _ money.Paisa, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.confirmations[mobile] = code
	return nil
}

// SendCode records an account code.
func (p *Phone) SendCode(_ context.Context, mobile, code, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.codes[mobile] = code
	return nil
}

// SendNotice records a notice.
func (p *Phone) SendNotice(_ context.Context, mobile, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notices[mobile] = append(p.notices[mobile], text)
	return nil
}

// Confirmation is the last payment confirmation code sent to mobile.
func (p *Phone) Confirmation(mobile string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmations[mobile]
}

// Code is the last account code sent to mobile.
func (p *Phone) Code(mobile string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.codes[mobile]
}

// Notices are the notices sent to mobile, oldest first.
func (p *Phone) Notices(mobile string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.notices[mobile]...)
}

// SQLite is a fresh, migrated SQLite database, closed when t ends.
func SQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Postgres is a fresh, migrated PostgreSQL database (pgtest), dropped
// when t ends; without a server the test is skipped unless
// THAILI_REQUIRE_POSTGRES is set.
func Postgres(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// OnBothStores runs test on a fresh SQLite database and a fresh
// PostgreSQL one, in parallel.
func OnBothStores(t *testing.T, test func(*testing.T, store.Store)) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) store.Store{
		"sqlite":   func(t *testing.T) store.Store { return SQLite(t) },
		"postgres": func(t *testing.T) store.Store { return Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}
