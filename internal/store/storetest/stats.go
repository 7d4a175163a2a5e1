package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
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
