package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// Bank list page sizes: clients send page_size=100 (web widget) or 200
// (mobile SDKs); without one, every bank of a typical list fits one page,
// as in Khalti's sample of 14 banks on one page.
const (
	defaultBankPageSize = 100
	maxBankPageSize     = 200
)

// bankJSON is a bank-list record, fields in the order of docs/khalti.md §6.
type bankJSON struct {
	Idx               string     `json:"idx"`
	Name              string     `json:"name"`
	ShortName         string     `json:"short_name"`
	Logo              string     `json:"logo"`
	SwiftCode         string     `json:"swift_code"`
	HasCardpayment    bool       `json:"has_cardpayment"`
	Address           string     `json:"address"`
	EbankingURL       string     `json:"ebanking_url"`
	HasEbanking       bool       `json:"has_ebanking"`
	HasMobileCheckout bool       `json:"has_mobile_checkout"`
	HasDirectWithdraw bool       `json:"has_direct_withdraw"`
	HasNCHL           bool       `json:"has_nchl"`
	HasMobileBanking  bool       `json:"has_mobile_banking"`
	PlayStore         string     `json:"play_store"`
	AppStore          string     `json:"app_store"`
	Branches          []struct{} `json:"branches"` // always empty
}

func bankRecord(b store.Bank) bankJSON {
	return bankJSON{
		Idx: b.Idx, Name: b.Name, ShortName: b.ShortName, Logo: b.Logo, SwiftCode: b.SwiftCode,
		HasCardpayment: b.HasCardpayment, Address: b.Address, EbankingURL: b.EbankingURL,
		HasEbanking: b.HasEbanking, HasMobileCheckout: b.HasMobileCheckout, HasDirectWithdraw: b.HasDirectWithdraw,
		HasNCHL: b.HasNCHL, HasMobileBanking: b.HasMobileBanking, PlayStore: b.PlayStore, AppStore: b.AppStore,
		Branches: []struct{}{},
	}
}

// handleBanks is GET /api/v5/bank/ and its older aliases /api/v2/bank/ and
// /api/bank/ (docs/khalti.md §6): no authentication, the pagination envelope, and
// the filters payment_type and has_ebanking, has_cardpayment,
// has_mobile_banking (true or false). Filters on one flag that contradict
// each other select nothing.
func (s *Server) handleBanks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	bq := payment.BankQuery{Page: 1, PageSize: defaultBankPageSize}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &fault.Error{Kind: fault.KindNotFound, Detail: "Invalid page."}
		}
		bq.Page = n
	}
	if v := q.Get("page_size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			bq.PageSize = min(n, maxBankPageSize)
		}
	}
	fields := map[string][]string{}
	contradiction := false
	set := func(dst **bool, v bool) {
		if *dst != nil && **dst != v {
			contradiction = true
		}
		*dst = &v
	}
	if v := q.Get("payment_type"); v != "" {
		switch v {
		case "ebanking", "sdkebanking":
			set(&bq.HasEbanking, true)
		case "mobilecheckout":
			set(&bq.HasMobileCheckout, true)
		case "connectips":
			set(&bq.HasNCHL, true)
		case "sct":
			set(&bq.HasCardpayment, true)
		default:
			fields["payment_type"] = []string{"Select a valid choice. " + v + " is not one of the available choices."}
		}
	}
	for _, flag := range []struct {
		name string
		dst  **bool
	}{{"has_ebanking", &bq.HasEbanking}, {"has_cardpayment", &bq.HasCardpayment}, {"has_mobile_banking", &bq.HasMobileBanking}} {
		switch v := strings.ToLower(q.Get(flag.name)); v {
		case "":
		case "true", "1":
			set(flag.dst, true)
		case "false", "0":
			set(flag.dst, false)
		default:
			fields[flag.name] = []string{"Must be a valid boolean."}
		}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return err
	}
	var banks []store.Bank
	total := 0
	if !contradiction {
		var err error
		if banks, total, err = s.svc.ListBanks(r.Context(), bq); err != nil {
			return err
		}
	}
	totalPages := max(1, (total+bq.PageSize-1)/bq.PageSize)
	if bq.Page > totalPages {
		return &fault.Error{Kind: fault.KindNotFound, Detail: "Invalid page."}
	}
	records := make([]bankJSON, 0, len(banks))
	for _, b := range banks {
		records = append(records, bankRecord(b))
	}
	first := (bq.Page-1)*bq.PageSize + 1
	rng := []int{first, first + len(records) - 1}
	if len(records) == 0 {
		rng = []int{0, 0}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total_pages": totalPages, "total_records": total,
		"next": s.pageLink(r, bq.Page+1, bq.Page < totalPages), "previous": s.pageLink(r, bq.Page-1, bq.Page > 1),
		"record_range": rng, "current_page": bq.Page, "records": records,
	})
	return nil
}
