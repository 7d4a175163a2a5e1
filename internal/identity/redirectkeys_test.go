package identity_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// TestRedirectKeysSealed checks that redirect signing keys are stored
// only sealed: new keys at once, keys written in clear by older versions
// once SealRedirectKeys has run (several nodes at once sealing each key
// exactly once), and that redirects signed with them still verify with
// the merchant's secret key. A sealed key that does not open is an error
// with no key, never a wrong key.
func TestRedirectKeysSealed(t *testing.T) { servicetest.OnBothStores(t, testRedirectKeysSealed) }

func testRedirectKeysSealed(t *testing.T, db store.Store) {
	ctx := context.Background()
	newService := func(secret byte) *identity.Service {
		_, id := servicetest.New(t, db, time.Now, nil, func(d *servicetest.Deps) {
			d.Payment.Secret = bytes.Repeat([]byte{secret}, 32)
			d.Identity.Secret = d.Payment.Secret
		})
		return id
	}
	id := newService(1)
	secretKeyRow := func(merchantID int64) store.Key {
		t.Helper()
		var row store.Key
		err := db.View(ctx, func(tx store.Tx) error {
			keys, err := tx.Keys(ctx, merchantID)
			for _, k := range keys {
				if k.Kind == store.SecretKey && k.RevokedAt.IsZero() {
					row = k
				}
			}
			return err
		})
		if err != nil || row.ID == 0 {
			t.Fatalf("no active secret key for merchant %d: %v", merchantID, err)
		}
		return row
	}
	// verifies signs a redirect with merchantID's redirect key and checks
	// it with secretKey, as the merchant would.
	verifies := func(merchantID int64, secretKey string) {
		t.Helper()
		key, err := id.RedirectKey(ctx, merchantID, ledger.Test)
		if err != nil || !bytes.Equal(key, identity.RedirectSigningKey(secretKey)) {
			t.Fatalf("RedirectKey(merchant %d) = %x, %v; want the key derived from its secret key", merchantID, key, err)
		}
		params := [][2]string{{"pidx", "bZQLD9wRVWo4CdESSfuSsB"}, {"amount", "1000"}, {"status", "Completed"}}
		sig, names := payment.SignRedirect(key, params)
		q := url.Values{"signature": {sig}, "signed_field_names": {names}}
		for _, kv := range params {
			q.Set(kv[0], kv[1])
		}
		if !payment.VerifyRedirect(secretKey, q) {
			t.Fatalf("a redirect signed for merchant %d does not verify with its secret key", merchantID)
		}
	}
	sealedOnly := func(what string, row store.Key, secretKey string) {
		t.Helper()
		clear := identity.RedirectSigningKey(secretKey)
		if row.SigningKey != nil || len(row.SealedSigningKey) <= len(clear) || bytes.Contains(row.SealedSigningKey, clear) {
			t.Fatalf("%s: signing_key %x, signing_key_sealed %x; want only a sealed key", what, row.SigningKey, row.SealedSigningKey)
		}
	}

	// A new key is stored sealed.
	m, kp, err := id.CreateMerchant(ctx, servicetest.Actor, identity.NewMerchant{Name: "New Shop", Email: "new@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	sealedOnly("a new key", secretKeyRow(m.ID), kp.Secret)
	verifies(m.ID, kp.Secret)

	// Keys written the old way: the signing key in clear. They work
	// until sealed, and then still work.
	const legacy = 12
	type oldKey struct {
		merchantID int64
		secret     string
	}
	olds := make([]oldKey, legacy)
	for i := range olds {
		om, _, err := id.CreateMerchant(ctx, servicetest.Actor, identity.NewMerchant{Name: fmt.Sprintf("Old Shop %d", i), Email: fmt.Sprintf("old%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		olds[i] = oldKey{om.ID, fmt.Sprintf("test_secret_key_%032x", i)}
		err = db.InTx(ctx, func(tx store.Tx) error {
			if err := tx.RevokeKeys(ctx, om.ID, ledger.Test, time.Now()); err != nil {
				return err
			}
			return tx.CreateKey(ctx, &store.Key{MerchantID: om.ID, Book: ledger.Test, Kind: store.SecretKey,
				Lookup: fmt.Sprintf("legacy-%d", i), Prefix: "test_sec", CreatedAt: time.Now(), SigningKey: identity.RedirectSigningKey(olds[i].secret)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if row := secretKeyRow(olds[0].merchantID); !bytes.Equal(row.SigningKey, identity.RedirectSigningKey(olds[0].secret)) || row.SealedSigningKey != nil {
		t.Fatalf("the old-style key was not written in clear: %+v", row)
	}
	verifies(olds[0].merchantID, olds[0].secret)

	// Four nodes seal at once: each key is sealed exactly once.
	const nodes = 4
	counts, errs := make([]int, nodes), make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = newService(1).SealRedirectKeys(ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: SealRedirectKeys: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != legacy {
		t.Fatalf("the nodes sealed %v keys between them, want %d in all", counts, legacy)
	}
	for i, o := range olds {
		sealedOnly(fmt.Sprintf("old key %d after sealing", i), secretKeyRow(o.merchantID), o.secret)
		verifies(o.merchantID, o.secret)
	}
	sealedOnly("the new key after sealing", secretKeyRow(m.ID), kp.Secret)
	verifies(m.ID, kp.Secret)
	if n, err := id.SealRedirectKeys(ctx); n != 0 || err != nil {
		t.Fatalf("sealing again: %d, %v; want nothing to do", n, err)
	}

	// A server secret other than the one that sealed the key cannot open
	// it: an error and no key, so the page redirects unsigned.
	if key, err := newService(2).RedirectKey(ctx, m.ID, ledger.Test); key != nil || err == nil {
		t.Fatalf("RedirectKey under another server secret: %x, %v; want no key and an error", key, err)
	}
	// Nor does a sealed key copied into another key's row.
	moved, elsewhere := olds[1], secretKeyRow(olds[2].merchantID).SealedSigningKey
	err = db.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RevokeKeys(ctx, moved.merchantID, ledger.Test, time.Now()); err != nil {
			return err
		}
		k := store.Key{MerchantID: moved.merchantID, Book: ledger.Test, Kind: store.SecretKey, Lookup: "legacy-moved",
			Prefix: "test_sec", CreatedAt: time.Now(), SealedSigningKey: elsewhere}
		return tx.CreateKey(ctx, &k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if key, err := id.RedirectKey(ctx, moved.merchantID, ledger.Test); key != nil || err == nil {
		t.Fatalf("RedirectKey of a sealed key moved to another row: %x, %v; want no key and an error", key, err)
	}
}
