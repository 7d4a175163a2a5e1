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

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Transactions serves GET /dashboard/transactions/{$}: a page of the
// book's transactions, filtered by ?book, state, from, to (YYYY-MM-DD,
// Nepal time, both inclusive), min, max (rupees, inclusive), order (order
// id, product identity or name, or an idx) and page.
func (p *Pages) Transactions() http.Handler { return http.HandlerFunc(p.transactions) }

// TransactionsCSV serves GET /dashboard/transactions.csv: every row the
// same filters select (no paging), amounts in paisa.
func (p *Pages) TransactionsCSV() http.Handler { return http.HandlerFunc(p.transactionsCSV) }

// Transaction serves GET /dashboard/transactions/{idx}/{$}: one
// transaction, its fee, its refunds so far and the refund form.
func (p *Pages) Transaction() http.Handler { return http.HandlerFunc(p.transaction) }

// Refund serves POST /dashboard/transactions/{idx}/refund: full=yes
// refunds what remains, else amount (rupees, up to 2 decimals) is refunded.
func (p *Pages) Refund() http.Handler { return p.sessionPost(p.refund) }

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

func (p *Pages) transactions(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	q := r.URL.Query()
	caller, books, err := p.hookCaller(r, m, q.Get("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transactions"})))
		return
	}
	f, errs := parseFilter(q, caller.Book)
	v := p.signedIn(id, view{Title: "Transactions", Page: "transactions", Book: caller.Book, Books: books, Merchant: m,
		Filter: f, States: txStates})
	if len(errs) > 0 {
		v.Status, v.Errors = http.StatusBadRequest, errs
		p.render(w, v)
		return
	}
	page, err := p.svc.List(r.Context(), caller, f.query)
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transactions"})))
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
	p.render(w, v)
}

// csvHeader is the export's first row.
var csvHeader = []string{"created_on", "idx", "order_id", "product", "payer", "amount_paisa", "fee_paisa", "refunded_paisa", "state"}

func (p *Pages) transactionsCSV(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	q := r.URL.Query()
	caller, _, err := p.hookCaller(r, m, q.Get("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transactions"})))
		return
	}
	f, errs := parseFilter(q, caller.Book)
	if len(errs) > 0 {
		p.render(w, p.signedIn(id, view{Status: http.StatusBadRequest, Title: "Transactions", Errors: errs,
			Message: "The export's filters are not valid."}))
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
			p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transactions"})))
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
		p.render(w, p.failure(r, err, view{}))
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

func (p *Pages) transaction(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	caller, books, err := p.hookCaller(r, m, r.URL.Query().Get("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transaction"})))
		return
	}
	p.renderTransaction(w, r, id, caller, books, r.PathValue("idx"), view{})
}

func (p *Pages) refund(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	caller, books, err := p.hookCaller(r, m, r.PostFormValue("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transaction"})))
		return
	}
	idx := r.PathValue("idx")
	// Another merchant's (or book's) transaction is not found before any
	// check of the form.
	if _, err := p.svc.Detail(r.Context(), caller, idx); err != nil {
		p.txFailure(w, r, id, err)
		return
	}
	var amount *money.Paisa
	if r.PostFormValue("full") != "yes" {
		n, ok := parseRupees(r.PostFormValue("amount"))
		if !ok {
			p.renderTransaction(w, r, id, caller, books, idx, view{Status: http.StatusBadRequest,
				Error: "Enter the amount to refund in rupees, like 250 or 250.50.", Amount: r.PostFormValue("amount")})
			return
		}
		amount = &n
	}
	if err := p.svc.Refund(r.Context(), caller, idx, amount); err != nil {
		v := p.failure(r, err, view{Amount: r.PostFormValue("amount")})
		if v.Status == http.StatusInternalServerError || fault.AsError(err).Kind == fault.KindNotFound {
			p.txFailure(w, r, id, err)
			return
		}
		p.renderTransaction(w, r, id, caller, books, idx, v)
		return
	}
	notice := "The remaining amount was refunded to the payer."
	if amount != nil {
		notice = amount.String() + " was refunded to the payer."
	}
	p.renderTransaction(w, r, id, caller, books, idx, view{Notice: notice})
}

// renderTransaction fills v with transaction idx of the caller's.
func (p *Pages) renderTransaction(w http.ResponseWriter, r *http.Request, id string, caller identity.Caller, books []ledger.Book, idx string, v view) {
	t, err := p.svc.Detail(r.Context(), caller, idx)
	if err != nil {
		p.txFailure(w, r, id, err)
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
	v = p.signedIn(id, v)
	v.Title, v.Page, v.Book, v.Books, v.Merchant, v.Txn = "Transaction", "transaction", caller.Book, books, caller.Merchant, d
	p.render(w, v)
}

// txFailure renders err; not found is a 404 page, the same for a missing
// transaction and another merchant's.
func (p *Pages) txFailure(w http.ResponseWriter, r *http.Request, id string, err error) {
	if fault.AsError(err).Kind == fault.KindNotFound {
		p.render(w, p.signedIn(id, view{Status: http.StatusNotFound, Title: "Not found",
			Message: "There is no such transaction."}))
		return
	}
	p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Transaction"})))
}
