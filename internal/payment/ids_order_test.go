package payment_test

import (
	"testing"
	"time"

	"github.com/thaili/thaili/internal/payment"
)

// TestPaymentIdsSortByCreation: a payment's idx and token (pidx and
// token for ePayment) sort after those of every payment made at an
// earlier millisecond, so the unique indexes on them grow at one end
// instead of taking each insert on a random page (docs/storage.md,
// "Indexes and plans").
func TestPaymentIdsSortByCreation(t *testing.T) {
	f := newLC(t)
	var prevToken, prevIdx string
	for i := 0; i < 20; i++ {
		token := f.initiate(t, 1000)
		p, err := f.svc.Status(f.ctx, f.caller, token, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if token <= prevToken || p.Idx <= prevIdx {
			t.Fatalf("payment %d: token %q and idx %q do not sort after %q and %q of the payment a millisecond earlier",
				i, token, p.Idx, prevToken, prevIdx)
		}
		prevToken, prevIdx = token, p.Idx
		f.clock.Advance(time.Millisecond)
	}
	var prevPidx string
	prevToken = ""
	for i := 0; i < 5; i++ {
		p, err := f.svc.InitiateEPayment(f.ctx, f.caller, payment.EPaymentInput{ReturnURL: "https://a.example/r",
			WebsiteURL: "https://a.example", Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "O"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Idx <= prevPidx || p.Token <= prevToken {
			t.Fatalf("ePayment %d: pidx %q and token %q do not sort after %q and %q", i, p.Idx, p.Token, prevPidx, prevToken)
		}
		prevPidx, prevToken = p.Idx, p.Token
		f.clock.Advance(time.Millisecond)
	}
}
