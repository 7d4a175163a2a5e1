package payment

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/fault"
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

// RunSweeper sweeps every interval until ctx is done, logging failures;
// each round also expires unconfirmed sign-ups and purges old identity
// records.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "sweeping overdue payments", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "swept overdue payments", "count", n)
		}
		if n, err := s.ExpireSignUps(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "expiring unconfirmed sign-ups", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "expired unconfirmed sign-ups", "count", n)
		}
		if err := s.PurgeIdentityRecords(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "purging old codes, notices and wrong-MPIN counts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireBatch is how many expired sign-ups of each kind one sweep deletes.
const expireBatch = 100

// ExpireSignUps deletes merchants and wallets whose phone was not
// confirmed within UnconfirmedTTL and that were never used, so a sign-up
// nobody confirms does not keep its email or mobile. It returns how many
// it deleted. Several nodes may run it at once: each deletion re-checks
// its conditions in its own transaction.
func (s *Service) ExpireSignUps(ctx context.Context) (int, error) {
	now := s.now()
	var merchants, consumers []int64
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		merchants, consumers, err = tx.UnconfirmedBefore(ctx, now.Add(-UnconfirmedTTL), expireBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, del := range []struct {
		ids []int64
		fn  func(store.Tx) func(context.Context, int64) (bool, error)
	}{
		{merchants, func(tx store.Tx) func(context.Context, int64) (bool, error) { return tx.DeleteUnconfirmedMerchant }},
		{consumers, func(tx store.Tx) func(context.Context, int64) (bool, error) { return tx.DeleteUnconfirmedConsumer }},
	} {
		for _, id := range del.ids {
			var deleted bool
			err := s.store.InTx(ctx, func(tx store.Tx) error {
				var err error
				deleted, err = del.fn(tx)(ctx, id)
				return err
			})
			if err != nil {
				return n, err
			}
			if deleted {
				n++
			}
		}
	}
	return n, nil
}

// PurgeIdentityRecords forgets what identity keeps only for a while:
// codes a day after they were sent, wallet notices after noticesKept,
// and the wrong-MPIN counts of numbers without a wallet once a day has
// passed since their last change and lock (by then a lock level would
// be forgotten anyway).
func (s *Service) PurgeIdentityRecords(ctx context.Context) error {
	now := s.now()
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PurgeMPINGuards(ctx, now.Add(-s.mpinPolicy().Forget)); err != nil {
			return err
		}
		if err := tx.PurgeConsumerNotices(ctx, now.Add(-noticesKept)); err != nil {
			return err
		}
		return tx.PurgeCodes(ctx, now.Add(-codesKept))
	}))
}
