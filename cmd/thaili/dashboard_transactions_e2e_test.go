package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	dashTxRowRE   = regexp.MustCompile(`<tr id="tx-([0-9A-Za-z]+)">`)
	dashBalanceRE = regexp.MustCompile(`class="stat balance-test">Rs ([0-9,]+)\.([0-9]{2})<`)
)

// payOrder runs a legacy payment with the given product identity and
// name; complete false stops after confirm (the payment stays
// Confirmed, not captured). It returns the idx.
func payOrder(t *testing.T, s *testServer, pk, sk, identity, name string, amount int, complete bool) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
		"public_key": pk, "mobile": "9800000001", "transaction_pin": "1111", "amount": amount,
		"product_identity": identity, "product_name": name}))
	mustStatus(t, r, 200)
	token := r.Body["token"].(string)
	idx := s.confirm(t, pk, token)
	if !complete {
		return idx
	}
	mustStatus(t, s.verify(t, sk, token, amount), 200)
	return idx
}

// dashRows are the transaction idx values a table page lists, in order.
func dashRows(p mpage) []string {
	var out []string
	for _, m := range dashTxRowRE.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

func sameRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%s: rows %q, want %q", what, got, want)
	}
}

// testBalance is the test-book balance on the dashboard, in paisa.
func testBalance(t *testing.T, b *merchantBrowser) int64 {
	t.Helper()
	m := dashBalanceRE.FindStringSubmatch(b.get(t, "/dashboard/").Body)
	if m == nil {
		t.Fatal("no test balance on the dashboard")
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", "")+m[2], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDashboardTransactions(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	anon := newMerchantBrowser(t, s)
	wantRedirect(t, "anonymous transactions", anon.get(t, "/dashboard/transactions/"), "/login/")
	wantRedirect(t, "anonymous csv", anon.get(t, "/dashboard/transactions.csv"), "/login/")
	wantRedirect(t, "anonymous detail", anon.get(t, "/dashboard/transactions/bZQLD9wRVWo4CdESSfuSsB/"), "/login/")

	a := newMerchantBrowser(t, s)
	pk, sk := signUpMerchant(t, a, "Ledger Shop", "ledger@shop.example", "9812345690", "a good password")
	wantPage(t, "dashboard links to transactions", a.get(t, "/dashboard/"), 200, `href="/dashboard/transactions/"`)
	wantPage(t, "empty table", a.get(t, "/dashboard/transactions/"), 200, "No transactions match")

	// Four interesting payments, then enough small ones for two pages.
	tea := payOrder(t, s, pk, sk, "ORD-1", "Tea", 1000, true)
	coffee := payOrder(t, s, pk, sk, "ORD-2", `Coffee, "large"`, 2500, true)
	formula := payOrder(t, s, pk, sk, "=1+1", "@SUM(A1)", 5000, true)
	pending := payOrder(t, s, pk, sk, "ORD-4", "Cake", 3000, false)
	var bulk []string
	for i := range 24 {
		bulk = append(bulk, payOrder(t, s, pk, sk, fmt.Sprintf("BULK-%02d", i), "Bulk", 1000, true))
	}
	all := []string{} // newest first
	for i := len(bulk) - 1; i >= 0; i-- {
		all = append(all, bulk[i])
	}
	all = append(all, pending, formula, coffee, tea)

	// The table: 28 rows, 25 a page, newest first.
	p := a.get(t, "/dashboard/transactions/")
	wantPage(t, "table", p, 200, "28 transactions · page 1 of 2", `id="next"`, "98XXXXXXX1", "Rs 10.00", "Rs 0.30", "Completed")
	sameRows(t, "page 1", dashRows(p), all[:25])
	p = a.get(t, "/dashboard/transactions/?book=test&page=2")
	wantPage(t, "page 2", p, 200, "page 2 of 2", `id="prev"`)
	sameRows(t, "page 2", dashRows(p), all[25:])
	if strings.Contains(p.Body, `id="next"`) {
		t.Fatal("a next link on the last page")
	}
	wantPage(t, "past the end", a.get(t, "/dashboard/transactions/?page=9"), 200, "No transactions match on this page (28 in all)")

	// Filters.
	filter := func(q string, want ...string) mpage {
		t.Helper()
		p := a.get(t, "/dashboard/transactions/?book=test&"+q)
		wantPage(t, "filter "+q, p, 200)
		sameRows(t, "filter "+q, dashRows(p), want)
		return p
	}
	filter("order=ord-2", coffee)
	filter("order=large", coffee)
	filter("order="+url.QueryEscape("=1+1"), formula)
	filter("order="+coffee, coffee)
	filter("state=Confirmed", pending)
	filter("state=Completed&min=20", formula, coffee)
	filter("min=25&max=50", pending, formula, coffee)
	filter("min=25.01&max=49.99", pending)
	filter("order=BULK&max=10", all[:24]...)
	today := time.Now().In(time.FixedZone("+0545", 20700))
	p = filter("from="+today.Format("2006-01-02")+"&to="+today.Format("2006-01-02")+"&order=ORD", pending, coffee, tea)
	if !strings.Contains(p.Body, `href="/dashboard/transactions.csv?book=test&amp;from=`) {
		t.Fatalf("no CSV link with the filters:\n%s", p.Body)
	}
	filter("to=" + today.AddDate(0, 0, -1).Format("2006-01-02"))
	filter("from=" + today.AddDate(0, 0, 1).Format("2006-01-02"))
	wantPage(t, "bad filters", a.get(t, "/dashboard/transactions/?min=abc&state=Nope&from=2024-13-01"), 400,
		"Minimum amount must be in rupees", "Choose a state from the list.", "From date must be YYYY-MM-DD.")
	wantPage(t, "live book after go-live", a.get(t, "/dashboard/transactions/?book=live"), 200)

	// CSV export of the same filtered rows, every page of them.
	wantRedirect(t, "anonymous filtered csv", anon.get(t, "/dashboard/transactions.csv?book=test&min=25&max=50"), "/login/")
	c := a.get(t, "/dashboard/transactions.csv?book=test&min=25&max=50")
	if c.Status != 200 || !strings.HasPrefix(c.Header.Get("Content-Type"), "text/csv") ||
		c.Header.Get("Content-Disposition") != `attachment; filename="thaili-test-transactions.csv"` {
		t.Fatalf("csv: %d %q %q\n%s", c.Status, c.Header.Get("Content-Type"), c.Header.Get("Content-Disposition"), c.Body)
	}
	line := func(idx, order, product string) string {
		t.Helper()
		d := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", sk, "")
		mustStatus(t, d, 200)
		user := d.Body["user"].(map[string]any)
		state := d.Body["state"].(map[string]any)
		refunded := "0"
		return fmt.Sprintf("%s,%s,%s,%s,%s,%v,%v,%s,%s\n", d.Body["created_on"], idx, order, product, user["mobile"],
			d.Body["amount"], d.Body["fee_amount"], refunded, state["name"])
	}
	want := "created_on,idx,order_id,product,payer,amount_paisa,fee_paisa,refunded_paisa,state\n" +
		line(pending, "ORD-4", "Cake") + line(formula, "'=1+1", "'@SUM(A1)") + line(coffee, "ORD-2", `"Coffee, ""large"""`)
	if c.Body != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", c.Body, want)
	}
	if !strings.Contains(want, ",3000,0,0,Confirmed\n") || !strings.Contains(want, ",5000,150,0,Completed\n") {
		t.Fatalf("unexpected amounts in the expected CSV:\n%s", want)
	}
	c = a.get(t, "/dashboard/transactions.csv?book=test")
	if n := strings.Count(c.Body, "\n"); n != 29 {
		t.Fatalf("full csv has %d lines, want 29 (header and every page):\n%s", n, c.Body)
	}
	wantPage(t, "csv bad filter", a.get(t, "/dashboard/transactions.csv?max=1.234"), 400, "Maximum amount must be in rupees")

	// Detail.
	api := s.do(t, "GET", "/api/v2/merchant-transaction/"+formula+"/", sk, "")
	feeIdx := api.Body["child_transactions"].([]any)[0].(map[string]any)["idx"].(string)
	d := a.get(t, "/dashboard/transactions/"+formula+"/")
	wantPage(t, "detail", d, 200, formula, feeIdx, "=1&#43;1", "@SUM(A1)", "98XXXXXXX1", `<td id="amount">Rs 50.00</td>`,
		`<td id="fee">Rs 1.50</td>`, `<td id="remaining">Rs 50.00</td>`, `id="refund-full"`, "Partial amount in rupees (Rs)")
	wantPage(t, "pending detail", a.get(t, "/dashboard/transactions/"+pending+"/?book=test"), 200, "Only completed transactions can be refunded.")
	wantPage(t, "missing", a.get(t, "/dashboard/transactions/bZQLD9wRVWo4CdESSfuSsB/"), 404, "There is no such transaction.")
	wantPage(t, "bad idx", a.get(t, "/dashboard/transactions/not-an-idx/"), 404)

	// Refunds: partial, refusals, then the rest; money moves.
	before := testBalance(t, a)
	a.get(t, "/dashboard/transactions/"+formula+"/")
	wantPage(t, "refund without CSRF", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "amount": {"1"}, "csrf": {""}}), 403)
	wantPage(t, "bad amount", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "amount": {"ten"}}),
		400, "Enter the amount to refund in rupees")
	wantPage(t, "zero", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "amount": {"0"}}),
		400, "greater than or equal to 1")
	wantPage(t, "partial refund", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "amount": {"10.50"}}),
		200, "Rs 10.50 was refunded to the payer.", `<td id="state"><span class="badge ">Partially refunded</span></td>`, `<td id="refunded">Rs 10.50</td>`, `<td id="remaining">Rs 39.50</td>`)
	api = s.do(t, "GET", "/api/v2/merchant-transaction/"+formula+"/", sk, "")
	if st := api.Body["state"].(map[string]any)["name"]; st != "Partially refunded" || api.Body["refunded"] != true {
		t.Fatalf("API after partial refund: %s", api.Raw)
	}
	if got := testBalance(t, a); got != before-1050 {
		t.Fatalf("balance after partial refund %d, want %d", got, before-1050)
	}
	a.get(t, "/dashboard/transactions/"+formula+"/")
	wantPage(t, "over-refund", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "amount": {"40"}}),
		400, "Refund amount is more than the refundable amount of Rs 39.50.", `value="40"`)
	wantPage(t, "full refund", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "full": {"yes"}}),
		200, "The remaining amount was refunded", `<td id="state"><span class="badge ">Refunded</span></td>`, `<td id="refunded">Rs 50.00</td>`, "This transaction is fully refunded.")
	api = s.do(t, "GET", "/api/v2/merchant-transaction/"+formula+"/", sk, "")
	if st := api.Body["state"].(map[string]any)["name"]; st != "Refunded" {
		t.Fatalf("API after full refund: %s", api.Raw)
	}
	if got := testBalance(t, a); got != before-5000 {
		t.Fatalf("balance after full refund %d, want %d", got, before-5000)
	}
	wantPage(t, "refund again", a.post(t, "/dashboard/transactions/"+formula+"/refund", url.Values{"book": {"test"}, "full": {"yes"}}),
		400, "Transaction is already fully refunded.")
	filter("state=Refunded", formula)
	if c := a.get(t, "/dashboard/transactions.csv?state=Refunded"); !strings.Contains(c.Body, ",5000,150,5000,Refunded\n") {
		t.Fatalf("csv after refund:\n%s", c.Body)
	}
	s.ledgerOK(t)

	// Another merchant: the same 404 as a missing transaction; nothing moves.
	o := newMerchantBrowser(t, s)
	signUpMerchant(t, o, "Other Ledger", "other-ledger@shop.example", "9812345691", "another password")
	wantPage(t, "other's detail", o.get(t, "/dashboard/transactions/"+coffee+"/"), 404, "There is no such transaction.")
	o.get(t, "/dashboard/transactions/")
	wantPage(t, "other's refund", o.post(t, "/dashboard/transactions/"+coffee+"/refund", url.Values{"book": {"test"}, "full": {"yes"}}), 404)
	wantPage(t, "other's partial refund", o.post(t, "/dashboard/transactions/"+coffee+"/refund", url.Values{"book": {"test"}, "amount": {"1"}}), 404)
	op := o.get(t, "/dashboard/transactions/?order=ORD")
	wantPage(t, "other's table", op, 200, "No transactions match")
	if strings.Contains(op.Body, coffee) {
		t.Fatal("another merchant sees the transaction")
	}
	if c := o.get(t, "/dashboard/transactions.csv"); c.Body != "created_on,idx,order_id,product,payer,amount_paisa,fee_paisa,refunded_paisa,state\n" {
		t.Fatalf("other merchant's csv:\n%s", c.Body)
	}
	api = s.do(t, "GET", "/api/v2/merchant-transaction/"+coffee+"/", sk, "")
	if st := api.Body["state"].(map[string]any)["name"]; st != "Completed" || api.Body["refunded"] != false {
		t.Fatalf("coffee after the other merchant's refund: %s", api.Raw)
	}
	s.ledgerOK(t)
}
