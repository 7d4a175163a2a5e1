package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// testStats checks the counts metrics read at scrape time, and that a
// secret key's redirect signing key is kept.
func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	counts := func() ([]store.StateCount, []store.BookCount) {
		t.Helper()
		var ps []store.StateCount
		var ls []store.BookCount
		view(t, s, func(tx store.Tx) error {
			var err error
			if ps, err = tx.CountPaymentsByState(ctx); err != nil {
				return err
			}
			ls, err = tx.CountLedgerTransactions(ctx)
			return err
		})
		return ps, ls
	}
	ps, ls := counts()
	if len(ps) != 0 || len(ls) != 0 {
		t.Fatalf("empty store: %v %v", ps, ls)
	}

	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	a := newPayment(m.ID, c.ID, ledger.Test, "a", store.Completed, base, base)
	b := newPayment(m.ID, c.ID, ledger.Test, "b", store.Completed, base, base)
	d := newPayment(m.ID, c.ID, ledger.Test, "d", store.Initiated, base, time.Time{})
	e := newPayment(m.ID, c.ID, ledger.Live, "e", store.PartiallyRefunded, base, base)
	create(t, s, &a, &b, &d, &e)
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.Post(ctx, topUp(ledger.Test, c.ID, 1000), base); err != nil {
			return err
		}
		if err := tx.Post(ctx, topUp(ledger.Test, c.ID, 2000), base); err != nil {
			return err
		}
		return tx.Post(ctx, topUp(ledger.Live, c.ID, 3000), base)
	})
	ps, ls = counts()
	same(t, "CountPaymentsByState", ps, []store.StateCount{
		{Book: ledger.Live, State: store.PartiallyRefunded, Count: 1},
		{Book: ledger.Test, State: store.Completed, Count: 2},
		{Book: ledger.Test, State: store.Initiated, Count: 1},
	})
	same(t, "CountLedgerTransactions", ls, []store.BookCount{{Book: ledger.Live, Count: 1}, {Book: ledger.Test, Count: 2}})

	k := store.Key{MerchantID: m.ID, Book: ledger.Test, Kind: store.SecretKey, Lookup: "hash-signing", Prefix: "test_sig",
		CreatedAt: base, SigningKey: []byte{1, 2, 3, 0, 255}}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateKey(ctx, &k) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KeyByLookup(ctx, k.Lookup)
		same(t, "key with signing key", got, k)
		return err
	})
}

func testDailyTotals(t *testing.T, s store.Store) {
	ctx := context.Background()
	nepal := 5*time.Hour + 45*time.Minute
	m := newMerchant(t, s, 1)
	other := newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	// Midnight of 2025-03-14 in Kathmandu is 18:15 UTC the day before.
	day0 := time.Date(2025, 3, 13, 18, 15, 0, 0, time.UTC)
	completed := func(merchantID int64, book ledger.Book, name string, at time.Time, amount, refunded int64) *store.Payment {
		p := newPayment(merchantID, c.ID, book, name, store.Completed, at.Add(-time.Minute), at.Add(-time.Minute))
		p.CompletedAt, p.Amount, p.Refunded = at, money.Paisa(amount), money.Paisa(refunded)
		if refunded > 0 {
			p.State = store.PartiallyRefunded
		}
		return &p
	}
	ps := []*store.Payment{
		completed(m.ID, ledger.Test, "first-instant", day0, 1000, 0),
		completed(m.ID, ledger.Test, "same-day", day0.Add(23*time.Hour+59*time.Minute), 2500, 500),
		completed(m.ID, ledger.Test, "next-day", day0.Add(24*time.Hour), 4000, 0),
		completed(m.ID, ledger.Test, "before-range", day0.Add(-time.Microsecond), 9000, 0),
		completed(m.ID, ledger.Test, "day-three", day0.Add(72*time.Hour+time.Hour), 7000, 7000),
		completed(m.ID, ledger.Test, "after-range", day0.Add(96*time.Hour), 9000, 0),
		completed(m.ID, ledger.Live, "live", day0.Add(time.Hour), 9000, 0),
		completed(other.ID, ledger.Test, "other", day0.Add(time.Hour), 9000, 0),
	}
	pending := newPayment(m.ID, c.ID, ledger.Test, "pending", store.Initiated, day0.Add(time.Hour), time.Time{})
	create(t, s, append(ps, &pending)...)

	var got []store.DayTotal
	view(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.DailyTotals(ctx, store.Scope{MerchantID: m.ID, Book: ledger.Test}, day0, day0.Add(96*time.Hour), nepal)
		return err
	})
	for i := range got {
		got[i].Day = got[i].Day.UTC()
	}
	same(t, "DailyTotals", got, []store.DayTotal{
		{Day: day0, Count: 2, Amount: 3500, Refunded: 500},
		{Day: day0.Add(24 * time.Hour), Count: 1, Amount: 4000},
		{Day: day0.Add(72 * time.Hour), Count: 1, Amount: 7000, Refunded: 7000},
	})
	view(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.DailyTotals(ctx, store.Scope{MerchantID: m.ID, Book: ledger.Live}, day0, day0.Add(96*time.Hour), nepal)
		return err
	})
	if len(got) != 1 || got[0].Amount != 9000 || got[0].Count != 1 || !got[0].Day.Equal(day0) {
		t.Errorf("DailyTotals(live) = %+v, want one day of Rs 90 on %v", got, day0)
	}
}
