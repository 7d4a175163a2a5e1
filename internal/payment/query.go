package payment

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// Status finds a payment by token or idx for the status API. A wrong
// amount is reported like a missing payment, as Khalti does.
func (s *Service) Status(ctx context.Context, caller identity.Caller, tokenOrIdx string, amount money.Paisa) (store.Payment, error) {
	t, err := s.find(ctx, caller.Scope(), tokenOrIdx, true)
	if err != nil {
		return store.Payment{}, err
	}
	// The legacy status API knows legacy payments; ePayments have lookup.
	if t.Payment.Amount != amount || t.Payment.Kind == store.EPayment {
		return store.Payment{}, errNotFound
	}
	return t.Payment, nil
}

// Detail returns one transaction of the caller's.
func (s *Service) Detail(ctx context.Context, caller identity.Caller, idx string) (Transaction, error) {
	var t Transaction
	var p store.Payment
	if !ids.Valid(idx) {
		return t, fault.NotFound()
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = tx.PaymentByIdx(ctx, caller.Scope(), idx)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return t, fault.NotFound()
	}
	if err != nil {
		return t, fault.Wrap(err)
	}
	return s.find(ctx, caller.Scope(), p.Token, false)
}

// CanRefund reports whether a refund of p would be accepted now, apart
// from the merchant's balance.
func (s *Service) CanRefund(p store.Payment) bool {
	return (p.State == store.Completed || p.State == store.PartiallyRefunded) &&
		p.Refunded < p.Amount && s.now().Before(p.CompletedAt.Add(s.cfg.RefundWindow))
}

// ListQuery selects a page of the caller's transactions.
type ListQuery struct {
	States   []store.State
	From, To time.Time
	// MinAmount and MaxAmount bound the amount, inclusive (zero: none);
	// Query matches order ids, product identities and names, or an idx,
	// a pidx or the payer's mobile (store.PaymentFilter.Query). The API
	// sets none of them.
	MinAmount, MaxAmount money.Paisa
	Query                string
	Page                 int // 1-based
	PageSize             int
}

// Page is one page of transactions and the total count.
type Page struct {
	Transactions []Transaction
	Total        int
}

// List returns a page of the caller's transactions, newest first. Overdue
// payments are settled first so no stale state is listed.
func (s *Service) List(ctx context.Context, caller identity.Caller, q ListQuery) (Page, error) {
	if _, err := s.Sweep(ctx); err != nil {
		return Page{}, fault.Wrap(err)
	}
	var out Page
	err := s.store.View(ctx, func(tx store.Tx) error {
		ps, total, err := tx.ListPayments(ctx, store.PaymentFilter{Scope: caller.Scope(), States: q.States,
			From: q.From, To: q.To, MinAmount: q.MinAmount, MaxAmount: q.MaxAmount, Query: q.Query, Offset: (q.Page - 1) * q.PageSize, Limit: q.PageSize})
		if err != nil {
			return err
		}
		out.Total = total
		for _, p := range ps {
			t, err := s.parties(ctx, tx, p)
			if err != nil {
				return err
			}
			out.Transactions = append(out.Transactions, t)
		}
		return nil
	})
	if err != nil {
		return Page{}, fault.Wrap(err)
	}
	return out, nil
}

// Refund returns money from the merchant's balance to the payer: the
// whole remaining amount when amount is nil, else amount. The fee is not
// returned. Several partial refunds may follow each other; their sum never
// exceeds the captured amount.
func (s *Service) Refund(ctx context.Context, caller identity.Caller, idx string, amount *money.Paisa) error {
	if amount != nil && *amount < 1 {
		return fault.FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	if !ids.Valid(idx) {
		return fault.NotFound()
	}
	err := store.Retry(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Tx) error {
			p, err := tx.PaymentByIdx(ctx, caller.Scope(), idx)
			if errors.Is(err, store.ErrNotFound) {
				return fault.NotFound()
			}
			if err != nil {
				return err
			}
			switch p.State {
			case store.Completed, store.PartiallyRefunded:
			case store.Refunded:
				return fault.DetailError("Transaction is already fully refunded.")
			default:
				return fault.DetailError("Only completed transactions can be refunded.")
			}
			now := s.now()
			if !now.Before(p.CompletedAt.Add(s.cfg.RefundWindow)) {
				return fault.DetailError("The refund window for this transaction has closed.")
			}
			remaining := p.Amount - p.Refunded
			want := remaining
			if amount != nil {
				want = *amount
			}
			if want > remaining {
				return fault.FieldError("amount", "Refund amount is more than the refundable amount of "+remaining.String()+".")
			}
			entry, ok, err := s.refundEntry(ctx, tx, p, want)
			if err != nil {
				return err
			}
			if !ok {
				return fault.DetailError("Merchant balance is not enough for this refund.")
			}
			err = tx.Post(ctx, entry, now)
			if errors.Is(err, store.ErrInsufficientFunds) {
				// A concurrent refund drained a shard after we read it:
				// start again from fresh balances.
				return store.ErrConflict
			}
			if err != nil {
				return err
			}
			p.Refunded += want
			to := store.PartiallyRefunded
			if p.Refunded == p.Amount {
				to = store.Refunded
			}
			if err := move(&p, to, now); err != nil {
				return err
			}
			if err := tx.UpdatePayment(ctx, &p); err != nil {
				return err
			}
			return s.emit(ctx, tx, p, eventFor(p.State))
		})
	})
	return fault.Wrap(err)
}

// refundEntry pays want from the merchant's balance shards to the payer:
// the payment's own shard first, then the fullest ones. ok is false when
// the merchant's whole balance does not cover want.
func (s *Service) refundEntry(ctx context.Context, tx store.Tx, p store.Payment, want money.Paisa) (ledger.Entry, bool, error) {
	merchant := account(p.Book, ledger.Merchant, p.MerchantID)
	shards, err := tx.ShardBalances(ctx, merchant)
	if err != nil {
		return ledger.Entry{}, false, err
	}
	order := make([]int, 0, len(shards))
	for shard, bal := range shards {
		if bal > 0 {
			order = append(order, shard)
		}
	}
	own := ledger.ShardOf(p.ID)
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if (a == own) != (b == own) {
			return a == own
		}
		if shards[a] != shards[b] {
			return shards[a] > shards[b]
		}
		return a < b
	})
	e := ledger.Entry{Book: p.Book, Reason: "refund", PaymentID: p.ID,
		Postings: []ledger.Posting{{Account: account(p.Book, ledger.Wallet, p.ConsumerID), Amount: want}}}
	left := want
	for _, shard := range order {
		if left == 0 {
			break
		}
		take := min(left, shards[shard])
		e.Postings = append(e.Postings, ledger.Posting{Account: merchant.WithShard(shard), Amount: -take})
		left -= take
	}
	return e, left == 0, nil
}
