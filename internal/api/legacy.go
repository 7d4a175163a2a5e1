package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// secretCaller authenticates the Authorization header ("Key <secret>",
// keyword in any case) with DRF's exact 401 messages.
func (s *Server) secretCaller(r *http.Request) (identity.Caller, error) {
	return s.keyCaller(r, store.SecretKey)
}

// handleInitiate is POST /api/v2/payment/initiate/ (docs/khalti.md §5.1).
func (s *Server) handleInitiate(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := payment.InitiateInput{
		PublicKey:       f.str("public_key", true),
		Mobile:          f.str("mobile", true),
		MPIN:            f.str("transaction_pin", true),
		Amount:          f.amount("amount"),
		ProductIdentity: f.str("product_identity", true),
		ProductName:     f.str("product_name", true),
		ProductURL:      f.str("product_url", false),
		Extra:           f.extras(),
	}
	if err := f.err(); err != nil {
		return err
	}
	res, err := s.svc.Initiate(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": res.Token, "pin_created": false, "pin_created_message": ""})
	return nil
}

// handleConfirm is POST /api/v2/payment/confirm/ (docs/khalti.md §5.2).
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := payment.ConfirmInput{
		PublicKey:        f.str("public_key", true),
		Token:            f.str("token", true),
		ConfirmationCode: f.str("confirmation_code", true),
		MPIN:             f.str("transaction_pin", true),
	}
	if err := f.err(); err != nil {
		return err
	}
	t, err := s.svc.Confirm(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, confirmBody(t))
	return nil
}

// handleVerify is POST /api/v2/payment/verify/ (docs/khalti.md §5.3).
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	token, amount := f.str("token", true), f.amount("amount")
	if err := f.err(); err != nil {
		return err
	}
	t, err := s.svc.Verify(r.Context(), caller, token, amount)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, record(t))
	return nil
}

// statusBodies are the status API's answers, misspellings included.
var statusBodies = map[store.State]map[string]any{
	store.Completed:         {"status": true, "detail": "Transaction complete.", "state": "Complete"},
	store.Initiated:         {"status": true, "detail": "Transaciton initiated.", "state": "Initiated"},
	store.Confirmed:         {"status": true, "detail": "Transaciton not verified.", "state": "Confirmed"},
	store.Refunded:          {"status": false, "detail": "Transaciton refunded.", "state": "Refunded"},
	store.PartiallyRefunded: {"status": false, "detail": "Transaction partially refunded.", "state": "Partially refunded"},
	store.Failed:            {"status": false, "detail": "Transaction failed.", "state": "Failed"},
	store.Disabled:          {"status": false, "detail": "Transaction failed.", "state": "Failed"},
}

// handleStatus is GET /api/v2/payment/status/?token=&amount= (docs/khalti.md §5.4).
// Every answer about a transaction, found or not, is HTTP 200 with
// "status" in the body, as the documented bodies suggest.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	f := queryForm(r.URL.Query())
	token, amount := f.str("token", true), f.amount("amount")
	if err := f.err(); err != nil {
		return err
	}
	p, err := s.svc.Status(r.Context(), caller, token, amount)
	if e := fault.AsError(err); err != nil && e.Kind == fault.KindNotFound {
		writeJSON(w, http.StatusOK, map[string]any{"status": false, "state": "Error", "detail": "Transaction not found"})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusBodies[p.State])
	return nil
}

const (
	defaultPageSize = 10
	maxPageSize     = 100
)

// handleList is GET /api/v2/merchant-transaction/ (docs/khalti.md §5.5), with the
// pagination envelope of docs/khalti.md §2.10 and filters state, start_date and
// end_date (YYYY-MM-DD in Nepal time, inclusive).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	lq := payment.ListQuery{Page: 1, PageSize: defaultPageSize}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &fault.Error{Kind: fault.KindNotFound, Detail: "Invalid page."}
		}
		lq.Page = n
	}
	if v := q.Get("page_size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			lq.PageSize = min(n, maxPageSize)
		}
	}
	fields := map[string][]string{}
	if v := q.Get("state"); v != "" {
		for _, name := range strings.Split(v, ",") {
			st, ok := parseState(strings.TrimSpace(name))
			if !ok {
				fields["state"] = append(fields["state"], "Select a valid choice. "+name+" is not one of the available choices.")
				continue
			}
			lq.States = append(lq.States, st)
		}
	}
	for _, bound := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"start_date", &lq.From, 0}, {"end_date", &lq.To, 1}} {
		if v := q.Get(bound.name); v != "" {
			d, err := time.ParseInLocation("2006-01-02", v, nepal.Zone)
			if err != nil {
				fields[bound.name] = []string{"Enter a valid date in the format YYYY-MM-DD."}
				continue
			}
			*bound.dst = d.AddDate(0, 0, bound.add)
		}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return err
	}
	page, err := s.svc.List(r.Context(), caller, lq)
	if err != nil {
		return err
	}
	totalPages := max(1, (page.Total+lq.PageSize-1)/lq.PageSize)
	if lq.Page > totalPages {
		return &fault.Error{Kind: fault.KindNotFound, Detail: "Invalid page."}
	}
	records := make([]recordJSON, 0, len(page.Transactions))
	for _, t := range page.Transactions {
		records = append(records, record(t))
	}
	first := (lq.Page-1)*lq.PageSize + 1
	rng := []int{first, first + len(records) - 1}
	if len(records) == 0 {
		rng = []int{0, 0}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total_pages": totalPages, "total_records": page.Total,
		"next": s.pageLink(r, lq.Page+1, lq.Page < totalPages), "previous": s.pageLink(r, lq.Page-1, lq.Page > 1),
		"record_range": rng, "current_page": lq.Page, "records": records,
	})
	return nil
}

// pageLink is the absolute URL of another page of the same query, or nil.
func (s *Server) pageLink(r *http.Request, page int, ok bool) any {
	if !ok {
		return nil
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return s.publicURL + u.String()
}

// parseState accepts a state name in any case; "Complete" (the status
// API's spelling) means Completed.
func parseState(name string) (store.State, bool) {
	if strings.EqualFold(name, "Complete") {
		return store.Completed, true
	}
	for _, st := range store.States {
		if strings.EqualFold(name, string(st)) {
			return st, true
		}
	}
	return "", false
}

// handleDetail is GET /api/v2/merchant-transaction/<idx>/ (docs/khalti.md §5.6).
func (s *Server) handleDetail(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	t, err := s.svc.Detail(r.Context(), caller, r.PathValue("idx"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, detail(s.svc, t))
	return nil
}

// handleRefund is POST /api/merchant-transaction/<idx>/refund/ (docs/khalti.md §4):
// no amount refunds what remains, {"amount": n} refunds n paisa.
func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request) error {
	caller, err := s.secretCaller(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	amount := f.optionalAmount("amount")
	if err := f.err(); err != nil {
		return err
	}
	if err := s.svc.Refund(r.Context(), caller, r.PathValue("idx"), amount); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"detail": fault.MsgRefundSuccessful})
	return nil
}
