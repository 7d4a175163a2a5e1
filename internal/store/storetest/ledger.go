package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// topUp is an entry bringing amount from outside into owner's wallet.
func topUp(book ledger.Book, owner int64, amount money.Paisa) ledger.Entry {
	return ledger.Transfer(book, "topup", 0,
		ledger.AccountRef{Book: book, Kind: ledger.Funding},
		ledger.AccountRef{Book: book, Kind: ledger.Wallet, Owner: owner}, amount)
}

// balances reads the balances of refs in one read transaction.
func balances(t *testing.T, s store.Store, refs ...ledger.AccountRef) []money.Paisa {
	t.Helper()
	out := make([]money.Paisa, len(refs))
	view(t, s, func(tx store.Tx) error {
		for i, r := range refs {
			b, err := tx.Balance(context.Background(), r)
			if err != nil {
				return fmt.Errorf("Balance(%s): %w", r, err)
			}
			out[i] = b
		}
		return nil
	})
	return out
}

// checkLedger runs ledger.Check on a fresh snapshot, fails on any
// violation and returns the snapshot.
func checkLedger(t *testing.T, s store.Store) ledger.Snapshot {
	t.Helper()
	var snap ledger.Snapshot
	view(t, s, func(tx store.Tx) error {
		var err error
		snap, err = tx.LedgerSnapshot(context.Background())
		return err
	})
	for _, v := range ledger.Check(snap) {
		t.Errorf("ledger violation: %s", v)
	}
	return snap
}

func testLedgerPost(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	liveFunding := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Funding}
	liveWallet := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Wallet, Owner: 1}
	liveMerchant := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Merchant, Owner: 1}

	same(t, "balances before any posting", balances(t, s, funding, wallet, liveWallet), []money.Paisa{0, 0, 0})

	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })
	same(t, "test balances after top-up", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 1000, 0})
	same(t, "live balances after test top-up", balances(t, s, liveFunding, liveWallet, liveMerchant), []money.Paisa{0, 0, 0})

	inTx(t, s, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 400), base.Add(time.Second)); err != nil {
			return err
		}
		// The transaction sees its own postings.
		b, err := tx.Balance(ctx, wallet)
		if err != nil {
			return err
		}
		if b != 600 {
			t.Errorf("wallet balance inside the posting transaction = %d, want 600", b)
		}
		return nil
	})
	same(t, "test balances after transfer", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 600, 400})

	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Live, 1, 250), base) })
	same(t, "live balances after live top-up", balances(t, s, liveFunding, liveWallet, liveMerchant), []money.Paisa{-250, 250, 0})
	same(t, "test balances after live top-up", balances(t, s, funding, wallet, merchant), []money.Paisa{-1000, 600, 400})

	// The same owner under another kind is another account.
	same(t, "unknown accounts", balances(t, s,
		ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 2},
		ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds},
		ledger.AccountRef{Book: ledger.Live, Kind: ledger.Fees}),
		[]money.Paisa{0, 0, 0})

	checkLedger(t, s)
}

func testLedgerOverdraft(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	fees := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Fees}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })
	want := []money.Paisa{-1000, 1000, 0, 0}

	// A valid posting followed by an overdraft: the whole transaction goes.
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 300), base); err != nil {
			t.Errorf("first Post: %v", err)
			return err
		}
		err := tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 800), base)
		wantErr(t, "overdrawing Post", err, store.ErrInsufficientFunds)
		return err
	})
	wantErr(t, "InTx with overdraft", err, store.ErrInsufficientFunds)
	same(t, "balances after rolled-back overdraft", balances(t, s, funding, wallet, merchant, fees), want)

	// An entry whose credit comes before the overdrawing debit.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 1900},
			{Account: fees, Amount: 100},
			{Account: wallet, Amount: -2000},
		}}, base)
	})
	wantErr(t, "InTx with multi-posting overdraft", err, store.ErrInsufficientFunds)
	same(t, "balances after rolled-back multi-posting overdraft", balances(t, s, funding, wallet, merchant, fees), want)

	// A non-funding platform account cannot go negative either.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "release", 0, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}, wallet, 1), base)
	})
	wantErr(t, "InTx overdrawing holds", err, store.ErrInsufficientFunds)

	// Spending exactly the balance is fine.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 1000), base)
	})
	same(t, "balances after spending all", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 0, 1000, 0})
	checkLedger(t, s)
}

// testLedgerPostShapes posts entries of the shapes Post handles apart:
// new accounts among existing ones, a debit of an account never used,
// an account named twice, and postings given in no particular order.
func testLedgerPostShapes(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	fees := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Fees}.WithShard(3)
	holds := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}.WithShard(3)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	// Two new accounts credited from an existing one, postings unsorted.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 290},
			{Account: wallet, Amount: -300},
			{Account: fees, Amount: 10},
		}}, base)
	})
	same(t, "balances after capture to new accounts", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 700, 290, 10})

	// A debit of an account never used fails, and creates nothing.
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "release", 0, holds, wallet, 5), base)
	})
	wantErr(t, "debit of a new account", err, store.ErrInsufficientFunds)
	// An overdraft next to a new account: nothing is applied.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 2}, 701), base)
	})
	wantErr(t, "overdraft next to a new account", err, store.ErrInsufficientFunds)
	same(t, "balances after refused entries", balances(t, s, funding, wallet, merchant, fees, holds), []money.Paisa{-1000, 700, 290, 10, 0})

	// An account named twice in one entry.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: -100},
			{Account: merchant, Amount: 60},
			{Account: wallet, Amount: -50},
			{Account: merchant, Amount: 90},
		}}, base)
	})
	same(t, "balances after an entry naming accounts twice", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 550, 440, 10})
	// Spending exactly the balance over many postings.
	inTx(t, s, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 500},
			{Account: fees, Amount: 50},
			{Account: wallet, Amount: -550},
		}}, base)
	})
	same(t, "balances after spending all", balances(t, s, funding, wallet, merchant, fees), []money.Paisa{-1000, 0, 940, 60})
	snap := checkLedger(t, s)
	if len(snap.Accounts) != 4 {
		t.Errorf("%d accounts after the entries, want 4 (refused entries create none): %+v", len(snap.Accounts), snap.Accounts)
	}
}

// testConcurrentCrossPostings moves money around a ring of accounts from
// many goroutines at once, each entry touching its accounts in another
// order: no entry may be lost, doubled or overdraw, and none deadlock.
func testConcurrentCrossPostings(t *testing.T, s store.Store) {
	ctx := context.Background()
	const owners, workers, rounds = 4, 8, 25
	refs := make([]ledger.AccountRef, owners)
	for i := range refs {
		refs[i] = ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: int64(i + 1)}
		inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, int64(i+1), 100), base) })
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done, refused := 0, 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				from, to := refs[(w+r)%owners], refs[(w+r+1+w%(owners-1))%owners]
				third := refs[(w+r+2)%owners]
				e := ledger.Entry{Book: ledger.Test, Reason: "move", Postings: []ledger.Posting{
					{Account: to, Amount: 7}, {Account: from, Amount: -7},
				}}
				if third != from && third != to {
					e.Postings = []ledger.Posting{{Account: to, Amount: 4}, {Account: from, Amount: -7}, {Account: third, Amount: 3}}
				}
				err := s.InTx(ctx, func(tx store.Tx) error { return tx.Post(ctx, e, base) })
				mu.Lock()
				switch {
				case err == nil:
					done++
				case errors.Is(err, store.ErrInsufficientFunds):
					refused++
				default:
					t.Errorf("Post: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if done == 0 {
		t.Errorf("no entry succeeded (%d refused)", refused)
	}
	var total money.Paisa
	for _, b := range balances(t, s, refs...) {
		if b < 0 {
			t.Errorf("a wallet went negative: %d", b)
		}
		total += b
	}
	same(t, "money in the wallets", total, money.Paisa(100*owners))
	checkLedger(t, s)
}

// holdFixture is an Initiated payment of merchant m by a payer whose
// wallet holds 1,000 paisa, with the entry that holds an amount of it
// and a reader of the payment as stored.
type holdFixture struct {
	m             store.Merchant
	p             store.Payment
	wallet, holds ledger.AccountRef
	hold          func(money.Paisa) ledger.Entry
	read          func() store.Payment
}

func newHoldFixture(t *testing.T, s store.Store) holdFixture {
	ctx := context.Background()
	f := holdFixture{m: newMerchant(t, s, 1)}
	c := newConsumer(t, s, 1)
	f.p = newPayment(f.m.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	create(t, s, &f.p)
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, c.ID, 1000), base) })
	f.wallet = ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.ID}
	f.holds = ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}.WithShard(ledger.ShardOf(f.p.ID))
	f.hold = func(amount money.Paisa) ledger.Entry {
		return ledger.Transfer(ledger.Test, "authorise", f.p.ID, f.wallet, f.holds, amount)
	}
	f.read = func() store.Payment {
		var got store.Payment
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.PaymentByID(ctx, f.p.ID)
			return err
		})
		return got
	}
	return f
}

// testPostAndUpdate posts entries together with a payment's
// compare-and-set: both happen, or (once the caller rolls back) neither.
func testPostAndUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := newHoldFixture(t, s)
	p, wallet, holds, hold, read := f.p, f.wallet, f.holds, f.hold, f.read

	// A stale version: ErrConflict, and nothing changes.
	stale := p
	stale.Version = p.Version + 5
	stale.State = store.Confirmed
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(300), base, &stale) })
	wantErr(t, "PostAndUpdate(stale version)", err, store.ErrConflict)
	same(t, "balances after a lost compare-and-set", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	samePayment(t, "payment after a lost compare-and-set", read(), p)

	// An overdraft: ErrInsufficientFunds, and nothing changes.
	next := p
	next.State = store.Confirmed
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(1001), base, &next) })
	wantErr(t, "PostAndUpdate(overdraft)", err, store.ErrInsufficientFunds)
	same(t, "balances after an overdraft", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	samePayment(t, "payment after an overdraft", read(), p)

	// Both happen; the hold account is created on first use.
	next = p
	next.State, next.ConfirmedAt, next.UpdatedAt = store.Confirmed, base.Add(time.Minute), base.Add(time.Minute)
	next.Browser = "browser-hash" // every mutable field rides in the one statement
	inTx(t, s, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(1000), base, &next) })
	if next.Version != p.Version+1 {
		t.Errorf("version after PostAndUpdate %d, want %d", next.Version, p.Version+1)
	}
	same(t, "balances after PostAndUpdate", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	samePayment(t, "payment after PostAndUpdate", read(), next)
	// The version moved on: the same update again is a conflict.
	again := next
	again.Version--
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.PostAndUpdate(ctx, ledger.Transfer(ledger.Test, "release", p.ID, holds, wallet, 10), base, &again)
	})
	wantErr(t, "PostAndUpdate(old version)", err, store.ErrConflict)
	same(t, "balances after the second lost compare-and-set", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	// The payment as read before that update, whose money the update
	// already moved (two committer lanes confirming, or capturing, one
	// payment at once): the payment changed, so ErrConflict and the caller
	// reads it again, not an overdraft.
	before := p
	before.State = store.Confirmed
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdate(ctx, hold(1000), base, &before) })
	wantErr(t, "PostAndUpdate(old version, money already moved)", err, store.ErrConflict)
	same(t, "balances after the third lost compare-and-set", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	checkLedger(t, s)
}

// testPostAndUpdateUnhooked is PostAndUpdate's contract again, and the
// webhook condition: an enabled endpoint of the payment's merchant in the
// payment's book, and only that, makes it change nothing (ErrHooked).
func testPostAndUpdateUnhooked(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := newHoldFixture(t, s)
	other := newMerchant(t, s, 2)
	m, p, wallet, holds, hold, read := f.m, f.p, f.wallet, f.holds, f.hold, f.read
	endpoint := func(n int, merchantID int64, book ledger.Book, disabled bool) {
		inTx(t, s, func(tx store.Tx) error {
			e := store.WebhookEndpoint{Idx: fmt.Sprintf("ep-%d", n), MerchantID: merchantID, Book: book, URL: "https://shop.example/hook",
				Secret: []byte("s"), Events: []string{"payment.completed"}, CreatedAt: base}
			if err := tx.CreateWebhookEndpoint(ctx, &e); err != nil {
				return err
			}
			if disabled {
				return tx.DisableWebhookEndpoint(ctx, e.ID, base)
			}
			return nil
		})
	}
	// Endpoints that are not this payment's to tell: another merchant's,
	// the other book's, a disabled one.
	endpoint(1, other.ID, ledger.Test, false)
	endpoint(2, m.ID, ledger.Live, false)
	endpoint(3, m.ID, ledger.Test, true)

	stale := p
	stale.Version = p.Version + 5
	stale.State = store.Confirmed
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdateUnhooked(ctx, hold(300), base, &stale) })
	wantErr(t, "PostAndUpdateUnhooked(stale version)", err, store.ErrConflict)
	confirmed := p
	confirmed.State, confirmed.ConfirmedAt, confirmed.UpdatedAt = store.Confirmed, base.Add(time.Minute), base.Add(time.Minute)
	over := confirmed
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdateUnhooked(ctx, hold(1001), base, &over) })
	wantErr(t, "PostAndUpdateUnhooked(overdraft)", err, store.ErrInsufficientFunds)
	same(t, "balances after a lost compare-and-set and an overdraft", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	samePayment(t, "payment after a lost compare-and-set and an overdraft", read(), p)
	// Both happen; the hold account is created on first use.
	inTx(t, s, func(tx store.Tx) error { return tx.PostAndUpdateUnhooked(ctx, hold(1000), base, &confirmed) })
	if confirmed.Version != p.Version+1 {
		t.Errorf("version after PostAndUpdateUnhooked %d, want %d", confirmed.Version, p.Version+1)
	}
	same(t, "balances after PostAndUpdateUnhooked", balances(t, s, wallet, holds), []money.Paisa{0, 1000})
	samePayment(t, "payment after PostAndUpdateUnhooked", read(), confirmed)
	// The payment as read before, its money already moved: ErrConflict,
	// as for PostAndUpdate.
	before := p
	before.State = store.Confirmed
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.PostAndUpdateUnhooked(ctx, hold(1000), base, &before) })
	wantErr(t, "PostAndUpdateUnhooked(old version, money already moved)", err, store.ErrConflict)

	// With an endpoint to tell, nothing changes: between accounts that
	// exist, and where the entry would create its account.
	endpoint(4, m.ID, ledger.Test, false)
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: m.ID}.WithShard(ledger.ShardOf(p.ID))
	for _, to := range []ledger.AccountRef{wallet, merchant} {
		done := confirmed
		done.State, done.CompletedAt, done.UpdatedAt = store.Completed, base.Add(2*time.Minute), base.Add(2*time.Minute)
		err = s.InTx(ctx, func(tx store.Tx) error {
			return tx.PostAndUpdateUnhooked(ctx, ledger.Transfer(ledger.Test, "capture", p.ID, holds, to, 1000), base, &done)
		})
		wantErr(t, "PostAndUpdateUnhooked(hooked, to "+string(to.Kind)+")", err, store.ErrHooked)
		same(t, "balances after ErrHooked", balances(t, s, wallet, holds, merchant), []money.Paisa{0, 1000, 0})
		samePayment(t, "payment after ErrHooked", read(), confirmed)
		if done.Version != confirmed.Version {
			t.Errorf("version after ErrHooked %d, want %d", done.Version, confirmed.Version)
		}
	}
	// PostAndUpdate itself does not look.
	done := confirmed
	done.State, done.CompletedAt, done.UpdatedAt = store.Completed, base.Add(2*time.Minute), base.Add(2*time.Minute)
	inTx(t, s, func(tx store.Tx) error {
		return tx.PostAndUpdate(ctx, ledger.Transfer(ledger.Test, "capture", p.ID, holds, merchant, 1000), base, &done)
	})
	same(t, "balances after PostAndUpdate", balances(t, s, wallet, holds, merchant), []money.Paisa{0, 0, 1000})
	samePayment(t, "payment after PostAndUpdate", read(), done)
	checkLedger(t, s)
}

func testLedgerInvalidEntry(t *testing.T, s store.Store) {
	ctx := context.Background()
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	liveMerchant := ledger.AccountRef{Book: ledger.Live, Kind: ledger.Merchant, Owner: 1}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	bad := []struct {
		name string
		e    ledger.Entry
		want error
	}{
		{"unbalanced", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: -100}, {Account: merchant, Amount: 50}}}, ledger.ErrUnbalanced},
		{"one posting", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: merchant, Amount: 100}}}, ledger.ErrEmpty},
		{"mixed books", ledger.Transfer(ledger.Test, "capture", 0, wallet, liveMerchant, 100), ledger.ErrMixedBooks},
		{"zero posting", ledger.Entry{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
			{Account: wallet, Amount: 0}, {Account: merchant, Amount: 0}}}, ledger.ErrZero},
	}
	for _, b := range bad {
		err := s.InTx(ctx, func(tx store.Tx) error { return tx.Post(ctx, b.e, base) })
		wantErr(t, "Post("+b.name+")", err, b.want)
	}
	same(t, "balances after invalid entries", balances(t, s, funding, wallet, merchant, liveMerchant), []money.Paisa{-1000, 1000, 0, 0})
	checkLedger(t, s)
}

func testLedgerSnapshot(t *testing.T, s store.Store) {
	ctx := context.Background()
	ref := func(book ledger.Book, kind ledger.Kind, owner int64) ledger.AccountRef {
		return ledger.AccountRef{Book: book, Kind: kind, Owner: owner}
	}
	inTx(t, s, func(tx store.Tx) error {
		steps := []ledger.Entry{
			topUp(ledger.Test, 1, 5000),
			topUp(ledger.Test, 2, 3000),
			topUp(ledger.Live, 1, 900),
			ledger.Transfer(ledger.Test, "authorise", 0, ref(ledger.Test, ledger.Wallet, 1), ref(ledger.Test, ledger.Holds, 0), 2000),
			{Book: ledger.Test, Reason: "capture", Postings: []ledger.Posting{
				{Account: ref(ledger.Test, ledger.Holds, 0), Amount: -2000},
				{Account: ref(ledger.Test, ledger.Merchant, 7), Amount: 1940},
				{Account: ref(ledger.Test, ledger.Fees, 0), Amount: 60},
			}},
			ledger.Transfer(ledger.Test, "authorise", 0, ref(ledger.Test, ledger.Wallet, 2), ref(ledger.Test, ledger.Holds, 0), 1000),
			ledger.Transfer(ledger.Test, "release", 0, ref(ledger.Test, ledger.Holds, 0), ref(ledger.Test, ledger.Wallet, 2), 1000),
			ledger.Transfer(ledger.Live, "authorise", 0, ref(ledger.Live, ledger.Wallet, 1), ref(ledger.Live, ledger.Holds, 0), 900),
		}
		for i, e := range steps {
			if err := tx.Post(ctx, e, base.Add(time.Duration(i)*time.Second)); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return nil
	})
	snap := checkLedger(t, s)
	want := map[ledger.AccountRef]money.Paisa{
		ref(ledger.Test, ledger.Funding, 0):  -8000,
		ref(ledger.Test, ledger.Wallet, 1):   3000,
		ref(ledger.Test, ledger.Wallet, 2):   3000,
		ref(ledger.Test, ledger.Holds, 0):    0,
		ref(ledger.Test, ledger.Merchant, 7): 1940,
		ref(ledger.Test, ledger.Fees, 0):     60,
		ref(ledger.Live, ledger.Funding, 0):  -900,
		ref(ledger.Live, ledger.Wallet, 1):   0,
		ref(ledger.Live, ledger.Holds, 0):    900,
	}
	got := map[ledger.AccountRef]money.Paisa{}
	for _, a := range snap.Accounts {
		if _, dup := got[a.Ref]; dup {
			t.Errorf("snapshot lists %s twice", a.Ref)
		}
		got[a.Ref] = a.Balance
		if a.Balance != a.PostingsSum {
			t.Errorf("snapshot %s: balance %d, postings sum %d", a.Ref, a.Balance, a.PostingsSum)
		}
	}
	same(t, "snapshot balances", got, want)
	if len(snap.UnbalancedTxns) != 0 {
		t.Errorf("snapshot reports unbalanced ledger transactions %v", snap.UnbalancedTxns)
	}

	// Check must be able to fail on what the store reports.
	broken := snap
	broken.Accounts = append([]ledger.AccountState(nil), snap.Accounts...)
	broken.Accounts[0].Balance++
	if len(ledger.Check(broken)) == 0 {
		t.Error("ledger.Check found nothing wrong with a tampered snapshot")
	}
}

func testConcurrentDebits(t *testing.T, s store.Store) {
	ctx := context.Background()
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 1}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 1}
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, 1, 1000), base) })

	const workers = 20
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				return tx.Post(ctx, ledger.Transfer(ledger.Test, "capture", 0, wallet, merchant, 100), base.Add(time.Duration(i)*time.Millisecond))
			})
		}()
	}
	close(start)
	wg.Wait()

	ok, short := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrInsufficientFunds):
			short++
		default:
			t.Errorf("worker %d: unexpected error %v", i, err)
		}
	}
	if ok != 10 || short != 10 {
		t.Errorf("%d debits succeeded and %d were refused, want 10 and 10", ok, short)
	}
	same(t, "balances after concurrent debits", balances(t, s, wallet, merchant), []money.Paisa{0, 1000})
	checkLedger(t, s)
}

// testShardedAccounts checks that shards of one account are separate rows
// for the overdraft guard and sum up in Balance.
func testShardedAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	funding := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Funding}
	merchant := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Merchant, Owner: 9}
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: 9}
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Post(ctx, ledger.Transfer(ledger.Test, "topup", 0, funding, merchant.WithShard(3), 300), at); err != nil {
			return err
		}
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "topup", 0, funding.WithShard(5), merchant.WithShard(7), 700), at)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Shard 3 holds only 300: taking 400 from it fails even though the
	// account's total is 1000.
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Transfer(ledger.Test, "refund", 0, merchant.WithShard(3), wallet, 400), at)
	})
	if !errors.Is(err, store.ErrInsufficientFunds) {
		t.Fatalf("overdrawing one shard: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.Post(ctx, ledger.Entry{Book: ledger.Test, Reason: "refund", Postings: []ledger.Posting{
			{Account: merchant.WithShard(3), Amount: -300}, {Account: merchant.WithShard(7), Amount: -100}, {Account: wallet, Amount: 400},
		}}, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		total, err := tx.Balance(ctx, merchant.WithShard(11))
		if err != nil {
			return err
		}
		if total != 600 {
			t.Errorf("Balance = %d, want 600 (sum of shards)", total)
		}
		shards, err := tx.ShardBalances(ctx, merchant)
		if err != nil {
			return err
		}
		if len(shards) != 1 || shards[7] != 600 {
			t.Errorf("ShardBalances = %v, want map[7:600]", shards)
		}
		if f, err := tx.Balance(ctx, funding); err != nil || f != -1000 {
			t.Errorf("funding = %d, %v; want -1000", f, err)
		}
		snap, err := tx.LedgerSnapshot(ctx)
		if err != nil {
			return err
		}
		if v := ledger.Check(snap); len(v) != 0 {
			t.Errorf("ledger check: %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
