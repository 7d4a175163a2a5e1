package payment_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/sqlite"
)

// codeNotifier records account codes by mobile.
type codeNotifier struct{ codes map[string]string }

func (n *codeNotifier) SendOTP(context.Context, string, string, money.Paisa, string) error {
	return nil
}
func (n *codeNotifier) SendCode(_ context.Context, mobile, code, _ string) error {
	n.codes[mobile] = code
	return nil
}

func newAccountService(t *testing.T) (*payment.Service, *lcClock, *codeNotifier) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := payment.DefaultConfig()
	cfg.PasswordCost = 4
	clock := &lcClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	notes := &codeNotifier{codes: map[string]string{}}
	svc, err := payment.New(payment.Deps{Store: db, Config: cfg, Now: clock.Now, Rand: rand.Reader,
		Secret: make([]byte, 32), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Notifier: notes})
	if err != nil {
		t.Fatal(err)
	}
	return svc, clock, notes
}

func TestAccountSessionsAndCodes(t *testing.T) {
	ctx := context.Background()
	svc, clock, notes := newAccountService(t)
	const phone, pw = "9812000001", "0123456789"
	if _, _, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "A", Email: "a@example.com", Phone: phone, Password: strings.Repeat("x", 129)}); err == nil {
		t.Fatal("129-character password accepted")
	}
	m, _, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "A", Email: "A@Example.com ", Phone: phone, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	// 128 characters, beyond bcrypt's 72 bytes, all count.
	long := strings.Repeat("é", 128)
	if _, _, err := svc.SignUpMerchant(ctx, payment.SignUp{Name: "B", Email: "b@example.com", Phone: "9812000002", Password: long}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmPhone(ctx, "b@example.com", notes.codes["9812000002"]); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "b@example.com", strings.Repeat("é", 127)+"e"); err == nil {
		t.Fatal("a password differing in its last character signed in")
	}
	if _, err := svc.Login(ctx, "b@example.com", long); err != nil {
		t.Fatalf("128-character password: %v", err)
	}

	// The code expires after PhoneCodeTTL; signing in sends a new one.
	code := notes.codes[phone]
	clock.Advance(payment.PhoneCodeTTL + time.Second)
	if _, err := svc.ConfirmPhone(ctx, m.Email, code); payment.AsError(err).Detail != payment.MsgCodeExpired {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := svc.Login(ctx, m.Email, pw); !errors.Is(err, payment.ErrPhoneNotConfirmed) {
		t.Fatalf("login before confirming: %v", err)
	}
	// MaxPhoneTries wrong codes end the code, even the right one after.
	code = notes.codes[phone]
	for range payment.MaxPhoneTries {
		svc.ConfirmPhone(ctx, m.Email, "x")
	}
	if _, err := svc.ConfirmPhone(ctx, m.Email, code); payment.AsError(err).Detail != payment.MsgCodeExpired {
		t.Fatalf("code after too many tries: %v", err)
	}
	svc.Login(ctx, m.Email, pw)
	if _, err := svc.ConfirmPhone(ctx, m.Email, notes.codes[phone]); err != nil {
		t.Fatal(err)
	}

	// Sessions: idle for SessionIdle ends one; use keeps it alive until
	// SessionLifetime.
	id, err := svc.NewSession(ctx, m.ID)
	if err != nil || len(id) != 43 {
		t.Fatalf("session id %q: %v", id, err)
	}
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
	id, _ = svc.NewSession(ctx, m.ID)
	clock.Advance(payment.SessionIdle + time.Second)
	if _, err := svc.SessionMerchant(ctx, id); payment.AsError(err).Kind != payment.KindUnauthorized {
		t.Fatalf("idle session: %v", err)
	}

	// Failures age out of the 30-minute window.
	for range payment.MaxLoginFailures {
		svc.Login(ctx, m.Email, "wrong password")
	}
	if _, err := svc.Login(ctx, m.Email, pw); payment.AsError(err).Kind != payment.KindLocked {
		t.Fatalf("after 10 failures: %v", err)
	}
	clock.Advance(payment.LoginWindow + time.Second)
	if _, err := svc.Login(ctx, m.Email, pw); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
