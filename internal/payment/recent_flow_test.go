package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// viewCounter counts the read-only transactions run through it.
type viewCounter struct {
	store.Store
	views int
}

func (c *viewCounter) View(ctx context.Context, fn func(store.Tx) error) error {
	c.views++
	return c.Store.View(ctx, fn)
}

// TestConfirmAndVerifyReadNoPayment (issue 14): the confirm and the
// verify that follow an initiate on the same node decide on the payment
// as that node wrote it, with no payment find read before their writes.
func TestConfirmAndVerifyReadNoPayment(t *testing.T) {
	servicetest.OnBothStores(t, func(t *testing.T, db store.Store) {
		ctx := context.Background()
		counted := &viewCounter{Store: db}
		svc, id := servicetest.New(t, counted, time.Now, servicetest.NewPhone())
		if _, err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		caller, err := id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		pay := func() {
			t.Helper()
			res, err := svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: payment.SandboxPayers[0],
				MPIN: payment.SandboxMPIN, Amount: 1000, ProductIdentity: "p", ProductName: "P"})
			if err != nil {
				t.Fatal(err)
			}
			counted.views = 0
			if _, err := svc.Confirm(ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token,
				ConfirmationCode: svc.Config().TestOTP, MPIN: payment.SandboxMPIN}); err != nil {
				t.Fatal(err)
			}
			tr, err := svc.Verify(ctx, caller, res.Token, 1000)
			if err != nil || tr.Payment.State != store.Completed {
				t.Fatalf("verify: %v, state %s", err, tr.Payment.State)
			}
		}
		pay() // the keys are resolved and remembered
		pay()
		if counted.views != 0 {
			t.Errorf("confirm and verify ran %d read-only transactions, want 0", counted.views)
		}
	})
}

// TestRecentPaymentsAcrossNodes: two nodes on one database, each
// remembering the payments it wrote. A confirm and a verify that reach
// the node whose memory is out of date (the other node moved the payment
// since) still answer as the database has it, and move the money once.
func TestRecentPaymentsAcrossNodes(t *testing.T) {
	servicetest.OnBothStores(t, func(t *testing.T, db store.Store) {
		ctx := context.Background()
		a, idA := servicetest.New(t, db, time.Now, servicetest.NewPhone())
		b, _ := servicetest.New(t, db, time.Now, servicetest.NewPhone())
		if _, err := a.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		caller, err := idA.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		const mobile, pin, amount = "9811111113", "2468", money.Paisa(1000)
		if _, err := idA.CreateConsumer(ctx, testActor, mobile, "Two Nodes", pin); err != nil {
			t.Fatal(err)
		}
		// Enough for two holds, so a second authorisation would succeed if
		// only the balance stopped it.
		if _, err := a.Topup(ctx, testActor, mobile, ledger.Test, 2*amount); err != nil {
			t.Fatal(err)
		}
		res, err := a.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: pin,
			Amount: amount, ProductIdentity: "p", ProductName: "P"})
		if err != nil {
			t.Fatal(err)
		}
		// Another merchant's keys with this token, on the node that
		// remembers it: not found, as from the database.
		_, otherKeys, err := idA.CreateMerchant(ctx, testActor, identity.NewMerchant{Name: "Other Shop", Email: "other@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := idA.Authenticate(ctx, otherKeys.Secret, store.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Confirm(ctx, payment.ConfirmInput{PublicKey: otherKeys.Public, Token: res.Token,
			ConfirmationCode: a.Config().TestOTP, MPIN: pin}); fault.AsError(err).Fields["token"] == nil {
			t.Errorf("confirm with another merchant's key: %v, want the token refused", err)
		}
		if _, err := a.Verify(ctx, other, res.Token, amount); fault.AsError(err).Fields["token"] == nil {
			t.Errorf("verify with another merchant's key: %v, want the token refused", err)
		}
		confirm := func(node *payment.Service) {
			t.Helper()
			tr, err := node.Confirm(ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token,
				ConfirmationCode: node.Config().TestOTP, MPIN: pin})
			if err != nil || tr.Payment.State != store.Confirmed {
				t.Fatalf("confirm: %v, state %s", err, tr.Payment.State)
			}
		}
		verify := func(node *payment.Service) {
			t.Helper()
			tr, err := node.Verify(ctx, caller, res.Token, amount)
			if err != nil || tr.Payment.State != store.Completed {
				t.Fatalf("verify: %v, state %s", err, tr.Payment.State)
			}
		}
		confirm(b) // a remembers the payment as initiated
		confirm(a) // a retry reaching a: one hold, not two
		if bal, _ := a.WalletBalance(ctx, mobile, ledger.Test); bal != amount {
			t.Errorf("wallet after two confirms on two nodes: %d, want %d", bal, amount)
		}
		verify(b) // a remembers the payment as confirmed
		verify(a) // its capture finds the hold gone and the version old: it reads again
		if v, err := a.CheckLedger(ctx); err != nil || len(v) > 0 {
			t.Fatalf("ledger check: %v %v", err, v)
		}
		var captures int
		if err := db.View(ctx, func(tx store.Tx) error {
			snap, err := tx.LedgerSnapshot(ctx)
			for _, p := range snap.Payments {
				if p.Captured != 0 {
					captures++
					if p.Captured != amount {
						t.Errorf("payment %s captured %d, want %d", p.Idx, p.Captured, amount)
					}
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if captures != 1 {
			t.Errorf("%d captured payments, want 1", captures)
		}
	})
}
