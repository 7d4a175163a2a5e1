package payment

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/store"
)

// NewBank describes a bank to add to the bank list. Thaili pays from
// wallets only, so the flags only say what clients may offer the bank for.
type NewBank struct {
	Name        string // required
	ShortName   string // required
	Logo        string // optional http(s) URL
	SwiftCode   string // optional BIC: 8 or 11 letters and digits
	Address     string
	EbankingURL string // optional http(s) URL
	PlayStore   string // optional http(s) URL
	AppStore    string // optional http(s) URL

	HasEbanking       bool
	HasMobileCheckout bool
	HasDirectWithdraw bool
	HasNCHL           bool
	HasMobileBanking  bool
	HasCardpayment    bool
}

// Longest accepted bank texts.
const (
	maxBankText = 200
	maxBankURL  = 1000
)

var swiftPattern = regexp.MustCompile(`^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$`)

// AddBank validates in and adds it to the bank list with a new idx, for
// actor; it is audited (bank.add). Field errors are keyed by the wire
// names (name, short_name, logo, ...).
func (s *Service) AddBank(ctx context.Context, actor identity.Actor, in NewBank) (store.Bank, error) {
	b := store.Bank{
		Name: strings.TrimSpace(in.Name), ShortName: strings.TrimSpace(in.ShortName),
		Logo: strings.TrimSpace(in.Logo), SwiftCode: strings.ToUpper(strings.TrimSpace(in.SwiftCode)),
		Address: strings.TrimSpace(in.Address), EbankingURL: strings.TrimSpace(in.EbankingURL),
		PlayStore: strings.TrimSpace(in.PlayStore), AppStore: strings.TrimSpace(in.AppStore),
		HasEbanking: in.HasEbanking, HasMobileCheckout: in.HasMobileCheckout, HasDirectWithdraw: in.HasDirectWithdraw,
		HasNCHL: in.HasNCHL, HasMobileBanking: in.HasMobileBanking, HasCardpayment: in.HasCardpayment,
	}
	fields := map[string][]string{}
	for _, f := range []struct {
		name     string
		value    string
		required bool
	}{{"name", b.Name, true}, {"short_name", b.ShortName, true}, {"address", b.Address, false}} {
		if msg := checkBankText(f.value, f.required, maxBankText); msg != "" {
			fields[f.name] = []string{msg}
		}
	}
	if b.SwiftCode != "" && !swiftPattern.MatchString(b.SwiftCode) {
		fields["swift_code"] = []string{"Enter a valid SWIFT code (8 or 11 letters and digits)."}
	}
	for _, f := range []struct{ name, value string }{
		{"logo", b.Logo}, {"ebanking_url", b.EbankingURL}, {"play_store", b.PlayStore}, {"app_store", b.AppStore},
	} {
		if msg := checkBankURL(f.value); msg != "" {
			fields[f.name] = []string{msg}
		}
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Bank{}, err
	}
	b.Idx, b.CreatedAt = s.ids.New(), s.now()
	// A fresh 128-bit idx does not collide, so ErrDuplicate is internal.
	err := s.id.OperatorAction(ctx, actor, identity.AuditAddBank, func(tx store.Tx) (identity.AuditRecord, error) {
		return identity.AuditRecord{Subject: b.Idx, Detail: b.ShortName + " " + b.Name}, tx.CreateBank(ctx, &b)
	})
	if err != nil {
		return store.Bank{}, err
	}
	return b, nil
}

// checkBankText returns why v is not an acceptable name, or "".
func checkBankText(v string, required bool, limit int) string {
	switch {
	case v == "" && required:
		return fault.MsgRequired
	case !utf8.ValidString(v):
		return "Enter valid UTF-8 text."
	case utf8.RuneCountInString(v) > limit:
		return fmt.Sprintf("Ensure this field has no more than %d characters.", limit)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "Control characters are not allowed."
	}
	return ""
}

// checkBankURL returns why v is not an empty or absolute http(s) URL, or "".
func checkBankURL(v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		len(v) > maxBankURL || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "Enter a valid http or https URL."
	}
	return ""
}

// BankQuery selects a page of the bank list. A nil flag does not filter.
type BankQuery struct {
	HasEbanking       *bool
	HasMobileCheckout *bool
	HasNCHL           *bool
	HasCardpayment    *bool
	HasMobileBanking  *bool
	Page              int // 1-based
	PageSize          int
}

// ListBanks returns one page of the banks q selects, ordered by name, and
// how many it selects in all.
func (s *Service) ListBanks(ctx context.Context, q BankQuery) ([]store.Bank, int, error) {
	if q.Page < 1 || q.PageSize < 1 {
		return nil, 0, &fault.Error{Kind: fault.KindNotFound, Detail: "Invalid page."}
	}
	var banks []store.Bank
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		banks, total, err = tx.ListBanks(ctx, store.BankFilter{
			HasEbanking: q.HasEbanking, HasMobileCheckout: q.HasMobileCheckout, HasNCHL: q.HasNCHL,
			HasCardpayment: q.HasCardpayment, HasMobileBanking: q.HasMobileBanking,
			Offset: (q.Page - 1) * q.PageSize, Limit: q.PageSize})
		return err
	})
	if err != nil {
		return nil, 0, fault.Wrap(err)
	}
	return banks, total, nil
}
