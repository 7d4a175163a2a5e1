package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)

	// Password and phone confirmation state.
	inTx(t, s, func(tx store.Tx) error { return tx.SetMerchantPassword(ctx, m1.ID, "new-hash") })
	signUp := store.Merchant{Idx: "merchant-idx-u", Name: "U", Email: "u@example.com", KYC: store.KYCNone, CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &signUp) })
	view(t, s, func(tx store.Tx) error {
		m, err := tx.Merchant(ctx, m1.ID)
		if err != nil {
			return err
		}
		same(t, "password hash", m.PasswordHash, "new-hash")
		m, err = tx.Merchant(ctx, signUp.ID)
		same(t, "unconfirmed merchant", m, signUp)
		return err
	})
	inTx(t, s, func(tx store.Tx) error { return tx.ConfirmMerchant(ctx, signUp.ID) })
	view(t, s, func(tx store.Tx) error {
		m, err := tx.MerchantByEmail(ctx, signUp.Email)
		if err == nil && !m.Confirmed {
			t.Errorf("ConfirmMerchant did not confirm: %+v", m)
		}
		return err
	})
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.ConfirmMerchant(ctx, 999999) })
	wantErr(t, "ConfirmMerchant(unknown)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.SetMerchantPassword(ctx, 999999, "x") })
	wantErr(t, "SetMerchantPassword(unknown)", err, store.ErrNotFound)

	// Sessions.
	sessions := []store.Session{
		{IDHash: "s1", MerchantID: m1.ID, CreatedAt: base, LastSeenAt: base},
		{IDHash: "s2", MerchantID: m1.ID, CreatedAt: base.Add(time.Hour), LastSeenAt: base.Add(time.Hour)},
		{IDHash: "s3", MerchantID: m1.ID, CreatedAt: base.Add(2 * time.Hour), LastSeenAt: base.Add(2 * time.Hour)},
		{IDHash: "s4", MerchantID: m2.ID, CreatedAt: base, LastSeenAt: base},
	}
	for _, ss := range sessions {
		inTx(t, s, func(tx store.Tx) error { return tx.CreateSession(ctx, ss) })
	}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, sessions[0]) })
	wantErr(t, "CreateSession(duplicate)", err, store.ErrDuplicate)
	get := func(h string) (store.Session, error) {
		var got store.Session
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			got, err = tx.Session(ctx, h)
			return err
		})
		return got, err
	}
	got, err := get("s2")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "session", got, sessions[1])
	inTx(t, s, func(tx store.Tx) error { return tx.TouchSession(ctx, "s2", base.Add(3*time.Hour)) })
	got, _ = get("s2")
	same(t, "touched", got.LastSeenAt, base.Add(3*time.Hour))
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.TouchSession(ctx, "nope", base) })
	wantErr(t, "TouchSession(unknown)", err, store.ErrNotFound)
	inTx(t, s, func(tx store.Tx) error { return tx.DeleteSession(ctx, "s3") })
	_, err = get("s3")
	wantErr(t, "deleted session", err, store.ErrNotFound)
	// Everywhere but s2: s1 goes, m2's s4 stays.
	var n int
	inTx(t, s, func(tx store.Tx) error { n, err = tx.DeleteSessions(ctx, m1.ID, "s2"); return err })
	same(t, "sessions deleted", n, 1)
	if _, err := get("s4"); err != nil {
		t.Fatalf("other merchant's session: %v", err)
	}
	inTx(t, s, func(tx store.Tx) error { n, err = tx.DeleteSessions(ctx, m1.ID, ""); return err })
	same(t, "sessions deleted everywhere", n, 1)
	_, err = get("s2")
	wantErr(t, "session after logout everywhere", err, store.ErrNotFound)
	// Purge: idle or too old.
	inTx(t, s, func(tx store.Tx) error {
		return tx.CreateSession(ctx, store.Session{IDHash: "s5", MerchantID: m2.ID, CreatedAt: base.Add(time.Hour), LastSeenAt: base.Add(5 * time.Hour)})
	})
	inTx(t, s, func(tx store.Tx) error {
		n, err = tx.PurgeSessions(ctx, base.Add(time.Minute), base.Add(-time.Hour))
		return err
	})
	same(t, "purged", n, 1)
	if _, err := get("s5"); err != nil {
		t.Fatalf("live session purged: %v", err)
	}

	// Login failures, counted per email within a window.
	for i := range 3 {
		inTx(t, s, func(tx store.Tx) error {
			return tx.AddLoginFailure(ctx, "a@example.com", base.Add(time.Duration(i)*time.Minute))
		})
	}
	inTx(t, s, func(tx store.Tx) error { return tx.AddLoginFailure(ctx, "b@example.com", base) })
	count := func(email string, since time.Time) int {
		var n int
		view(t, s, func(tx store.Tx) error { var err error; n, err = tx.LoginFailures(ctx, email, since); return err })
		return n
	}
	same(t, "failures", count("a@example.com", base), 3)
	same(t, "failures since", count("a@example.com", base.Add(time.Minute)), 2)
	same(t, "other email", count("b@example.com", base), 1)
	inTx(t, s, func(tx store.Tx) error { return tx.ClearLoginFailures(ctx, "a@example.com", base.Add(2*time.Minute)) })
	same(t, "after clearing old", count("a@example.com", base), 1)
	same(t, "other email kept", count("b@example.com", base), 1)
}

// testLockKey checks that LockKey serialises a check-then-insert: of
// many transactions that each add a login failure only while fewer than
// limit are recorded, exactly limit add one. Without the lock, READ
// COMMITTED lets several read the same count and all insert.
func testLockKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n, limit = 16, 5
	simultaneously(t, s, n, func(_ int, tx store.Tx) error {
		if err := tx.LockKey(ctx, "login:racer@example.com"); err != nil {
			return err
		}
		got, err := tx.LoginFailures(ctx, "racer@example.com", base.Add(-time.Hour))
		if err != nil || got >= limit {
			return err
		}
		return tx.AddLoginFailure(ctx, "racer@example.com", base)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LoginFailures(ctx, "racer@example.com", base.Add(-time.Hour))
		if err == nil && got != limit {
			t.Errorf("%d failures recorded under the lock, want exactly %d", got, limit)
		}
		return err
	})
}
