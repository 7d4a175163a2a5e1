package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// testSigningKeys checks how redirect signing keys move from clear to
// sealed (migration 14): a key keeps either form, KeysWithClearSigningKey
// pages through the clear ones only, and SealSigningKey is a
// compare-and-set that exactly one of several racing callers wins.
func testSigningKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	key := func(n int, clear, sealed []byte) store.Key {
		return store.Key{MerchantID: m.ID, Book: ledger.Test, Kind: store.SecretKey, Lookup: fmt.Sprintf("hash-%d", n),
			Prefix: "test_sec", CreatedAt: base.Add(time.Duration(n) * time.Second), SigningKey: clear, SealedSigningKey: sealed}
	}
	keys := []store.Key{
		key(0, []byte("clear-0\x00\xff"), nil),
		key(1, nil, []byte("sealed-1")),
		key(2, []byte("clear-2"), nil),
		key(3, nil, nil), // issued before signed redirects
		key(4, []byte("clear-4"), nil),
	}
	inTx(t, s, func(tx store.Tx) error {
		for i := range keys {
			if err := tx.CreateKey(ctx, &keys[i]); err != nil {
				return err
			}
		}
		return nil
	})
	clearKeys := func(after int64, limit int) []store.Key {
		t.Helper()
		var got []store.Key
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.KeysWithClearSigningKey(ctx, after, limit)
			return err
		})
		return got
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KeyByLookup(ctx, keys[1].Lookup)
		same(t, "a key with a sealed signing key", got, keys[1])
		return err
	})
	same(t, "KeysWithClearSigningKey(0, 10)", clearKeys(0, 10), []store.Key{keys[0], keys[2], keys[4]})
	same(t, "KeysWithClearSigningKey(0, 2)", clearKeys(0, 2), []store.Key{keys[0], keys[2]})
	same(t, "KeysWithClearSigningKey(after the second)", clearKeys(keys[2].ID, 2), []store.Key{keys[4]})

	// A compare-and-set on a value the row does not hold changes nothing.
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.SealSigningKey(ctx, keys[0].ID, []byte("clear-2"), []byte("wrong")) })
	wantErr(t, "SealSigningKey(another clear value)", err, store.ErrConflict)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.SealSigningKey(ctx, keys[1].ID, []byte("clear-0"), []byte("wrong")) })
	wantErr(t, "SealSigningKey(a sealed key)", err, store.ErrConflict)
	inTx(t, s, func(tx store.Tx) error {
		return tx.SealSigningKey(ctx, keys[0].ID, keys[0].SigningKey, []byte("sealed-0"))
	})
	want := keys[0]
	want.SigningKey, want.SealedSigningKey = nil, []byte("sealed-0")
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KeyByLookup(ctx, want.Lookup)
		same(t, "a key after SealSigningKey", got, want)
		list, err2 := tx.Keys(ctx, m.ID)
		same(t, "the keys after SealSigningKey", list, []store.Key{want, keys[1], keys[2], keys[3], keys[4]})
		return errors.Join(err, err2)
	})
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.SealSigningKey(ctx, keys[0].ID, keys[0].SigningKey, []byte("again"))
	})
	wantErr(t, "SealSigningKey(twice)", err, store.ErrConflict)
	same(t, "KeysWithClearSigningKey after sealing one", clearKeys(0, 10), []store.Key{keys[2], keys[4]})

	// Racing sealers of one key: exactly one wins, and the row holds its value.
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				return tx.SealSigningKey(ctx, keys[2].ID, keys[2].SigningKey, fmt.Appendf(nil, "sealed-by-%d", i))
			})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both sealed the key", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racer %d: %v, want ErrConflict or success", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer sealed the key")
	}
	want = keys[2]
	want.SigningKey, want.SealedSigningKey = nil, fmt.Appendf(nil, "sealed-by-%d", winner)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KeyByLookup(ctx, want.Lookup)
		same(t, "the raced key", got, want)
		return err
	})
	same(t, "KeysWithClearSigningKey at the end", clearKeys(0, 10), []store.Key{keys[4]})
}
