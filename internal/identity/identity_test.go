package identity_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/ratelimit"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// Issue 11's identity rules, on both stores, on a clock the tests move:
// codes and unconfirmed sign-ups expire, sign-ups replace unconfirmed
// ones, unconfirmed accounts neither pay nor are paid, wrong MPINs lock
// for a while and escalate, the same for numbers without a wallet, and
// answers cost the same slow work whether or not an account exists.

type identityFixture struct {
	svc   *identity.Service
	pay   *payment.Service
	store store.Store
	clock *servicetest.Clock
	phone *servicetest.Phone
	ctx   context.Context
}

func newIdentity(t *testing.T, db store.Store, deps func(*servicetest.Deps)) identityFixture {
	t.Helper()
	clock := servicetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	ph := servicetest.NewPhone()
	opts := []func(*servicetest.Deps){}
	if deps != nil {
		opts = append(opts, deps)
	}
	pay, svc := servicetest.New(t, db, clock.Now, ph, opts...)
	ctx := context.Background()
	if _, err := pay.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	return identityFixture{svc: svc, pay: pay, store: db, clock: clock, phone: ph, ctx: ctx}
}

func (f identityFixture) consumer(t *testing.T, mobile string) store.Consumer {
	t.Helper()
	var c store.Consumer
	err := f.store.View(f.ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.ConsumerByMobile(f.ctx, mobile)
		return err
	})
	if err != nil {
		t.Fatalf("consumer %s: %v", mobile, err)
	}
	return c
}

func (f identityFixture) initiate(mobile, mpin string) error {
	_, err := f.pay.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: mpin,
		Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	return err
}

func detailOf(err error) string {
	e := fault.AsError(err)
	return fmt.Sprintf("%d|%s|%s|%s|%v", e.Kind, e.Detail, e.TriesRemaining, e.ErrorKey, e.Fields)
}

func TestIdentityExpiry(t *testing.T) { servicetest.OnBothStores(t, testIdentityExpiry) }

func testIdentityExpiry(t *testing.T, db store.Store) {
	f := newIdentity(t, db, nil)
	ctx, svc := f.ctx, f.svc

	// A code that expired opens nothing, and a newer code retires it.
	sent, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "Late", Email: "late@example.com", Phone: "9812000101", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	code := f.phone.Code("9812000101")
	f.clock.Advance(identity.CodeTTL)
	if _, err := svc.ConfirmMerchantPhone(ctx, sent.Challenge, code); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("expired code: %v", err)
	}
	in, err := svc.Login(ctx, "late@example.com", "a long password")
	if err != nil || in.Code == nil || in.Session != "" {
		t.Fatalf("log-in of an unconfirmed merchant: %+v %v", in, err)
	}
	// The sign-up's challenge with the new code: refused (another code's).
	if _, err := svc.ConfirmMerchantPhone(ctx, sent.Challenge, f.phone.Code("9812000101")); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("a new code with an old challenge: %v", err)
	}

	// An unconfirmed sign-up expires: after UnconfirmedTTL it may not sign
	// in, and the sweeper deletes it, freeing the email and the mobile.
	if _, err := svc.SignUpConsumer(ctx, "9812000102", "Unconfirmed", "2580", "2580"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(identity.UnconfirmedTTL + time.Minute)
	if _, err := svc.Login(ctx, "late@example.com", "a long password"); fault.AsError(err).Detail != identity.MsgSignUpExpired {
		t.Fatalf("log-in of an expired sign-up: %v", err)
	}
	if _, err := svc.ConsumerLogin(ctx, "9812000102", "2580"); fault.AsError(err).Detail != identity.MsgSignUpExpired {
		t.Fatalf("wallet log-in of an expired sign-up: %v", err)
	}
	n, err := svc.ExpireSignUps(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ExpireSignUps = %d, %v; want 2", n, err)
	}
	err = f.store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.MerchantByEmail(ctx, "late@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired merchant sign-up: %v", err)
		}
		if _, err := tx.ConsumerByMobile(ctx, "9812000102"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired wallet sign-up: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Confirmed and seeded accounts never expire.
	if n, err := svc.ExpireSignUps(ctx); err != nil || n != 0 {
		t.Fatalf("a second ExpireSignUps = %d, %v", n, err)
	}
	if err := f.initiate(payment.SandboxPayers[0], payment.SandboxMPIN); err != nil {
		t.Fatalf("a seeded payer after the sweep: %v", err)
	}
}

func TestSignUpReplacesUnconfirmed(t *testing.T) {
	servicetest.OnBothStores(t, testSignUpReplacesUnconfirmed)
}

func testSignUpReplacesUnconfirmed(t *testing.T, db store.Store) {
	f := newIdentity(t, db, nil)
	ctx, svc := f.ctx, f.svc

	// A squatter signs up with the owner's email and mobile, and never
	// confirms (the codes go to the owner's phone).
	squat, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "Squat", Email: "owner@example.com", Phone: "9812000201", Password: "squatter password"})
	if err != nil {
		t.Fatal(err)
	}
	squatCode := f.phone.Code("9812000201")
	if _, err := svc.SignUpConsumer(ctx, "9812000202", "Squat", "1111", "1111"); err != nil {
		t.Fatal(err)
	}
	// The squatter's unconfirmed merchant cannot take payments: its keys
	// do not work.
	m := merchantByEmail(t, f, "owner@example.com")
	if m.Confirmed {
		t.Fatal("an unconfirmed sign-up is confirmed")
	}
	// The squatter's unconfirmed wallet can neither pay nor be topped up.
	if err := f.initiate("9812000202", "1111"); fault.AsError(err).Detail != identity.MsgWalletNotActive {
		t.Fatalf("an unconfirmed wallet pays: %v", err)
	}
	if _, err := f.pay.Topup(ctx, identity.CommandLine("ops"), "9812000202", ledger.Test, 100); err == nil {
		t.Fatal("an unconfirmed wallet was topped up")
	}

	// The owner signs up: the squatter's sign-ups are replaced.
	owner, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "Owner", Email: "owner@example.com", Phone: "9812000201", Password: "owner's password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, squat.Challenge, squatCode); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("the squatter's code after the owner signed up: %v", err)
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, owner.Challenge, f.phone.Code("9812000201")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "owner@example.com", "squatter password"); err == nil {
		t.Fatal("the squatter's password signs in")
	}
	if in, err := svc.Login(ctx, "owner@example.com", "owner's password"); err != nil || in.Session == "" {
		t.Fatalf("the owner's log-in: %+v %v", in, err)
	}
	if m2 := merchantByEmail(t, f, "owner@example.com"); m2.Name != "Owner" || !m2.Confirmed || m2.Idx == m.Idx {
		t.Fatalf("after the owner's sign-up: %+v (the squatter's was %s)", m2, m.Idx)
	}
	wallet, err := svc.SignUpConsumer(ctx, "9812000202", "Owner", "2580", "2580")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmConsumerPhone(ctx, wallet.Challenge, f.phone.Code("9812000202")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pay.Topup(ctx, identity.CommandLine("ops"), "9812000202", ledger.Test, 5000); err != nil {
		t.Fatal(err)
	}
	if err := f.initiate("9812000202", "1111"); fault.AsError(err).Detail != fault.MsgMobileOrPin {
		t.Fatalf("the squatter's MPIN: %v", err)
	}
	if err := f.initiate("9812000202", "2580"); err != nil {
		t.Fatalf("the owner pays: %v", err)
	}

	// A confirmed account is never replaced: a sign-up with its email or
	// mobile is answered alike, changes nothing, and tells the owner.
	if _, err := svc.SignUpConsumer(ctx, "9812000202", "Thief", "9999", "9999"); err != nil {
		t.Fatal(err)
	}
	if err := f.initiate("9812000202", "9999"); fault.AsError(err).Detail != fault.MsgMobileOrPin {
		t.Fatalf("a second sign-up changed the MPIN: %v", err)
	}
	if notices := f.phone.Notices("9812000202"); len(notices) == 0 || !strings.Contains(notices[len(notices)-1], "Someone asked to open a wallet with this number") {
		t.Fatalf("the owner was not told of the sign-up: %q", notices)
	}
}

func merchantByEmail(t *testing.T, f identityFixture, email string) store.Merchant {
	t.Helper()
	var m store.Merchant
	err := f.store.View(f.ctx, func(tx store.Tx) error {
		var err error
		m, err = tx.MerchantByEmail(f.ctx, email)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUnconfirmedMerchantKeys(t *testing.T) {
	f := newIdentity(t, servicetest.SQLite(t), nil)
	ctx, svc := f.ctx, f.svc
	sent, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "Shop", Email: "shop@example.com", Phone: "9812000301", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	m := merchantByEmail(t, f, "shop@example.com")
	var pk string
	err = f.store.View(ctx, func(tx store.Tx) error {
		keys, err := tx.Keys(ctx, m.ID)
		for _, k := range keys {
			if k.Kind == store.PublicKey {
				pk = k.Lookup
			}
		}
		return err
	})
	if err != nil || pk == "" {
		t.Fatalf("public key: %q %v", pk, err)
	}
	if _, err := svc.Authenticate(ctx, pk, store.PublicKey); fault.AsError(err).Kind != fault.KindUnauthorized {
		t.Fatalf("an unconfirmed merchant's key works: %v", err)
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, sent.Challenge, f.phone.Code("9812000301")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, pk, store.PublicKey); err != nil {
		t.Fatalf("the key after confirming: %v", err)
	}
}

// TestMPINLockExpiresAndEscalates: three wrong MPINs lock a wallet for 30
// minutes, the owner is told, the right MPIN is refused meanwhile and
// works after; the next lock lasts 2 hours. A number without a wallet
// is answered exactly alike at every step.
func TestMPINLockExpiresAndEscalates(t *testing.T) {
	servicetest.OnBothStores(t, testMPINLockExpiresAndEscalates)
}

func testMPINLockExpiresAndEscalates(t *testing.T, db store.Store) {
	f := newIdentity(t, db, nil)
	const known, unknown = "9800000001", "9812000499"
	step := func(what string, wantKnown error, mpin string) {
		t.Helper()
		got := detailOf(f.initiate(known, mpin))
		if wantKnown == nil && got != detailOf(nil) {
			t.Fatalf("%s: %s, want success", what, got)
		}
		if wantKnown != nil && got != detailOf(wantKnown) {
			t.Fatalf("%s: %s, want %s", what, got, detailOf(wantKnown))
		}
		// The unknown number, always with a wrong MPIN, is answered as the
		// wallet is to a wrong one.
		if mpin != payment.SandboxMPIN {
			if u := detailOf(f.initiate(unknown, mpin)); u != got {
				t.Fatalf("%s: a number without a wallet got %s, the wallet %s", what, u, got)
			}
		}
	}
	wrong := func(left string) error {
		return &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgMobileOrPin, TriesRemaining: left, ErrorKey: fault.ErrorKeyValidation}
	}
	locked := func(mins int) error {
		return &fault.Error{Kind: fault.KindLocked, ErrorKey: "third_party_transaction_locked",
			Detail: fmt.Sprintf("Your wallet is locked for third-party payments after too many wrong Khalti PINs. Try again in %d minutes, or reset your PIN to unlock it now.", mins)}
	}
	step("wrong 1", wrong("2"), "0000")
	step("wrong 2", wrong("1"), "0000")
	step("wrong 3 locks", locked(30), "0000")
	step("a wrong MPIN while locked", locked(30), "0000")
	// Pages word the lock from when it ends, which the error carries.
	if e := fault.AsError(f.initiate(known, "0000")); !e.LockedUntil.Equal(f.clock.Now().Add(30 * time.Minute)) {
		t.Fatalf("the lock's end: %v, want %v", e.LockedUntil, f.clock.Now().Add(30*time.Minute))
	}
	f.clock.Advance(10 * time.Minute)
	step("the right MPIN while locked", locked(20), payment.SandboxMPIN)
	if notes := f.phone.Notices(known); len(notes) != 1 || !strings.Contains(notes[0], "locked after 3 wrong MPINs in a row, the last one on a payment to Thaili Demo Shop") {
		t.Fatalf("the owner's notice: %q", notes)
	}
	var notices []store.ConsumerNotice
	if err := f.store.View(f.ctx, func(tx store.Tx) error {
		var err error
		notices, err = tx.ConsumerNotices(f.ctx, f.consumer(t, known).ID, time.Time{}, 10)
		return err
	}); err != nil || len(notices) != 1 || notices[0].Text != f.phone.Notices(known)[0] {
		t.Fatalf("the notice on the wallet page: %+v %v", notices, err)
	}
	f.clock.Advance(20 * time.Minute)
	step("the right MPIN after the lock", nil, payment.SandboxMPIN)
	step("wrong 1 again", wrong("2"), "0000")
	step("wrong 2 again", wrong("1"), "0000")
	step("wrong 3 locks for longer", locked(120), "0000")
	f.clock.Advance(2 * time.Hour)
	step("the right MPIN after the second lock", nil, payment.SandboxMPIN)
}

// TestUnknownNumbersCostTheSame: initiate, sign-up and reset do the same
// slow hashing whether or not the account exists, and answer alike.
func TestUnknownNumbersCostTheSame(t *testing.T) {
	f := newIdentity(t, servicetest.SQLite(t), nil)
	ctx, svc := f.ctx, f.svc
	// Warm up the dummy hashes made on first use.
	f.initiate("9812000599", "0000")
	svc.Login(ctx, "nobody@example.com", "a long password")
	hashes := func(fn func()) (mpin, password int64) {
		m0, p0 := svc.HashCounts()
		fn()
		m1, p1 := svc.HashCounts()
		return m1 - m0, p1 - p0
	}
	same := func(what string, a, b func()) {
		t.Helper()
		am, ap := hashes(a)
		bm, bp := hashes(b)
		if am != bm || ap != bp || am+ap == 0 {
			t.Errorf("%s: %d MPIN and %d password hashes for an existing account, %d and %d for none", what, am, ap, bm, bp)
		}
	}
	var errKnown, errUnknown error
	same("initiate", func() { errKnown = f.initiate("9800000002", "0000") }, func() { errUnknown = f.initiate("9812000598", "0000") })
	if detailOf(errKnown) != detailOf(errUnknown) {
		t.Errorf("initiate answers %s for a wallet, %s for none", detailOf(errKnown), detailOf(errUnknown))
	}
	var sentKnown, sentUnknown identity.CodeSent
	same("merchant sign-up", func() {
		sentKnown, errKnown = svc.SignUpMerchant(ctx, identity.SignUp{Name: "X", Email: payment.DemoMerchantEmail, Phone: "9812000597", Password: "a long password"})
	}, func() {
		sentUnknown, errUnknown = svc.SignUpMerchant(ctx, identity.SignUp{Name: "X", Email: "new@example.com", Phone: "9812000596", Password: "a long password"})
	})
	if errKnown != nil || errUnknown != nil || len(sentKnown.Challenge) != len(sentUnknown.Challenge) || sentKnown.To != "98XXXXX597" {
		t.Errorf("merchant sign-up answers %+v %v for a taken email, %+v %v for a new one", sentKnown, errKnown, sentUnknown, errUnknown)
	}
	same("wallet sign-up", func() {
		sentKnown, errKnown = svc.SignUpConsumer(ctx, "9800000003", "X", "1234", "1234")
	}, func() {
		sentUnknown, errUnknown = svc.SignUpConsumer(ctx, "9812000595", "X", "1234", "1234")
	})
	if errKnown != nil || errUnknown != nil || len(sentKnown.Challenge) != len(sentUnknown.Challenge) {
		t.Errorf("wallet sign-up answers %+v %v for a wallet, %+v %v for none", sentKnown, errKnown, sentUnknown, errUnknown)
	}
	sentKnown, errKnown = svc.SendMPINResetCode(ctx, "9800000004")
	sentUnknown, errUnknown = svc.SendMPINResetCode(ctx, "9812000594")
	if errKnown != nil || errUnknown != nil || len(sentKnown.Challenge) != len(sentUnknown.Challenge) {
		t.Errorf("reset answers %+v %v for a wallet, %+v %v for none", sentKnown, errKnown, sentUnknown, errUnknown)
	}
	// Only the real account's phone got a code.
	if f.phone.Code("9812000594") != "" || f.phone.Code("9800000004") == "" || f.phone.Code("9812000597") != "" {
		t.Errorf("codes sent: %v, %v, %v", f.phone.Code("9812000594"), f.phone.Code("9800000004"), f.phone.Code("9812000597"))
	}
	// A decoy's challenge opens nothing, however often it is tried.
	for i := range identity.MaxCodeTries + 1 {
		if err := svc.ResetMPINWithCode(ctx, sentUnknown.Challenge, fmt.Sprintf("%06d", i), "1357", "1357", ""); err == nil {
			t.Fatal("a decoy code reset an MPIN")
		}
	}
}

// TestConcurrentCodeGuesses: many simultaneous confirms with guessed
// codes against one sign-up never sign in and get exactly MaxCodeTries
// tries between them, after which the right code is refused too.
func TestConcurrentCodeGuesses(t *testing.T) { servicetest.OnBothStores(t, testConcurrentCodeGuesses) }

func testConcurrentCodeGuesses(t *testing.T, db store.Store) {
	f := newIdentity(t, db, nil)
	ctx, svc := f.ctx, f.svc
	sent, err := svc.SignUpConsumer(ctx, "9812000601", "Target", "2580", "2580")
	if err != nil {
		t.Fatal(err)
	}
	right := f.phone.Code("9812000601")
	const n = 40
	var wg sync.WaitGroup
	answers := make([]string, n)
	sessions := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			guess := fmt.Sprintf("%06d", i)
			if guess == right {
				guess = "999999"
			}
			session, err := svc.ConfirmConsumerPhone(ctx, sent.Challenge, guess)
			sessions[i], answers[i] = session, fault.AsError(err).Detail
		}()
	}
	wg.Wait()
	counts := map[string]int{}
	for i, a := range answers {
		if sessions[i] != "" {
			t.Fatalf("guess %d signed in", i)
		}
		counts[a]++
	}
	// Of MaxCodeTries counted tries, all but the last say "wrong"; every
	// other guess is told the code is spent.
	if counts[identity.MsgCodeWrong] != identity.MaxCodeTries-1 || counts[identity.MsgCodeExpired] != n-identity.MaxCodeTries+1 {
		t.Fatalf("answers to %d simultaneous guesses: %v", n, counts)
	}
	if _, err := svc.ConfirmConsumerPhone(ctx, sent.Challenge, right); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("the right code after the tries were spent: %v", err)
	}
	if c := f.consumer(t, "9812000601"); c.Confirmed {
		t.Fatal("the wallet was confirmed")
	}
}

// TestGuessLimits: wrong MPINs are limited per client address and per
// merchant key before the MPIN is hashed; right ones cost nothing.
func TestGuessLimits(t *testing.T) {
	clock := servicetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	addrs := ratelimit.New(5, 5*time.Minute, clock.Now)
	keys := ratelimit.New(8, time.Minute, clock.Now)
	f := newIdentity(t, servicetest.SQLite(t), func(d *servicetest.Deps) {
		d.Identity.AddressGuesses, d.Identity.KeyGuesses = addrs, keys
	})
	attacker := identity.WithClient(f.ctx, "192.0.2.7")
	f.ctx = attacker
	// Right MPINs do not count.
	for range 10 {
		if err := f.initiate("9800000001", payment.SandboxMPIN); err != nil {
			t.Fatal(err)
		}
	}
	// Five wrong guesses at five numbers, then the address is refused,
	// before any MPIN is hashed.
	for i := range 5 {
		if err := f.initiate(fmt.Sprintf("98120007%02d", i), "0000"); fault.AsError(err).Detail != fault.MsgMobileOrPin {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	before, _ := f.svc.HashCounts()
	err := f.initiate("9812000799", "0000")
	e := fault.AsError(err)
	if e.Kind != fault.KindThrottled || e.RetryAfter != time.Minute || e.Detail != "Request was throttled. Expected available in 60 seconds." {
		t.Fatalf("the sixth guess: %+v", e)
	}
	if after, _ := f.svc.HashCounts(); after != before {
		t.Fatal("a throttled guess was hashed")
	}
	// Another address may still guess, through the same public key, until
	// the key's limit (8) is reached.
	f.ctx = identity.WithClient(context.Background(), "198.51.100.9")
	for i := range 3 {
		if err := f.initiate(fmt.Sprintf("98120008%02d", i), "0000"); fault.AsError(err).Kind != fault.KindValidation {
			t.Fatalf("another address, guess %d: %v", i+1, err)
		}
	}
	if err := f.initiate("9812000899", "0000"); fault.AsError(err).Kind != fault.KindThrottled {
		t.Fatalf("the key's ninth guess: %v", err)
	}
	clock.Advance(time.Minute)
	if err := f.initiate("9812000898", "0000"); fault.AsError(err).Kind != fault.KindValidation {
		t.Fatalf("after the wait: %v", err)
	}
}

// TestBoundElsewhere: a payment is bound to the browser that signed in
// while its code is fresh; then any browser may sign in again.
func TestBoundElsewhere(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	p := store.Payment{ConsumerID: 7, Browser: "payer", OTPExpiresAt: now.Add(time.Minute)}
	for _, tc := range []struct {
		what    string
		p       store.Payment
		browser string
		at      time.Time
		want    bool
	}{
		{"the payer's browser", p, "payer", now, false},
		{"another browser while the code is fresh", p, "stranger", now, true},
		{"another browser once the code expired", p, "stranger", now.Add(time.Minute), false},
		{"nobody signed in yet", store.Payment{}, "stranger", now, false},
		{"signed in before browsers were bound", store.Payment{ConsumerID: 7, OTPExpiresAt: now.Add(time.Minute)}, "stranger", now, false},
	} {
		if got := payment.BoundElsewhere(tc.p, tc.browser, tc.at); got != tc.want {
			t.Errorf("%s: %t, want %t", tc.what, got, tc.want)
		}
	}
}

// TestPurgeIdentityRecords: codes go a day after they were sent, wallet
// notices after 30 days, and the wrong-MPIN counts of numbers without a
// wallet a day after their last change and lock; fresher ones stay.
func TestPurgeIdentityRecords(t *testing.T) {
	f := newIdentity(t, servicetest.SQLite(t), nil)
	ctx, svc := f.ctx, f.svc
	if _, err := svc.SendMPINResetCode(ctx, "9800000002"); err != nil { // a code and a notice
		t.Fatal(err)
	}
	f.initiate("9812000901", "0000") // a count for a number without a wallet
	state := func() (codes int, guard store.MPINGuard, notices int) {
		t.Helper()
		err := f.store.InTx(ctx, func(tx store.Tx) error {
			var err error
			if codes, err = tx.CodesSince(ctx, "9800000002", time.Time{}); err != nil {
				return err
			}
			if guard, err = tx.MPINGuard(ctx, "9812000901"); err != nil {
				return err
			}
			ns, err := tx.ConsumerNotices(ctx, f.consumer(t, "9800000002").ID, time.Time{}, 100)
			notices = len(ns)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return codes, guard, notices
	}
	f.clock.Advance(23 * time.Hour)
	if err := svc.PurgeIdentityRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if codes, guard, notices := state(); codes != 1 || guard.Failed != 1 || notices != 1 {
		t.Fatalf("after 23 hours: %d codes, guard %+v, %d notices; want all kept", codes, guard, notices)
	}
	f.clock.Advance(2 * time.Hour)
	if err := svc.PurgeIdentityRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if codes, guard, notices := state(); codes != 0 || guard.Failed != 0 || notices != 1 {
		t.Fatalf("after 25 hours: %d codes, guard %+v, %d notices; want the code and the count gone, the notice kept", codes, guard, notices)
	}
	f.clock.Advance(30 * 24 * time.Hour)
	if err := svc.PurgeIdentityRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, notices := state(); notices != 0 {
		t.Fatalf("after 31 days: %d notices", notices)
	}
}
