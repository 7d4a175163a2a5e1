// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's own test calls Run with a
// function that opens a fresh, migrated, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// Run runs the conformance suite. open must return a fresh, empty,
// migrated store for each call and arrange for it to be closed when t ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Merchants", testMerchants},
		{"Keys", testKeys},
		{"SigningKeys", testSigningKeys},
		{"FeeTiers", testFeeTiers},
		{"Consumers", testConsumers},
		{"WrongMPINs", testWrongMPINs},
		{"MPINGuards", testMPINGuards},
		{"InTxRollsBack", testInTxRollsBack},
		{"View", testView},
		{"Snapshot", testSnapshot},
		{"LedgerPost", testLedgerPost},
		{"LedgerOverdraftRollsBack", testLedgerOverdraft},
		{"LedgerInvalidEntry", testLedgerInvalidEntry},
		{"LedgerSnapshotCheck", testLedgerSnapshot},
		{"ConcurrentDebits", testConcurrentDebits},
		{"LedgerPostShapes", testLedgerPostShapes},
		{"ConcurrentCrossPostings", testConcurrentCrossPostings},
		{"ConsumerWithBalance", testConsumerWithBalance},
		{"PostAndUpdate", testPostAndUpdate},
		{"ShardedAccounts", testShardedAccounts},
		{"PaymentsCreateAndScope", testPaymentsCreateAndScope},
		{"PaymentWithParties", testPaymentWithParties},
		{"PaymentsUpdate", testPaymentsUpdate},
		{"PaymentsList", testPaymentsList},
		{"PaymentsDue", testPaymentsDue},
		{"Banks", testBanks},
		{"Stats", testStats},
		{"DailyTotals", testDailyTotals},
		{"Idempotency", testIdempotency},
		{"Webhooks", testWebhooks},
		{"Accounts", testAccounts},
		{"LockKey", testLockKey},
		{"Operators", testOperators},
		{"AuditActors", testAuditActors},
		{"KYC", testKYC},
		{"ConsumerAccounts", testConsumerAccounts},
		{"Codes", testCodes},
		{"UnconfirmedSignUps", testUnconfirmedSignUps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.fn(t, s)
		})
	}
}

// base is a fixed instant with microsecond precision, the precision stores keep.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// inTx runs fn in a write transaction and fails the test on error.
func inTx(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// simultaneously runs fn(0) .. fn(n-1) in n transactions at once and
// fails the test if any returns an error.
func simultaneously(t *testing.T, s store.Store, n int, fn func(i int, tx store.Tx) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(context.Background(), func(tx store.Tx) error { return fn(i, tx) })
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("transaction %d of %d: %v", i, n, err)
		}
	}
}

// wantErr fails unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// same fails unless got and want are deeply equal.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func newMerchant(t *testing.T, s store.Store, n int) store.Merchant {
	t.Helper()
	m := store.Merchant{
		Idx:          fmt.Sprintf("merchant-idx-%d", n),
		Name:         fmt.Sprintf("Shop %d", n),
		Email:        fmt.Sprintf("owner%d@example.com", n),
		Mobile:       fmt.Sprintf("98000000%02d", n),
		PasswordHash: fmt.Sprintf("hash-%d", n),
		KYC:          store.KYCNone,
		Confirmed:    true,
		CreatedAt:    base.Add(time.Duration(n) * time.Minute),
	}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateMerchant(context.Background(), &m) })
	if m.ID == 0 {
		t.Fatal("CreateMerchant did not set ID")
	}
	return m
}

func newConsumer(t *testing.T, s store.Store, n int) store.Consumer {
	t.Helper()
	c := store.Consumer{
		Idx:       fmt.Sprintf("consumer-idx-%d", n),
		Mobile:    fmt.Sprintf("98410000%02d", n),
		Name:      fmt.Sprintf("Consumer %d", n),
		MPINHash:  fmt.Sprintf("mpin-%d", n),
		Confirmed: true,
		CreatedAt: base.Add(time.Duration(n) * time.Second),
	}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateConsumer(context.Background(), &c) })
	if c.ID == 0 {
		t.Fatal("CreateConsumer did not set ID")
	}
	return c
}

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
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.SetConsumerGuard(ctx, store.Consumer{ID: c1.ID + c2.ID + 100}) })
	wantErr(t, "SetConsumerGuard(missing)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.ResetConsumerSecurity(ctx, c1.ID+c2.ID+100, "x", false) })
	wantErr(t, "ResetConsumerSecurity(missing)", err, store.ErrNotFound)

	dup := store.Consumer{Idx: "consumer-idx-other", Mobile: c1.Mobile, Name: "Copy", MPINHash: "x", CreatedAt: base}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.CreateConsumer(ctx, &dup) })
	wantErr(t, "CreateConsumer(duplicate mobile)", err, store.ErrDuplicate)
}

func testInTxRollsBack(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	m := store.Merchant{Idx: "rolled-back", Name: "Gone", Email: "gone@example.com", KYC: store.KYCNone, CreatedAt: base}
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateMerchant(ctx, &m); err != nil {
			return err
		}
		if _, err := tx.Merchant(ctx, m.ID); err != nil {
			t.Errorf("merchant not visible inside its own transaction: %v", err)
		}
		return boom
	})
	wantErr(t, "InTx returning an error", err, boom)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.MerchantByIdx(ctx, m.Idx)
		wantErr(t, "merchant of a rolled-back transaction", err, store.ErrNotFound)
		return nil
	})
}

func testView(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.ID}
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, topUp(ledger.Test, c.ID, 700), base)
	})
	p := newPayment(m.ID, c.ID, ledger.Test, "view", store.Initiated, base, time.Time{})
	inTx(t, s, func(tx store.Tx) error { return tx.CreatePayment(ctx, &p) })

	view(t, s, func(tx store.Tx) error {
		gotM, err := tx.Merchant(ctx, m.ID)
		if err != nil {
			return err
		}
		same(t, "Merchant in View", gotM, m)
		gotC, err := tx.ConsumerByMobile(ctx, c.Mobile)
		if err != nil {
			return err
		}
		same(t, "ConsumerByMobile in View", gotC, c)
		b, err := tx.Balance(ctx, wallet)
		if err != nil {
			return err
		}
		if b != 700 {
			t.Errorf("Balance in View = %d, want 700", b)
		}
		gotP, err := tx.PaymentByIdx(ctx, store.Scope{MerchantID: m.ID, Book: ledger.Test}, p.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByIdx in View", gotP, p)
		list, total, err := tx.ListPayments(ctx, store.PaymentFilter{Scope: store.Scope{MerchantID: m.ID, Book: ledger.Test}, Limit: 10})
		if err != nil {
			return err
		}
		if total != 1 || len(list) != 1 {
			t.Errorf("ListPayments in View: %d rows, total %d; want 1, 1", len(list), total)
		}
		snap, err := tx.LedgerSnapshot(ctx)
		if err != nil {
			return err
		}
		if len(snap.Accounts) != 2 {
			t.Errorf("LedgerSnapshot in View: %d accounts, want 2", len(snap.Accounts))
		}
		return nil
	})

	// View is read-only: a write must fail and leave no trace.
	extra := store.Merchant{Idx: "written-in-view", Name: "No", Email: "no@example.com", KYC: store.KYCNone, CreatedAt: base}
	err := s.View(ctx, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &extra) })
	if err == nil {
		t.Error("CreateMerchant inside View succeeded, want an error")
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.MerchantByIdx(ctx, extra.Idx)
		wantErr(t, "merchant written inside View", err, store.ErrNotFound)
		return nil
	})
}

// topUp is an entry bringing amount from outside into owner's wallet.
func topUp(book ledger.Book, owner int64, amount money.Paisa) ledger.Entry {
	return ledger.Transfer(book, "topup", 0,
		ledger.AccountRef{Book: book, Kind: ledger.Funding},
		ledger.AccountRef{Book: book, Kind: ledger.Wallet, Owner: owner}, amount)
}

// balances reads the balances of refs in one read transaction.
func balances(t *testing.T, s store.Store, refs ...ledger.AccountRef) []money.Paisa {
	t.Helper()
	out := make([]money.Paisa, len(refs))
	view(t, s, func(tx store.Tx) error {
		for i, r := range refs {
			b, err := tx.Balance(context.Background(), r)
			if err != nil {
				return fmt.Errorf("Balance(%s): %w", r, err)
			}
			out[i] = b
		}
		return nil
	})
	return out
}

// checkLedger runs ledger.Check on a fresh snapshot, fails on any
// violation and returns the snapshot.
func checkLedger(t *testing.T, s store.Store) ledger.Snapshot {
	t.Helper()
	var snap ledger.Snapshot
	view(t, s, func(tx store.Tx) error {
		var err error
		snap, err = tx.LedgerSnapshot(context.Background())
		return err
	})
	for _, v := range ledger.Check(snap) {
		t.Errorf("ledger violation: %s", v)
	}
	return snap
}

func testLedgerPost(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	liveFunding := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Funding}
	liveWallet := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Wallet, Owner: 1}
	liveMerchant := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Merchant, Owner: 1}

	same(t, "balances before any posting", balances(t, s, funding, wallet, liveWallet), []money.Paisa{0, 0, 0})

	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })
	same(t, "test balances after top-up", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 1000, 0})
	same(t, "live balances after test top-up", balances(t, s, liveFunding, liveWallet, liveMerchant), []money.Paisa{0, 0, 0})

	inTx(t, s, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 400), base.Add(time.Second)); err != nil {
			return err
		}
		// The transaction sees its own postings.
		b, err := tx.Balance(ctx, wallet)
		if err != nil {
			return err
		}
		if b != 600 {
			t.Errorf("wallet balance inside the posting transaction = %d, want 600", b)
		}
		return nil
	})
	same(t, "test balances after transfer", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 600, 400})

	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Live, 1, 250), base) })
	same(t, "live balances after live top-up", balances(t, s, liveFunding, liveWallet, liveMerchant), []money.Paisa{-250, 250, 0})
	same(t, "test balances after live top-up", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 600, 400})

	// The same owner under another kind is another account.
	same(t, "unknown accounts", balances(t, s,
		ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 2},
		ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds},
		ledger.AccountRef{Book: ledger.Live, Kind: ledger.Fees}),
		[]money.Paisa{0, 0, 0})

	checkLedger(t, s)
}

func testLedgerOverdraft(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	fees := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Fees}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })
	want := []money.Paisa{-1000, 1000, 0, 0}

	// A valid posting followed by an overdraft: the whole transaction goes.
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 300), base); err != nil {
			t.Errorf("first Post: %v", err)
			return err
		}
		err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 800), base)
		wantErr(t, "overdrawing Post", err, store.ErrInsufficientFunds)
		return err
	})
	wantErr(t, "InTx with overdraft", err, store.ErrInsufficientFunds)
	same(t, "balances after rolled-back overdraft", balances(t, s, funding, wallet, merchant, fees), want)

	// An entry whose credit comes before the overdrawing debit.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 1900},
			{Account: fees, Amount: 100},
			{Account: wallet, Amount: -2000},
		}}, base)
	})
	wantErr(t, "InTx with multi-posting overdraft", err, store.ErrInsufficientFunds)
	same(t, "balances after rolled-back multi-posting overdraft", balances(t, s, funding, wallet, merchant, fees), want)

	// A non-funding platform account cannot go negative either.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "release", 0, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}, wallet, 1), base)
	})
	wantErr(t, "InTx overdrawing holds", err, store.ErrInsufficientFunds)

	// Spending exactly the balance is fine.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 1000), base)
	})
	same(t, "balances after spending all", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 0, 1000, 0})
	checkLedger(t, s)
}

// testLedgerPostShapes posts entries of the shapes Post handles apart:
// new accounts among existing ones, a debit of an account never used,
// an account named twice, and postings given in no particular order.
func testLedgerPostShapes(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	fees := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Fees}.WithShard(3)
	holds := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}.WithShard(3)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	// Two new accounts credited from an existing one, postings unsorted.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 290},
			{Account: wallet, Amount: -300},
			{Account: fees, Amount: 10},
		}}, base)
	})
	same(t, "balances after capture to new accounts", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 700, 290, 10})

	// A debit of an account never used fails, and creates nothing.
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "release", 0, holds, wallet, 5), base)
	})
	wantErr(t, "debit of a new account", err, store.ErrInsufficientFunds)
	// An overdraft next to a new account: nothing is applied.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 2}, 701), base)
	})
	wantErr(t, "overdraft next to a new account", err, store.ErrInsufficientFunds)
	same(t, "balances after refused entries", balances(t, s, funding, wallet, merchant, fees, holds), []money.Paisa{-1000, 700, 290, 10, 0})

	// An account named twice in one entry.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: -100},
			{Account: merchant, Amount: 60},
			{Account: wallet, Amount: -50},
			{Account: merchant, Amount: 90},
		}}, base)
	})
	same(t, "balances after an entry naming accounts twice", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 550, 440, 10})
	// Spending exactly the balance over many postings.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 500},
			{Account: fees, Amount: 50},
			{Account: wallet, Amount: -550},
		}}, base)
	})
	same(t, "balances after spending all", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 0, 940, 60})
	snap := checkLedger(t, s)
	if len(snap.Accounts) != 4 {
		t.Errorf("%d accounts after the entries, want 4 (refused entries create none): %+v", len(snap.Accounts), snap.Accounts)
	}
}

// testConcurrentCrossPostings moves money around a ring of accounts from
// many goroutines at once, each entry touching its accounts in another
// order: no entry may be lost, doubled or overdraw, and none deadlock.
func testConcurrentCrossPostings(t *testing.T, s store.Store) {
	ctx := context.Background()
	const owners, workers, rounds = 4, 8, 25
	refs := make([]ledger.AccountRef, owners)
	for i := range refs {
		refs[i] = ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: int64(i + 1)}
		inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, int64(i+1), 100), base) })
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done, refused := 0, 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				from, to := refs[(w+r)%owners], refs[(w+r+1+w%(owners-1))%owners]
				third := refs[(w+r+2)%owners]
				e := ledger.Entry{Book: ledger.Test, Reason: "move", Postings: []ledger.Posting{
					{Account: to, Amount: 7}, {Account: from, Amount: -7},
				}}
				if third != from && third != to {
					e.Postings = []ledger.Posting{{Account: to, Amount: 4}, {Account: from, Amount: -7}, {Account: third, Amount: 3}}
				}
				err := s.InTx(ctx, func(tx store.Tx) error { return tx.Post(ctx, e, base) })
				mu.Lock()
				switch {
				case err == nil:
					done++
				case errors.Is(err, store.ErrInsufficientFunds):
					refused++
				default:
					t.Errorf("Post: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if done == 0 {
		t.Errorf("no entry succeeded (%d refused)", refused)
	}
	var total money.Paisa
	for _, b := range balances(t, s, refs...) {
		if b < 0 {
			t.Errorf("a wallet went negative: %d", b)
		}
		total += b
	}
	same(t, "money in the wallets", total, money.Paisa(100*owners))
	checkLedger(t, s)
}

// testPostAndUpdate posts entries together with a payment's
// compare-and-set: both happen, or (once the caller rolls back) neither.
func testPostAndUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	p := newPayment(m.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	create(t, s, &p)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, c.ID, 1000), base) })
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.ID}
	holds := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}.WithShard(ledger.ShardOf(p.ID))
	hold := func(amount money.Paisa) ledger.Entry {
		return ledger.Transfer(ledger.Test, "authorise", p.ID, wallet, holds, amount)
	}
	read := func() store.Payment {
		var got store.Payment
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.PaymentByID(ctx, p.ID)
			return err
		})
		return got
	}

	// A stale version: ErrConflict, and nothing changes.
	stale := p
	stale.Version = p.Version + 5
	stale.State = store.Confirmed
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(300), base, &stale) })
	wantErr(t, "PostAndUpdate(stale version)", err, store.ErrConflict)
	same(t, "balances after a lost compare-and-set", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	samePayment(t, "payment after a lost compare-and-set", read(), p)

	// An overdraft: ErrInsufficientFunds, and nothing changes.
	next := p
	next.State = store.Confirmed
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(1001), base, &next) })
	wantErr(t, "PostAndUpdate(overdraft)", err, store.ErrInsufficientFunds)
	same(t, "balances after an overdraft", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	samePayment(t, "payment after an overdraft", read(), p)

	// Both happen; the hold account is created on first use.
	next = p
	next.State, next.ConfirmedAt, next.UpdatedAt = store.Confirmed, base.Add(time.Minute), base.Add(time.Minute)
	next.Browser = "browser-hash" // every mutable field rides in the one statement
	inTx(t, s, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(1000), base, &next) })
	if next.Version != p.Version+1 {
		t.Errorf("version after PostAndUpdate %d, want %d", next.Version, p.Version+1)
	}
	same(t, "balances after PostAndUpdate", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	samePayment(t, "payment after PostAndUpdate", read(), next)
	// The version moved on: the same update again is a conflict.
	again := next
	again.Version--
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.PostAndUpdate(ctx, ledger.Transfer(ledger.Test, "release", p.ID, holds, wallet, 10), base, &again)
	})
	wantErr(t, "PostAndUpdate(old version)", err, store.ErrConflict)
	same(t, "balances after the second lost compare-and-set", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	checkLedger(t, s)
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

func testLedgerInvalidEntry(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	liveMerchant := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Merchant, Owner: 1}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	bad := []struct {
		name string
		e    ledger.Entry
		want error
	}{
		{"unbalanced", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: -100}, {Account: merchant, Amount: 50}}}, ledger.ErrUnbalanced},
		{"one posting", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 100}}}, ledger.ErrEmpty},
		{"mixed books", ledger.Transfer(ledger.Test, "capture", 0, wallet, liveMerchant, 100), ledger.ErrMixedBooks},
		{"zero posting", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: 0}, {Account: merchant, Amount: 0}}}, ledger.ErrZero},
	}
	for _, b := range bad {
		err := s.InTx(ctx, func(tx store.Tx) error { return tx.Post(ctx, b.e, base) })
		wantErr(t, "Post("+b.name+")", err, b.want)
	}
	same(t, "balances after invalid entries", balances(t, s, funding, wallet, merchant, liveMerchant), []money.Paisa{-1000, 1000, 0, 0})
	checkLedger(t, s)
}

func testLedgerSnapshot(t *testing.T, s store.Store) {
	ctx := context.Background()
	ref := func(book ledger.Book, kind ledger.Kind, owner int64) ledger.AccountRef {
		return ledger.AccountRef{Book: book, Kind: kind, Owner: owner}
	}
	inTx(t, s, func(tx store.Tx) error {
		steps := []ledger.Entry{
			topUp(ledger.Test, 1, 5000),
			topUp(ledger.Test, 2, 3000),
			topUp(ledger.Live, 1, 900),
			ledger.Transfer(ledger.Test, "authorise", 0, ref(ledger.Test, ledger.Wallet, 1), ref(ledger.Test, ledger.Holds, 0), 2000),
			{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
				{Account: ref(ledger.Test, ledger.Holds, 0), Amount: -2000},
				{Account: ref(ledger.Test, ledger.Merchant, 7), Amount: 1940},
				{Account: ref(ledger.Test, ledger.Fees, 0), Amount: 60},
			}},
			ledger.Transfer(ledger.Test, "authorise", 0, ref(ledger.Test, ledger.Wallet, 2), ref(ledger.Test, ledger.Holds, 0), 1000),
			ledger.Transfer(ledger.Test, "release", 0, ref(ledger.Test, ledger.Holds, 0), ref(ledger.Test, ledger.Wallet, 2), 1000),
			ledger.Transfer(ledger.Live, "authorise", 0, ref(ledger.Live, ledger.Wallet, 1), ref(ledger.Live, ledger.Holds, 0), 900),
		}
		for i, e := range steps {
			if err := tx.Post(ctx, e, base.Add(time.Duration(i)*time.Second)); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return nil
	})
	snap := checkLedger(t, s)
	want := map[ledger.AccountRef]money.Paisa{
		ref(ledger.Test, ledger.Funding, 0):  -8000,
		ref(ledger.Test, ledger.Wallet, 1):   3000,
		ref(ledger.Test, ledger.Wallet, 2):   3000,
		ref(ledger.Test, ledger.Holds, 0):    0,
		ref(ledger.Test, ledger.Merchant, 7): 1940,
		ref(ledger.Test, ledger.Fees, 0):     60,
		ref(ledger.Live, ledger.Funding, 0):  -900,
		ref(ledger.Live, ledger.Wallet, 1):   0,
		ref(ledger.Live, ledger.Holds, 0):    900,
	}
	got := map[ledger.AccountRef]money.Paisa{}
	for _, a := range snap.Accounts {
		if _, dup := got[a.Ref]; dup {
			t.Errorf("snapshot lists %s twice", a.Ref)
		}
		got[a.Ref] = a.Balance
		if a.Balance != a.PostingsSum {
			t.Errorf("snapshot %s: balance %d, postings sum %d", a.Ref, a.Balance, a.PostingsSum)
		}
	}
	same(t, "snapshot balances", got, want)
	if len(snap.UnbalancedTxns) != 0 {
		t.Errorf("snapshot reports unbalanced ledger transactions %v", snap.UnbalancedTxns)
	}

	// Check must be able to fail on what the store reports.
	broken := snap
	broken.Accounts = append([]ledger.AccountState(nil), snap.Accounts...)
	broken.Accounts[0].Balance++
	if len(ledger.Check(broken)) == 0 {
		t.Error("ledger.Check found nothing wrong with a tampered snapshot")
	}
}

func testConcurrentDebits(t *testing.T, s store.Store) {
	ctx := context.Background()
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	const workers = 20
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 100), base.Add(time.Duration(i)*time.Millisecond))
			})
		}()
	}
	close(start)
	wg.Wait()

	ok, short := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrInsufficientFunds):
			short++
		default:
			t.Errorf("worker %d: unexpected error %v", i, err)
		}
	}
	if ok != 10 || short != 10 {
		t.Errorf("%d debits succeeded and %d were refused, want 10 and 10", ok, short)
	}
	same(t, "balances after concurrent debits", balances(t, s, wallet, merchant), []money.Paisa{0, 1000})
	checkLedger(t, s)
}

// newPayment returns an unsaved payment; name makes its idx and token unique.
func newPayment(merchantID, consumerID int64, book ledger.Book, name string, state store.State, created, confirmed time.Time) store.Payment {
	return store.Payment{
		Idx:             "idx-" + name,
		Token:           "token-" + name,
		FeeIdx:          "fee-" + name,
		Book:            book,
		MerchantID:      merchantID,
		ConsumerID:      consumerID,
		State:           state,
		Amount:          12345,
		FeeAmount:       370,
		ProductIdentity: "order-" + name,
		ProductName:     "Product " + name,
		ProductURL:      "https://shop.example.com/" + name,
		Extra:           []byte(`{"merchant_order":"` + name + `","merchant_note":"x"}`),
		OTPHash:         "otp-" + name,
		OTPExpiresAt:    created.Add(5 * time.Minute),
		OTPTries:        1,
		CreatedAt:       created,
		ConfirmedAt:     confirmed,
		UpdatedAt:       created,
	}
}

// samePayment compares payments, Extra as JSON (a store may reformat it).
func samePayment(t *testing.T, what string, got, want store.Payment) {
	t.Helper()
	var gotExtra, wantExtra any
	if err := json.Unmarshal(got.Extra, &gotExtra); err != nil {
		t.Errorf("%s: stored Extra %q is not JSON: %v", what, got.Extra, err)
	}
	if err := json.Unmarshal(want.Extra, &wantExtra); err != nil {
		t.Fatalf("%s: test Extra %q is not JSON: %v", what, want.Extra, err)
	}
	same(t, what+" Extra", gotExtra, wantExtra)
	got.Extra, want.Extra = nil, nil
	same(t, what, got, want)
}

// create saves payments in one transaction, setting their IDs.
func create(t *testing.T, s store.Store, ps ...*store.Payment) {
	t.Helper()
	inTx(t, s, func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.CreatePayment(context.Background(), p); err != nil {
				return fmt.Errorf("CreatePayment(%s): %w", p.Idx, err)
			}
		}
		return nil
	})
}

func testPaymentsCreateAndScope(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	p := newPayment(m1.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	q := newPayment(m1.ID, c.ID, ledger.Live, "two", store.Initiated, base, time.Time{})
	create(t, s, &p, &q)
	if p.ID == 0 || q.ID == 0 || p.ID == q.ID {
		t.Fatalf("CreatePayment IDs %d and %d, want distinct non-zero", p.ID, q.ID)
	}
	if p.Version != 1 || q.Version != 1 {
		t.Errorf("CreatePayment versions %d and %d, want 1", p.Version, q.Version)
	}

	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByID", got, p)
		got, err = tx.PaymentByID(ctx, q.ID)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByID(live)", got, q)
		_, err = tx.PaymentByID(ctx, p.ID+q.ID+100)
		wantErr(t, "PaymentByID(missing)", err, store.ErrNotFound)

		got, err = tx.PaymentByIdx(ctx, own, p.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByIdx", got, p)
		got, err = tx.PaymentByToken(ctx, own, p.Token)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByToken", got, p)
		got, err = tx.PaymentByIdx(ctx, store.Scope{MerchantID: m1.ID, Book: ledger.Live}, q.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByIdx(live)", got, q)

		for _, sc := range []struct {
			name  string
			scope store.Scope
		}{
			{"other merchant", store.Scope{MerchantID: m2.ID, Book: ledger.Test}},
			{"other book", store.Scope{MerchantID: m1.ID, Book: ledger.Live}},
			{"empty scope", store.Scope{}},
		} {
			_, err := tx.PaymentByIdx(ctx, sc.scope, p.Idx)
			wantErr(t, "PaymentByIdx("+sc.name+")", err, store.ErrNotFound)
			_, err = tx.PaymentByToken(ctx, sc.scope, p.Token)
			wantErr(t, "PaymentByToken("+sc.name+")", err, store.ErrNotFound)
		}
		_, err = tx.PaymentByIdx(ctx, own, "idx-missing")
		wantErr(t, "PaymentByIdx(missing)", err, store.ErrNotFound)
		_, err = tx.PaymentByToken(ctx, own, "token-missing")
		wantErr(t, "PaymentByToken(missing)", err, store.ErrNotFound)
		// An idx is not a token, nor the other way round.
		_, err = tx.PaymentByToken(ctx, own, p.Idx)
		wantErr(t, "PaymentByToken(an idx)", err, store.ErrNotFound)
		return nil
	})
}

func testPaymentWithParties(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	p := newPayment(m1.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	q := newPayment(m1.ID, 0, ledger.Test, "two", store.Initiated, base, time.Time{}) // no payer yet
	create(t, s, &p, &q)
	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	for _, read := range []func(func(store.Tx) error){
		func(fn func(store.Tx) error) { view(t, s, fn) },
		func(fn func(store.Tx) error) { inTx(t, s, fn) },
	} {
		read(func(tx store.Tx) error {
			for _, byIdx := range []bool{false, true} {
				key := p.Token
				if byIdx {
					key = p.Idx
				}
				gp, gc, gm, err := tx.PaymentWithParties(ctx, own, key, byIdx)
				if err != nil {
					return err
				}
				samePayment(t, "PaymentWithParties payment", gp, p)
				same(t, "PaymentWithParties consumer", gc, c)
				same(t, "PaymentWithParties merchant", gm, m1)
				// The key is looked up in the column asked for only.
				_, _, _, err = tx.PaymentWithParties(ctx, own, key, !byIdx)
				wantErr(t, "PaymentWithParties(other column)", err, store.ErrNotFound)
				for _, sc := range []store.Scope{{MerchantID: m2.ID, Book: ledger.Test}, {MerchantID: m1.ID, Book: ledger.Live}, {}} {
					_, _, _, err = tx.PaymentWithParties(ctx, sc, key, byIdx)
					wantErr(t, "PaymentWithParties(other scope)", err, store.ErrNotFound)
				}
			}
			gp, gc, gm, err := tx.PaymentWithParties(ctx, own, q.Token, false)
			if err != nil {
				return err
			}
			samePayment(t, "PaymentWithParties(no payer) payment", gp, q)
			same(t, "PaymentWithParties(no payer) consumer", gc, store.Consumer{})
			same(t, "PaymentWithParties(no payer) merchant", gm, m1)
			_, _, _, err = tx.PaymentWithParties(ctx, own, "token-missing", false)
			wantErr(t, "PaymentWithParties(missing)", err, store.ErrNotFound)
			return nil
		})
	}
}

func testPaymentsUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	p := newPayment(m.ID, c.ID, ledger.Test, "upd", store.Initiated, base, time.Time{})
	other := newPayment(m.ID, c.ID, ledger.Test, "other", store.Initiated, base, time.Time{})
	create(t, s, &p, &other)

	stale := p
	next := p
	next.State = store.Confirmed
	next.FeeAmount = 400
	next.OTPHash = ""
	next.OTPExpiresAt = time.Time{}
	next.OTPTries = 2
	next.ConfirmedAt = base.Add(time.Minute)
	next.UpdatedAt = base.Add(time.Minute)
	next.Browser = "browser-hash"
	inTx(t, s, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &next) })
	if next.Version != 2 {
		t.Errorf("Version after UpdatePayment = %d, want 2", next.Version)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "payment after UpdatePayment", got, next)
		got, err = tx.PaymentByID(ctx, other.ID)
		if err != nil {
			return err
		}
		samePayment(t, "untouched payment after UpdatePayment", got, other)
		return nil
	})

	stale.State = store.Failed
	stale.UpdatedAt = base.Add(time.Hour)
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &stale) })
	wantErr(t, "UpdatePayment(stale version)", err, store.ErrConflict)

	final := next
	final.State = store.Completed
	final.Refunded = 1000
	final.CompletedAt = base.Add(2 * time.Minute)
	final.UpdatedAt = base.Add(2 * time.Minute)
	inTx(t, s, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &final) })
	if final.Version != 3 {
		t.Errorf("Version after second UpdatePayment = %d, want 3", final.Version)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByIdx(ctx, store.Scope{MerchantID: m.ID, Book: ledger.Test}, p.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "payment after second UpdatePayment", got, final)
		return nil
	})

	// The previous version is now stale too.
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &next) })
	wantErr(t, "UpdatePayment(previous version)", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "payment after conflicting updates", got, final)
		return nil
	})
}

// idxs lists the payments' idx values.
func idxs(ps []store.Payment) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Idx)
	}
	return out
}

func testPaymentsList(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	states := []store.State{store.Initiated, store.Completed, store.Initiated, store.Completed, store.Failed}
	var ps []*store.Payment
	for i, st := range states {
		p := newPayment(m1.ID, c.ID, ledger.Test, fmt.Sprintf("p%d", i), st, base.Add(time.Duration(i)*time.Hour), time.Time{})
		p.Amount = money.Paisa(1000 * (i + 1))
		ps = append(ps, &p)
	}
	live := newPayment(m1.ID, c.ID, ledger.Live, "live", store.Completed, base.Add(time.Hour), time.Time{})
	foreign := newPayment(m2.ID, c.ID, ledger.Test, "foreign", store.Completed, base.Add(time.Hour), time.Time{})
	// Created out of time order, so newest-first cannot come from insertion order.
	create(t, s, ps[3], ps[0], &live, ps[4], ps[1], &foreign, ps[2])

	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	cases := []struct {
		name  string
		f     store.PaymentFilter
		want  []string
		total int
	}{
		{"all", store.PaymentFilter{Scope: own, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2", "idx-p1", "idx-p0"}, 5},
		{"completed", store.PaymentFilter{Scope: own, States: []store.State{store.Completed}, Limit: 100}, []string{"idx-p3", "idx-p1"}, 2},
		{"completed or failed", store.PaymentFilter{Scope: own, States: []store.State{store.Completed, store.Failed}, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p1"}, 3},
		{"refunded", store.PaymentFilter{Scope: own, States: []store.State{store.Refunded}, Limit: 100}, []string{}, 0},
		{"from", store.PaymentFilter{Scope: own, From: base.Add(2 * time.Hour), Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2"}, 3},
		{"to", store.PaymentFilter{Scope: own, To: base.Add(2 * time.Hour), Limit: 100}, []string{"idx-p1", "idx-p0"}, 2},
		{"from to", store.PaymentFilter{Scope: own, From: base.Add(time.Hour), To: base.Add(3 * time.Hour), Limit: 100}, []string{"idx-p2", "idx-p1"}, 2},
		{"from to initiated", store.PaymentFilter{Scope: own, States: []store.State{store.Initiated}, From: base.Add(time.Hour), To: base.Add(3 * time.Hour), Limit: 100}, []string{"idx-p2"}, 1},
		{"first page", store.PaymentFilter{Scope: own, Offset: 0, Limit: 2}, []string{"idx-p4", "idx-p3"}, 5},
		{"second page", store.PaymentFilter{Scope: own, Offset: 2, Limit: 2}, []string{"idx-p2", "idx-p1"}, 5},
		{"last page", store.PaymentFilter{Scope: own, Offset: 4, Limit: 2}, []string{"idx-p0"}, 5},
		{"past the end", store.PaymentFilter{Scope: own, Offset: 10, Limit: 2}, []string{}, 5},
		{"completed page", store.PaymentFilter{Scope: own, States: []store.State{store.Completed}, Offset: 1, Limit: 1}, []string{"idx-p1"}, 2},
		{"live book", store.PaymentFilter{Scope: store.Scope{MerchantID: m1.ID, Book: ledger.Live}, Limit: 100}, []string{"idx-live"}, 1},
		{"other merchant", store.PaymentFilter{Scope: store.Scope{MerchantID: m2.ID, Book: ledger.Test}, Limit: 100}, []string{"idx-foreign"}, 1},
		{"other merchant live", store.PaymentFilter{Scope: store.Scope{MerchantID: m2.ID, Book: ledger.Live}, Limit: 100}, []string{}, 0},
		{"min amount", store.PaymentFilter{Scope: own, MinAmount: 3000, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2"}, 3},
		{"max amount", store.PaymentFilter{Scope: own, MaxAmount: 2000, Limit: 100}, []string{"idx-p1", "idx-p0"}, 2},
		{"amount range", store.PaymentFilter{Scope: own, MinAmount: 2000, MaxAmount: 4000, Limit: 100}, []string{"idx-p3", "idx-p2", "idx-p1"}, 3},
		{"amount range paged", store.PaymentFilter{Scope: own, MinAmount: 2000, MaxAmount: 4000, Offset: 2, Limit: 2}, []string{"idx-p1"}, 3},
		{"query identity any case", store.PaymentFilter{Scope: own, Query: "ORDER-P3", Limit: 100}, []string{"idx-p3"}, 1},
		{"query name", store.PaymentFilter{Scope: own, Query: "product p1", Limit: 100}, []string{"idx-p1"}, 1},
		{"query substring", store.PaymentFilter{Scope: own, Query: "order-p", Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2", "idx-p1", "idx-p0"}, 5},
		{"query idx", store.PaymentFilter{Scope: own, Query: "idx-p2", Limit: 100}, []string{"idx-p2"}, 1},
		{"query wildcard is literal", store.PaymentFilter{Scope: own, Query: "order%p", Limit: 100}, []string{}, 0},
		{"query underscore is literal", store.PaymentFilter{Scope: own, Query: "order_p", Limit: 100}, []string{}, 0},
		{"query other merchant's", store.PaymentFilter{Scope: own, Query: "order-foreign", Limit: 100}, []string{}, 0},
		{"query and state and amount", store.PaymentFilter{Scope: own, Query: "order-p", States: []store.State{store.Completed}, MinAmount: 3000, Limit: 100}, []string{"idx-p3"}, 1},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range cases {
			got, total, err := tx.ListPayments(ctx, tc.f)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			same(t, "ListPayments("+tc.name+")", idxs(got), tc.want)
			if total != tc.total {
				t.Errorf("ListPayments(%s) total = %d, want %d", tc.name, total, tc.total)
			}
		}
		got, _, err := tx.ListPayments(ctx, store.PaymentFilter{Scope: own, States: []store.State{store.Failed}, Limit: 1})
		if err != nil {
			return err
		}
		if len(got) == 1 {
			samePayment(t, "listed payment", got[0], *ps[4])
		}
		return nil
	})
}

func testPaymentsDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	iCut := base.Add(24 * time.Hour)
	cCut := base.Add(30 * time.Hour)
	mk := func(name string, book ledger.Book, st store.State, created, confirmed time.Time) *store.Payment {
		p := newPayment(m.ID, c.ID, book, name, st, created, confirmed)
		return &p
	}
	ps := []*store.Payment{
		mk("init-old", ledger.Test, store.Initiated, iCut.Add(-time.Hour), time.Time{}),
		mk("init-new", ledger.Test, store.Initiated, iCut.Add(time.Hour), time.Time{}),
		mk("init-at-cutoff", ledger.Test, store.Initiated, iCut, time.Time{}),
		mk("init-live-old", ledger.Live, store.Initiated, iCut.Add(-2*time.Hour), time.Time{}),
		mk("conf-old", ledger.Test, store.Confirmed, iCut.Add(-5*time.Hour), cCut.Add(-time.Minute)),
		mk("conf-new", ledger.Test, store.Confirmed, iCut.Add(-6*time.Hour), cCut.Add(time.Minute)),
		mk("conf-at-cutoff", ledger.Test, store.Confirmed, iCut.Add(-7*time.Hour), cCut),
		mk("completed-old", ledger.Test, store.Completed, iCut.Add(-10*time.Hour), cCut.Add(-2*time.Hour)),
		mk("failed-old", ledger.Test, store.Failed, iCut.Add(-9*time.Hour), time.Time{}),
		mk("disabled-old", ledger.Test, store.Disabled, iCut.Add(-8*time.Hour), time.Time{}),
	}
	create(t, s, ps...)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.DuePayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments", idxs(got), []string{"idx-conf-old", "idx-init-live-old", "idx-init-old"})
		for _, p := range got {
			if p.Idx == "idx-conf-old" {
				samePayment(t, "due payment", p, *ps[4])
			}
		}
		got, err = tx.DuePayments(ctx, iCut, cCut, 2)
		if err != nil {
			return err
		}
		same(t, "DuePayments(limit 2)", idxs(got), []string{"idx-conf-old", "idx-init-live-old"})
		// With the cutoffs far back nothing is due.
		got, err = tx.DuePayments(ctx, base.Add(-time.Hour), base.Add(-time.Hour), 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments(early cutoffs)", idxs(got), []string{})
		return nil
	})

	// ePayments: Initiated ones by link expiry, Pending ones by hold time.
	ep := func(name string, st store.State, expires, held time.Time) *store.Payment {
		p := mk(name, ledger.Test, st, iCut.Add(-20*time.Hour), held)
		p.Kind, p.ExpiresAt = store.EPayment, expires
		return p
	}
	create(t, s,
		ep("ep-init-expired", store.Initiated, iCut.Add(-time.Minute), time.Time{}),
		ep("ep-init-live", store.Initiated, iCut.Add(time.Minute), time.Time{}),
		ep("ep-pending-at-cutoff", store.Pending, iCut.Add(time.Hour), cCut),
		ep("ep-pending-old", store.Pending, iCut.Add(time.Hour), cCut.Add(-time.Minute)),
		ep("ep-pending-new", store.Pending, iCut.Add(time.Hour), cCut.Add(time.Minute)),
		ep("ep-completed", store.Completed, iCut.Add(-time.Hour), cCut.Add(-time.Hour)),
	)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.DueEPayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DueEPayments", idxs(got), []string{"idx-ep-init-expired", "idx-ep-pending-old", "idx-ep-pending-at-cutoff"})
		got, err = tx.DuePayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments (no ePayments)", idxs(got), []string{"idx-conf-old", "idx-init-live-old", "idx-init-old"})
		return nil
	})
}

// testShardedAccounts checks that shards of one account are separate rows
// for the overdraft guard and sum up in Balance.
func testShardedAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 9}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 9}
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "topup", 0, funding, merchant.WithShard(3), 300), at); err != nil {
			return err
		}
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "topup", 0, funding.WithShard(5), merchant.WithShard(7), 700), at)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Shard 3 holds only 300: taking 400 from it fails even though the
	// account's total is 1000.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "refund", 0, merchant.WithShard(3), wallet, 400), at)
	})
	if !errors.Is(err, store.ErrInsufficientFunds) {
		t.Fatalf("overdrawing one shard: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "refund", Postings: []ledger.Posting{
			{Account: merchant.WithShard(3), Amount: -300}, {Account: merchant.WithShard(7), Amount: -100}, {Account: wallet, Amount: 400},
		}}, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		total, err := tx.Balance(ctx, merchant.WithShard(11))
		if err != nil {
			return err
		}
		if total != 600 {
			t.Errorf("Balance = %d, want 600 (sum of shards)", total)
		}
		shards, err := tx.ShardBalances(ctx, merchant)
		if err != nil {
			return err
		}
		if len(shards) != 1 || shards[7] != 600 {
			t.Errorf("ShardBalances = %v, want map[7:600]", shards)
		}
		if f, err := tx.Balance(ctx, funding); err != nil || f != -1000 {
			t.Errorf("funding = %d, %v; want -1000", f, err)
		}
		snap, err := tx.LedgerSnapshot(ctx)
		if err != nil {
			return err
		}
		if v := ledger.Check(snap); len(v) != 0 {
			t.Errorf("ledger check: %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testSnapshot checks that Snapshot reads what was committed and refuses
// writes.
func testSnapshot(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := store.Merchant{Idx: "snapshotmerchant000001", Name: "Snap", Email: "snap@example.com", KYC: store.KYCNone,
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &m) }); err != nil {
		t.Fatal(err)
	}
	err := s.Snapshot(ctx, func(tx store.Tx) error {
		got, err := tx.MerchantByEmail(ctx, "snap@example.com")
		if err != nil {
			return err
		}
		if got.ID != m.ID {
			t.Errorf("Snapshot read merchant %d, want %d", got.ID, m.ID)
		}
		snap, err := tx.LedgerSnapshot(ctx)
		if err != nil {
			return err
		}
		if v := ledger.Check(snap); len(v) != 0 {
			t.Errorf("empty ledger: %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	other := store.Merchant{Idx: "snapshotmerchant000002", Name: "Snap2", Email: "snap2@example.com", KYC: store.KYCNone,
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Snapshot(ctx, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &other) }); err == nil {
		t.Error("a write inside Snapshot succeeded")
	}
	err = s.View(ctx, func(tx store.Tx) error {
		_, err := tx.MerchantByEmail(ctx, "snap2@example.com")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused write left a merchant behind: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
