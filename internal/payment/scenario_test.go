package payment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// scBalance is an account's test-book balance.
func (f *lcFixture) scBalance(t *testing.T, kind ledger.Kind, owner int64) money.Paisa {
	t.Helper()
	var b money.Paisa
	err := f.db.View(f.ctx, func(tx store.Tx) error {
		var err error
		b, err = tx.Balance(f.ctx, ledger.AccountRef{Book: ledger.Test, Kind: kind, Owner: owner})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *lcFixture) scWallet(t *testing.T, mobile string) money.Paisa {
	t.Helper()
	b, err := f.svc.WalletBalance(f.ctx, mobile, ledger.Test)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scPay signs the scenario payer in on the hosted page and enters the code.
func (f *lcFixture) scPay(t *testing.T, mobile string, amount money.Paisa) (store.Payment, payment.Transaction, error) {
	t.Helper()
	p := f.initiateEPayment(t, amount, 0)
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, mobile, payment.SandboxMPIN, "browser-1"); err != nil {
		return p, payment.Transaction{}, err
	}
	tr, err := f.svc.CompleteEPayment(f.ctx, p.Token, "987654", "browser-1")
	return p, tr, err
}

func TestScenarioSeedIsIdempotentAndRelocks(t *testing.T) {
	f := newLC(t)
	if got := f.scWallet(t, payment.ScenarioPendingMobile); got != payment.SandboxWalletBalance {
		t.Fatalf("pending payer balance %d", got)
	}
	if got := f.scWallet(t, payment.ScenarioInsufficientMobile); got != 0 {
		t.Fatalf("insufficient payer balance %d", got)
	}
	if err := f.id.ResetMPIN(f.ctx, testActor, payment.ScenarioLockedMobile, payment.SandboxMPIN); err != nil {
		t.Fatal(err)
	}
	sb, err := f.svc.Seed(f.ctx)
	if err != nil || sb.Created {
		t.Fatalf("second seed: %v created=%v", err, sb.Created)
	}
	if got := f.scWallet(t, payment.ScenarioPendingMobile); got != payment.SandboxWalletBalance {
		t.Fatalf("reseeding funded again: %d", got)
	}
	if _, _, err := f.scPay(t, payment.ScenarioLockedMobile, 1000); err == nil {
		t.Fatal("the locked payer was not locked again by Seed")
	}
	f.ledgerOK(t)
}

func TestScenarioPendingThenCompleted(t *testing.T) {
	f := newLC(t)
	merchant := f.scBalance(t, ledger.Merchant, f.sandbox.Merchant.ID)
	onRead, tr, err := f.scPay(t, payment.ScenarioPendingMobile, 2000)
	if err != nil || tr.Payment.State != store.Pending {
		t.Fatalf("complete: %v %s, want Pending", err, tr.Payment.State)
	}
	if got := f.scWallet(t, payment.ScenarioPendingMobile); got != payment.SandboxWalletBalance-2000 {
		t.Fatalf("wallet %d: the money is not held", got)
	}
	if got := f.scBalance(t, ledger.Holds, 0); got != 2000 {
		t.Fatalf("holds %d, want 2000", got)
	}
	// A double submit answers the same Pending payment and holds once.
	again, err := f.svc.CompleteEPayment(f.ctx, onRead.Token, "987654", "browser-1")
	if err != nil || again.Payment.State != store.Pending {
		t.Fatalf("second completion: %v %s", err, again.Payment.State)
	}
	swept, _, err := f.scPay(t, payment.ScenarioPendingMobile, 3000)
	if err != nil {
		t.Fatal(err)
	}
	f.ledgerOK(t)

	f.clock.Advance(29 * time.Second)
	look, err := f.svc.LookupEPayment(f.ctx, f.caller, onRead.Token)
	if err != nil || look.Payment.State != store.Pending {
		t.Fatalf("before the delay: %v %s", err, look.Payment.State)
	}
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 0 {
		t.Fatalf("early sweep changed %d: %v", n, err)
	}

	f.clock.Advance(time.Second)
	look, err = f.svc.LookupEPayment(f.ctx, f.caller, onRead.Token) // settled on read
	if err != nil || look.Payment.State != store.Completed {
		t.Fatalf("after the delay, on read: %v %s", err, look.Payment.State)
	}
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 1 {
		t.Fatalf("sweep changed %d, want 1 (the other payment): %v", n, err)
	}
	look, err = f.svc.LookupEPayment(f.ctx, f.caller, swept.Token)
	if err != nil || look.Payment.State != store.Completed {
		t.Fatalf("after the sweep: %v %s", err, look.Payment.State)
	}
	fees := money.Paisa(60 + 90)
	if got := f.scBalance(t, ledger.Merchant, f.sandbox.Merchant.ID) - merchant; got != 5000-fees {
		t.Fatalf("merchant gained %d, want %d", got, 5000-fees)
	}
	if got := f.scBalance(t, ledger.Holds, 0); got != 0 {
		t.Fatalf("holds %d after completion", got)
	}
	if got := f.scWallet(t, payment.ScenarioPendingMobile); got != payment.SandboxWalletBalance-5000 {
		t.Fatalf("wallet %d", got)
	}
	f.ledgerOK(t)
}

func TestScenarioPendingLegacyVerify(t *testing.T) {
	f := newLC(t)
	res, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: payment.ScenarioPendingMobile,
		MPIN: payment.SandboxMPIN, Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(f.ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token,
		ConfirmationCode: "987654", MPIN: payment.SandboxMPIN}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Verify(f.ctx, f.caller, res.Token, 1000)
	wantDetail(t, err, "Transaction is pending. Verify again later.")
	f.clock.Advance(30 * time.Second)
	tr, err := f.svc.Verify(f.ctx, f.caller, res.Token, 1000)
	if err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("verify after the delay: %v %s", err, tr.Payment.State)
	}
	f.ledgerOK(t)
}

func TestScenarioFails(t *testing.T) {
	f := newLC(t)
	p, tr, err := f.scPay(t, payment.ScenarioFailMobile, 2000)
	if err != nil || tr.Payment.State != store.Failed {
		t.Fatalf("complete: %v %s, want Failed", err, tr.Payment.State)
	}
	look, err := f.svc.LookupEPayment(f.ctx, f.caller, p.Token)
	if err != nil || look.Payment.State != store.Failed {
		t.Fatalf("lookup: %v %s", err, look.Payment.State)
	}
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, payment.ScenarioFailMobile, payment.SandboxMPIN, "browser-1"); err == nil {
		t.Fatal("a failed payment could be paid again")
	}

	res, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: payment.ScenarioFailMobile,
		MPIN: payment.SandboxMPIN, Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Confirm(f.ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token,
		ConfirmationCode: "987654", MPIN: payment.SandboxMPIN})
	wantDetail(t, err, "The payment failed (sandbox scenario payer 9800000011).")
	if st := f.state(t, res.Token, 1000); st != store.Failed {
		t.Fatalf("legacy state %s, want Failed", st)
	}
	if got := f.scWallet(t, payment.ScenarioFailMobile); got != payment.SandboxWalletBalance {
		t.Fatalf("money moved: wallet %d", got)
	}
	f.ledgerOK(t)
}

func TestScenarioInsufficientAndLocked(t *testing.T) {
	f := newLC(t)
	_, _, err := f.scPay(t, payment.ScenarioInsufficientMobile, 1000)
	wantDetail(t, err, "Insufficient balance in the wallet.")
	_, err = f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: payment.ScenarioInsufficientMobile,
		MPIN: payment.SandboxMPIN, Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	wantDetail(t, err, "Insufficient balance in the wallet.")

	_, _, err = f.scPay(t, payment.ScenarioLockedMobile, 1000)
	var e *fault.Error
	if !errors.As(err, &e) || e.Kind != fault.KindLocked {
		t.Fatalf("locked payer on the page: %v", err)
	}
	_, err = f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: payment.ScenarioLockedMobile,
		MPIN: payment.SandboxMPIN, Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	if !errors.As(err, &e) || e.Kind != fault.KindLocked {
		t.Fatalf("locked payer at initiate: %v", err)
	}
	// Other payers are unaffected.
	if _, tr, err := f.scPay(t, payment.SandboxPayers[0], 1000); err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("ordinary payer: %v %s", err, tr.Payment.State)
	}
	f.ledgerOK(t)
}

func TestScenarioLiveBookIsOrdinary(t *testing.T) {
	f := newLC(t)
	if _, err := f.svc.Topup(f.ctx, testActor, payment.ScenarioFailMobile, ledger.Live, 5000); err != nil {
		t.Fatal(err)
	}
	// The demo merchant has no live keys until a test payment completes;
	// complete one, then pay live with the failing scenario payer.
	if _, tr, err := f.scPay(t, payment.SandboxPayers[0], 1000); err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("test payment: %v", err)
	}
	info, err := f.svc.ShowMerchant(f.ctx, testActor, payment.DemoMerchantEmail)
	if err != nil {
		t.Fatal(err)
	}
	var liveSecret string
	for _, k := range info.Keys {
		if k.Key.Book == ledger.Live && k.Key.Kind == store.SecretKey {
			liveSecret = k.Secret
		}
	}
	live, err := f.id.Authenticate(f.ctx, liveSecret, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.InitiateEPayment(f.ctx, live, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o", PurchaseOrderName: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartEPayment(f.ctx, p.Token, payment.ScenarioFailMobile, payment.SandboxMPIN, "browser-1"); err != nil {
		t.Fatal(err)
	}
	tr, err := f.svc.CompleteEPayment(f.ctx, p.Token, f.phone.Confirmation(payment.ScenarioFailMobile), "browser-1")
	if err != nil || tr.Payment.State != store.Completed {
		t.Fatalf("live payment by the failing scenario payer: %v %s, want Completed", err, tr.Payment.State)
	}
	f.ledgerOK(t)
}
