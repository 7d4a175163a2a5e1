package payment_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// phone records what the service sends to phones: the last account code
// and the notices, by mobile.
type testPhone struct {
	mu      sync.Mutex
	codes   map[string]string
	notices map[string][]string
}

func newPhone() *testPhone {
	return &testPhone{codes: map[string]string{}, notices: map[string][]string{}}
}

func (n *testPhone) SendOTP(context.Context, string, string, money.Paisa, string) error { return nil }

func (n *testPhone) SendCode(_ context.Context, mobile, code, _ string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.codes[mobile] = code
	return nil
}

func (n *testPhone) SendNotice(_ context.Context, mobile, text string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notices[mobile] = append(n.notices[mobile], text)
	return nil
}

func (n *testPhone) code(mobile string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.codes[mobile]
}

type accountFixture struct {
	svc   *payment.Service
	db    store.Store
	clock *lcClock
	phone *testPhone
}

func newAccountService(t *testing.T) accountFixture {
	t.Helper()
	db := sqliteStore(t)
	cfg := payment.DefaultConfig()
	cfg.PasswordCost, cfg.MPINIterations = 4, 1000
	clock := &lcClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ph := newPhone()
	svc, err := payment.New(payment.Deps{Store: db, Config: cfg, Now: clock.Now, Rand: rand.Reader,
		Secret: make([]byte, 32), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notifier: ph})
	if err != nil {
		t.Fatal(err)
	}
	return accountFixture{svc: svc, db: db, clock: clock, phone: ph}
}

func (f accountFixture) merchant(t *testing.T, email string) store.Merchant {
	t.Helper()
	var m store.Merchant
	err := f.db.View(context.Background(), func(tx store.Tx) error {
		var err error
		m, err = tx.MerchantByEmail(context.Background(), email)
		return err
	})
	if err != nil {
		t.Fatalf("merchant %s: %v", email, err)
	}
	return m
}

func TestAccountSessionsAndCodes(t *testing.T) {
	ctx := context.Background()
	f := newAccountService(t)
	svc, clock := f.svc, f.clock
	const phoneNo, pw = "9812000001", "0123456789"
	if _, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "A", Email: "a@example.com", Phone: phoneNo, Password: strings.Repeat("x", 129)}); err == nil {
		t.Fatal("129-character password accepted")
	}
	sent, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "A", Email: "A@Example.com ", Phone: phoneNo, Password: pw})
	if err != nil || sent.To != "98XXXXX001" || len(sent.Challenge) < 20 {
		t.Fatalf("sign-up: %+v, %v", sent, err)
	}
	m := f.merchant(t, "a@example.com")
	if m.Confirmed {
		t.Fatal("a web sign-up is confirmed before its code")
	}
	// 128 characters, beyond bcrypt's 72 bytes, all count.
	long := strings.Repeat("é", 128)
	sentB, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "B", Email: "b@example.com", Phone: "9812000002", Password: long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, sentB.Challenge, f.phone.code("9812000002")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "b@example.com", strings.Repeat("é", 127)+"e"); err == nil {
		t.Fatal("a password differing in its last character signed in")
	}
	if in, err := svc.Login(ctx, "b@example.com", long); err != nil || in.Session == "" {
		t.Fatalf("128-character password: %+v %v", in, err)
	}

	// The code expires after CodeTTL; signing in sends a new one.
	code := f.phone.code(phoneNo)
	clock.Advance(payment.CodeTTL + time.Second)
	if _, err := svc.ConfirmMerchantPhone(ctx, sent.Challenge, code); fault.AsError(err).Detail != payment.MsgCodeExpired {
		t.Fatalf("expired code: %v", err)
	}
	in, err := svc.Login(ctx, m.Email, pw)
	if err != nil || in.Session != "" || in.Code == nil {
		t.Fatalf("login before confirming: %+v %v", in, err)
	}
	// MaxCodeTries wrong codes end the code, even the right one after.
	code = f.phone.code(phoneNo)
	for i := range payment.MaxCodeTries {
		_, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, "x")
		want := payment.MsgCodeWrong
		if i == payment.MaxCodeTries-1 {
			want = payment.MsgCodeExpired
		}
		if fault.AsError(err).Detail != want {
			t.Fatalf("wrong code %d: %v, want %q", i+1, err, want)
		}
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, code); fault.AsError(err).Detail != payment.MsgCodeExpired {
		t.Fatalf("code after too many tries: %v", err)
	}
	in, _ = svc.Login(ctx, m.Email, pw)
	id, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, f.phone.code(phoneNo))
	if err != nil || len(id) != 43 {
		t.Fatalf("session id %q: %v", id, err)
	}
	// The code is used: a replay opens nothing.
	if _, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, f.phone.code(phoneNo)); fault.AsError(err).Detail != payment.MsgCodeExpired {
		t.Fatalf("replayed code: %v", err)
	}

	// Sessions: idle for SessionIdle ends one; use keeps it alive until
	// SessionLifetime.
	for range 15 {
		clock.Advance(11 * time.Hour)
		if _, err := svc.SessionMerchant(ctx, id); err != nil {
			t.Fatalf("active session ended early: %v", err)
		}
	}
	clock.Advance(11 * time.Hour) // 176 h: active, but past 7 days
	if _, err := svc.SessionMerchant(ctx, id); err == nil {
		t.Fatal("session outlived its absolute lifetime")
	}
	in, _ = svc.Login(ctx, m.Email, pw)
	clock.Advance(payment.SessionIdle + time.Second)
	if _, err := svc.SessionMerchant(ctx, in.Session); fault.AsError(err).Kind != fault.KindUnauthorized {
		t.Fatalf("idle session: %v", err)
	}

	// Failures age out of the 30-minute window.
	for range payment.MaxLoginFailures {
		svc.Login(ctx, m.Email, "wrong password")
	}
	if _, err := svc.Login(ctx, m.Email, pw); fault.AsError(err).Kind != fault.KindLocked {
		t.Fatalf("after 10 failures: %v", err)
	}
	clock.Advance(payment.LoginWindow + time.Second)
	if _, err := svc.Login(ctx, m.Email, pw); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
