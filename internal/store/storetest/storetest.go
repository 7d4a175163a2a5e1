// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's own test calls Run with a
// function that opens a fresh, migrated, empty store.
package storetest

import (
	"context"
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
		{"PostAndUpdateUnhooked", testPostAndUpdateUnhooked},
		{"ShardedAccounts", testShardedAccounts},
		{"PaymentsCreateAndScope", testPaymentsCreateAndScope},
		{"PaymentWithParties", testPaymentWithParties},
		{"PaymentsUpdate", testPaymentsUpdate},
		{"PaymentMoves", testPaymentMoves},
		{"PaymentsList", testPaymentsList},
		{"PaymentsDue", testPaymentsDue},
		{"Banks", testBanks},
		{"Stats", testStats},
		{"DailyTotals", testDailyTotals},
		{"Idempotency", testIdempotency},
		{"Webhooks", testWebhooks},
		{"WebhookEventTimes", testWebhookEventTimes},
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
	if err := s.View(ctx, func(tx store.Tx) error { return tx.CreateMerchant(ctx, &other) }); err == nil {
		t.Error("a write inside View succeeded")
	}

	// A write committed while a Snapshot runs is not in its picture;
	// View's statements each see the latest committed data.
	c := newConsumer(t, s, 1)
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.ID}
	for _, read := range []struct {
		name          string
		run           func(context.Context, func(store.Tx) error) error
		before, after money.Paisa
	}{{"Snapshot", s.Snapshot, 0, 0}, {"View", s.View, 100, 200}} {
		err := read.run(ctx, func(tx store.Tx) error {
			before, err := tx.Balance(ctx, wallet)
			if err != nil {
				return err
			}
			inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, c.ID, 100), base) })
			after, err := tx.Balance(ctx, wallet)
			if err != nil {
				return err
			}
			if before != read.before || after != read.after {
				t.Errorf("%s: balance %d, then %d after a top-up committed meanwhile; want %d, then %d",
					read.name, before, after, read.before, read.after)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
