package payment_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
)

type lcFixture struct {
	svc      *payment.Service
	id       *identity.Service
	keys     *idempotency.Keys // the API's Idempotency-Keys, on the service's store
	db       *sqlite.DB
	clock    *servicetest.Clock
	phone    *servicetest.Phone
	sandbox  payment.Sandbox
	caller   identity.Caller
	ctx      context.Context
	consumer store.Consumer
}

const lcMobile = "9811111111"

// testActor is who the tests' operator actions are audited as.
var testActor = servicetest.Actor

// newLC is the services on a fresh, seeded SQLite database with a
// settable clock; opts may change their Deps (the store, say) before
// they are made.
func newLC(t *testing.T, opts ...func(*servicetest.Deps)) *lcFixture {
	t.Helper()
	ctx := context.Background()
	db := servicetest.SQLite(t)
	f := &lcFixture{db: db, ctx: ctx, clock: servicetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), phone: servicetest.NewPhone()}
	var st store.Store = db
	f.svc, f.id = servicetest.New(t, db, f.clock.Now, f.phone, append(opts, func(d *servicetest.Deps) { st = d.Payment.Store })...)
	ring, err := keyring.New(servicetest.Secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.keys = idempotency.NewKeys(st, f.clock.Now, ring)
	if f.sandbox, err = f.svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if f.caller, err = f.id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey); err != nil {
		t.Fatal(err)
	}
	if f.consumer, err = f.id.CreateConsumer(ctx, testActor, lcMobile, "Lifecycle Payer", "2468"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Topup(ctx, testActor, lcMobile, ledger.Test, 5000); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *lcFixture) initiate(t *testing.T, amount money.Paisa) string {
	t.Helper()
	res, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: lcMobile, MPIN: "2468",
		Amount: amount, ProductIdentity: "p", ProductName: "P"})
	if err != nil {
		t.Fatalf("initiate: %v", err)
	}
	return res.Token
}

func (f *lcFixture) confirm(token, code string) (payment.Transaction, error) {
	return f.svc.Confirm(f.ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: token, ConfirmationCode: code, MPIN: "2468"})
}

func (f *lcFixture) wallet(t *testing.T) money.Paisa {
	t.Helper()
	b, err := f.svc.WalletBalance(f.ctx, lcMobile, ledger.Test)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *lcFixture) state(t *testing.T, token string, amount money.Paisa) store.State {
	t.Helper()
	p, err := f.svc.Status(f.ctx, f.caller, token, amount)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return p.State
}

func (f *lcFixture) ledgerOK(t *testing.T) {
	t.Helper()
	v, err := f.svc.CheckLedger(f.ctx)
	if err != nil || len(v) > 0 {
		t.Fatalf("ledger check: %v %v", err, v)
	}
}

func wantDetail(t *testing.T, err error, detail string) {
	t.Helper()
	e := fault.AsError(err)
	if err == nil || e.Detail != detail {
		t.Fatalf("got error %v, want detail %q", err, detail)
	}
}

func wantField(t *testing.T, err error, field, msg string) {
	t.Helper()
	e := fault.AsError(err)
	if err == nil || len(e.Fields[field]) == 0 || e.Fields[field][0] != msg {
		t.Fatalf("got error %v, want %s: %q", err, field, msg)
	}
}

func TestInitiatedExpiresAfter15Minutes(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	f.clock.Advance(15*time.Minute - time.Second)
	if got := f.state(t, token, 1000); got != store.Initiated {
		t.Fatalf("before expiry: %s", got)
	}
	f.clock.Advance(time.Second)
	// A read settles the overdue payment even before the sweeper runs.
	if got := f.state(t, token, 1000); got != store.Failed {
		t.Fatalf("after expiry: %s", got)
	}
	if _, err := f.confirm(token, "987654"); err == nil {
		t.Fatal("confirm of an expired payment succeeded")
	}
	f.ledgerOK(t)
}

func TestSweeperExpiresAndReleases(t *testing.T) {
	f := newLC(t)
	expiring := f.initiate(t, 1000)
	held := f.initiate(t, 2000)
	if _, err := f.confirm(held, "987654"); err != nil {
		t.Fatal(err)
	}
	if got := f.wallet(t); got != 3000 {
		t.Fatalf("wallet after hold = %d, want 3000", got)
	}
	f.clock.Advance(time.Hour)
	n, err := f.svc.Sweep(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("first sweep changed %d, %v; want 1 (only the Initiated one)", n, err)
	}
	if got := f.state(t, expiring, 1000); got != store.Failed {
		t.Fatalf("initiated after an hour: %s", got)
	}
	if got := f.state(t, held, 2000); got != store.Confirmed {
		t.Fatalf("confirmed after an hour: %s", got)
	}
	f.clock.Advance(24 * time.Hour)
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 1 {
		t.Fatalf("second sweep changed %d, %v; want 1", n, err)
	}
	if got := f.state(t, held, 2000); got != store.Failed {
		t.Fatalf("unverified after a day: %s", got)
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet after release = %d, want 5000", got)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, held, 2000); err == nil {
		t.Fatal("verify of a released payment succeeded")
	}
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 0 {
		t.Fatalf("third sweep changed %d, %v; want 0", n, err)
	}
	f.ledgerOK(t)
}

func TestVerifyAfterReleaseWindowReleasesOnRead(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	_, err := f.svc.Verify(f.ctx, f.caller, token, 1000)
	if err == nil {
		t.Fatal("verify after 24h captured the payment")
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet = %d, want 5000 (released)", got)
	}
	f.ledgerOK(t)
}

func TestOTPLifetime(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	f.clock.Advance(5*time.Minute + time.Second)
	_, err := f.confirm(token, "987654")
	wantField(t, err, "confirmation_code", "Confirmation code has expired.")
	if got := f.state(t, token, 1000); got != store.Initiated {
		t.Fatalf("state = %s, want Initiated", got)
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet = %d, want 5000", got)
	}
}

func TestWrongOTPsDisable(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	for i, want := range []string{"2", "1", "0"} {
		_, err := f.confirm(token, "000000")
		wantDetail(t, err, fault.MsgCodeOrPin)
		if got := fault.AsError(err).TriesRemaining; got != want {
			t.Fatalf("try %d: tries_remaining %q, want %q", i+1, got, want)
		}
	}
	if got := f.state(t, token, 1000); got != store.Disabled {
		t.Fatalf("state = %s, want Disabled", got)
	}
	if _, err := f.confirm(token, "987654"); err == nil {
		t.Fatal("a Disabled payment was confirmed")
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet = %d, want 5000", got)
	}
}

func TestRefundWindow(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, token, 1000); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30*24*time.Hour - time.Second)
	part := money.Paisa(100)
	if err := f.svc.Refund(f.ctx, f.caller, tr.Payment.Idx, &part); err != nil {
		t.Fatalf("refund inside the window: %v", err)
	}
	f.clock.Advance(time.Second)
	err = f.svc.Refund(f.ctx, f.caller, tr.Payment.Idx, nil)
	wantDetail(t, err, "The refund window for this transaction has closed.")
	d, err := f.svc.Detail(f.ctx, f.caller, tr.Payment.Idx)
	if err != nil {
		t.Fatal(err)
	}
	if f.svc.CanRefund(d.Payment) {
		t.Fatal("can_refund true after the window")
	}
	if got := f.wallet(t); got != 4100 {
		t.Fatalf("wallet = %d, want 4100", got)
	}
	f.ledgerOK(t)
}

func TestFeeNotFoundAndFeeTiers(t *testing.T) {
	f := newLC(t)
	err := f.db.InTx(f.ctx, func(tx store.Tx) error {
		return tx.SetFeeTiers(f.ctx, f.sandbox.Merchant.ID, ledger.Test, []store.FeeTier{
			{MinAmount: 1000, MaxAmount: 2000, PercentBps: 0, Flat: 100},
			{MinAmount: 2001, MaxAmount: 3000, PercentBps: 1000},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: lcMobile, MPIN: "2468",
		Amount: 3001, ProductIdentity: "p", ProductName: "P"})
	wantDetail(t, err, fault.MsgFeeNotFound)
	for _, c := range []struct{ amount, fee money.Paisa }{{1500, 100}, {2500, 250}} {
		token := f.initiate(t, c.amount)
		if _, err := f.confirm(token, "987654"); err != nil {
			t.Fatal(err)
		}
		tr, err := f.svc.Verify(f.ctx, f.caller, token, c.amount)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Payment.FeeAmount != c.fee {
			t.Fatalf("fee on %d = %d, want %d", c.amount, tr.Payment.FeeAmount, c.fee)
		}
	}
	f.ledgerOK(t)
}

func TestSelfPaymentRefused(t *testing.T) {
	f := newLC(t)
	_, keys, err := f.id.CreateMerchant(f.ctx, testActor, identity.NewMerchant{Name: "Own Shop", Email: "own@example.com", Mobile: lcMobile})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: keys.Public, Mobile: lcMobile, MPIN: "2468",
		Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	wantField(t, err, "mobile", "A merchant cannot pay itself.")
}

func TestLiveBookUsesRandomNotifiedOTPAndGoLive(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, token, 1000); err != nil {
		t.Fatal(err)
	}
	// The console's read of a merchant reveals no secret, and keeps it
	// sealed for the one reveal.
	read, err := f.svc.MerchantDetails(f.ctx, payment.DemoMerchantEmail)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range read.Keys {
		if k.Secret != "" {
			t.Fatalf("MerchantDetails revealed the %s %s key", k.Key.Book, k.Key.Kind)
		}
	}
	info, err := f.svc.ShowMerchant(f.ctx, testActor, payment.DemoMerchantEmail)
	if err != nil {
		t.Fatal(err)
	}
	var livePublic, liveSecret string
	for _, k := range info.Keys {
		if k.Key.Book == ledger.Live && k.Key.Kind == store.PublicKey {
			livePublic = k.Key.Prefix
		}
		if k.Key.Book == ledger.Live && k.Key.Kind == store.SecretKey {
			liveSecret = k.Secret
		}
	}
	if livePublic == "" || liveSecret == "" {
		t.Fatalf("live keys not issued or secret not shown: %+v", info.Keys)
	}
	again, err := f.svc.ShowMerchant(f.ctx, testActor, payment.DemoMerchantEmail)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range again.Keys {
		if k.Secret != "" {
			t.Fatal("a secret was shown twice")
		}
	}
	if _, err := f.svc.Topup(f.ctx, testActor, lcMobile, ledger.Live, 1000); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: livePublic, Mobile: lcMobile, MPIN: "2468",
		Amount: 1000, ProductIdentity: "p", ProductName: "P"})
	if err != nil {
		t.Fatal(err)
	}
	code := f.phone.Confirmation(lcMobile)
	if len(code) != 6 {
		t.Fatalf("live code %q not notified", code)
	}
	if code != "987654" { // the test code must not work live (1 in a million it is the code)
		if _, err := f.svc.Confirm(f.ctx, payment.ConfirmInput{PublicKey: livePublic, Token: res.Token, ConfirmationCode: "987654", MPIN: "2468"}); err == nil {
			t.Fatal("the test-book OTP confirmed a live payment")
		}
	}
	if _, err := f.svc.Confirm(f.ctx, payment.ConfirmInput{PublicKey: livePublic, Token: res.Token, ConfirmationCode: code, MPIN: "2468"}); err != nil {
		t.Fatal(err)
	}
	live, err := f.id.Authenticate(f.ctx, liveSecret, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, res.Token, 1000); err == nil {
		t.Fatal("the test secret key verified a live payment")
	}
	if _, err := f.svc.Verify(f.ctx, live, res.Token, 1000); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.svc.WalletBalance(f.ctx, lcMobile, ledger.Live); b != 0 {
		t.Fatalf("live wallet = %d, want 0", b)
	}
	if got := f.wallet(t); got != 4000 {
		t.Fatalf("test wallet = %d, want 4000 (live payment must not touch it)", got)
	}
	f.ledgerOK(t)
}

func TestKeyRotationAndKinds(t *testing.T) {
	f := newLC(t)
	if _, err := f.id.Authenticate(f.ctx, payment.DemoPublicKey, store.SecretKey); err == nil {
		t.Fatal("a public key authenticated as a secret key")
	}
	if _, err := f.id.RotateKeys(f.ctx, testActor, payment.DemoMerchantEmail, ledger.Live); err == nil {
		t.Fatal("rotating live keys before go-live succeeded")
	}
	kp, err := f.id.RotateKeys(f.ctx, testActor, payment.DemoMerchantEmail, ledger.Test)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.id.Authenticate(f.ctx, payment.DemoSecretKey, store.SecretKey)
	if e := fault.AsError(err); err == nil || e.Kind != fault.KindUnauthorized || e.Detail != fault.MsgInvalidToken {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := f.id.Authenticate(f.ctx, kp.Secret, store.SecretKey); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if _, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: lcMobile, MPIN: "2468",
		Amount: 1000, ProductIdentity: "p", ProductName: "P"}); err == nil {
		t.Fatal("revoked public key initiated a payment")
	}
}

func TestInsufficientBalanceAtInitiate(t *testing.T) {
	f := newLC(t)
	_, err := f.svc.Initiate(f.ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: lcMobile, MPIN: "2468",
		Amount: 5001, ProductIdentity: "p", ProductName: "P"})
	wantDetail(t, err, "Insufficient balance in the wallet.")
}

func TestMPINLockAndReset(t *testing.T) {
	f := newLC(t)
	in := payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: lcMobile, MPIN: "0000", Amount: 1000, ProductIdentity: "p", ProductName: "P"}
	for _, want := range []string{"2", "1"} {
		_, err := f.svc.Initiate(f.ctx, in)
		if got := fault.AsError(err).TriesRemaining; got != want {
			t.Fatalf("tries_remaining %q, want %q (%v)", got, want, err)
		}
	}
	_, err := f.svc.Initiate(f.ctx, in)
	if e := fault.AsError(err); e.ErrorKey != "third_party_transaction_locked" {
		t.Fatalf("third wrong MPIN: %v", err)
	}
	in.MPIN = "2468"
	if _, err := f.svc.Initiate(f.ctx, in); fault.AsError(err).ErrorKey != "third_party_transaction_locked" {
		t.Fatalf("right MPIN on a locked wallet: %v", err)
	}
	if err := f.id.ResetMPIN(f.ctx, testActor, lcMobile, "1357"); err != nil {
		t.Fatal(err)
	}
	in.MPIN = "1357"
	if _, err := f.svc.Initiate(f.ctx, in); err != nil {
		t.Fatalf("after reset: %v", err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	err := fault.AsError(errors.New("boom"))
	if err.Kind != fault.KindInternal || err.Detail != "A server error occurred." {
		t.Fatalf("internal error: %+v", err)
	}
}

func TestRefundDrawsOnSeveralShards(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 1000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(f.ctx, f.caller, token, 1000); err != nil {
		t.Fatal(err)
	}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: f.sandbox.Merchant.ID}
	var before money.Paisa
	var shards map[int]money.Paisa
	err = f.db.View(f.ctx, func(tx store.Tx) error {
		var err error
		before, err = tx.Balance(f.ctx, merchant)
		if err != nil {
			return err
		}
		shards, err = tx.ShardBalances(f.ctx, merchant)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	own := ledger.ShardOf(tr.Payment.ID)
	if own == 0 || shards[own] != 970 || before != payment.DemoMerchantFloat+970 {
		t.Fatalf("shards before refund: %v (own %d), total %d", shards, own, before)
	}
	// The payment's shard holds 970; the full 1000 needs 30 more from
	// another shard (the sandbox float).
	if err := f.svc.Refund(f.ctx, f.caller, tr.Payment.Idx, nil); err != nil {
		t.Fatal(err)
	}
	var after money.Paisa
	f.db.View(f.ctx, func(tx store.Tx) error {
		after, _ = tx.Balance(f.ctx, merchant)
		shards, _ = tx.ShardBalances(f.ctx, merchant)
		return nil
	})
	if before-after != 1000 || shards[own] != 0 || shards[0] != payment.DemoMerchantFloat-30 {
		t.Fatalf("after refund: total %d -> %d, shards %v", before, after, shards)
	}
	if got := f.wallet(t); got != 5000 {
		t.Fatalf("wallet = %d, want 5000", got)
	}
	f.ledgerOK(t)
}

// TestKeyCacheAcrossNodes shows the documented bound: another node (here a
// second service on the same database) honours a revoked key for at most
// KeyCacheTTL.
func TestKeyCacheAcrossNodes(t *testing.T) {
	f := newLC(t)
	cfg := identity.DefaultConfig()
	_, other := servicetest.New(t, f.db, f.clock.Now, nil)
	if _, err := other.Authenticate(f.ctx, payment.DemoSecretKey, store.SecretKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.id.RotateKeys(f.ctx, testActor, payment.DemoMerchantEmail, ledger.Test); err != nil {
		t.Fatal(err)
	}
	if _, err := f.id.Authenticate(f.ctx, payment.DemoSecretKey, store.SecretKey); err == nil {
		t.Fatal("the rotating node still accepts the revoked key")
	}
	f.clock.Advance(cfg.KeyCacheTTL - time.Millisecond)
	if _, err := other.Authenticate(f.ctx, payment.DemoSecretKey, store.SecretKey); err != nil {
		t.Fatalf("within the TTL the other node answers from its cache: %v", err)
	}
	f.clock.Advance(time.Millisecond)
	if _, err := other.Authenticate(f.ctx, payment.DemoSecretKey, store.SecretKey); err == nil {
		t.Fatal("the other node accepts a revoked key after the TTL")
	}
}
