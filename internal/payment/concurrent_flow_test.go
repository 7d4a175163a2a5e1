package payment_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// TestConcurrentFlow races confirms and verifies on both stores: confirm
// and verify first try to decide on the payment find read and post with
// the payment's compare-and-set in one statement (PostgreSQL), so races
// must still leave exactly one authorisation and one capture per payment
// and never overdraw the wallet.
func TestConcurrentFlow(t *testing.T) { servicetest.OnBothStores(t, testConcurrentFlow) }

func testConcurrentFlow(t *testing.T, db store.Store) {
	ctx := context.Background()
	svc, id := servicetest.New(t, db, time.Now, servicetest.NewPhone())
	if _, err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	caller, err := id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	const mobile, pin, amount, fits, n = "9811111112", "2468", money.Paisa(1000), 4, 12
	if _, err := id.CreateConsumer(ctx, testActor, mobile, "Racing Payer", pin); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Topup(ctx, testActor, mobile, ledger.Test, fits*amount); err != nil {
		t.Fatal(err)
	}
	initiate := func() string {
		t.Helper()
		res, err := svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: pin,
			Amount: amount, ProductIdentity: "p", ProductName: "P"})
		if err != nil {
			t.Fatalf("initiate: %v", err)
		}
		return res.Token
	}
	confirm := func(token string) (payment.Transaction, error) {
		return svc.Confirm(ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: token, ConfirmationCode: svc.Config().TestOTP, MPIN: pin})
	}
	parallel := func(n int, fn func(i int)) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); fn(i) }()
		}
		wg.Wait()
	}

	// One payment confirmed n times at once: one authorisation.
	token := initiate()
	errs := make([]error, n)
	parallel(n, func(i int) { _, errs[i] = confirm(token) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("confirm %d of one payment: %v", i, err)
		}
	}
	if b, _ := svc.WalletBalance(ctx, mobile, ledger.Test); b != (fits-1)*amount {
		t.Errorf("wallet after %d confirms of one payment: %d, want %d", n, b, (fits-1)*amount)
	}
	// ... and verified n times at once: one capture.
	parallel(n, func(i int) {
		tr, err := svc.Verify(ctx, caller, token, amount)
		if err == nil && tr.Payment.State != store.Completed {
			t.Errorf("verify %d: state %s", i, tr.Payment.State)
		}
		errs[i] = err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("verify %d of one payment: %v", i, err)
		}
	}

	// n payments confirmed at once from a wallet that funds fits-1.
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = initiate()
	}
	parallel(n, func(i int) { _, errs[i] = confirm(tokens[i]) })
	var confirmed []string
	for i, err := range errs {
		switch {
		case err == nil:
			confirmed = append(confirmed, tokens[i])
		default:
			var e *fault.Error
			if !errors.As(err, &e) || e.Detail != "Insufficient balance in the wallet." {
				t.Errorf("confirm %d: %v", i, err)
			}
		}
	}
	if len(confirmed) != fits-1 {
		t.Errorf("%d confirms succeeded, want %d", len(confirmed), fits-1)
	}
	if b, _ := svc.WalletBalance(ctx, mobile, ledger.Test); b != 0 {
		t.Errorf("wallet after the confirms: %d, want 0", b)
	}
	// Each confirmed payment verified twice at once.
	parallel(2*len(confirmed), func(i int) {
		_, errs[i] = svc.Verify(ctx, caller, confirmed[i/2], amount)
	})
	for i, err := range errs[:2*len(confirmed)] {
		if err != nil {
			t.Errorf("verify %d: %v", i, err)
		}
	}
	if v, err := svc.CheckLedger(ctx); err != nil || len(v) > 0 {
		t.Fatalf("ledger check: %v %v", err, v)
	}
}

// TestConcurrentWrongMPINs: a burst of wrong MPINs for one wallet at once,
// through initiate and the hosted page's sign-in, must lock it after
// MaxMPINTries like the same guesses one by one: each wrong guess is
// counted (no lost update), so at most MaxMPINTries-1 of them are told
// "tries remaining" and every other one is refused as locked.
func TestConcurrentWrongMPINs(t *testing.T) { servicetest.OnBothStores(t, testConcurrentWrongMPINs) }

func testConcurrentWrongMPINs(t *testing.T, db store.Store) {
	ctx := context.Background()
	// Cheap hashes, so the guesses reach the database together.
	svc, id := servicetest.New(t, db, time.Now, servicetest.NewPhone())
	if _, err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	const mobile, n = "9811111113", 96
	if _, err := id.CreateConsumer(ctx, testActor, mobile, "Guessed Payer", "2468"); err != nil {
		t.Fatal(err)
	}
	caller, err := id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := svc.InitiateEPayment(ctx, caller, payment.EPaymentInput{ReturnURL: "https://shop.example/r",
		WebsiteURL: "https://shop.example", Amount: 1000, PurchaseOrderID: "o1", PurchaseOrderName: "Order"})
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pin := fmt.Sprintf("%04d", 1000+i) // never 2468
			if i%2 == 0 {
				_, errs[i] = svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: pin,
					Amount: 1000, ProductIdentity: "p", ProductName: "P"})
			} else {
				_, errs[i] = svc.StartEPayment(ctx, ep.Token, mobile, pin, "browser-1")
			}
		}()
	}
	wg.Wait()
	remaining := 0
	for i, err := range errs {
		e := fault.AsError(err)
		switch {
		case err == nil:
			t.Errorf("guess %d: accepted", i)
		case e.Kind == fault.KindLocked:
		case e.TriesRemaining != "":
			remaining++
		default:
			t.Errorf("guess %d: %v", i, err)
		}
	}
	if remaining > id.Config().MaxMPINTries-1 {
		t.Errorf("%d of %d simultaneous wrong MPINs were told tries remain; at most %d may be", remaining, n, id.Config().MaxMPINTries-1)
	}
	// The wallet is locked: the right MPIN is refused too.
	_, err = svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: "2468",
		Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	if fault.AsError(err).Kind != fault.KindLocked {
		t.Fatalf("the right MPIN after the burst: %v, want locked", err)
	}
}
