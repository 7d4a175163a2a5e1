package identity

import (
	"context"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
)

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
