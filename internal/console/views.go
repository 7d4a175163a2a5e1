package console

import (
	"html/template"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// Each page is a template file in assets/ (its name without .html) and
// one of these views.

// loginView is login.html.
type loginView struct {
	site.Frame
	Email string // echoed after a refused log-in
}

// overviewView is overview.html: the ledger check and the KYC queue.
type overviewView struct {
	site.Frame
	LedgerOK   bool
	Violations []string
	Queue      []store.MerchantSummary
}

// merchantsView is merchants.html: the merchant search.
type merchantsView struct {
	site.Frame
	Query     string
	Merchants []merchantRow
}

// merchantRow is a merchant in the search results with its KYC submission.
type merchantRow struct {
	store.MerchantSummary
	Details   *store.KYCDetails
	Documents []store.KYCDocument
}

// feesView is fees.html: a merchant's fee schedules; FeeBook and FeeRows
// echo a refused form.
type feesView struct {
	site.Frame
	Merchant store.Merchant
	Forms    []feeForm
	FeeBook  ledger.Book
	FeeRows  []feeInput
}

// consumersView is consumers.html: the wallet search with top-up and
// unlock forms.
type consumersView struct {
	site.Frame
	Query       string
	BookChoices []ledger.Book // the top-up form's (Frame.Books is the header's switch)
	Consumers   []consumerRow
	Typed       typedTopup // a refused top-up, shown again in its row
}

// typedTopup is a top-up form as it was sent.
type typedTopup struct {
	Mobile, Amount string
	Book           ledger.Book
}

// consumerRow is a wallet in the search results.
type consumerRow struct {
	store.Consumer
	Test, Live money.Paisa
	Lock       string // what the wallet's lock is, if it is locked now
}

// auditView is audit.html.
type auditView struct {
	site.Frame
	Entries []store.AuditEntry
}

// funcs are the console templates' own functions, beside site's.
var funcs = template.FuncMap{"kycClass": kycClass, "nepalSeconds": nepalSeconds}

// nepalSeconds shows t in Nepal time to the second: the audit log
// orders actions that happen within a minute of each other.
func nepalSeconds(t time.Time) string { return t.In(nepal.Zone).Format("2006-01-02 15:04:05") }

// kycClass is the badge class of a KYC state.
func kycClass(k store.KYC) string {
	switch k {
	case store.KYCApproved:
		return "good"
	case store.KYCSubmitted:
		return "wait"
	case store.KYCRejected:
		return "bad"
	}
	return ""
}
