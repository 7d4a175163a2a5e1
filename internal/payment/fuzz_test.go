package payment_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
)

// fuzzActor is who the fuzz test's operator actions are audited as.
var fuzzActor = identity.CommandLine("fuzz")

// fuzzBytes hands out the fuzz input a byte at a time, then zeros.
type fuzzBytes struct {
	b []byte
	i int
}

func (f *fuzzBytes) more() bool { return f.i < len(f.b) }

func (f *fuzzBytes) next() int {
	if f.i >= len(f.b) {
		return 0
	}
	f.i++
	return int(f.b[f.i-1])
}

// fuzzPayment is a payment the sequence created, with who made it.
type fuzzPayment struct {
	id       int64
	token    string
	idx      string
	merchant int // index into merchants
	consumer int // index into consumers
	amount   money.Paisa
}

// Legal state changes; a state may also stay as it is.
var legalNext = map[store.State][]store.State{
	store.Initiated:         {store.Confirmed, store.Failed, store.Disabled},
	store.Confirmed:         {store.Completed, store.Failed},
	store.Completed:         {store.PartiallyRefunded, store.Refunded},
	store.PartiallyRefunded: {store.PartiallyRefunded, store.Refunded},
}

// holding reports whether a payment in state s has taken the payer's money
// (held or captured).
func holding(s store.State) bool {
	return s == store.Confirmed || s == store.Completed || s == store.PartiallyRefunded || s == store.Refunded
}

// FuzzLedgerOperations runs a sequence of operations decoded from the fuzz
// input (topups, initiates, confirms with right or wrong codes, verifies,
// refunds of random amounts, MPIN resets, reads, and sweeps after random
// clock jumps) against a real SQLite store, and checks after every step
// that no error is internal, that payments only move along the state
// machine, that refunds add exactly what was asked, and at the end that
// the ledger check passes and every wallet and merchant balance equals
// what the payments' final states imply.
func FuzzLedgerOperations(f *testing.F) {
	// Seeds, in the encoding runLedgerSequence reads.
	seq := func(ops ...[]byte) []byte {
		var out []byte
		for _, op := range ops {
			out = append(out, op...)
		}
		return out
	}
	var (
		topup    = func(c, a, b byte) []byte { return []byte{0, c, a, b} } // a*b+1 paisa
		initiate = func(c, m, amount byte) []byte { return []byte{1, c, m, amount, 0} }
		wrongPIN = func(c byte) []byte { return []byte{1, c, 0, 0, 3} }
		confirm  = func(p byte) []byte { return []byte{2, p, 0} }
		badCode  = func(p byte) []byte { return []byte{2, p, 4} }
		badPIN   = func(p byte) []byte { return []byte{2, p, 5} }
		verify   = func(p byte) []byte { return []byte{3, p, 0} }
		badSum   = func(p byte) []byte { return []byte{3, p, 4} }
		refund   = func(p, n, m byte) []byte { return []byte{4, p, n, m} } // n*m paisa; n%3 == 0: everything
		wait     = func(unit, n byte) []byte { return []byte{5, unit, n} } // unit 0 7s, 1 min, 2 h, 3 day
		reset    = func(c byte) []byte { return []byte{6, c} }
		read     = func(p byte) []byte { return []byte{7, p} }
	)
	const c0, c1, c2, demo, small = 0, 1, 2, 0, 1 // payers (1e8, 0, 2500 paisa), merchants
	const a1000, a999, a1500, a2500, a20000, a20001 = 0, 1, 2, 3, 4, 5
	// Each seed also pins the final states its payments must reach.
	want := map[string]map[store.State]int{}
	addSeed := func(final map[store.State]int, ops ...[]byte) {
		data := seq(ops...)
		want[string(data)] = final
		f.Add(data)
	}
	type finals = map[store.State]int
	f.Add([]byte{})
	// Pay, refund 100, then 500, then the rest, then once more.
	addSeed(finals{store.Refunded: 1}, initiate(c0, demo, a1000), confirm(0), confirm(0), verify(0), verify(0),
		refund(0, 1, 100), refund(0, 2, 250), refund(0, 0, 0), refund(0, 0, 0), read(0))
	// Wrong code, wrong PIN, wrong code: disabled; nothing more works.
	addSeed(finals{store.Disabled: 1}, initiate(c2, demo, a1000), badCode(0), badPIN(0), badCode(0), confirm(0), verify(0), read(0))
	// Confirmed, verified with the wrong amount, then two days pass: released.
	addSeed(finals{store.Confirmed: 1, store.Failed: 1}, initiate(c2, demo, a2500), confirm(0), badSum(0), wait(3, 2), verify(0),
		read(0), initiate(c2, demo, a2500), confirm(1))
	// Not confirmed in 16 minutes: failed, by the sweeper or by a read.
	addSeed(finals{store.Failed: 2}, initiate(c0, demo, a1500), initiate(c0, demo, a1500), wait(1, 16), read(1), confirm(0), confirm(1))
	// The OTP expires after 5 minutes although the payment lives 15.
	addSeed(finals{store.Initiated: 1}, initiate(c0, demo, a1000), wait(1, 6), confirm(0), read(0))
	// The small merchant cannot refund more than it holds (the fee stays).
	addSeed(finals{store.PartiallyRefunded: 1}, initiate(c2, small, a1000), confirm(0), verify(0), refund(0, 0, 0),
		refund(0, 97, 10), refund(0, 1, 1))
	// Refunds close 30 days after completion.
	addSeed(finals{store.PartiallyRefunded: 1}, initiate(c0, demo, a1000), confirm(0), verify(0), wait(3, 29), refund(0, 1, 50),
		wait(3, 2), refund(0, 1, 50), read(0))
	// Three wrong MPINs lock the wallet until a reset.
	addSeed(finals{store.Confirmed: 1}, wrongPIN(c0), wrongPIN(c0), wrongPIN(c0), initiate(c0, demo, a1000), reset(c0),
		initiate(c0, demo, a1000), confirm(0))
	// An empty wallet is topped up; two payments fit at initiate, one at confirm.
	addSeed(finals{store.Confirmed: 1, store.Refunded: 1}, initiate(c1, demo, a1000), topup(c1, 10, 100), initiate(c1, demo, a1000),
		initiate(c1, demo, a1000), confirm(0), confirm(1), verify(0), verify(1), refund(0, 0, 0), confirm(1))
	// The non-KYC cap: exactly 20000 is allowed, 20001 and 999 are not.
	addSeed(finals{store.PartiallyRefunded: 1}, initiate(c0, small, a20000), initiate(c0, small, a20001), initiate(c0, demo, a999),
		confirm(0), verify(0), refund(0, 0, 0), refund(0, 1, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 300 {
			data = data[:300] // bound each run
		}
		final := runLedgerSequence(t, data)
		if w, ok := want[string(data)]; ok && !maps.Equal(final, w) {
			t.Fatalf("final states %v, want %v", final, w)
		}
	})
}

// runLedgerSequence runs the operations data encodes and returns how many
// payments ended in each state.
func runLedgerSequence(t *testing.T, data []byte) map[store.State]int {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "fuzz.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := servicetest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	s, id := servicetest.New(t, db, clock.Now, nil)
	cfg := s.Config()
	sb, err := s.Seed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	// A second merchant without KYC (the 200-rupee cap) and without a
	// float, so refunds can run out of balance.
	small, smallKeys, err := id.CreateMerchant(ctx, fuzzActor, identity.NewMerchant{Name: "Small", Email: "small@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	smallCaller, err := id.Authenticate(ctx, smallKeys.Secret, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	merchants := []struct {
		caller identity.Caller
		public string
		id     int64
		float  money.Paisa
	}{{demo, payment.DemoPublicKey, sb.Merchant.ID, payment.DemoMerchantFloat}, {smallCaller, smallKeys.Public, small.ID, 0}}

	type consumer struct {
		mobile  string
		id      int64
		initial money.Paisa
		topups  money.Paisa
	}
	consumers := []*consumer{{mobile: payment.SandboxPayers[0], initial: payment.SandboxWalletBalance}}
	for _, c := range []struct {
		mobile string
		bal    money.Paisa
	}{{"9811000001", 0}, {"9811000002", 2500}} {
		if _, err := id.CreateConsumer(ctx, fuzzActor, c.mobile, "Fuzz "+c.mobile, payment.SandboxMPIN); err != nil {
			t.Fatal(err)
		}
		if c.bal > 0 {
			if _, err := s.Topup(ctx, fuzzActor, c.mobile, ledger.Test, c.bal); err != nil {
				t.Fatal(err)
			}
		}
		consumers = append(consumers, &consumer{mobile: c.mobile, initial: c.bal})
	}
	for _, c := range consumers {
		err := db.View(ctx, func(tx store.Tx) error {
			row, err := tx.ConsumerByMobile(ctx, c.mobile)
			c.id = row.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	var payments []fuzzPayment
	states := map[int64]store.Payment{}
	load := func() map[int64]store.Payment {
		t.Helper()
		out := map[int64]store.Payment{}
		err := db.View(ctx, func(tx store.Tx) error {
			for _, p := range payments {
				row, err := tx.PaymentByID(ctx, p.id)
				if err != nil {
					return err
				}
				out[p.id] = row
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// serviceErr fails on anything but a client-facing *Error.
	serviceErr := func(step int, what string, err error) {
		t.Helper()
		if err == nil {
			return
		}
		var e *fault.Error
		if !errors.As(err, &e) {
			t.Fatalf("step %d %s: error %T %v is not a *fault.Error", step, what, err, err)
		}
		if e.Kind == fault.KindInternal {
			t.Fatalf("step %d %s: internal error %v", step, what, err)
		}
	}
	pick := func(in *fuzzBytes) (fuzzPayment, bool) {
		if len(payments) == 0 {
			return fuzzPayment{}, false
		}
		return payments[in.next()%len(payments)], true
	}
	amounts := []money.Paisa{1000, 999, 1500, 2500, 20000, 20001, 123456}

	in := &fuzzBytes{b: data}
	for step := 0; in.more(); step++ {
		op := in.next() % 8
		what := ""
		// Expectations checked against the states after the step.
		var refunded *fuzzPayment
		var refundWant money.Paisa
		before := states
		switch op {
		case 0: // topup
			c := consumers[in.next()%len(consumers)]
			amt := money.Paisa(in.next()*in.next() + 1)
			what = fmt.Sprintf("topup %s %d", c.mobile, amt)
			_, err := s.Topup(ctx, fuzzActor, c.mobile, ledger.Test, amt)
			serviceErr(step, what, err)
			if err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
			c.topups += amt
		case 1: // initiate, sometimes with a wrong MPIN
			ci, mi := in.next()%len(consumers), in.next()%len(merchants)
			amt := amounts[in.next()%len(amounts)]
			pin := payment.SandboxMPIN
			if in.next()%4 == 3 {
				pin = "0000"
			}
			what = fmt.Sprintf("initiate %s -> merchant %d, %d, pin %s", consumers[ci].mobile, mi, amt, pin)
			res, err := s.Initiate(ctx, payment.InitiateInput{PublicKey: merchants[mi].public, Mobile: consumers[ci].mobile, MPIN: pin,
				Amount: amt, ProductIdentity: "p", ProductName: "P"})
			serviceErr(step, what, err)
			if err == nil {
				if pin != payment.SandboxMPIN || amt < cfg.MinAmount || (mi == 1 && amt > cfg.NonKYCCap) {
					t.Fatalf("step %d %s: accepted", step, what)
				}
				var row store.Payment
				err := db.View(ctx, func(tx store.Tx) error {
					var err error
					row, err = tx.PaymentByToken(ctx, merchants[mi].caller.Scope(), res.Token)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				payments = append(payments, fuzzPayment{id: row.ID, token: res.Token, idx: row.Idx, merchant: mi, consumer: ci, amount: amt})
			}
		case 2: // confirm, with a wrong code or PIN now and then
			p, ok := pick(in)
			if !ok {
				continue
			}
			code, pin := cfg.TestOTP, payment.SandboxMPIN
			switch in.next() % 6 {
			case 4:
				code = "000000"
			case 5:
				pin = "0000"
			}
			what = fmt.Sprintf("confirm %s code %s pin %s", p.token, code, pin)
			_, err := s.Confirm(ctx, payment.ConfirmInput{PublicKey: merchants[p.merchant].public, Token: p.token, ConfirmationCode: code, MPIN: pin})
			serviceErr(step, what, err)
			if err == nil && (code != cfg.TestOTP || pin != payment.SandboxMPIN) {
				t.Fatalf("step %d %s: accepted", step, what)
			}
		case 3: // verify, sometimes with the wrong amount
			p, ok := pick(in)
			if !ok {
				continue
			}
			amt := p.amount
			if in.next()%5 == 4 {
				amt++
			}
			what = fmt.Sprintf("verify %s %d", p.token, amt)
			tr, err := s.Verify(ctx, merchants[p.merchant].caller, p.token, amt)
			serviceErr(step, what, err)
			if err == nil && (amt != p.amount || !holding(tr.Payment.State) || tr.Payment.State == store.Confirmed) {
				t.Fatalf("step %d %s: accepted in state %s", step, what, tr.Payment.State)
			}
		case 4: // refund: everything, or a random amount
			p, ok := pick(in)
			if !ok {
				continue
			}
			var amt *money.Paisa
			if n, m := in.next(), in.next(); n%3 != 0 {
				v := money.Paisa(n*m) % (p.amount + 200)
				amt = &v
			}
			what = fmt.Sprintf("refund %s %v", p.idx, amt)
			if amt != nil {
				what = fmt.Sprintf("refund %s %d", p.idx, *amt)
			}
			err := s.Refund(ctx, merchants[p.merchant].caller, p.idx, amt)
			serviceErr(step, what, err)
			if err == nil {
				pb := before[p.id]
				refundWant = pb.Amount - pb.Refunded
				if amt != nil {
					refundWant = *amt
				}
				refunded = &p
			}
		case 5: // time passes, then the sweeper runs
			unit := []time.Duration{time.Second * 7, time.Minute, time.Hour, 24 * time.Hour}[in.next()%4]
			d := time.Duration(in.next()) * unit
			what = fmt.Sprintf("advance %s and sweep", d)
			clock.Advance(d)
			_, err := s.Sweep(ctx)
			serviceErr(step, what, err)
			if err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
		case 6: // reset an MPIN (unlocks the wallet)
			c := consumers[in.next()%len(consumers)]
			what = "reset MPIN " + c.mobile
			err := id.ResetMPIN(ctx, fuzzActor, c.mobile, payment.SandboxMPIN)
			serviceErr(step, what, err)
			if err != nil {
				t.Fatalf("step %d %s: %v", step, what, err)
			}
		case 7: // reads settle overdue payments
			p, ok := pick(in)
			if !ok {
				continue
			}
			what = "read " + p.idx
			caller := merchants[p.merchant].caller
			_, err := s.Status(ctx, caller, p.token, p.amount)
			serviceErr(step, what+" status", err)
			_, err = s.Detail(ctx, caller, p.idx)
			serviceErr(step, what+" detail", err)
			_, err = s.List(ctx, caller, payment.ListQuery{Page: 1, PageSize: 5})
			serviceErr(step, what+" list", err)
		}

		// Every payment moved only along the state machine, and refunds
		// added exactly what was asked.
		states = load()
		for _, p := range payments {
			now, was := states[p.id], before[p.id]
			if now.Refunded < 0 || now.Refunded > now.Amount || now.Amount != p.amount {
				t.Fatalf("step %d %s: payment %s amount %d refunded %d", step, what, p.idx, now.Amount, now.Refunded)
			}
			if was.ID == 0 {
				if now.State != store.Initiated {
					t.Fatalf("step %d %s: new payment in state %s", step, what, now.State)
				}
				continue
			}
			if now.Refunded < was.Refunded {
				t.Fatalf("step %d %s: refunded fell from %d to %d", step, what, was.Refunded, now.Refunded)
			}
			if now.State != was.State {
				legal := false
				for _, st := range legalNext[was.State] {
					legal = legal || st == now.State
				}
				if !legal {
					t.Fatalf("step %d %s: payment %s went %s -> %s", step, what, p.idx, was.State, now.State)
				}
			}
			want := was.Refunded
			if refunded != nil && refunded.id == p.id {
				want += refundWant
			}
			if now.Refunded != want {
				t.Fatalf("step %d %s: payment %s refunded %d, want %d", step, what, p.idx, now.Refunded, want)
			}
			if wantState := map[bool]store.State{true: store.Refunded, false: store.PartiallyRefunded}[now.Refunded == now.Amount]; now.Refunded > 0 && now.State != wantState {
				t.Fatalf("step %d %s: refunded %d of %d but state %s", step, what, now.Refunded, now.Amount, now.State)
			}
		}
	}

	final := map[store.State]int{}
	for _, p := range payments {
		final[states[p.id].State]++
	}

	// The books balance, and each balance is what the payments imply.
	v, err := s.CheckLedger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 0 {
		t.Fatalf("ledger violations: %v", v)
	}
	wallet := map[int]money.Paisa{}
	merchant := map[int]money.Paisa{}
	for i, c := range consumers {
		wallet[i] = c.initial + c.topups
	}
	for i, m := range merchants {
		merchant[i] = m.float
	}
	for _, p := range payments {
		row := states[p.id]
		if holding(row.State) {
			wallet[p.consumer] -= row.Amount
		}
		if row.State == store.Completed || row.State == store.PartiallyRefunded || row.State == store.Refunded {
			merchant[p.merchant] += row.Amount - row.FeeAmount
		}
		wallet[p.consumer] += row.Refunded
		merchant[p.merchant] -= row.Refunded
	}
	err = db.View(ctx, func(tx store.Tx) error {
		for i, c := range consumers {
			got, err := tx.Balance(ctx, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.id})
			if err != nil {
				return err
			}
			if got != wallet[i] {
				return fmt.Errorf("wallet %s holds %d, the payments imply %d", c.mobile, got, wallet[i])
			}
		}
		for i, m := range merchants {
			got, err := tx.Balance(ctx, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: m.id})
			if err != nil {
				return err
			}
			if got != merchant[i] {
				return fmt.Errorf("merchant %d holds %d, the payments imply %d", i, got, merchant[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return final
}
