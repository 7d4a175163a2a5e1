package dashboard

import (
	"fmt"
	"net/http"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// GoLive serves GET /dashboard/go-live/{$}: the go-live checklist, and
// the KYC state, submission and form (kyc.go).
func (p *Pages) GoLive() http.Handler { return p.get("Go live", p.goLive) }

// TestPayment serves GET /dashboard/test-payment/{$}: how to complete a
// test payment, the checklist's first step. Back from the hosted page
// (?pidx=) it shows how that payment ended.
func (p *Pages) TestPayment() http.Handler { return p.get("Go live", p.testPayment) }

// StartTestPayment serves POST /dashboard/test-payment: it initiates a
// test-book ePayment for the merchant, as its server would with the test
// secret key, and sends the browser to the hosted page to pay it.
func (p *Pages) StartTestPayment() http.Handler { return p.post("Go live", p.startTestPayment) }

// step is an item of the go-live checklist.
type step struct {
	ID         string
	Todo, Done string // the item's words, to do and done
	IsDone     bool
	// Link leads to where the step is done.
	Link, LinkText string
}

// goLiveSteps is m's checklist; live is whether it has live keys, which
// its first completed test payment issues.
func goLiveSteps(m store.Merchant, live bool) []step {
	kyc := step{ID: "check-kyc", Todo: "KYC approved", Done: "KYC approved", IsDone: m.KYC == store.KYCApproved,
		Link: "/dashboard/go-live/#kyc"}
	switch m.KYC {
	case store.KYCNone:
		kyc.LinkText = "Submit your KYC details"
	case store.KYCRejected:
		kyc.LinkText = "Submit your KYC details again"
	case store.KYCSubmitted:
		kyc.LinkText = "Submitted: an operator will review it"
	}
	return []step{
		{ID: "check-phone", Todo: "Confirm your phone", Done: "Confirmed your phone", IsDone: m.Confirmed},
		{ID: "check-test-payment", Todo: "Complete a test payment", Done: "Completed a test payment", IsDone: live,
			Link: "/dashboard/test-payment/", LinkText: "Make a test payment"},
		kyc,
	}
}

// goLiveView is the Go live page: the checklist and the KYC part.
type goLiveView struct {
	kycView
	Steps []step
	Live  bool
}

func (p *Pages) goLive(w http.ResponseWriter, r *http.Request, q req) {
	p.renderGoLive(w, r, q, &goLiveView{kycView: kycView{dash: p.view(q, "Go live", "Go live")}})
}

// renderGoLive fills v with the checklist and the merchant's KYC.
func (p *Pages) renderGoLive(w http.ResponseWriter, r *http.Request, q req, v *goLiveView) {
	sub, err := p.id.MerchantKYC(r.Context(), q.User.ID)
	if err != nil {
		p.fail(w, r, q, "Go live", err)
		return
	}
	v.fill(sub)
	v.Live = q.live()
	v.Steps = goLiveSteps(sub.Merchant, v.Live)
	p.render(w, r, "golive", v)
}

// testAmount is what the dashboard's test payment costs: below the
// Rs 200 that needs approved KYC, above the smallest fee tier.
const testAmount money.Paisa = 10000

// testPayView is the test payment page.
type testPayView struct {
	dash
	Amount money.Paisa
	// The test book's fixed code, and in a sandbox its payers and MPIN.
	OTP              string
	Sandbox          bool
	Payer, LastPayer string
	MPIN             string
	// For the curl example: the server, the merchant's test public key
	// and the start of its secret (the secret itself is shown only once).
	PublicURL, PublicKey, SecretPrefix string
	// Result is the test payment the hosted page came back from.
	Result *txRow
}

func (p *Pages) testPayment(w http.ResponseWriter, r *http.Request, q req) {
	info, err := p.svc.MerchantDetails(r.Context(), q.User.Idx)
	if err != nil {
		p.fail(w, r, q, "Go live", err)
		return
	}
	v := &testPayView{dash: p.view(q, "Make a test payment", "Go live"), Amount: testAmount, OTP: p.svc.Config().TestOTP,
		Sandbox: p.sandbox, PublicURL: p.publicURL}
	if p.sandbox {
		v.Payer, v.LastPayer, v.MPIN = payment.SandboxPayers[0], payment.SandboxPayers[len(payment.SandboxPayers)-1], payment.SandboxMPIN
	}
	for _, k := range info.Keys {
		if k.Key.Book == ledger.Test && k.Key.RevokedAt.IsZero() {
			if k.Key.Kind == store.PublicKey {
				v.PublicKey = k.Key.Lookup
			} else {
				v.SecretPrefix = k.Key.Prefix
			}
		}
	}
	if pidx := r.URL.Query().Get("pidx"); pidx != "" && len(pidx) <= 64 {
		test := identity.Caller{Merchant: q.User, Book: ledger.Test, Kind: store.SecretKey}
		page, err := p.svc.List(r.Context(), test, payment.ListQuery{Query: pidx, Page: 1, PageSize: 1})
		if err != nil {
			p.fail(w, r, q, "Go live", err)
			return
		}
		if len(page.Transactions) == 1 && page.Transactions[0].Payment.Token == pidx {
			row := row(page.Transactions[0])
			v.Result = &row
		}
	}
	p.render(w, r, "testpayment", v)
}

func (p *Pages) startTestPayment(w http.ResponseWriter, r *http.Request, q req) {
	// Always the test book, whichever the page was in.
	test := identity.Caller{Merchant: q.User, Book: ledger.Test, Kind: store.SecretKey}
	now := time.Now()
	pm, err := p.svc.InitiateEPayment(r.Context(), test, payment.EPaymentInput{
		ReturnURL: p.publicURL + "/dashboard/test-payment/", WebsiteURL: p.publicURL + "/dashboard/",
		Amount: testAmount, PurchaseOrderID: fmt.Sprintf("dashboard-test-%d", now.Unix()), PurchaseOrderName: "Dashboard test payment",
	})
	if err != nil {
		p.fail(w, r, q, "Go live", err)
		return
	}
	// A path, not the public URL: the page's form-action 'self' also
	// covers where the form's answer redirects.
	http.Redirect(w, r, payment.PaymentURL("", pm), http.StatusSeeOther)
}
