package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

func testMerchants(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1 := newMerchant(t, s, 1)
	m2 := newMerchant(t, s, 2)
	if m1.ID == m2.ID {
		t.Fatalf("two merchants share ID %d", m1.ID)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Merchant(ctx, m1.ID)
		if err != nil {
			return err
		}
		same(t, "Merchant", got, m1)
		got, err = tx.MerchantByIdx(ctx, m2.Idx)
		if err != nil {
			return err
		}
		same(t, "MerchantByIdx", got, m2)
		got, err = tx.MerchantByEmail(ctx, m1.Email)
		if err != nil {
			return err
		}
		same(t, "MerchantByEmail", got, m1)

		_, err = tx.Merchant(ctx, m1.ID+m2.ID+100)
		wantErr(t, "Merchant(missing)", err, store.ErrNotFound)
		_, err = tx.MerchantByIdx(ctx, "no-such-idx")
		wantErr(t, "MerchantByIdx(missing)", err, store.ErrNotFound)
		_, err = tx.MerchantByEmail(ctx, "nobody@example.com")
		wantErr(t, "MerchantByEmail(missing)", err, store.ErrNotFound)
		return nil
	})

	dup := store.Merchant{Idx: "another-idx", Name: "Copy", Email: m1.Email, KYC: store.KYCNone, CreatedAt: base}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &dup) })
	wantErr(t, "CreateMerchant(duplicate email)", err, store.ErrDuplicate)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.MerchantByIdx(ctx, "another-idx")
		wantErr(t, "MerchantByIdx(rejected duplicate)", err, store.ErrNotFound)
		return nil
	})

	inTx(t, s, func(tx store.Tx) error { return tx.SetMerchantKYC(ctx, m1.ID, store.KYCApproved) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Merchant(ctx, m1.ID)
		if err != nil {
			return err
		}
		want := m1
		want.KYC = store.KYCApproved
		same(t, "Merchant after SetMerchantKYC", got, want)
		other, err := tx.Merchant(ctx, m2.ID)
		if err != nil {
			return err
		}
		same(t, "other merchant after SetMerchantKYC", other, m2)
		return nil
	})
}

func testKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	other := newMerchant(t, s, 2)
	keys := []store.Key{
		{MerchantID: m.ID, Book: ledger.Test, Kind: store.PublicKey, Lookup: "test_public_key_aaa", Prefix: "test_pub", CreatedAt: base},
		{MerchantID: m.ID, Book: ledger.Test, Kind: store.SecretKey, Lookup: "hash-test-secret", Prefix: "test_sec", Sealed: []byte("sealed-test"), CreatedAt: base.Add(time.Second)},
		{MerchantID: m.ID, Book: ledger.Live, Kind: store.SecretKey, Lookup: "hash-live-secret", Prefix: "live_sec", Sealed: []byte("sealed-live"), CreatedAt: base.Add(2 * time.Second)},
		{MerchantID: other.ID, Book: ledger.Test, Kind: store.SecretKey, Lookup: "hash-other-secret", Prefix: "test_oth", Sealed: []byte("sealed-other"), CreatedAt: base.Add(3 * time.Second)},
	}
	inTx(t, s, func(tx store.Tx) error {
		for i := range keys {
			if err := tx.CreateKey(ctx, &keys[i]); err != nil {
				return err
			}
			if keys[i].ID == 0 {
				t.Errorf("CreateKey did not set ID of key %d", i)
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			got, err := tx.KeyByLookup(ctx, k.Lookup)
			if err != nil {
				return err
			}
			same(t, "KeyByLookup("+k.Lookup+")", got, k)
		}
		_, err := tx.KeyByLookup(ctx, "no-such-lookup")
		wantErr(t, "KeyByLookup(missing)", err, store.ErrNotFound)
		list, err := tx.Keys(ctx, m.ID)
		if err != nil {
			return err
		}
		same(t, "Keys", list, keys[:3])
		return nil
	})

	dup := store.Key{MerchantID: m.ID, Book: ledger.Live, Kind: store.PublicKey, Lookup: keys[0].Lookup, Prefix: "dup", CreatedAt: base}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateKey(ctx, &dup) })
	wantErr(t, "CreateKey(duplicate lookup)", err, store.ErrDuplicate)

	revokedAt := base.Add(time.Hour)
	inTx(t, s, func(tx store.Tx) error { return tx.RevokeKeys(ctx, m.ID, ledger.Test, revokedAt) })
	want := append([]store.Key(nil), keys...)
	for i := range 2 {
		want[i].RevokedAt = revokedAt
		want[i].Sealed = nil
	}
	view(t, s, func(tx store.Tx) error {
		list, err := tx.Keys(ctx, m.ID)
		if err != nil {
			return err
		}
		same(t, "Keys after RevokeKeys(test)", list, want[:3])
		list, err = tx.Keys(ctx, other.ID)
		if err != nil {
			return err
		}
		same(t, "other merchant's keys after RevokeKeys", list, want[3:])
		return nil
	})

	inTx(t, s, func(tx store.Tx) error { return tx.ForgetSealedSecret(ctx, keys[2].ID) })
	want[2].Sealed = nil
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KeyByLookup(ctx, keys[2].Lookup)
		if err != nil {
			return err
		}
		same(t, "key after ForgetSealedSecret", got, want[2])
		got, err = tx.KeyByLookup(ctx, keys[3].Lookup)
		if err != nil {
			return err
		}
		same(t, "other key after ForgetSealedSecret", got, want[3])
		return nil
	})
}

func testFeeTiers(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	other := newMerchant(t, s, 2)
	first := []store.FeeTier{
		{MinAmount: 1000, MaxAmount: 99999, PercentBps: 300, Flat: 0},
		{MinAmount: 100000, MaxAmount: 0, PercentBps: 200, Flat: 500},
	}
	live := []store.FeeTier{{MinAmount: 1000, MaxAmount: 0, PercentBps: 150, Flat: 100}}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.SetFeeTiers(ctx, m.ID, ledger.Test, first); err != nil {
			return err
		}
		return tx.SetFeeTiers(ctx, m.ID, ledger.Live, live)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FeeTiers(ctx, m.ID, ledger.Test)
		if err != nil {
			return err
		}
		same(t, "FeeTiers(test)", got, first)
		got, err = tx.FeeTiers(ctx, m.ID, ledger.Live)
		if err != nil {
			return err
		}
		same(t, "FeeTiers(live)", got, live)
		got, err = tx.FeeTiers(ctx, other.ID, ledger.Test)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("FeeTiers of a merchant without tiers = %+v, want none", got)
		}
		return nil
	})

	second := []store.FeeTier{{MinAmount: 1000, MaxAmount: 500000, PercentBps: 250, Flat: 10}}
	inTx(t, s, func(tx store.Tx) error { return tx.SetFeeTiers(ctx, m.ID, ledger.Test, second) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FeeTiers(ctx, m.ID, ledger.Test)
		if err != nil {
			return err
		}
		same(t, "FeeTiers(test) after replacing", got, second)
		got, err = tx.FeeTiers(ctx, m.ID, ledger.Live)
		if err != nil {
			return err
		}
		same(t, "FeeTiers(live) after replacing test", got, live)
		return nil
	})

	inTx(t, s, func(tx store.Tx) error { return tx.SetFeeTiers(ctx, m.ID, ledger.Test, nil) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.FeeTiers(ctx, m.ID, ledger.Test)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("FeeTiers after SetFeeTiers(nil) = %+v, want none", got)
		}
		return nil
	})
}
