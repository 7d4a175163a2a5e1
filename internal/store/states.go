package store

import (
	"fmt"
	"slices"
)

// State is a transaction state; the names are Khalti's, exactly.
type State string

// Transaction states (docs/payments.md).
const (
	Initiated         State = "Initiated"
	Confirmed         State = "Confirmed"
	Completed         State = "Completed"
	Disabled          State = "Disabled"
	Refunded          State = "Refunded"
	PartiallyRefunded State = "Partially refunded"
	Failed            State = "Failed"
	// ePayment only.
	Expired      State = "Expired"
	UserCanceled State = "User canceled"
	// Pending: paid, the money held, not yet settled to the merchant;
	// the merchant must look the payment up again. Only the sandbox's
	// pending scenario payer produces it (test book).
	Pending State = "Pending"
)

// States lists every legacy state, in lifecycle order.
var States = []State{Initiated, Confirmed, Completed, Disabled, Refunded, PartiallyRefunded, Failed, Expired, UserCanceled, Pending}

// moves is the payment state machine as a table: for each state, the
// states a payment in it may be updated to. A state that may be updated
// without changing (a counted wrong code, a payer signing in, a second
// partial refund) lists itself. A state without moves is final. The
// service changes a payment's state only through it, and the store
// refuses an update it does not allow (ErrIllegalMove), so a bug in one
// cannot move money for a payment that is already done.
// docs/payments.md shows the same table with what each move does; a test
// keeps the two the same.
var moves = map[State][]State{
	Initiated:         {Initiated, Confirmed, Disabled, Failed, Completed, Pending, Expired, UserCanceled},
	Confirmed:         {Completed, Failed},
	Pending:           {Completed},
	Completed:         {PartiallyRefunded, Refunded},
	PartiallyRefunded: {PartiallyRefunded, Refunded},
}

// Moves returns a copy of the state machine's table: for each state that
// is not final, the states a payment in it may be updated to.
func Moves() map[State][]State {
	out := make(map[State][]State, len(moves))
	for from, to := range moves {
		out[from] = slices.Clone(to)
	}
	return out
}

// CanMove reports whether the state machine lets a payment in from be
// updated to to.
func CanMove(from, to State) bool {
	return slices.Contains(moves[from], to)
}

// MovesTo lists the states from which a payment may be updated to to, in
// the order of States.
func MovesTo(to State) []State {
	var out []State
	for _, from := range States {
		if CanMove(from, to) {
			out = append(out, from)
		}
	}
	return out
}

// IllegalMove is the error for an update the state machine does not
// allow; errors.Is(err, ErrIllegalMove) holds for it.
func IllegalMove(idx string, from, to State) error {
	return fmt.Errorf("%w: payment %s from %q to %q", ErrIllegalMove, idx, from, to)
}
