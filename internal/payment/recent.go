package payment

import (
	"sync"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// recentPayments remembers, by token, the legacy payments this node
// created or authorised in the last recentLifetime, with their parties,
// so that the confirm and verify that follow skip the payment find read
// (a lookup outside the committer: the database's and the server's CPU
// and a round trip; docs/storage.md, "Reads before writes"). Only those
// two use it, and only to decide the write they try first, which is a
// compare-and-set on the version remembered: if the payment changed
// since (another node, the sweeper, a refusal), the write changes
// nothing, reports ErrConflict, and the request reads the payment afresh
// and decides again, exactly as after a find read that lost a race.
// The payment answered is always one the database wrote or returned;
// its parties are as they were when the payment was remembered (a legacy
// payment's payer and merchant do not change; their names shown may be
// up to recentLifetime old). It holds at most 2 x recentPerGeneration
// payments: when the current generation fills, the previous one is
// dropped.
type recentPayments struct {
	mu       sync.Mutex
	cur, old map[string]recentPayment
}

type recentPayment struct {
	t  Transaction
	at time.Time
}

const (
	// recentLifetime is how long a payment is remembered: a payer's
	// confirm usually follows the initiate within a minute, and a
	// merchant's verify the confirm within seconds.
	recentLifetime = time.Minute
	// recentPerGeneration bounds the memory: a payment with its parties
	// is about a kilobyte, so two generations stay under about 10 MiB.
	recentPerGeneration = 4096
)

func newRecentPayments() *recentPayments {
	return &recentPayments{cur: map[string]recentPayment{}, old: map[string]recentPayment{}}
}

// get returns the legacy payment with token in scope remembered at most
// recentLifetime before now.
func (r *recentPayments) get(scope store.Scope, token string, now time.Time) (Transaction, bool) {
	r.mu.Lock()
	e, ok := r.cur[token]
	if !ok {
		e, ok = r.old[token]
	}
	r.mu.Unlock()
	p := e.t.Payment
	if !ok || now.Sub(e.at) > recentLifetime || now.Before(e.at) ||
		p.MerchantID != scope.MerchantID || p.Book != scope.Book || p.Kind != store.WalletPayment {
		return Transaction{}, false
	}
	return e.t, true
}

// put remembers t, as its write just committed, at now.
func (r *recentPayments) put(t Transaction, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cur) >= recentPerGeneration {
		r.old, r.cur = r.cur, make(map[string]recentPayment, recentPerGeneration)
	}
	delete(r.old, t.Payment.Token)
	r.cur[t.Payment.Token] = recentPayment{t: t, at: now}
}

// forget drops the payment with token, whose next step no longer follows
// the common path (it was captured, refused or failed).
func (r *recentPayments) forget(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cur, token)
	delete(r.old, token)
}

// len is how many payments are remembered, for tests.
func (r *recentPayments) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cur) + len(r.old)
}
