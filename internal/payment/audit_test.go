package payment_test

import (
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// TestOperatorActionsOneAuditedPath: the console and the command line call
// the same method and get the same entry but for who acted; a failed
// action, or one without an actor, changes and records nothing; the
// self-service twins (sign-ups, a merchant's own rotation) and the
// sandbox seed record nothing.
func TestOperatorActionsOneAuditedPath(t *testing.T) {
	f := newLC(t) // seeds the sandbox, then creates and tops up lcMobile as testActor
	audit := func() []store.AuditEntry {
		t.Helper()
		list, err := f.id.AuditLog(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	if got := audit(); len(got) != 2 || got[1].Action != identity.AuditCreateConsumer || got[0].Action != identity.AuditTopup ||
		got[0].Operator != "command line (test)" || got[0].OperatorID != 0 {
		t.Fatalf("after the seed and the fixture's wallet: audit log %+v, want only the wallet's creation and top-up", got)
	}

	o, err := f.id.CreateOperator(f.ctx, testActor, "ops@example.com", "a long operator password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Topup(f.ctx, identity.ConsoleOperator(o), lcMobile, ledger.Test, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Topup(f.ctx, identity.CommandLine("ravi"), lcMobile, ledger.Test, 100); err != nil {
		t.Fatal(err)
	}
	got := audit()
	console, cli := got[1], got[0]
	console.ID, console.At, cli.ID, cli.At = 0, time.Time{}, 0, time.Time{} // compared apart from id and time
	if want := (store.AuditEntry{OperatorID: o.ID, Operator: o.Email, Action: identity.AuditTopup, Subject: lcMobile,
		Detail: "Rs 1.00 (100 paisa), test book; balance Rs 51.00"}); console != want {
		t.Errorf("console top-up entry %+v, want %+v", console, want)
	}
	if want := (store.AuditEntry{Operator: "command line (ravi)", Action: identity.AuditTopup, Subject: lcMobile,
		Detail: "Rs 1.00 (100 paisa), test book; balance Rs 52.00"}); cli != want {
		t.Errorf("command-line top-up entry %+v, want %+v", cli, want)
	}
	n := len(got)

	// Failures and a missing actor: no change, no entry.
	if _, err := f.svc.Topup(f.ctx, testActor, "9811111119", ledger.Test, 100); fault.AsError(err).Kind != fault.KindNotFound {
		t.Errorf("top-up of an unknown wallet: %v", err)
	}
	if _, err := f.id.SetKYC(f.ctx, testActor, payment.DemoMerchantEmail, store.KYCRejected, ""); err == nil {
		t.Error("a rejection without a reason was accepted")
	}
	if _, err := f.svc.Topup(f.ctx, identity.Actor{}, lcMobile, ledger.Test, 100); fault.AsError(err).Kind != fault.KindInternal {
		t.Errorf("top-up without an actor: %v, want an internal error", err)
	}
	if bal, err := f.svc.WalletBalance(f.ctx, lcMobile, ledger.Test); err != nil || bal != 5200 {
		t.Errorf("balance after the refused top-ups: %d, %v; want 5200", bal, err)
	}

	// What no operator does is not audited.
	if _, err := f.id.SignUpMerchant(f.ctx, identity.SignUp{Name: "Own Shop", Email: "own@example.com", Phone: "9811111112",
		Password: "a long merchant password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.id.RotateOwnKeys(f.ctx, f.sandbox.Merchant.Idx, ledger.Test); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Seed(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := audit(); len(got) != n {
		t.Errorf("failed, actorless or self-service actions were audited: %+v", got[:len(got)-n])
	}
}
