package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// testConsumerAccounts checks the wallet pages' storage: phone state,
// sessions, notices and a consumer's payments.
func testConsumerAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c1, c2 := newConsumer(t, s, 1), newConsumer(t, s, 2)

	// Confirming the phone.
	unconfirmed := store.Consumer{Idx: "consumer-idx-u", Mobile: "9841000099", Name: "U", MPINHash: "h", CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateConsumer(ctx, &unconfirmed) })
	inTx(t, s, func(tx store.Tx) error { return tx.ConfirmConsumer(ctx, unconfirmed.ID) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, unconfirmed.ID)
		if err == nil && !got.Confirmed {
			t.Errorf("ConfirmConsumer did not confirm: %+v", got)
		}
		return err
	})
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.ConfirmConsumer(ctx, 999999) })
	wantErr(t, "ConfirmConsumer(unknown)", err, store.ErrNotFound)

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

	// Notices, newest first, limited, purged by age.
	notices := []store.ConsumerNotice{
		{ConsumerID: c1.ID, Text: "locked", CreatedAt: base},
		{ConsumerID: c1.ID, Text: "MPIN changed", CreatedAt: base.Add(time.Hour)},
		{ConsumerID: c2.ID, Text: "other", CreatedAt: base.Add(time.Hour)},
		{ConsumerID: c1.ID, Text: "newest", CreatedAt: base.Add(2 * time.Hour)},
	}
	for _, n := range notices {
		inTx(t, s, func(tx store.Tx) error { return tx.AddConsumerNotice(ctx, n) })
	}
	list := func(since time.Time, limit int) []store.ConsumerNotice {
		var got []store.ConsumerNotice
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.ConsumerNotices(ctx, c1.ID, since, limit)
			return err
		})
		return got
	}
	same(t, "notices", list(base, 10), []store.ConsumerNotice{notices[3], notices[1], notices[0]})
	same(t, "notices since", list(base.Add(time.Minute), 10), []store.ConsumerNotice{notices[3], notices[1]})
	same(t, "notices limited", list(base, 1), []store.ConsumerNotice{notices[3]})
	inTx(t, s, func(tx store.Tx) error { return tx.PurgeConsumerNotices(ctx, base.Add(time.Minute)) })
	same(t, "notices after purge", list(time.Time{}, 10), []store.ConsumerNotice{notices[3], notices[1]})

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

// testWrongMPINs checks that ConsumerForUpdate (and ConsumerWithBalance,
// which reads the same way) lets transactions decide a wallet's
// wrong-MPIN count one after the other: each of many simultaneous
// transactions reads the count and writes it plus one, and none is lost.
// Under READ COMMITTED without a row lock several would read the same
// count, and a burst of guesses would get more tries than the limit.
func testWrongMPINs(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := newConsumer(t, s, 1)
	const n = 16
	simultaneously(t, s, n, func(i int, tx store.Tx) error {
		var got store.Consumer
		var err error
		if i%2 == 0 {
			got, err = tx.ConsumerForUpdate(ctx, c.Mobile)
		} else {
			got, _, err = tx.ConsumerWithBalance(ctx, c.Mobile, ledger.Test)
		}
		if err != nil {
			return err
		}
		got.FailedMPIN++
		return tx.SetConsumerGuard(ctx, got)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c.ID)
		if err == nil && got.FailedMPIN != n {
			t.Errorf("%d of %d read-and-count transactions counted", got.FailedMPIN, n)
		}
		return err
	})
	err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.ConsumerForUpdate(ctx, "9700000000"); return err })
	wantErr(t, "ConsumerForUpdate(missing)", err, store.ErrNotFound)
}

// testMPINGuards checks the wrong-MPIN counts of numbers without a wallet:
// stored and replaced by mobile, the zero guard for a number never
// guessed at, purged once old and unlocked, and counted one at a time
// under LockKey.
func testMPINGuards(t *testing.T, s store.Store) {
	ctx := context.Background()
	get := func(mobile string) store.MPINGuard {
		t.Helper()
		var g store.MPINGuard
		inTx(t, s, func(tx store.Tx) error {
			var err error
			g, err = tx.MPINGuard(ctx, mobile)
			return err
		})
		return g
	}
	same(t, "guard never set", get("9811111111"), store.MPINGuard{Mobile: "9811111111"})
	g1 := store.MPINGuard{Mobile: "9811111111", Failed: 2, UpdatedAt: base}
	g2 := store.MPINGuard{Mobile: "9811111112", Failed: 0, LockedUntil: base.Add(time.Hour), LockLevel: 1, UpdatedAt: base}
	g3 := store.MPINGuard{Mobile: "9811111113", Failed: 1, UpdatedAt: base.Add(2 * time.Hour)}
	for _, g := range []store.MPINGuard{g1, g2, g3} {
		inTx(t, s, func(tx store.Tx) error { return tx.SetMPINGuard(ctx, g) })
	}
	same(t, "guard", get(g1.Mobile), g1)
	g1.Failed, g1.UpdatedAt = 0, base.Add(time.Minute)
	inTx(t, s, func(tx store.Tx) error { return tx.SetMPINGuard(ctx, g1) })
	same(t, "guard replaced", get(g1.Mobile), g1)
	// Purged before base+30m: g1 (old, unlocked) goes; g2 is as old
	// but still locked then, so it stays; g3 is newer.
	inTx(t, s, func(tx store.Tx) error { return tx.PurgeMPINGuards(ctx, base.Add(30*time.Minute)) })
	same(t, "old unlocked guard purged", get(g1.Mobile), store.MPINGuard{Mobile: g1.Mobile})
	same(t, "old guard still locked kept", get(g2.Mobile), g2)
	same(t, "new guard kept", get(g3.Mobile), g3)
	inTx(t, s, func(tx store.Tx) error { return tx.DeleteMPINGuard(ctx, g3.Mobile) })
	same(t, "deleted guard", get(g3.Mobile), store.MPINGuard{Mobile: g3.Mobile})

	// Counted one at a time under LockKey.
	const n = 16
	simultaneously(t, s, n, func(_ int, tx store.Tx) error {
		if err := tx.LockKey(ctx, "mpin:9811111119"); err != nil {
			return err
		}
		g, err := tx.MPINGuard(ctx, "9811111119")
		if err != nil {
			return err
		}
		g.Failed++
		g.UpdatedAt = base
		return tx.SetMPINGuard(ctx, g)
	})
	if got := get("9811111119"); got.Failed != n {
		t.Errorf("%d of %d guard counts kept under LockKey", got.Failed, n)
	}
}

func testConsumers(t *testing.T, s store.Store) {
	ctx := context.Background()
	c1 := newConsumer(t, s, 1)
	c2 := newConsumer(t, s, 2)
	if c1.ID == c2.ID {
		t.Fatalf("two consumers share ID %d", c1.ID)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c1.ID)
		if err != nil {
			return err
		}
		same(t, "Consumer", got, c1)
		got, err = tx.ConsumerByMobile(ctx, c2.Mobile)
		if err != nil {
			return err
		}
		same(t, "ConsumerByMobile", got, c2)
		_, err = tx.Consumer(ctx, c1.ID+c2.ID+100)
		wantErr(t, "Consumer(missing)", err, store.ErrNotFound)
		_, err = tx.ConsumerByMobile(ctx, "9700000000")
		wantErr(t, "ConsumerByMobile(missing)", err, store.ErrNotFound)
		return nil
	})

	guarded := c1
	guarded.FailedMPIN, guarded.MPINLockedUntil, guarded.MPINLockLevel = 2, base.Add(time.Hour), 3
	inTx(t, s, func(tx store.Tx) error { return tx.SetConsumerGuard(ctx, guarded) })
	inTx(t, s, func(tx store.Tx) error { return tx.ResetConsumerSecurity(ctx, c2.ID, "new-mpin", true) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c1.ID)
		if err != nil {
			return err
		}
		same(t, "Consumer after SetConsumerGuard", got, guarded)
		got, err = tx.Consumer(ctx, c2.ID)
		if err != nil {
			return err
		}
		want := c2
		want.MPINHash, want.Locked = "new-mpin", true
		same(t, "other consumer after ResetConsumerSecurity", got, want)
		return nil
	})
	inTx(t, s, func(tx store.Tx) error { return tx.ResetConsumerSecurity(ctx, c1.ID, "newer-mpin", false) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c1.ID)
		if err != nil {
			return err
		}
		want := c1
		want.MPINHash = "newer-mpin"
		same(t, "Consumer after ResetConsumerSecurity clears the guard", got, want)
		return nil
	})
	// ReplaceMPINHash is a compare-and-set on the hash: it replaces only
	// the hash it was given, and changes nothing else.
	inTx(t, s, func(tx store.Tx) error { return tx.ReplaceMPINHash(ctx, c1.ID, "newer-mpin", "keyed-mpin") })
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.ReplaceMPINHash(ctx, c1.ID, "newer-mpin", "stale") })
	wantErr(t, "ReplaceMPINHash(a hash no longer there)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.ReplaceMPINHash(ctx, c1.ID+c2.ID+100, "keyed-mpin", "x") })
	wantErr(t, "ReplaceMPINHash(missing)", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Consumer(ctx, c1.ID)
		if err != nil {
			return err
		}
		want := c1
		want.MPINHash = "keyed-mpin"
		same(t, "Consumer after ReplaceMPINHash", got, want)
		return nil
	})
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.SetConsumerGuard(ctx, store.Consumer{ID: c1.ID + c2.ID + 100}) })
	wantErr(t, "SetConsumerGuard(missing)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.ResetConsumerSecurity(ctx, c1.ID+c2.ID+100, "x", false) })
	wantErr(t, "ResetConsumerSecurity(missing)", err, store.ErrNotFound)

	dup := store.Consumer{Idx: "consumer-idx-other", Mobile: c1.Mobile, Name: "Copy", MPINHash: "x", CreatedAt: base}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CreateConsumer(ctx, &dup) })
	wantErr(t, "CreateConsumer(duplicate mobile)", err, store.ErrDuplicate)
}

// testConsumerWithBalance reads a consumer with its wallet balance (in a
// write transaction: the read locks the consumer's row where it can).
func testConsumerWithBalance(t *testing.T, s store.Store) {
	ctx := context.Background()
	c1, c2 := newConsumer(t, s, 1), newConsumer(t, s, 2)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, c1.ID, 1000), base) })
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Live, c1.ID, 30), base) })
	shard := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c1.ID}.WithShard(5)
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "move", 0, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c1.ID}, shard, 200), base)
	})
	inTx(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			c    store.Consumer
			book ledger.Book
			want money.Paisa
		}{{c1, ledger.Test, 1000}, {c1, ledger.Live, 30}, {c2, ledger.Test, 0}} {
			c, bal, err := tx.ConsumerWithBalance(ctx, tc.c.Mobile, tc.book)
			if err != nil {
				return err
			}
			same(t, "ConsumerWithBalance consumer", c, tc.c)
			same(t, "ConsumerWithBalance balance "+string(tc.book), bal, tc.want)
		}
		_, _, err := tx.ConsumerWithBalance(ctx, "9800000099", ledger.Test)
		wantErr(t, "ConsumerWithBalance(missing)", err, store.ErrNotFound)
		return nil
	})
}
