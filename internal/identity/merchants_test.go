package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

type accountFixture struct {
	svc   *identity.Service
	db    store.Store
	clock *servicetest.Clock
	phone *servicetest.Phone
}

func newAccountService(t *testing.T) accountFixture {
	t.Helper()
	db := servicetest.SQLite(t)
	clock := servicetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ph := servicetest.NewPhone()
	_, svc := servicetest.New(t, db, clock.Now, ph)
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
	if _, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "A", Email: "a@example.com", Phone: phoneNo, Password: strings.Repeat("x", 129)}); err == nil {
		t.Fatal("129-character password accepted")
	}
	sent, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "A", Email: "A@Example.com ", Phone: phoneNo, Password: pw})
	if err != nil || sent.To != "98XXXXX001" || len(sent.Challenge) < 20 {
		t.Fatalf("sign-up: %+v, %v", sent, err)
	}
	m := f.merchant(t, "a@example.com")
	if m.Confirmed {
		t.Fatal("a web sign-up is confirmed before its code")
	}
	// 128 characters, beyond bcrypt's 72 bytes, all count.
	long := strings.Repeat("é", 128)
	sentB, err := svc.SignUpMerchant(ctx, identity.SignUp{Name: "B", Email: "b@example.com", Phone: "9812000002", Password: long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, sentB.Challenge, f.phone.Code("9812000002")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "b@example.com", strings.Repeat("é", 127)+"e"); err == nil {
		t.Fatal("a password differing in its last character signed in")
	}
	if in, err := svc.Login(ctx, "b@example.com", long); err != nil || in.Session == "" {
		t.Fatalf("128-character password: %+v %v", in, err)
	}

	// The code expires after CodeTTL; signing in sends a new one.
	code := f.phone.Code(phoneNo)
	clock.Advance(identity.CodeTTL + time.Second)
	if _, err := svc.ConfirmMerchantPhone(ctx, sent.Challenge, code); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("expired code: %v", err)
	}
	in, err := svc.Login(ctx, m.Email, pw)
	if err != nil || in.Session != "" || in.Code == nil {
		t.Fatalf("login before confirming: %+v %v", in, err)
	}
	// MaxCodeTries wrong codes end the code, even the right one after.
	code = f.phone.Code(phoneNo)
	for i := range identity.MaxCodeTries {
		_, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, "x")
		want := identity.MsgCodeWrong
		if i == identity.MaxCodeTries-1 {
			want = identity.MsgCodeExpired
		}
		if fault.AsError(err).Detail != want {
			t.Fatalf("wrong code %d: %v, want %q", i+1, err, want)
		}
	}
	if _, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, code); fault.AsError(err).Detail != identity.MsgCodeExpired {
		t.Fatalf("code after too many tries: %v", err)
	}
	in, _ = svc.Login(ctx, m.Email, pw)
	id, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, f.phone.Code(phoneNo))
	if err != nil || len(id) != 43 {
		t.Fatalf("session id %q: %v", id, err)
	}
	// The code is used: a replay opens nothing.
	if _, err := svc.ConfirmMerchantPhone(ctx, in.Code.Challenge, f.phone.Code(phoneNo)); fault.AsError(err).Detail != identity.MsgCodeExpired {
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
	clock.Advance(identity.SessionIdle + time.Second)
	if _, err := svc.SessionMerchant(ctx, in.Session); fault.AsError(err).Kind != fault.KindUnauthorized {
		t.Fatalf("idle session: %v", err)
	}

	// Failures age out of the 30-minute window.
	for range identity.MaxLoginFailures {
		svc.Login(ctx, m.Email, "wrong password")
	}
	if _, err := svc.Login(ctx, m.Email, pw); fault.AsError(err).Kind != fault.KindLocked {
		t.Fatalf("after 10 failures: %v", err)
	}
	clock.Advance(identity.LoginWindow + time.Second)
	if _, err := svc.Login(ctx, m.Email, pw); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
