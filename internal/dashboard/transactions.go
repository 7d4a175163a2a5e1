package dashboard

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Transactions serves GET /dashboard/transactions/{$}, Payments: a page
// of the book's transactions, filtered by ?book, state, from, to
// (YYYY-MM-DD, Nepal time, both inclusive), min, max (rupees, inclusive),
// q (an idx, a pidx, the payer's mobile, or part of an order id or
// product; order is its old name) and page.
func (p *Pages) Transactions() http.Handler { return p.get("Payments", p.list(payments)) }

// Refunds serves GET /dashboard/refunds/{$}: the same list of the
// refunded payments only, and how refunds work.
func (p *Pages) Refunds() http.Handler { return p.get("Refunds", p.list(refunds)) }

// TransactionsCSV serves GET /dashboard/transactions.csv: every row the
// same filters select (no paging), amounts in paisa.
func (p *Pages) TransactionsCSV() http.Handler { return p.get("Payments", p.csv(payments)) }

// RefundsCSV serves GET /dashboard/refunds.csv: the Refunds page's rows.
func (p *Pages) RefundsCSV() http.Handler { return p.get("Refunds", p.csv(refunds)) }

// Transaction serves GET /dashboard/transactions/{idx}/{$}: one
// transaction, its fee, its refunds so far and the refund form.
func (p *Pages) Transaction() http.Handler { return p.get("Payments", p.transaction) }

// Refund serves POST /dashboard/transactions/{idx}/refund: full=yes
// refunds what remains, else amount (rupees, up to 2 decimals) is refunded.
func (p *Pages) Refund() http.Handler { return p.post("Payments", p.refund) }

const (
	txPageSize = 25
	csvBatch   = 500
	csvMaxRows = 50000
)

// txStates are the states the filter offers.
var txStates = []store.State{store.Initiated, store.Confirmed, store.Pending, store.Completed, store.PartiallyRefunded,
	store.Refunded, store.Failed, store.Expired, store.UserCanceled, store.Disabled}

// listing is a list page of transactions: Payments, or Refunds.
type listing struct {
	Section, Title, Path, CSV string
	// States are the states its filter offers; with Only, no state
	// chosen means these, not all.
	States []store.State
	Only   bool
}

var (
	payments = listing{Section: "Payments", Title: "Payments", Path: "/dashboard/transactions/", CSV: "/dashboard/transactions.csv",
		States: txStates}
	refunds = listing{Section: "Refunds", Title: "Refunds", Path: "/dashboard/refunds/", CSV: "/dashboard/refunds.csv",
		States: []store.State{store.PartiallyRefunded, store.Refunded}, Only: true}
)

// txFilter is the table's filters as typed; Page is 1-based.
type txFilter struct {
	Book                      ledger.Book
	State, From, To, Min, Max string
	Query                     string
	Page                      int
	query                     payment.ListQuery
}

// Set reports whether any filter but the book is set, which opens the
// filters on a phone.
func (f txFilter) Set() bool {
	return f.State != "" || f.From != "" || f.To != "" || f.Min != "" || f.Max != "" || f.Query != ""
}

// values are the non-empty filters as a query string (page only past 1).
func (f txFilter) values(page int) string {
	v := url.Values{}
	v.Set("book", string(f.Book))
	for k, s := range map[string]string{"state": f.State, "from": f.From, "to": f.To, "min": f.Min, "max": f.Max, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

type txRow struct {
	Idx, Date, Order, Product, Payer string
	Amount, Fee, Refunded            money.Paisa
	State                            string
}

type txDetail struct {
	txRow
	Kind, ProductURL   string
	Pidx               string // an ePayment's
	FeeIdx             string
	Remaining          money.Paisa
	CanRefund          bool
	Completed, Updated string
	WhyNot             string
}

// parseRupees reads an amount in rupees as the pages show it or as
// people type it ("Rs 1,234.50", "250.5"); the dashboard words its own
// message for any problem.
func parseRupees(s string) (money.Paisa, bool) {
	n, err := money.ParseRupees(s)
	return n, err == nil
}

// parseFilter reads the filters of q for l; problems are returned as
// messages.
func parseFilter(q url.Values, book ledger.Book, l listing) (txFilter, []string) {
	search := q.Get("q")
	if search == "" {
		search = q.Get("order") // the search's name before issue 13, in shared links
	}
	f := txFilter{Book: book, State: q.Get("state"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max")), Query: strings.TrimSpace(search), Page: 1}
	f.query = payment.ListQuery{Page: 1, PageSize: txPageSize, Query: searchTerm(f.Query)}
	if l.Only {
		f.query.States = l.States
	}
	var errs []string
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, "Page must be a whole number from 1.")
		} else {
			f.Page, f.query.Page = n, n
		}
	}
	if f.State != "" {
		if !slices.Contains(l.States, store.State(f.State)) {
			errs = append(errs, "Choose a state from the list.")
		} else {
			f.query.States = []store.State{store.State(f.State)}
		}
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Time
		add     int
	}{{"From", f.From, &f.query.From, 0}, {"To", f.To, &f.query.To, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.v, nepal.Zone)
		if err != nil {
			errs = append(errs, d.name+" date must be YYYY-MM-DD.")
			continue
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	for _, a := range []struct {
		name, v string
		dst     *money.Paisa
	}{{"Minimum", f.Min, &f.query.MinAmount}, {"Maximum", f.Max, &f.query.MaxAmount}} {
		if a.v == "" {
			continue
		}
		n, ok := parseRupees(a.v)
		if !ok {
			errs = append(errs, a.name+" amount must be in rupees, like 250 or 250.50.")
			continue
		}
		*a.dst = n
	}
	if len(f.Query) > 100 {
		errs = append(errs, "Search must be at most 100 characters.")
	} else if !utf8.ValidString(f.Query) || strings.ContainsFunc(f.Query, unicode.IsControl) {
		errs = append(errs, "Search must be plain text, without control characters.")
	}
	return f, errs
}

// searchTerm is what the store searches for s: a mobile as merchants
// write it (+977 98-0000-0001) as the ten digits the store keeps, and
// anything else as typed.
func searchTerm(s string) string {
	m := strings.NewReplacer(" ", "", "-", "").Replace(s)
	m = strings.TrimPrefix(strings.TrimPrefix(m, "+"), "977")
	if m != s && phone.Valid(m) {
		return m
	}
	return s
}

func row(t payment.Transaction) txRow {
	pm := t.Payment
	r := txRow{Idx: pm.Idx, Date: pm.CreatedAt.In(nepal.Zone).Format("2006-01-02 15:04"), Order: pm.ProductIdentity, Product: pm.ProductName,
		Payer: phone.MaskPayer(t.Consumer.Mobile), Amount: pm.Amount, Refunded: pm.Refunded, State: string(pm.State)}
	if pm.Kind == store.EPayment {
		r.Order, r.Product = pm.PurchaseOrderID, pm.PurchaseOrderName
	}
	if captured(pm.State) {
		r.Fee = pm.FeeAmount
	}
	return r
}

// Badge is the class of the state's badge: good, bad, or wait for a
// payment still on its way; refunds are plain.
func (r txRow) Badge() string {
	switch store.State(r.State) {
	case store.Completed:
		return "good"
	case store.Failed, store.Expired, store.UserCanceled, store.Disabled:
		return "bad"
	case store.Initiated, store.Confirmed, store.Pending:
		return "wait"
	}
	return ""
}

// captured reports whether a payment in s was captured (its fee charged).
func captured(s store.State) bool {
	return s == store.Completed || s == store.PartiallyRefunded || s == store.Refunded
}

// inNepal shows t in Nepal time, or "" when zero.
func inNepal(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(nepal.Zone).Format("2006-01-02 15:04:05 -07:00")
}

// txView is a list page's view.
type txView struct {
	dash
	List listing
	// The filters, the state choices, a page of rows with paging and
	// export links.
	Filter                   txFilter
	States                   []store.State
	Txns                     []txRow
	Total, PageNo, Pages     int
	PrevURL, NextURL, CSVURL string
	// The Refunds page's explanation: the book's balance refunds come
	// from, and how long after completion a payment can be refunded.
	Balance    money.Paisa
	RefundDays int
}

// list serves l's page.
func (p *Pages) list(l listing) handler {
	return func(w http.ResponseWriter, r *http.Request, q req) {
		f, errs := parseFilter(r.URL.Query(), q.Caller.Book, l)
		v := &txView{dash: p.view(q, l.Title, l.Section), List: l, Filter: f, States: l.States,
			RefundDays: int(p.svc.Config().RefundWindow.Hours() / 24)}
		if l.Only {
			info, err := p.svc.MerchantDetails(r.Context(), q.User.Idx)
			if err != nil {
				p.fail(w, r, q, l.Section, err)
				return
			}
			v.Balance = info.Balances[q.Caller.Book]
		}
		if len(errs) > 0 {
			v.Status, v.Errors = http.StatusBadRequest, errs
			p.render(w, r, "transactions", v)
			return
		}
		page, err := p.svc.List(r.Context(), q.Caller, f.query)
		if err != nil {
			p.fail(w, r, q, l.Section, err)
			return
		}
		for _, t := range page.Transactions {
			v.Txns = append(v.Txns, row(t))
		}
		v.Total, v.PageNo, v.Pages = page.Total, f.Page, max(1, (page.Total+txPageSize-1)/txPageSize)
		if f.Page > 1 {
			v.PrevURL = l.Path + "?" + f.values(min(f.Page-1, v.Pages))
		}
		if f.Page < v.Pages {
			v.NextURL = l.Path + "?" + f.values(f.Page+1)
		}
		v.CSVURL = l.CSV + "?" + f.values(1)
		p.render(w, r, "transactions", v)
	}
}

// csvHeader is the export's first row.
var csvHeader = []string{"created_on", "idx", "order_id", "product", "payer", "amount_paisa", "fee_paisa", "refunded_paisa", "state"}

// csv serves the export of l's rows.
func (p *Pages) csv(l listing) handler {
	return func(w http.ResponseWriter, r *http.Request, q req) { p.export(w, r, q, l) }
}

func (p *Pages) export(w http.ResponseWriter, r *http.Request, q req, l listing) {
	caller := q.Caller
	f, errs := parseFilter(r.URL.Query(), caller.Book, l)
	if len(errs) > 0 {
		v := p.view(q, l.Title, l.Section)
		v.Status, v.Errors, v.Message = http.StatusBadRequest, errs, "The export's filters are not valid."
		p.pages.Message(w, r, v.Frame)
		return
	}
	// Every page of the filtered rows, read before anything is written so
	// a failure is still an error page.
	lq := f.query
	lq.PageSize = csvBatch
	var rows []payment.Transaction
	for lq.Page = 1; ; lq.Page++ {
		page, err := p.svc.List(r.Context(), caller, lq)
		if err != nil {
			p.fail(w, r, q, l.Section, err)
			return
		}
		rows = append(rows, page.Transactions...)
		if len(page.Transactions) < csvBatch || len(rows) >= page.Total || len(rows) >= csvMaxRows {
			break
		}
	}
	rows = rows[:min(len(rows), csvMaxRows)]
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(csvHeader)
	for _, t := range rows {
		pm, rw := t.Payment, row(t)
		cw.Write(csvSafe([]string{pm.CreatedAt.In(nepal.Zone).Format("2006-01-02T15:04:05.000000-07:00"), rw.Idx, rw.Order, rw.Product, rw.Payer,
			strconv.FormatInt(int64(rw.Amount), 10), strconv.FormatInt(int64(rw.Fee), 10), strconv.FormatInt(int64(rw.Refunded), 10), rw.State}))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		p.fail(w, r, q, l.Section, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	name := "transactions"
	if l.Only {
		name = "refunds"
	}
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="thaili-%s-%s.csv"`, caller.Book, name))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}

// csvSafe guards against formula injection: a cell a spreadsheet would
// read as a formula (starting with = + - @, or a tab or carriage return)
// gets a leading single quote.
func csvSafe(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

// txDetailView is one transaction's page.
type txDetailView struct {
	dash
	Txn txDetail
	// Amount is the refund amount echoed back.
	Amount     string
	RefundDays int
}

func (p *Pages) txDetailView(q req) *txDetailView {
	return &txDetailView{dash: p.view(q, "Payment", "Payments"), RefundDays: int(p.svc.Config().RefundWindow.Hours() / 24)}
}

func (p *Pages) transaction(w http.ResponseWriter, r *http.Request, q req) {
	p.renderTransaction(w, r, q, r.PathValue("idx"), p.txDetailView(q))
}

func (p *Pages) refund(w http.ResponseWriter, r *http.Request, q req) {
	idx, v := r.PathValue("idx"), p.txDetailView(q)
	var amount *money.Paisa
	if r.PostFormValue("full") != "yes" {
		n, ok := parseRupees(r.PostFormValue("amount"))
		if !ok {
			// Drawn for the caller's transaction only: another merchant's
			// is not found, whatever the form says.
			v.Status, v.Error, v.Amount = http.StatusBadRequest, "Enter the amount to refund in rupees, like 250 or 250.50.", r.PostFormValue("amount")
			p.renderTransaction(w, r, q, idx, v)
			return
		}
		amount = &n
	}
	if err := p.svc.Refund(r.Context(), q.Caller, idx, amount); err != nil {
		// Another merchant's transaction is not found when the page is
		// drawn again, as a missing one is.
		v.Amount = r.PostFormValue("amount")
		if p.explain(w, r, err, v) {
			p.renderTransaction(w, r, q, idx, v)
		}
		return
	}
	v.Notice = "The remaining amount was refunded to the payer."
	if amount != nil {
		v.Notice = amount.String() + " was refunded to the payer."
	}
	p.renderTransaction(w, r, q, idx, v)
}

// msgNoTransaction is the not-found page of a transaction: the same for
// a missing one and another merchant's.
const msgNoTransaction = "There is no such transaction."

// renderTransaction fills v with transaction idx of the caller's.
func (p *Pages) renderTransaction(w http.ResponseWriter, r *http.Request, q req, idx string, v *txDetailView) {
	t, err := p.svc.Detail(r.Context(), q.Caller, idx)
	if err != nil {
		p.fail(w, r, q, "Payments", notFound(err, msgNoTransaction))
		return
	}
	pm := t.Payment
	d := txDetail{txRow: row(t), Kind: string(pm.Kind), ProductURL: pm.ProductURL, Remaining: pm.Amount - pm.Refunded,
		CanRefund: p.svc.CanRefund(pm), Completed: inNepal(pm.CompletedAt), Updated: inNepal(pm.UpdatedAt)}
	d.Date = inNepal(pm.CreatedAt)
	if pm.Kind == store.EPayment {
		d.Pidx = pm.Token
	}
	if captured(pm.State) && pm.FeeAmount > 0 {
		d.FeeIdx = pm.FeeIdx
	}
	if !captured(pm.State) {
		d.Remaining = 0
	}
	switch {
	case d.CanRefund:
	case pm.State == store.Refunded:
		d.WhyNot = "This transaction is fully refunded."
	case !captured(pm.State):
		d.WhyNot = "Only completed transactions can be refunded."
	default:
		d.WhyNot = "The refund window for this transaction has closed."
	}
	v.Txn = d
	p.render(w, r, "transaction", v)
}
