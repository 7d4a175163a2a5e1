package sqlstore

import (
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// The statements whose plans plans_test.go checks, in the text the
// store runs.
const (
	PaymentByID         = paymentByID
	PaymentByIdx        = paymentByIdx
	PaymentByToken      = paymentByToken
	PaymentByPidx       = paymentByPidx
	KeyByLookup         = keyByLookup
	ConsumerByMobile    = consumerByMobile
	ConsumerWithBalance = consumerWithBalance
	IdempotencyByKey    = idempotencyByKey
	DuePayments         = duePayments
	DueLinks            = dueLinks
	DueHeld             = dueHeld
	DailyTotals         = dailyTotalsSQL
	SnapshotAccounts    = snapshotAccounts
	SnapshotPayments    = snapshotPayments
)

var (
	PartiesByToken = partiesByToken
	PartiesByIdx   = partiesByIdx
	Hooked         = hookedQuery
)

// UpdatePayment is UpdatePayment's statement and arguments for p.
func UpdatePayment(p *store.Payment) (string, []any) {
	return updatePayment(p.State), updatePaymentArgs(p)
}

// PostAndUpdate is PostAndUpdate's one statement (PostgreSQL) and its
// arguments, for postings to distinct accounts given in lock order; with
// unhooked, PostAndUpdateUnhooked's.
func PostAndUpdate(e ledger.Entry, at time.Time, p *store.Payment, unhooked bool) (string, []any) {
	return postQuery(len(e.Postings), p, unhooked), postArgs(e, e.Postings, at, p, unhooked)
}

// Numbered is query with PostgreSQL's placeholders.
func Numbered(query string) string { return (&Dialect{Numbered: true}).rebind(query) }

// InsertPayment is CreatePayment's statement, as the store sends it, and
// its arguments for p.
func InsertPayment(p *store.Payment) (string, []any) {
	return insertPayment + " RETURNING id", insertPaymentArgs(p)
}
