package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// TestMPINHashIsKeyed: a new MPIN hash is one HMAC under the server
// secret with a salt of its own (docs/identity.md, "The MPIN hash"): it
// does not contain the MPIN, two hashes of one MPIN differ, and a service
// with another secret (a database copied without it) cannot check it.
func TestMPINHashIsKeyed(t *testing.T) {
	_, svc := servicetest.New(t, servicetest.SQLite(t), time.Now, nil)
	_, other := servicetest.New(t, servicetest.SQLite(t), time.Now, nil, func(d *servicetest.Deps) {
		d.Identity.Secret = []byte("another server secret, 32 bytes!")
	})
	h1, err := svc.NewMPINHash("1234")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := svc.NewMPINHash("1234")
	if !keyedHashWithoutMPIN(h1, "1234") || !keyedHashWithoutMPIN(h2, "1234") || h1 == h2 {
		t.Fatalf("hashes of 1234: %q and %q, want two different hmac-sha256 hashes without the MPIN", h1, h2)
	}
	for _, tc := range []struct {
		hash, mpin string
		want       bool
	}{
		{h1, "1234", true}, {h2, "1234", true}, {h1, "1235", false}, {h1, "", false},
		{flipLast(h1), "1234", false},
		{"hmac-sha256$" + strings.Split(h2, "$")[1] + "$" + strings.Split(h1, "$")[2], "1234", false}, // another wallet's salt
		{"hmac-sha256$nosalt", "1234", false}, {"", "1234", false}, {"md5$x$y", "1234", false},
	} {
		if got := svc.MPINMatches(tc.hash, tc.mpin); got != tc.want {
			t.Errorf("MPINMatches(%q, %q) = %v, want %v", tc.hash, tc.mpin, got, tc.want)
		}
	}
	if other.MPINMatches(h1, "1234") || other.MPINMatches(svc.LegacyMPINHash("1234"), "1234") {
		t.Fatal("a service with another secret accepted the MPIN")
	}
}

// keyedHashWithoutMPIN reports whether hash is "hmac-sha256$salt$digest"
// with a 64-digit hex digest and no field holding mpin. A substring test
// would not do: a random salt or digest holds "1234" about once in 700
// hashes (it failed CI once so).
func keyedHashWithoutMPIN(hash, mpin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 3 || parts[0] != "hmac-sha256" || len(parts[2]) != 64 || strings.Trim(parts[2], "0123456789abcdef") != "" {
		return false
	}
	return parts[1] != mpin && parts[2] != mpin
}

// TestKeyedHashCheck pins keyedHashWithoutMPIN on the hash that failed
// CI (its digest holds "1234") and on hashes that must fail it.
func TestKeyedHashCheck(t *testing.T) {
	for _, tc := range []struct {
		hash string
		want bool
	}{
		{"hmac-sha256$k5fNHCuc/b3F4vQLJfZ6Bg$780968295572225dfa2fee3311ae13d8e1234e40c326df10481bfae0a815fa96", true},
		{"hmac-sha256$1234$780968295572225dfa2fee3311ae13d8e1234e40c326df10481bfae0a815fa96", false},
		{"hmac-sha256$k5fNHCuc/b3F4vQLJfZ6Bg$1234", false},
		{"plain$k5fNHCuc/b3F4vQLJfZ6Bg$780968295572225dfa2fee3311ae13d8e1234e40c326df10481bfae0a815fa96", false},
		{"1234", false},
	} {
		if got := keyedHashWithoutMPIN(tc.hash, "1234"); got != tc.want {
			t.Errorf("keyedHashWithoutMPIN(%q) = %v, want %v", tc.hash, got, tc.want)
		}
	}
}

// TestLegacyMPINHashReplaced: a wallet whose MPIN hash predates keyed
// hashes (PBKDF2) still pays with its MPIN; the first right MPIN
// replaces the hash by a keyed one, and a wrong one changes nothing.
func TestLegacyMPINHashReplaced(t *testing.T) {
	servicetest.OnBothStores(t, testLegacyMPINHashReplaced)
}

func testLegacyMPINHashReplaced(t *testing.T, db store.Store) {
	f := newIdentity(t, db, nil)
	const mobile = "9800000001"
	c := f.consumer(t, mobile)
	legacy := f.svc.LegacyMPINHash(payment.SandboxMPIN)
	if err := f.store.InTx(f.ctx, func(tx store.Tx) error { return tx.ResetConsumerSecurity(f.ctx, c.ID, legacy, false) }); err != nil {
		t.Fatal(err)
	}
	if err := f.initiate(mobile, "0000"); err == nil {
		t.Fatal("a wrong MPIN was accepted against a legacy hash")
	}
	if got := f.consumer(t, mobile).MPINHash; got != legacy {
		t.Fatalf("a wrong MPIN changed the legacy hash to %q", got)
	}
	if err := f.initiate(mobile, payment.SandboxMPIN); err != nil {
		t.Fatalf("the right MPIN against a legacy hash: %v", err)
	}
	after := f.consumer(t, mobile)
	if !strings.HasPrefix(after.MPINHash, "hmac-sha256$") || !f.svc.MPINMatches(after.MPINHash, payment.SandboxMPIN) {
		t.Fatalf("after the right MPIN the hash is %q, want a keyed hash of the same MPIN", after.MPINHash)
	}
	if after.FailedMPIN != 0 {
		t.Fatalf("wrong-MPIN count after the right MPIN: %d", after.FailedMPIN)
	}
	if err := f.initiate(mobile, payment.SandboxMPIN); err != nil {
		t.Fatalf("the right MPIN against the new hash: %v", err)
	}
	if err := f.initiate(mobile, "0000"); err == nil {
		t.Fatal("a wrong MPIN was accepted against the new hash")
	}
}

// flipLast changes the last character of a hex MAC.
func flipLast(h string) string {
	last := "0"
	if strings.HasSuffix(h, "0") {
		last = "1"
	}
	return h[:len(h)-1] + last
}

// countingStore counts the transactions run through it.
type countingStore struct {
	store.Store
	views, writes int
}

func (c *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	c.views++
	return c.Store.View(ctx, fn)
}

func (c *countingStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	c.writes++
	return c.Store.InTx(ctx, fn)
}

// TestInitiateIsOneTransaction: a legacy initiate checks the MPIN and
// creates the payment in one write transaction, with no read-only
// transaction before it (issue 14: each costs the database round trips),
// whether the MPIN is right or wrong; the fee comes from the schedule
// resolved with the key, so an amount refused by the limits costs no
// transaction at all.
func TestInitiateIsOneTransaction(t *testing.T) {
	servicetest.OnBothStores(t, func(t *testing.T, db store.Store) {
		counted := &countingStore{Store: db}
		f := newIdentity(t, counted, nil)
		const mobile = "9800000001"
		f.consumer(t, mobile)
		if err := f.initiate(mobile, payment.SandboxMPIN); err != nil { // resolves and caches the key
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, mpin string
			amount     int64
			ok         bool
			writes     int
		}{
			{"right MPIN", payment.SandboxMPIN, 1000, true, 1},
			{"wrong MPIN", "0000", 1000, false, 1},
			{"amount below the minimum", payment.SandboxMPIN, 1, false, 0},
		} {
			before := paymentCount(t, f)
			counted.views, counted.writes = 0, 0
			_, err := f.pay.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: tc.mpin,
				Amount: money.Paisa(tc.amount), ProductIdentity: "p", ProductName: "P"})
			if (err == nil) != tc.ok {
				t.Fatalf("%s: error %v, want ok %v", tc.name, err, tc.ok)
			}
			if counted.views != 0 || counted.writes != tc.writes {
				t.Errorf("%s: %d read-only and %d write transactions, want 0 and %d", tc.name, counted.views, counted.writes, tc.writes)
			}
			want := before
			if tc.ok {
				want++
			}
			if got := paymentCount(t, f); got != want {
				t.Errorf("%s: %d payments after, want %d", tc.name, got, want)
			}
		}
	})
}

// paymentCount is how many payments the demo merchant has in the test
// book.
func paymentCount(t *testing.T, f identityFixture) int {
	t.Helper()
	caller, err := f.svc.Resolve(f.ctx, payment.DemoPublicKey, store.PublicKey)
	if err != nil || caller == nil {
		t.Fatalf("resolving the demo key: %v", err)
	}
	var n int
	err = f.store.View(f.ctx, func(tx store.Tx) error {
		var err error
		_, n, err = tx.ListPayments(f.ctx, store.PaymentFilter{Scope: caller.Scope(), Limit: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
