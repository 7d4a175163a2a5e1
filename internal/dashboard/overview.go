package dashboard

import (
	"net/http"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// Overview serves GET /dashboard/{$}: the book's balance, the last 30
// days' volume, the latest payments and the fees, and what is left
// before going live.
func (p *Pages) Overview() http.Handler { return p.get("Overview", p.overview) }

// recentRows is how many of the latest payments the overview lists.
const recentRows = 5

// overviewView is the overview's view.
type overviewView struct {
	dash
	Merchant store.Merchant
	// Waiting are the books whose new secret key waits, sealed, to be
	// shown once on Keys (the test keys after sign-up, live keys after
	// going live).
	Waiting []ledger.Book
	Balance money.Paisa
	Chart   chart
	Recent  []txRow
	Fees    feeSchedule
	// Steps is the go-live checklist; Done how many of it are done.
	Steps       []step
	Done, Total int
}

func (p *Pages) overview(w http.ResponseWriter, r *http.Request, q req) {
	// The overview reads without revealing: a waiting secret is shown on
	// Keys, where "I have saved it" follows it.
	info, err := p.svc.MerchantDetails(r.Context(), q.User.Idx)
	if err != nil {
		p.fail(w, r, q, "Overview", err)
		return
	}
	book := q.Caller.Book
	v := &overviewView{dash: p.view(q, "Overview", "Overview"), Merchant: info.Merchant, Balance: info.Balances[book]}
	for _, k := range info.Keys {
		if k.Key.Sealed != nil && k.Key.RevokedAt.IsZero() {
			v.Waiting = append(v.Waiting, k.Key.Book)
		}
	}
	days, err := p.svc.DailyVolume(r.Context(), q.User.ID, book, chartDays, nepal.Zone)
	if err != nil {
		p.fail(w, r, q, "Overview", err)
		return
	}
	v.Chart = newChart(book, days)
	recent, err := p.svc.List(r.Context(), q.Caller, payment.ListQuery{Page: 1, PageSize: recentRows})
	if err != nil {
		p.fail(w, r, q, "Overview", err)
		return
	}
	for _, t := range recent.Transactions {
		v.Recent = append(v.Recent, row(t))
	}
	v.Fees = feeSchedules(info.Fees, []ledger.Book{book})[0]
	v.Steps = goLiveSteps(info.Merchant, q.live())
	for _, s := range v.Steps {
		v.Done += btoi(s.IsDone)
	}
	v.Total = len(v.Steps)
	p.render(w, r, "overview", v)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
