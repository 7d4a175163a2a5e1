package payment_test

import (
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

func (f *lcFixture) initiateEPayment(t *testing.T, amount money.Paisa, ttl time.Duration) store.Payment {
	t.Helper()
	p, err := f.svc.InitiateEPayment(f.ctx, f.caller, payment.EPaymentInput{ReturnURL: "https://shop.example/return?order=7",
		WebsiteURL: "https://shop.example", Amount: amount, PurchaseOrderID: "order-7", PurchaseOrderName: "Book", TTL: ttl})
	if err != nil {
		t.Fatalf("initiate ePayment: %v", err)
	}
	return p
}

func TestEPaymentPaysOnceAndRefunds(t *testing.T) {
	f := newLC(t)
	p := f.initiateEPayment(t, 2000, 0)
	if p.Kind != store.EPayment || p.State != store.Initiated || !p.ExpiresAt.Equal(p.CreatedAt.Add(payment.DefaultTestTTL)) {
		t.Fatalf("initiated ePayment: %+v", p)
	}
	if _, err := f.svc.CompleteEPayment(f.ctx, p.Token, "987654", "browser-1"); err == nil {
		t.Fatal("paid without signing in")
	}
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("signing in moved money: wallet %d", got)
	}
	paid, err := f.svc.CompleteEPayment(f.ctx, p.Token, "987654", "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	if paid.Payment.State != store.Completed || paid.Consumer.Mobile != lcMobile {
		t.Fatalf("paid: %+v", paid.Payment)
	}
	// A double submit or a second tab returns the paid payment, once.
	again, err := f.svc.CompleteEPayment(f.ctx, p.Token, "987654", "browser-1")
	if err != nil || again.Payment.State != store.Completed {
		t.Fatalf("second completion: %v %s", err, again.Payment.State)
	}
	if got := f.wallet(t); got != 3000 {
		t.Fatalf("wallet = %d, want 3000 (charged once)", got)
	}
	if _, err := f.svc.CancelEPayment(f.ctx, p.Token, "browser-1"); err == nil {
		t.Fatal("a paid payment was canceled")
	}
	look, err := f.svc.LookupEPayment(f.ctx, f.caller, p.Token)
	if err != nil || look.Payment.State != store.Completed || look.Payment.FeeAmount != 60 {
		t.Fatalf("lookup: %v %+v", err, look.Payment)
	}
	// The transaction id is the idx of the record: one refund path.
	half := money.Paisa(1000)
	if err := f.svc.Refund(f.ctx, f.caller, p.Idx, &half); err != nil {
		t.Fatal(err)
	}
	if got := f.wallet(t); got != 4000 {
		t.Fatalf("wallet after refund = %d, want 4000", got)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, p.Token, 2000); err == nil {
		t.Fatal("legacy verify accepted an ePayment pidx")
	}
	f.ledgerOK(t)
}

func TestEPaymentExpiresCancelsAndDisables(t *testing.T) {
	f := newLC(t)
	expiring := f.initiateEPayment(t, 1000, time.Minute)
	canceled := f.initiateEPayment(t, 1000, 0)
	disabled := f.initiateEPayment(t, 1000, 0)
	if _, err := f.svc.CancelEPayment(f.ctx, canceled.Token, "browser-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartEPayment(f.ctx, canceled.Token, lcMobile, "2468", "browser-1"); err == nil {
		t.Fatal("signed in to a canceled payment")
	}
	if _, err := f.svc.StartEPayment(f.ctx, disabled.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2", "1", "0"} {
		_, err := f.svc.CompleteEPayment(f.ctx, disabled.Token, "111111", "browser-1")
		if e := fault.AsError(err); e.Detail != fault.MsgCodeOrPin || e.TriesRemaining != want {
			t.Fatalf("wrong code: %v (tries %q, want %q)", err, e.TriesRemaining, want)
		}
	}
	if _, err := f.svc.CompleteEPayment(f.ctx, disabled.Token, "987654", "browser-1"); err == nil {
		t.Fatal("a disabled payment was paid")
	}
	f.clock.Advance(time.Minute)
	n, err := f.svc.Sweep(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep changed %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		p    store.Payment
		want store.State
	}{{expiring, store.Expired}, {canceled, store.UserCanceled}, {disabled, store.Disabled}} {
		got, err := f.svc.LookupEPayment(f.ctx, f.caller, c.p.Token)
		if err != nil || got.Payment.State != c.want {
			t.Errorf("%s: %v %s", c.want, err, got.Payment.State)
		}
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet = %d, want 5000", got)
	}
	f.ledgerOK(t)
}

func TestEPaymentRules(t *testing.T) {
	f := newLC(t)
	in := payment.EPaymentInput{ReturnURL: "https://a.example/r", WebsiteURL: "https://a.example", Amount: 1000,
		PurchaseOrderID: "1", PurchaseOrderName: "x", Breakdown: []money.Paisa{600, 300}}
	_, err := f.svc.InitiateEPayment(f.ctx, f.caller, in)
	wantField(t, err, "amount", "Amount Breakdown mismatch.")
	in.Breakdown = []money.Paisa{1100, -100} // a discount line may be negative
	if _, err := f.svc.InitiateEPayment(f.ctx, f.caller, in); err != nil {
		t.Fatal(err)
	}
	in.Amount = 999
	in.Breakdown = nil
	_, err = f.svc.InitiateEPayment(f.ctx, f.caller, in)
	wantField(t, err, "amount", fault.MsgMinAmount)
	in.Amount, in.TTL = 1000, 10*time.Second
	_, err = f.svc.InitiateEPayment(f.ctx, f.caller, in)
	if e := fault.AsError(err); len(e.Fields["ttl"]) != 1 {
		t.Fatalf("short ttl: %v", err)
	}
	// An expired link cannot be signed into, and a wrong MPIN counts.
	p := f.initiateEPayment(t, 1000, time.Minute)
	_, err = f.svc.StartEPayment(f.ctx, p.Token, lcMobile, "0000", "browser-1")
	if e := fault.AsError(err); e.Detail != fault.MsgMobileOrPin || e.TriesRemaining != "2" {
		t.Fatalf("wrong MPIN: %v", err)
	}
	f.clock.Advance(time.Minute)
	_, err = f.svc.StartEPayment(f.ctx, p.Token, lcMobile, "2468", "browser-1")
	wantDetail(t, err, "This payment link has expired.")
}

// liveCaller completes a test payment (which issues the demo merchant's
// live keys) and returns the merchant as its live secret key calls.
func (f *lcFixture) liveCaller(t *testing.T) identity.Caller {
	t.Helper()
	if _, tr, err := f.scPay(t, payment.SandboxPayers[0], 1000); err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("test payment: %v", err)
	}
	info, err := f.svc.ShowMerchant(f.ctx, testActor, payment.DemoMerchantEmail)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range info.Keys {
		if k.Key.Book == ledger.Live && k.Key.Kind == store.SecretKey {
			live, err := f.id.Authenticate(f.ctx, k.Secret, store.SecretKey)
			if err != nil {
				t.Fatal(err)
			}
			return live
		}
	}
	t.Fatal("no live secret key")
	return identity.Caller{}
}

// TestEPaymentCodeWithoutMPIN: the hosted page's code step takes the code
// alone. The code is bound to the browser that signed in with the MPIN:
// the right code from another browser pays nothing and costs no try.
func TestEPaymentCodeWithoutMPIN(t *testing.T) {
	f := newLC(t)
	live := f.liveCaller(t)
	if _, err := f.svc.Topup(f.ctx, testActor, lcMobile, ledger.Live, 5000); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.InitiateEPayment(f.ctx, live, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	code := f.phone.Confirmation(lcMobile)
	if _, err := f.svc.CompleteEPayment(f.ctx, p.Token, code, "browser-2"); fault.AsError(err).Detail != payment.MsgOtherBrowser {
		t.Fatalf("the right code from another browser: %v", err)
	}
	tr, err := f.svc.CompleteEPayment(f.ctx, p.Token, code, "browser-1")
	if err != nil || tr.Payment.State != store.Completed || tr.Payment.OTPTries != 0 {
		t.Fatalf("the code in the browser that signed in: %v %s tries %d", err, tr.Payment.State, tr.Payment.OTPTries)
	}
	f.ledgerOK(t)
}

// TestEPaymentResendCode: "Send the code again" sends a new code to the
// signed-in payer, in the browser that signed in only, at most every
// ResendInterval, and keeps the wrong codes already counted.
func TestEPaymentResendCode(t *testing.T) {
	f := newLC(t)
	live := f.liveCaller(t)
	if _, err := f.svc.Topup(f.ctx, testActor, lcMobile, ledger.Live, 5000); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.InitiateEPayment(f.ctx, live, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResendEPaymentCode(f.ctx, p.Token, "browser-1"); fault.AsError(err).Detail != payment.MsgSignInFirst {
		t.Fatalf("a new code before sign-in: %v", err)
	}
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	first := f.phone.Confirmation(lcMobile)
	if _, err := f.svc.CompleteEPayment(f.ctx, p.Token, "000000", "browser-1"); fault.AsError(err).TriesRemaining != "2" {
		t.Fatalf("wrong code: %v", err)
	}
	// Too soon, and from another browser: refused, nothing sent.
	if _, err := f.svc.ResendEPaymentCode(f.ctx, p.Token, "browser-1"); fault.AsError(err).Kind != fault.KindThrottled || fault.AsError(err).RetryAfter != payment.ResendInterval {
		t.Fatalf("a new code at once: %v", err)
	}
	f.clock.Advance(payment.ResendInterval)
	if _, err := f.svc.ResendEPaymentCode(f.ctx, p.Token, "browser-2"); fault.AsError(err).Detail != payment.MsgOtherBrowser {
		t.Fatalf("a new code for another browser: %v", err)
	}
	if got := f.phone.Confirmation(lcMobile); got != first {
		t.Fatalf("a refused request sent a code: %s", got)
	}
	// The payer's own browser gets a new code; the old one is dead, and
	// the wrong code counted before still counts.
	tr, err := f.svc.ResendEPaymentCode(f.ctx, p.Token, "browser-1")
	if err != nil || tr.Consumer.Mobile != lcMobile || !tr.Payment.OTPExpiresAt.Equal(f.clock.Now().Add(f.svc.Config().OTPLifetime)) {
		t.Fatalf("a new code: %v %+v", err, tr.Payment)
	}
	second := f.phone.Confirmation(lcMobile)
	if second == first {
		// One in a million: the new random code equals the old one.
		t.Skip("the new code equals the old one")
	}
	if _, err := f.svc.CompleteEPayment(f.ctx, p.Token, first, "browser-1"); fault.AsError(err).TriesRemaining != "1" {
		t.Fatalf("the old code after a new one was sent: %v", err)
	}
	if tr, err := f.svc.CompleteEPayment(f.ctx, p.Token, second, "browser-1"); err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("the new code: %v", err)
	}
	// An expired code cannot be renewed without signing in again.
	q, err := f.svc.InitiateEPayment(f.ctx, live, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o2", PurchaseOrderName: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartEPayment(f.ctx, q.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(f.svc.Config().OTPLifetime)
	if _, err := f.svc.ResendEPaymentCode(f.ctx, q.Token, "browser-1"); fault.AsError(err).Fields["confirmation_code"] == nil {
		t.Fatalf("a new code after the old one expired: %v", err)
	}
	f.ledgerOK(t)
}

// TestEPaymentPricedForACallerNotFromAKey: a Caller built without going
// through a key (the dashboard's test payment builds one from the signed-in
// merchant) has no fee schedule resolved with it; the payment is still
// priced from the merchant's schedule, as one from a key is.
func TestEPaymentPricedForACallerNotFromAKey(t *testing.T) {
	f := newLC(t)
	fromKey := f.initiateEPayment(t, 2000, 0)
	built := identity.Caller{Merchant: f.caller.Merchant, Book: f.caller.Book, Kind: store.SecretKey}
	p, err := f.svc.InitiateEPayment(f.ctx, built, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 2000, PurchaseOrderID: "order-8", PurchaseOrderName: "Book"})
	if err != nil {
		t.Fatalf("initiate with a caller built from a merchant: %v", err)
	}
	if p.FeeAmount != fromKey.FeeAmount || p.FeeAmount == 0 {
		t.Fatalf("fee %s for a built caller, %s through the key; want the same, not zero", p.FeeAmount, fromKey.FeeAmount)
	}
}
