// Package ledger is Thaili's double-entry bookkeeping: accounts, balanced
// entries of postings, and the invariants every book must satisfy. It does
// no I/O; stores persist what it describes and feed it back for checking.
package ledger

import (
	"errors"
	"fmt"
	"sort"

	"github.com/thaili/thaili/internal/money"
)

// Book separates test money from live money. Every account and every
// transaction belongs to exactly one book.
type Book string

// The two books; a key's prefix picks one.
const (
	Test Book = "test"
	Live Book = "live"
)

// Valid reports whether b is one of the two books.
func (b Book) Valid() bool { return b == Test || b == Live }

// Kind says what an account is for.
type Kind string

// Account kinds. Platform accounts (Holds, Fees, Funding) have owner 0.
const (
	Wallet   Kind = "wallet"   // a consumer's spendable balance
	Merchant Kind = "merchant" // a merchant's captured, unsettled balance
	Holds    Kind = "holds"    // authorised payments not yet captured or released
	Fees     Kind = "fees"     // the platform's fee revenue
	Funding  Kind = "funding"  // money from outside (top-ups); the only negative account
)

// MayGoNegative reports whether an account of this kind may hold a
// negative balance. Only funding may: it mirrors money that entered the
// system from outside.
func (k Kind) MayGoNegative() bool { return k == Funding }

// AccountRef names an account without knowing its storage id.
//
// Busy accounts (a merchant's balance, the platform's holds and fees) are
// split into Shards sub-accounts, each a row of its own, so concurrent
// payments do not all wait on one row lock. An account's balance is the
// sum of its shards; each shard alone obeys the no-overdraft rule, which
// keeps the guarantee without any cross-row check.
type AccountRef struct {
	Book  Book
	Kind  Kind
	Owner int64 // consumer or merchant id; 0 for platform accounts
	Shard int   // 0 <= Shard < Shards
}

// Shards is how many sub-accounts a sharded account has.
const Shards = 16

// ShardOf spreads payments over the shards of the accounts they touch;
// a payment always uses the same shard, so what it put into holds is
// there to take out again.
func ShardOf(paymentID int64) int {
	if paymentID < 0 {
		paymentID = -paymentID
	}
	return int(paymentID % Shards)
}

// WithShard returns a with its shard set.
func (a AccountRef) WithShard(shard int) AccountRef {
	a.Shard = shard
	return a
}

func (a AccountRef) String() string {
	if a.Shard != 0 {
		return fmt.Sprintf("%s/%s/%d#%d", a.Book, a.Kind, a.Owner, a.Shard)
	}
	return fmt.Sprintf("%s/%s/%d", a.Book, a.Kind, a.Owner)
}

// Posting moves Amount into (positive) or out of (negative) an account.
type Posting struct {
	Account AccountRef
	Amount  money.Paisa
}

// Entry is one ledger transaction: postings that sum to zero, all in one
// book, applied atomically or not at all.
type Entry struct {
	Book      Book
	Reason    string // e.g. "authorise", "capture", "refund"
	PaymentID int64  // 0 when not about a payment (top-ups)
	Postings  []Posting
}

// Errors returned by Validate.
var (
	ErrUnbalanced = errors.New("ledger: postings do not sum to zero")
	ErrEmpty      = errors.New("ledger: entry needs at least two postings")
	ErrMixedBooks = errors.New("ledger: posting outside the entry's book")
	ErrZero       = errors.New("ledger: zero or out-of-range posting")
)

// Validate checks that e can be applied: at least two non-zero postings in
// its own book summing to zero. Stores call it before writing anything.
func (e Entry) Validate() error {
	if !e.Book.Valid() {
		return fmt.Errorf("ledger: unknown book %q", e.Book)
	}
	if len(e.Postings) < 2 {
		return ErrEmpty
	}
	var sum money.Paisa
	for _, p := range e.Postings {
		if p.Account.Book != e.Book {
			return ErrMixedBooks
		}
		if p.Amount == 0 || p.Amount > money.Max || p.Amount < -money.Max {
			return ErrZero
		}
		if p.Account.Shard < 0 || p.Account.Shard >= Shards {
			return fmt.Errorf("ledger: shard %d out of range", p.Account.Shard)
		}
		sum += p.Amount
	}
	if sum != 0 {
		return ErrUnbalanced
	}
	return nil
}

// Transfer is the common two-posting entry: amount from one account to another.
func Transfer(book Book, reason string, paymentID int64, from, to AccountRef, amount money.Paisa) Entry {
	return Entry{Book: book, Reason: reason, PaymentID: paymentID, Postings: []Posting{
		{Account: from, Amount: -amount},
		{Account: to, Amount: amount},
	}}
}

// AccountState is what a store reports about one account for checking.
type AccountState struct {
	ID          int64
	Ref         AccountRef
	Balance     money.Paisa // the stored running balance
	PostingsSum money.Paisa // the sum of all postings to it
}

// PaymentState is what a store reports about one payment's money for checking.
type PaymentState struct {
	Idx      string
	Captured money.Paisa
	Refunded money.Paisa
}

// Snapshot is everything Check needs, read in one consistent view.
type Snapshot struct {
	Accounts       []AccountState
	UnbalancedTxns []int64 // ledger transaction ids whose postings do not sum to zero
	Payments       []PaymentState
}

// Violation is one broken invariant.
type Violation struct {
	Rule    string
	Subject string
	Detail  string
}

func (v Violation) String() string { return v.Rule + ": " + v.Subject + ": " + v.Detail }

// Check verifies the invariants (docs/ledger.md) on a snapshot and returns
// every violation found, sorted for stable output.
func Check(s Snapshot) []Violation {
	var out []Violation
	bookSums := map[Book]money.Paisa{}
	for _, a := range s.Accounts {
		bookSums[a.Ref.Book] += a.Balance
		if a.Balance != a.PostingsSum {
			out = append(out, Violation{"balance-matches-postings", a.Ref.String(),
				fmt.Sprintf("balance %d, postings sum %d", a.Balance, a.PostingsSum)})
		}
		if a.Balance < 0 && !a.Ref.Kind.MayGoNegative() {
			out = append(out, Violation{"no-negative-balance", a.Ref.String(),
				fmt.Sprintf("balance %d", a.Balance)})
		}
	}
	for book, sum := range bookSums {
		if sum != 0 {
			out = append(out, Violation{"book-sums-to-zero", string(book), fmt.Sprintf("sum %d", sum)})
		}
	}
	for _, id := range s.UnbalancedTxns {
		out = append(out, Violation{"entry-sums-to-zero", fmt.Sprintf("ledger transaction %d", id), "postings do not sum to zero"})
	}
	for _, p := range s.Payments {
		if p.Refunded < 0 || p.Captured-p.Refunded < 0 {
			out = append(out, Violation{"refunds-within-capture", "payment " + p.Idx,
				fmt.Sprintf("captured %d, refunded %d", p.Captured, p.Refunded)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
