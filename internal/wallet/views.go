package wallet

import (
	"html/template"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// Each page is a template file in assets/ (its name without .html) and
// one of these views.

// signUpView is signup.html: the sign-up form, echoing what was typed.
type signUpView struct {
	site.Frame
	Mobile, Name string
}

// codeView is confirm.html: the sign-up code's form.
type codeView struct {
	site.Frame
	Mobile, Masked, Challenge string
}

// loginView is login.html.
type loginView struct {
	site.Frame
	Mobile string
}

// resetView is reset.html: ask for a code to reset the MPIN. Signed in,
// the code goes to the wallet's own phone and no number is asked.
type resetView struct {
	site.Frame
	SignedIn       bool
	Mobile, Masked string
}

// resetCodeView is reset-code.html: the code and the new MPIN.
type resetCodeView struct {
	site.Frame
	SignedIn                  bool
	Mobile, Masked, Challenge string
}

// overviewView is overview.html: the wallet at a glance.
type overviewView struct {
	site.Frame
	Consumer store.Consumer
	Lock     string // what the wallet's lock is, if it is locked now
	Balances []balance
	Payments []payment.WalletPayment // the latest few
	Notices  []store.ConsumerNotice  // the latest few, newest first
	// More* say there are more than the overview shows.
	MorePayments, MoreNotices bool
}

// balance is one book's balance; live first, the money that is real.
type balance struct {
	Book   ledger.Book
	Amount money.Paisa
}

func balances(info payment.WalletInfo) []balance {
	return []balance{{ledger.Live, info.Balances[ledger.Live]}, {ledger.Test, info.Balances[ledger.Test]}}
}

// paymentsView is payments.html: the payment history.
type paymentsView struct {
	site.Frame
	Payments []payment.WalletPayment
}

// noticesView is notices.html.
type noticesView struct {
	site.Frame
	Notices []store.ConsumerNotice
}

// funcs are the wallet templates' own functions, beside site's.
var funcs = template.FuncMap{"stateClass": stateClass}

// stateClass is the badge class of a payment state: done, waiting or
// failed; a refund is neither good nor bad news.
func stateClass(s store.State) string {
	switch s {
	case store.Completed:
		return "good"
	case store.Initiated, store.Pending, store.Confirmed:
		return "wait"
	case store.Failed, store.Expired, store.UserCanceled, store.Disabled:
		return "bad"
	}
	return ""
}
