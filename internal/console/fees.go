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
func (p *Pages) Fees() http.Handler { return p.site.Get(p.fees) }

// SetFees serves POST /admin/merchants/{idx}/fees/{$}.
func (p *Pages) SetFees() http.Handler { return p.site.Post(p.setFees) }

// feeForm is one book's schedule: as it stands, and as the form's rows
// (the submitted ones when a change was refused).
type feeForm struct {
	Book    ledger.Book
	Current []string
	Rows    []feeInput
}

// feeInput is one tier row of the form, as typed: amounts in rupees.
type feeInput struct {
	From, To, Percent, Flat string
}

// percentRE is a percentage with at most two decimals, up to 100.00.
var percentRE = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,2})?$`)

func (p *Pages) fees(w http.ResponseWriter, r *http.Request, s session) {
	p.feePage(w, r, feesView{Frame: frame("Fees", s, navMerchants)})
}

// feePage shows the fee schedules of the merchant in the path, with v's
// message and, for v.FeeBook, the rows v holds (a refused change).
func (p *Pages) feePage(w http.ResponseWriter, r *http.Request, v feesView) {
	info, err := p.svc.MerchantDetails(r.Context(), r.PathValue("idx"))
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	v.Title, v.Merchant = "Fees of "+info.Merchant.Name, info.Merchant
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		f := feeForm{Book: b}
		for _, t := range info.Fees[b] {
			f.Current = append(f.Current, payment.DescribeFeeTier(t))
			in := feeInput{From: rupeesText(t.MinAmount), Percent: percentText(t.PercentBps), Flat: rupeesText(t.Flat)}
			if t.MaxAmount != 0 {
				in.To = rupeesText(t.MaxAmount)
			}
			f.Rows = append(f.Rows, in)
		}
		if v.FeeBook == b && v.FeeRows != nil {
			f.Rows = v.FeeRows
		}
		for len(f.Rows) < payment.MaxFeeTiers {
			f.Rows = append(f.Rows, feeInput{})
		}
		v.Forms = append(v.Forms, f)
	}
	p.site.Pages.Render(w, r, "fees", &v)
}

func (p *Pages) setFees(w http.ResponseWriter, r *http.Request, s session) {
	book := ledger.Book(r.PostFormValue("book"))
	rows := make([]feeInput, payment.MaxFeeTiers)
	for i := range rows {
		n := strconv.Itoa(i)
		rows[i] = feeInput{From: strings.TrimSpace(r.PostFormValue("from" + n)), To: strings.TrimSpace(r.PostFormValue("to" + n)),
			Percent: strings.TrimSpace(r.PostFormValue("percent" + n)), Flat: strings.TrimSpace(r.PostFormValue("flat" + n))}
	}
	v := feesView{Frame: frame("Fees", s, navMerchants)}
	tiers, err := parseTiers(rows)
	var m store.Merchant
	if err == nil {
		m, err = p.svc.SetFeeSchedule(r.Context(), identity.ConsoleOperator(s.User), r.PathValue("idx"), book, tiers)
	}
	if err != nil {
		if !p.explain(w, r, err, &v.Frame) {
			return
		}
		v.FeeBook, v.FeeRows = book, rows
		p.feePage(w, r, v)
		return
	}
	v.Notice = "The " + string(book) + " fee schedule of " + m.Name + " is now: " + payment.DescribeFees(tiers) + "."
	p.feePage(w, r, v)
}

// parseTiers reads the form's rows, skipping blank ones: amounts in
// rupees (money.ParseRupees), an empty "to" for no upper limit, the rate
// in percent.
func parseTiers(rows []feeInput) ([]store.FeeTier, error) {
	var tiers []store.FeeTier
	for _, in := range rows {
		if in == (feeInput{}) {
			continue
		}
		tier := len(tiers) + 1
		bad := func(msg string) error { return fault.FieldError("tiers", "Tier "+strconv.Itoa(tier)+msg) }
		var t store.FeeTier
		var err error
		if t.MinAmount, err = money.ParseRupees(in.From); err != nil {
			return nil, bad(", from: " + err.Error())
		}
		if t.MaxAmount, err = rupeesOrZero(in.To); err != nil {
			return nil, bad(", to: " + err.Error() + " Leave it empty for no upper limit.")
		}
		if t.Flat, err = rupeesOrZero(in.Flat); err != nil {
			return nil, bad(", flat fee: " + err.Error())
		}
		if in.Percent != "" {
			if !percentRE.MatchString(in.Percent) {
				return nil, bad(": enter the percentage as a number with at most two decimals, such as 2.5.")
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

// rupeesOrZero reads an amount in rupees where empty means none.
func rupeesOrZero(s string) (money.Paisa, error) {
	if s == "" {
		return 0, nil
	}
	return money.ParseRupees(s)
}

// rupeesText writes an amount as the form takes it: rupees with Nepali
// grouping and no "Rs", e.g. "1,500.50".
func rupeesText(p money.Paisa) string { return strings.TrimPrefix(p.String(), "Rs ") }

// percentText writes basis points as the form takes them: 300 is "3",
// 150 "1.5", 25 "0.25".
func percentText(bps int64) string {
	s := strings.TrimRight(fmt.Sprintf("%d.%02d", bps/100, bps%100), "0")
	return strings.TrimSuffix(s, ".")
}
