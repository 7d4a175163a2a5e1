package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// Fees serves GET /admin/merchants/{idx}/fees/{$}: a merchant's fee
// schedules with a form to edit each book's.
func (p *Pages) Fees() http.Handler { return p.sessionGet(p.fees) }

// SetFees serves POST /admin/merchants/{idx}/fees/{$}.
func (p *Pages) SetFees() http.Handler { return p.sessionPost(p.setFees) }

// feeForm is one book's schedule: as it stands, and as the form's rows
// (the submitted ones when a change was refused).
type feeForm struct {
	Book    ledger.Book
	Current []string
	Rows    []feeInput
}

// feeInput is one tier row of the form, as typed.
type feeInput struct {
	From, To, Percent, Flat string
}

// percentRE is a percentage with at most two decimals, up to 100.00.
var percentRE = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,2})?$`)

func (p *Pages) fees(w http.ResponseWriter, r *http.Request, _ string, _ store.Operator, v view) {
	info, err := p.svc.MerchantDetails(r.Context(), r.PathValue("idx"))
	if err != nil {
		if fault.AsError(err).Kind == fault.KindNotFound {
			v.Status, v.Title, v.Message = http.StatusNotFound, "Not found", "There is no such merchant."
			p.render(w, v)
			return
		}
		p.render(w, p.failure(r, err, view{}))
		return
	}
	v.Title, v.Page, v.FeeMerchant = "Fees of "+info.Merchant.Name, "fees", info.Merchant
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		f := feeForm{Book: b}
		for _, t := range info.Fees[b] {
			f.Current = append(f.Current, payment.DescribeFeeTier(t))
			in := feeInput{From: strconv.FormatInt(int64(t.MinAmount), 10), Percent: percentText(t.PercentBps), Flat: strconv.FormatInt(int64(t.Flat), 10)}
			if t.MaxAmount != 0 {
				in.To = strconv.FormatInt(int64(t.MaxAmount), 10)
			}
			f.Rows = append(f.Rows, in)
		}
		if v.FeeBook == b && v.FeeRows != nil {
			f.Rows = v.FeeRows
		}
		for len(f.Rows) < payment.MaxFeeTiers {
			f.Rows = append(f.Rows, feeInput{})
		}
		v.FeeForms = append(v.FeeForms, f)
	}
	p.render(w, v)
}

func (p *Pages) setFees(w http.ResponseWriter, r *http.Request, id string, o store.Operator, v view) {
	book := ledger.Book(r.PostFormValue("book"))
	rows := make([]feeInput, payment.MaxFeeTiers)
	for i := range rows {
		n := strconv.Itoa(i)
		rows[i] = feeInput{From: strings.TrimSpace(r.PostFormValue("from" + n)), To: strings.TrimSpace(r.PostFormValue("to" + n)),
			Percent: strings.TrimSpace(r.PostFormValue("percent" + n)), Flat: strings.TrimSpace(r.PostFormValue("flat" + n))}
	}
	tiers, err := parseTiers(rows)
	var m store.Merchant
	if err == nil {
		m, err = p.svc.SetFeeSchedule(r.Context(), identity.ConsoleOperator(o), r.PathValue("idx"), book, tiers)
	}
	if err != nil {
		v.FeeBook, v.FeeRows = book, rows
		p.failed(w, r, id, o, err, v, p.fees)
		return
	}
	v.Notice = "The " + string(book) + " fee schedule of " + m.Name + " is now: " + payment.DescribeFees(tiers) + "."
	p.fees(w, r, id, o, v)
}

// parseTiers reads the form's rows, skipping blank ones: amounts in
// whole paisa, an empty "to" for no upper limit, the rate in percent.
func parseTiers(rows []feeInput) ([]store.FeeTier, error) {
	var tiers []store.FeeTier
	for _, in := range rows {
		if in == (feeInput{}) {
			continue
		}
		tier := len(tiers) + 1
		bad := func(msg string) error { return fault.FieldError("tiers", "Tier "+strconv.Itoa(tier)+": "+msg) }
		var t store.FeeTier
		var ok bool
		if t.MinAmount, ok = paisa(in.From, false); !ok {
			return nil, bad("enter where it starts in paisa, a whole number.")
		}
		if t.MaxAmount, ok = paisa(in.To, true); !ok {
			return nil, bad("enter where it ends in paisa, a whole number, or leave it empty for no upper limit.")
		}
		if t.Flat, ok = paisa(in.Flat, true); !ok {
			return nil, bad("enter the flat fee in paisa, a whole number.")
		}
		if in.Percent != "" {
			if !percentRE.MatchString(in.Percent) {
				return nil, bad("enter the percentage as a number with at most two decimals, such as 2.5.")
			}
			whole, frac, _ := strings.Cut(in.Percent+".", ".")
			frac = (strings.TrimSuffix(frac, ".") + "00")[:2]
			w, _ := strconv.ParseInt(whole, 10, 64)
			f, _ := strconv.ParseInt(frac, 10, 64)
			t.PercentBps = w*100 + f
		}
		tiers = append(tiers, t)
	}
	return tiers, nil
}

// paisa reads a whole, non-negative number of paisa; empty is 0 when
// allowed.
func paisa(s string, emptyOK bool) (money.Paisa, bool) {
	if s == "" {
		return 0, emptyOK
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return money.Paisa(n), err == nil
}

// percentText writes basis points as the form takes them: 300 is "3",
// 150 "1.5", 25 "0.25".
func percentText(bps int64) string {
	s := strings.TrimRight(fmt.Sprintf("%d.%02d", bps/100, bps%100), "0")
	return strings.TrimSuffix(s, ".")
}
