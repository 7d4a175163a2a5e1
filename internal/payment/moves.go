package payment

import (
	"time"

	"github.com/thaili/thaili/internal/store"
)

// move is the only way the service changes a payment's state. It refuses
// a move the state machine does not allow (store.CanMove): such a move is
// a bug, answered as an internal error with nothing written, and the
// store would refuse it too. Entering a state records when: Confirmed and
// Pending set ConfirmedAt, Completed sets CompletedAt (and ConfirmedAt,
// for an ePayment that was never held).
func move(p *store.Payment, to store.State, now time.Time) error {
	if !store.CanMove(p.State, to) {
		return store.IllegalMove(p.Idx, p.State, to)
	}
	p.State, p.UpdatedAt = to, now
	switch to {
	case store.Confirmed, store.Pending:
		p.ConfirmedAt = now
	case store.Completed:
		if p.ConfirmedAt.IsZero() {
			p.ConfirmedAt = now
		}
		p.CompletedAt = now
	}
	return nil
}
