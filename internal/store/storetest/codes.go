package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// testCodes checks account codes: a try is counted and returns the code
// while it is usable; used, replaced, expired or tried out codes are
// ErrNotFound; a code is used once; simultaneous tries are all counted,
// so no more than maxTries get the code.
func testCodes(t *testing.T, s store.Store) {
	ctx := context.Background()
	code := func(challenge, subject, purpose, target string, created time.Time) store.Code {
		c := store.Code{ChallengeHash: challenge, Subject: subject, Purpose: purpose, Target: target, CodeHash: "hash-" + challenge,
			ExpiresAt: created.Add(10 * time.Minute), CreatedAt: created}
		inTx(t, s, func(tx store.Tx) error { return tx.CreateCode(ctx, c) })
		return c
	}
	try := func(challenge string, now time.Time) (store.Code, error) {
		var c store.Code
		err := s.InTx(ctx, func(tx store.Tx) error {
			var err error
			c, err = tx.TryCode(ctx, challenge, 3, now)
			return err
		})
		return c, err
	}
	a := code("a", "merchant:1", "confirm phone", "owner@example.com", base)
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateCode(ctx, a) })
	wantErr(t, "CreateCode(duplicate challenge)", err, store.ErrDuplicate)
	for i := 1; i <= 3; i++ {
		got, err := try("a", base.Add(time.Minute))
		want := a
		want.Tries = i
		if err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		same(t, "tried code", got, want)
	}
	_, err = try("a", base.Add(time.Minute))
	wantErr(t, "a fourth try", err, store.ErrNotFound)
	_, err = try("nope", base)
	wantErr(t, "TryCode(unknown challenge)", err, store.ErrNotFound)

	b := code("b", "consumer:7", "reset MPIN", "9812345678", base)
	_, err = try("b", b.ExpiresAt)
	wantErr(t, "TryCode(expired)", err, store.ErrNotFound)
	if _, err := try("b", b.ExpiresAt.Add(-time.Microsecond)); err != nil {
		t.Fatalf("TryCode just before expiry: %v", err)
	}
	inTx(t, s, func(tx store.Tx) error { return tx.UseCode(ctx, "b") })
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.UseCode(ctx, "b") })
	wantErr(t, "UseCode(used)", err, store.ErrNotFound)
	_, err = try("b", base)
	wantErr(t, "TryCode(used)", err, store.ErrNotFound)

	// A newer code retires the subject's older ones for that purpose only.
	c1 := code("c1", "consumer:8", "reset MPIN", "9812345679", base)
	c2 := code("c2", "consumer:8", "confirm phone", "9812345679", base)
	c3 := code("c3", "consumer:9", "reset MPIN", "9812345670", base)
	inTx(t, s, func(tx store.Tx) error { return tx.RetireCodes(ctx, "consumer:8", "reset MPIN") })
	_, err = try(c1.ChallengeHash, base)
	wantErr(t, "TryCode(retired)", err, store.ErrNotFound)
	for _, c := range []store.Code{c2, c3} {
		if _, err := try(c.ChallengeHash, base); err != nil {
			t.Fatalf("%s retired with another subject's or purpose's: %v", c.ChallengeHash, err)
		}
	}

	// Counted per target, purged by age.
	code("d", "", "confirm phone", "owner@example.com", base.Add(time.Hour))
	count := func(target string, since time.Time) int {
		var n int
		view(t, s, func(tx store.Tx) error { var err error; n, err = tx.CodesSince(ctx, target, since); return err })
		return n
	}
	same(t, "codes for a target", count("owner@example.com", base), 2)
	same(t, "codes for a target since", count("owner@example.com", base.Add(time.Minute)), 1)
	inTx(t, s, func(tx store.Tx) error { return tx.PurgeCodes(ctx, base.Add(time.Minute)) })
	same(t, "codes after purge", count("owner@example.com", base), 1)

	// Simultaneous tries: exactly maxTries are counted and answered.
	code("race", "merchant:2", "confirm phone", "race@example.com", base)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = try("race", base.Add(time.Second))
		}()
	}
	wg.Wait()
	got := 0
	for i, err := range errs {
		switch {
		case err == nil:
			got++
		case !errors.Is(err, store.ErrNotFound):
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if got != 3 {
		t.Errorf("%d of %d simultaneous tries got the code, want exactly 3", got, n)
	}
}

// testUnconfirmedSignUps checks that only unconfirmed, unused sign-ups are
// listed once old and can be deleted, and that deleting one takes its
// keys, fee schedule, sessions and codes with it.
func testUnconfirmedSignUps(t *testing.T, s store.Store) {
	ctx := context.Background()
	confirmed := newMerchant(t, s, 1)
	fresh := store.Merchant{Idx: "m-fresh", Name: "Fresh", Email: "fresh@example.com", KYC: store.KYCNone, CreatedAt: base}
	used := store.Merchant{Idx: "m-used", Name: "Used", Email: "used@example.com", KYC: store.KYCNone, CreatedAt: base}
	late := store.Merchant{Idx: "m-late", Name: "Late", Email: "late@example.com", KYC: store.KYCNone, CreatedAt: base.Add(time.Hour)}
	for _, m := range []*store.Merchant{&fresh, &used, &late} {
		inTx(t, s, func(tx store.Tx) error { return tx.CreateMerchant(ctx, m) })
	}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateKey(ctx, &store.Key{MerchantID: fresh.ID, Book: ledger.Test, Kind: store.PublicKey, Lookup: "pk-fresh", Prefix: "pk", CreatedAt: base}); err != nil {
			return err
		}
		if err := tx.SetFeeTiers(ctx, fresh.ID, ledger.Test, []store.FeeTier{{MinAmount: 1000, PercentBps: 300}}); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, store.Session{IDHash: "fresh-session", MerchantID: fresh.ID, CreatedAt: base, LastSeenAt: base}); err != nil {
			return err
		}
		return tx.CreateCode(ctx, store.Code{ChallengeHash: "fresh-code", Subject: store.CodeSubjectMerchant(fresh.ID), Purpose: "confirm phone",
			Target: fresh.Email, CodeHash: "h", ExpiresAt: base.Add(time.Hour), CreatedAt: base})
	})
	cFresh := store.Consumer{Idx: "c-fresh", Mobile: "9812300001", Name: "F", MPINHash: "h", CreatedAt: base}
	cUsed := store.Consumer{Idx: "c-used", Mobile: "9812300002", Name: "U", MPINHash: "h", CreatedAt: base}
	cConfirmed := newConsumer(t, s, 3)
	for _, c := range []*store.Consumer{&cFresh, &cUsed} {
		inTx(t, s, func(tx store.Tx) error { return tx.CreateConsumer(ctx, c) })
	}
	inTx(t, s, func(tx store.Tx) error {
		return tx.AddConsumerNotice(ctx, store.ConsumerNotice{ConsumerID: cFresh.ID, Text: "hello", CreatedAt: base})
	})
	// Used: a payment, and a wallet with money.
	p := newPayment(used.ID, cConfirmed.ID, ledger.Test, "u1", store.Initiated, base, time.Time{})
	create(t, s, &p)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, cUsed.ID, 100), base) })

	var ms, cs []int64
	view(t, s, func(tx store.Tx) error {
		var err error
		ms, cs, err = tx.UnconfirmedBefore(ctx, base.Add(time.Minute), 10)
		return err
	})
	same(t, "expired merchant sign-ups", ms, []int64{fresh.ID})
	same(t, "expired consumer sign-ups", cs, []int64{cFresh.ID})

	deleted := func(fn func(tx store.Tx) (bool, error)) bool {
		var ok bool
		inTx(t, s, func(tx store.Tx) error { var err error; ok, err = fn(tx); return err })
		return ok
	}
	for what, fn := range map[string]func(tx store.Tx) (bool, error){
		"a confirmed merchant": func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedMerchant(ctx, confirmed.ID) },
		"a used merchant":      func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedMerchant(ctx, used.ID) },
		"a confirmed consumer": func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedConsumer(ctx, cConfirmed.ID) },
		"a used consumer":      func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedConsumer(ctx, cUsed.ID) },
	} {
		if deleted(fn) {
			t.Errorf("%s was deleted", what)
		}
	}
	if !deleted(func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedMerchant(ctx, fresh.ID) }) {
		t.Fatal("an unconfirmed, unused merchant was not deleted")
	}
	if !deleted(func(tx store.Tx) (bool, error) { return tx.DeleteUnconfirmedConsumer(ctx, cFresh.ID) }) {
		t.Fatal("an unconfirmed, unused consumer was not deleted")
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.MerchantByEmail(ctx, fresh.Email)
		wantErr(t, "deleted merchant", err, store.ErrNotFound)
		_, err = tx.KeyByLookup(ctx, "pk-fresh")
		wantErr(t, "deleted merchant's key", err, store.ErrNotFound)
		_, err = tx.Session(ctx, "fresh-session")
		wantErr(t, "deleted merchant's session", err, store.ErrNotFound)
		tiers, err := tx.FeeTiers(ctx, fresh.ID, ledger.Test)
		same(t, "deleted merchant's fee tiers", len(tiers), 0)
		_, err = tx.ConsumerByMobile(ctx, cFresh.Mobile)
		wantErr(t, "deleted consumer", err, store.ErrNotFound)
		n, err := tx.CodesSince(ctx, fresh.Email, time.Time{})
		same(t, "deleted merchant's codes", n, 0)
		return err
	})
	// The email and the mobile are free again.
	again := store.Merchant{Idx: "m-again", Name: "Again", Email: fresh.Email, KYC: store.KYCNone, CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &again) })
	cAgain := store.Consumer{Idx: "c-again", Mobile: cFresh.Mobile, Name: "A", MPINHash: "h", CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateConsumer(ctx, &cAgain) })
}
