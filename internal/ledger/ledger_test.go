package ledger

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/thaili/thaili/internal/money"
)

var (
	alice = AccountRef{Book: Test, Kind: Wallet, Owner: 1}
	shop  = AccountRef{Book: Test, Kind: Merchant, Owner: 1}
	fund  = AccountRef{Book: Test, Kind: Funding}
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		err  error
	}{
		{"ok", Transfer(Test, "x", 0, fund, alice, 100), nil},
		{"unbalanced", Entry{Book: Test, Postings: []Posting{{alice, 5}, {shop, -4}}}, ErrUnbalanced},
		{"single", Entry{Book: Test, Postings: []Posting{{alice, 0}}}, ErrEmpty},
		{"zero", Entry{Book: Test, Postings: []Posting{{alice, 0}, {shop, 0}}}, ErrZero},
		{"mixed", Entry{Book: Test, Postings: []Posting{{alice, 5}, {AccountRef{Book: Live, Kind: Merchant, Owner: 1}, -5}}}, ErrMixedBooks},
	}
	for _, tt := range tests {
		if err := tt.e.Validate(); !errors.Is(err, tt.err) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
		}
	}
	if err := (Entry{Book: "other"}).Validate(); err == nil {
		t.Error("unknown book accepted")
	}
}

func TestCheckFindsEachViolation(t *testing.T) {
	s := Snapshot{
		Accounts: []AccountState{
			{ID: 1, Ref: fund, Balance: -100, PostingsSum: -100},
			{ID: 2, Ref: alice, Balance: -5, PostingsSum: 100},
			{ID: 3, Ref: shop, Balance: 0, PostingsSum: 0},
		},
		UnbalancedTxns: []int64{7},
		Payments:       []PaymentState{{Idx: "p1", Captured: 10, Refunded: 20}},
	}
	got := Check(s)
	rules := map[string]bool{}
	for _, v := range got {
		rules[v.Rule] = true
	}
	for _, r := range []string{"balance-matches-postings", "no-negative-balance", "book-sums-to-zero", "entry-sums-to-zero", "refunds-within-capture"} {
		if !rules[r] {
			t.Errorf("rule %s not reported; got %v", r, got)
		}
	}
	if rules["no-negative-balance"] && len(got) != 5 {
		t.Errorf("funding must be allowed negative; got %v", got)
	}
}

func TestCheckCleanSnapshot(t *testing.T) {
	s := Snapshot{Accounts: []AccountState{
		{ID: 1, Ref: fund, Balance: -100, PostingsSum: -100},
		{ID: 2, Ref: alice, Balance: 100, PostingsSum: 100},
	}}
	if got := Check(s); len(got) != 0 {
		t.Errorf("clean snapshot reported %v", got)
	}
}

// memoryBook applies entries the way a store must: all-or-nothing, with
// conditional debits. FuzzEntries drives it with random operations and
// checks the invariants after each one.
type memoryBook struct {
	balances map[AccountRef]money.Paisa
	postings map[AccountRef]money.Paisa
}

func (m *memoryBook) apply(e Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	next := map[AccountRef]money.Paisa{}
	for _, p := range e.Postings {
		b, ok := next[p.Account]
		if !ok {
			b = m.balances[p.Account]
		}
		b += p.Amount
		if b < 0 && !p.Account.Kind.MayGoNegative() {
			return errors.New("insufficient funds")
		}
		next[p.Account] = b
	}
	for a, b := range next {
		m.balances[a] = b
	}
	for _, p := range e.Postings {
		m.postings[p.Account] += p.Amount
	}
	return nil
}

func FuzzEntries(f *testing.F) {
	f.Add(uint64(1), uint16(50))
	f.Add(uint64(42), uint16(500))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		r := rand.New(rand.NewPCG(seed, seed>>1))
		refs := []AccountRef{fund, alice, shop, {Book: Test, Kind: Wallet, Owner: 2}, {Book: Test, Kind: Holds}, {Book: Test, Kind: Fees, Shard: 3}}
		m := &memoryBook{balances: map[AccountRef]money.Paisa{}, postings: map[AccountRef]money.Paisa{}}
		for i := 0; i < int(steps%1000); i++ {
			from, to := refs[r.IntN(len(refs))], refs[r.IntN(len(refs))]
			amt := money.Paisa(r.Int64N(5000) - 100)
			e := Transfer(Test, "fuzz", 0, from, to, amt)
			if r.IntN(4) == 0 { // a three-way split like a capture with a fee
				fee := money.Paisa(r.Int64N(100))
				e.Postings = append(e.Postings, Posting{refs[5], fee}, Posting{to, -fee})
			}
			_ = m.apply(e)
			var snap Snapshot
			for a, b := range m.balances {
				snap.Accounts = append(snap.Accounts, AccountState{Ref: a, Balance: b, PostingsSum: m.postings[a]})
			}
			if v := Check(snap); len(v) != 0 {
				t.Fatalf("step %d: %v", i, v)
			}
		}
	})
}
