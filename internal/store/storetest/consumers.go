package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// testConsumerAccounts checks the wallet pages' storage: phone state,
// sessions, the OTP inbox and a consumer's payments.
func testConsumerAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c1, c2 := newConsumer(t, s, 1), newConsumer(t, s, 2)

	// Existing wallets count as confirmed.
	var a store.Account
	view(t, s, func(tx store.Tx) error {
		var err error
		a, err = tx.ConsumerAccount(ctx, c1.ID)
		return err
	})
	same(t, "new consumer account", a, store.Account{PhoneConfirmed: true})
	want := store.Account{CodeHash: "h", CodeExpiresAt: base.Add(10 * time.Minute), CodeTries: 1}
	inTx(t, s, func(tx store.Tx) error { return tx.SetConsumerAccount(ctx, c1.ID, want) })
	view(t, s, func(tx store.Tx) error {
		var err error
		a, err = tx.ConsumerAccount(ctx, c1.ID)
		return err
	})
	same(t, "pending consumer code", a, want)
	err := s.View(ctx, func(tx store.Tx) error { _, err := tx.ConsumerAccount(ctx, 999999); return err })
	wantErr(t, "ConsumerAccount(unknown)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.SetConsumerAccount(ctx, 999999, want) })
	wantErr(t, "SetConsumerAccount(unknown)", err, store.ErrNotFound)

	// Sessions.
	for i, ss := range []store.ConsumerSession{
		{IDHash: "c1", ConsumerID: c1.ID, CreatedAt: base, LastSeenAt: base},
		{IDHash: "c2", ConsumerID: c1.ID, CreatedAt: base.Add(time.Hour), LastSeenAt: base.Add(time.Hour)},
		{IDHash: "c3", ConsumerID: c2.ID, CreatedAt: base.Add(time.Hour), LastSeenAt: base.Add(time.Hour)},
	} {
		inTx(t, s, func(tx store.Tx) error { return tx.CreateConsumerSession(ctx, ss) })
		if i == 0 {
			err = s.InTx(ctx, func(tx store.Tx) error { return tx.CreateConsumerSession(ctx, ss) })
			wantErr(t, "CreateConsumerSession(duplicate)", err, store.ErrDuplicate)
		}
	}
	var got store.ConsumerSession
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.TouchConsumerSession(ctx, "c1", base.Add(time.Minute)); err != nil {
			return err
		}
		var err error
		got, err = tx.ConsumerSession(ctx, "c1")
		return err
	})
	same(t, "touched session", got, store.ConsumerSession{IDHash: "c1", ConsumerID: c1.ID, CreatedAt: base, LastSeenAt: base.Add(time.Minute)})
	var n int
	inTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteConsumerSessions(ctx, c1.ID, "c2")
		return err
	})
	same(t, "deleted sessions", n, 1)
	inTx(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.PurgeConsumerSessions(ctx, base.Add(2*time.Hour), base)
		return err
	})
	same(t, "purged sessions", n, 2)
	err = s.View(ctx, func(tx store.Tx) error { _, err := tx.ConsumerSession(ctx, "c2"); return err })
	wantErr(t, "ConsumerSession(purged)", err, store.ErrNotFound)
	inTx(t, s, func(tx store.Tx) error { return tx.DeleteConsumerSession(ctx, "c3") })

	// The OTP inbox.
	codes := []store.ConsumerCode{
		{ConsumerID: c1.ID, Purpose: "confirm phone", Code: "111111", CreatedAt: base},
		{ConsumerID: c1.ID, Purpose: "reset MPIN", Code: "222222", CreatedAt: base.Add(time.Hour)},
		{ConsumerID: c2.ID, Purpose: "confirm phone", Code: "333333", CreatedAt: base.Add(time.Hour)},
	}
	for _, c := range codes {
		inTx(t, s, func(tx store.Tx) error { return tx.AddConsumerCode(ctx, c) })
	}
	var inbox []store.ConsumerCode
	view(t, s, func(tx store.Tx) error {
		var err error
		inbox, err = tx.ConsumerCodes(ctx, c1.ID, base)
		return err
	})
	same(t, "inbox", inbox, []store.ConsumerCode{codes[1], codes[0]})
	inTx(t, s, func(tx store.Tx) error { return tx.PurgeConsumerCodes(ctx, base.Add(time.Minute)) })
	view(t, s, func(tx store.Tx) error {
		var err error
		inbox, err = tx.ConsumerCodes(ctx, c1.ID, time.Time{})
		return err
	})
	same(t, "inbox after purge", inbox, []store.ConsumerCode{codes[1]})

	// Payments the consumer signed in to, newest first, limited.
	p1 := newPayment(m.ID, c1.ID, ledger.Test, "w1", store.Completed, base, base)
	p2 := newPayment(m.ID, c1.ID, ledger.Live, "w2", store.Refunded, base.Add(time.Hour), base.Add(time.Hour))
	p3 := newPayment(m.ID, c2.ID, ledger.Test, "w3", store.Completed, base, base)
	p4 := newPayment(m.ID, 0, ledger.Test, "w4", store.Initiated, base, time.Time{})
	create(t, s, &p1, &p2, &p3, &p4)
	var ps []store.Payment
	view(t, s, func(tx store.Tx) error {
		var err error
		ps, err = tx.ConsumerPayments(ctx, c1.ID, 10)
		return err
	})
	same(t, "consumer payments", idxs(ps), []string{"idx-w2", "idx-w1"})
	view(t, s, func(tx store.Tx) error {
		var err error
		ps, err = tx.ConsumerPayments(ctx, c1.ID, 1)
		return err
	})
	same(t, "limited", idxs(ps), []string{"idx-w2"})
}

// testWrongMPINs checks the wrong-MPIN count: it locks at maxTries, a
// locked wallet is left alone, clearing refuses a locked wallet, and
// wrong MPINs counted at once are all counted (a read-then-write of the
// count would lose some under READ COMMITTED).
func testWrongMPINs(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := newConsumer(t, s, 1)
	count := func(maxTries int) (int, bool) {
		t.Helper()
		var failed int
		var locked bool
		inTx(t, s, func(tx store.Tx) error {
			var err error
			failed, locked, err = tx.CountWrongMPIN(ctx, c.ID, maxTries)
			return err
		})
		return failed, locked
	}
	for i, want := range []struct {
		failed int
		locked bool
	}{{1, false}, {2, false}, {3, true}, {3, true}} {
		if failed, locked := count(3); failed != want.failed || locked != want.locked {
			t.Fatalf("CountWrongMPIN #%d = %d, %t; want %d, %t", i+1, failed, locked, want.failed, want.locked)
		}
	}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.ClearWrongMPIN(ctx, c.ID) })
	wantErr(t, "ClearWrongMPIN(locked)", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c.ID)
		if err == nil && (!got.Locked || got.FailedMPIN != 3) {
			t.Errorf("after refusing to clear: %+v", got)
		}
		return err
	})
	err = s.InTx(ctx, func(tx store.Tx) error {
		_, _, err := tx.CountWrongMPIN(ctx, c.ID+1000, 3)
		return err
	})
	wantErr(t, "CountWrongMPIN(no such wallet)", err, store.ErrNotFound)

	// Unlocked (as an MPIN reset does), counted at once, then cleared.
	inTx(t, s, func(tx store.Tx) error { return tx.UpdateConsumerSecurity(ctx, c.ID, c.MPINHash, 0, false) })
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				_, _, err := tx.CountWrongMPIN(ctx, c.ID, 1000)
				return err
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent CountWrongMPIN %d: %v", i, err)
		}
	}
	if failed, locked := count(1000); failed != n+1 || locked {
		t.Fatalf("after %d concurrent wrong MPINs and one more: %d, %t; want %d, false", n, failed, locked, n+1)
	}
	inTx(t, s, func(tx store.Tx) error { return tx.ClearWrongMPIN(ctx, c.ID) })
	if failed, _ := count(1000); failed != 1 {
		t.Fatalf("count after clearing and one more: %d, want 1", failed)
	}
}
