package payment

import (
	"context"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// overdue reports whether p should already have expired or been released.
func (s *Service) overdue(p store.Payment) bool {
	now := s.now()
	switch p.State {
	case store.Initiated:
		if p.Kind == store.EPayment {
			return !now.Before(p.ExpiresAt)
		}
		return !now.Before(p.CreatedAt.Add(s.cfg.InitiatedTTL))
	case store.Confirmed:
		return !now.Before(p.ConfirmedAt.Add(s.cfg.ConfirmedTTL))
	case store.Pending:
		return !now.Before(p.ConfirmedAt.Add(s.cfg.SandboxPendingDelay))
	}
	return false
}

// settle applies expiry or release to one payment if it is still overdue
// when re-read inside the write transaction, and returns it as stored.
// An unconfirmed payment fails; an unverified authorisation goes back to
// the payer's wallet and the payment fails; a Pending ePayment (the
// sandbox's pending scenario) completes.
func (s *Service) settle(ctx context.Context, id int64) (store.Payment, error) {
	var out store.Payment
	err := store.Retry(ctx, func() error {
		return s.store.InTx(ctx, func(tx store.Tx) error {
			p, err := tx.PaymentByID(ctx, id)
			if err != nil {
				return err
			}
			out = p
			if !s.overdue(p) {
				return nil
			}
			now := s.now()
			if p.State == store.Pending { // the held money reaches the merchant
				if err := tx.Post(ctx, captureEntry(p), now); err != nil {
					return err
				}
				if err := s.markCompleted(ctx, tx, &p, now); err != nil {
					return err
				}
				out = p
				return nil
			}
			if p.State == store.Confirmed {
				err := tx.Post(ctx, ledger.Transfer(p.Book, "release", p.ID,
					account(p.Book, ledger.Holds, 0).WithShard(ledger.ShardOf(p.ID)), account(p.Book, ledger.Wallet, p.ConsumerID), p.Amount), now)
				if err != nil {
					return err
				}
			}
			to := store.Failed
			if p.Kind == store.EPayment {
				to = store.Expired // an unpaid link; nothing was held
			}
			if err := move(&p, to, now); err != nil {
				return err
			}
			if err := tx.UpdatePayment(ctx, &p); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, p, eventFor(p.State)); err != nil {
				return err
			}
			out = p
			return nil
		})
	})
	return out, err
}

// Sweep settles every overdue payment, in batches, and returns how many
// it changed. It is safe to run from several processes at once: each
// change is guarded by the payment's version.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	changed := 0
	for {
		now := s.now()
		var due []store.Payment
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.DuePayments(ctx, now.Add(-s.cfg.InitiatedTTL), now.Add(-s.cfg.ConfirmedTTL), 100)
			if err != nil {
				return err
			}
			links, err := tx.DueEPayments(ctx, now, now.Add(-s.cfg.SandboxPendingDelay), 100)
			due = append(due, links...)
			return err
		})
		if err != nil {
			return changed, err
		}
		for _, p := range due {
			after, err := s.settle(ctx, p.ID)
			if err != nil {
				return changed, err
			}
			if after.State != p.State {
				changed++
			}
		}
		if len(due) < 100 {
			return changed, nil
		}
		if changed == 0 {
			return changed, nil // nothing settled: another node is on it
		}
	}
}
