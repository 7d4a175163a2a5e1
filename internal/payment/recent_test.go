package payment

import (
	"fmt"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// TestRecentPayments: a remembered payment is found by its token only in
// its own merchant's book, only as a legacy payment, only within
// recentLifetime, and not once forgotten; memory stays bounded.
func TestRecentPayments(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	scope := store.Scope{MerchantID: 7, Book: ledger.Test}
	pay := func(token string, merchant int64, book ledger.Book, kind store.PaymentKind) Transaction {
		return Transaction{Payment: store.Payment{Token: token, MerchantID: merchant, Book: book, Kind: kind, Version: 3}}
	}
	r := newRecentPayments()
	r.put(pay("mine", 7, ledger.Test, store.WalletPayment), now)
	r.put(pay("other-merchant", 8, ledger.Test, store.WalletPayment), now)
	r.put(pay("other-book", 7, ledger.Live, store.WalletPayment), now)
	r.put(pay("epayment", 7, ledger.Test, store.EPayment), now)

	if got, ok := r.get(scope, "mine", now.Add(recentLifetime)); !ok || got.Payment.Version != 3 {
		t.Errorf("own payment within its lifetime: %v %+v", ok, got.Payment)
	}
	for _, tc := range []struct {
		token string
		at    time.Time
	}{
		{"mine", now.Add(recentLifetime + time.Nanosecond)}, // too old
		{"mine", now.Add(-time.Second)},                     // the clock went back: not trusted
		{"other-merchant", now},
		{"other-book", now},
		{"epayment", now},
		{"unknown", now},
	} {
		if _, ok := r.get(scope, tc.token, tc.at); ok {
			t.Errorf("%s at %s: found, want not", tc.token, tc.at.Sub(now))
		}
	}
	r.forget("mine")
	if _, ok := r.get(scope, "mine", now); ok {
		t.Error("forgotten payment found")
	}

	// Filling it many times over keeps at most two generations, and the
	// latest payments are still found.
	for i := range 5 * recentPerGeneration {
		r.put(pay(fmt.Sprint("p", i), 7, ledger.Test, store.WalletPayment), now)
	}
	if n := r.len(); n > 2*recentPerGeneration {
		t.Errorf("%d payments remembered, want at most %d", n, 2*recentPerGeneration)
	}
	if _, ok := r.get(scope, fmt.Sprint("p", 5*recentPerGeneration-1), now); !ok {
		t.Error("the latest payment is not found")
	}
	// Putting a payment again replaces it, in whichever generation.
	r.put(Transaction{Payment: store.Payment{Token: "p0", MerchantID: 7, Book: ledger.Test, Kind: store.WalletPayment, Version: 9}}, now)
	if got, ok := r.get(scope, "p0", now); !ok || got.Payment.Version != 9 {
		t.Errorf("replaced payment: %v version %d, want version 9", ok, got.Payment.Version)
	}
}
