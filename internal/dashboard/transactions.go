package dashboard

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// Transactions serves GET /dashboard/transactions/{$}: a page of the
// book's transactions, filtered by ?book, state, from, to (YYYY-MM-DD,
// Nepal time, both inclusive), min, max (rupees, inclusive), order (order
// id, product identity or name, or an idx) and page.
func (p *Pages) Transactions() http.Handler { return p.site.Get(p.transactions) }

// TransactionsCSV serves GET /dashboard/transactions.csv: every row the
// same filters select (no paging), amounts in paisa.
func (p *Pages) TransactionsCSV() http.Handler { return p.site.Get(p.transactionsCSV) }

// Transaction serves GET /dashboard/transactions/{idx}/{$}: one
// transaction, its fee, its refunds so far and the refund form.
func (p *Pages) Transaction() http.Handler { return p.site.Get(p.transaction) }

// Refund serves POST /dashboard/transactions/{idx}/refund: full=yes
// refunds what remains, else amount (rupees, up to 2 decimals) is refunded.
func (p *Pages) Refund() http.Handler { return p.site.Post(p.refund) }

const (
	txPageSize = 25
	csvBatch   = 500
	csvMaxRows = 50000
)

// txStates are the states the filter offers.
var txStates = []store.State{store.Initiated, store.Confirmed, store.Pending, store.Completed, store.PartiallyRefunded,
	store.Refunded, store.Failed, store.Expired, store.UserCanceled, store.Disabled}

// txFilter is the table's filters as typed; Page is 1-based.
type txFilter struct {
	Book                      ledger.Book
	State, From, To, Min, Max string
	Order                     string
	Page                      int
	query                     payment.ListQuery
}

// values are the non-empty filters as a query string (page only past 1).
func (f txFilter) values(page int) string {
	v := url.Values{}
	v.Set("book", string(f.Book))
	for k, s := range map[string]string{"state": f.State, "from": f.From, "to": f.To, "min": f.Min, "max": f.Max, "order": f.Order} {
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
	FeeIdx             string
	Remaining          money.Paisa
	CanRefund          bool
	Completed, Updated string
	WhyNot             string
}

var rupeesRE = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,2})?$`)

// parseRupees reads an amount in rupees with at most 2 decimals.
func parseRupees(s string) (money.Paisa, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "Rs"))
	if !rupeesRE.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > int64(money.Max) {
		return 0, false
	}
	return money.Paisa(n), true
}

// parseFilter reads the filters of q; problems are returned as messages.
func parseFilter(q url.Values, book ledger.Book) (txFilter, []string) {
	f := txFilter{Book: book, State: q.Get("state"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max")), Order: strings.TrimSpace(q.Get("order")), Page: 1}
	f.query = payment.ListQuery{Page: 1, PageSize: txPageSize, Query: f.Order}
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
		if !slices.Contains(txStates, store.State(f.State)) {
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
	if len(f.Order) > 100 {
		errs = append(errs, "Order id or product must be at most 100 characters.")
	} else if !utf8.ValidString(f.Order) || strings.ContainsFunc(f.Order, unicode.IsControl) {
		errs = append(errs, "Order id or product must be plain text, without control characters.")
	}
	return f, errs
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

// txView is the transactions table's view.
type txView struct {
	site.Frame
	// The chosen book and the books there are, the filters, a page of
	// rows with paging and export links, and the state choices.
	Book                     ledger.Book
	OwnBooks                 []ledger.Book
	Filter                   txFilter
	Txns                     []txRow
	Total, PageNo, Pages     int
	PrevURL, NextURL, CSVURL string
	States                   []store.State
}

func (p *Pages) transactions(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	caller, books, err := p.hookCaller(r, s.User, q.Get("book"))
	if err != nil {
		p.fail(w, r, s, "Transactions", err)
		return
	}
	f, errs := parseFilter(q, caller.Book)
	v := &txView{Frame: p.frame(s, "Transactions", "Transactions"), Book: caller.Book, OwnBooks: books, Filter: f, States: txStates}
	if len(errs) > 0 {
		v.Status, v.Errors = http.StatusBadRequest, errs
		p.render(w, r, "transactions", v)
		return
	}
	page, err := p.svc.List(r.Context(), caller, f.query)
	if err != nil {
		p.fail(w, r, s, "Transactions", err)
		return
	}
	for _, t := range page.Transactions {
		v.Txns = append(v.Txns, row(t))
	}
	v.Total, v.PageNo, v.Pages = page.Total, f.Page, max(1, (page.Total+txPageSize-1)/txPageSize)
	if f.Page > 1 {
		v.PrevURL = "/dashboard/transactions/?" + f.values(min(f.Page-1, v.Pages))
	}
	if f.Page < v.Pages {
		v.NextURL = "/dashboard/transactions/?" + f.values(f.Page+1)
	}
	v.CSVURL = "/dashboard/transactions.csv?" + f.values(1)
	p.render(w, r, "transactions", v)
}

// csvHeader is the export's first row.
var csvHeader = []string{"created_on", "idx", "order_id", "product", "payer", "amount_paisa", "fee_paisa", "refunded_paisa", "state"}

func (p *Pages) transactionsCSV(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	caller, _, err := p.hookCaller(r, s.User, q.Get("book"))
	if err != nil {
		p.fail(w, r, s, "Transactions", err)
		return
	}
	f, errs := parseFilter(q, caller.Book)
	if len(errs) > 0 {
		v := p.frame(s, "Transactions", "Transactions")
		v.Status, v.Errors, v.Message = http.StatusBadRequest, errs, "The export's filters are not valid."
		p.pages.Message(w, r, v)
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
			p.fail(w, r, s, "Transactions", err)
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
		p.fail(w, r, s, "Transactions", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="thaili-%s-transactions.csv"`, caller.Book))
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
	site.Frame
	Book     ledger.Book
	OwnBooks []ledger.Book
	Txn      txDetail
	// Amount is the refund amount echoed back.
	Amount string
}

func (p *Pages) transaction(w http.ResponseWriter, r *http.Request, s session) {
	caller, books, err := p.hookCaller(r, s.User, r.URL.Query().Get("book"))
	if err != nil {
		p.fail(w, r, s, "Transactions", err)
		return
	}
	p.renderTransaction(w, r, s, caller, books, r.PathValue("idx"), p.txDetailView(s))
}

func (p *Pages) txDetailView(s session) *txDetailView {
	return &txDetailView{Frame: p.frame(s, "Transaction", "Transactions")}
}

func (p *Pages) refund(w http.ResponseWriter, r *http.Request, s session) {
	caller, books, err := p.hookCaller(r, s.User, r.PostFormValue("book"))
	if err != nil {
		p.fail(w, r, s, "Transactions", err)
		return
	}
	idx, v := r.PathValue("idx"), p.txDetailView(s)
	var amount *money.Paisa
	if r.PostFormValue("full") != "yes" {
		n, ok := parseRupees(r.PostFormValue("amount"))
		if !ok {
			// Drawn for the caller's transaction only: another merchant's
			// is not found, whatever the form says.
			v.Status, v.Error, v.Amount = http.StatusBadRequest, "Enter the amount to refund in rupees, like 250 or 250.50.", r.PostFormValue("amount")
			p.renderTransaction(w, r, s, caller, books, idx, v)
			return
		}
		amount = &n
	}
	if err := p.svc.Refund(r.Context(), caller, idx, amount); err != nil {
		// Another merchant's transaction is not found when the page is
		// drawn again, as a missing one is.
		v.Amount = r.PostFormValue("amount")
		if p.explain(w, r, err, v) {
			p.renderTransaction(w, r, s, caller, books, idx, v)
		}
		return
	}
	v.Notice = "The remaining amount was refunded to the payer."
	if amount != nil {
		v.Notice = amount.String() + " was refunded to the payer."
	}
	p.renderTransaction(w, r, s, caller, books, idx, v)
}

// msgNoTransaction is the not-found page of a transaction: the same for
// a missing one and another merchant's.
const msgNoTransaction = "There is no such transaction."

// renderTransaction fills v with transaction idx of the caller's.
func (p *Pages) renderTransaction(w http.ResponseWriter, r *http.Request, s session, caller identity.Caller, books []ledger.Book, idx string, v *txDetailView) {
	t, err := p.svc.Detail(r.Context(), caller, idx)
	if err != nil {
		p.fail(w, r, s, "Transactions", notFound(err, msgNoTransaction))
		return
	}
	pm := t.Payment
	d := txDetail{txRow: row(t), Kind: string(pm.Kind), ProductURL: pm.ProductURL, Remaining: pm.Amount - pm.Refunded,
		CanRefund: p.svc.CanRefund(pm), Completed: inNepal(pm.CompletedAt), Updated: inNepal(pm.UpdatedAt)}
	d.Date = inNepal(pm.CreatedAt)
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
	v.Book, v.OwnBooks, v.Txn = caller.Book, books, d
	p.render(w, r, "transaction", v)
}
