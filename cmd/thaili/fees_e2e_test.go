package main

import (
	"encoding/json"
	"html"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	chartVolumeBarRE = regexp.MustCompile(`<rect class="volume" x="\d+" y="\d+" width="\d+" height="(\d+)"`)
	chartCountBarRE  = regexp.MustCompile(`<rect class="count" x="\d+" y="\d+" width="\d+" height="(\d+)"`)
	feesSectionRE    = regexp.MustCompile(`(?s)<table id="fees-(test|live)">.*?</table>`)
	htmlTagRE        = regexp.MustCompile(`<[^>]+>`)
)

// feesShown is the dashboard's fee tables, book by book, tags stripped.
func feesShown(body string) map[string]string {
	out := map[string]string{}
	for _, m := range feesSectionRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(strings.Join(strings.Fields(htmlTagRE.ReplaceAllString(m[0], " ")), " "))
	}
	return out
}

// verifyFee pays amount and returns the fee verify reports.
func verifyFee(t *testing.T, s *testServer, pk, sk string, amount int) int {
	t.Helper()
	token := s.initiate(t, pk, "9800000001", amount)
	s.confirm(t, pk, token)
	r := s.verify(t, sk, token, amount)
	mustStatus(t, r, 200)
	fee, err := r.Body["fee_amount"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("verify's fee_amount: %v", r.Body["fee_amount"])
	}
	return int(fee)
}

// TestFeeScheduleAndChart: the dashboard shows the fee schedule and a
// chart of the day's payments; an operator edits the schedule in the
// console (bad schedules refused with the form kept), the merchant sees
// the change and new payments are priced by it, and the audit log has it.
func TestFeeScheduleAndChart(t *testing.T) {
	s := startServer(t)
	const opEmail, opPassword = "fees-ops@thaili.example", "operator password 1"
	if out, err := s.cli(t, "admin", "create", "--email", opEmail, "--password", opPassword); err != nil {
		t.Fatalf("admin create: %v\n%s", err, out)
	}
	merchant := newMerchantBrowser(t, s)
	pk, sk := signUpMerchant(t, merchant, "Fee <i>Shop</i>", "fees@shop.example", "9812345601", "merchant password")

	p := merchant.get(t, "/dashboard/")
	wantPage(t, "new dashboard", p, 200, `id="chart-test-empty"`, "Fee &lt;i&gt;Shop&lt;/i&gt;")
	if got := feesShown(p.Body); got["test"] != "test book Rs 10.00 and up 3.00% + Rs 0.00" || got["live"] != "" {
		t.Fatalf("fees before go-live: %q", got)
	}
	if bars := chartVolumeBarRE.FindAllString(p.Body, -1); len(bars) != 0 {
		t.Fatalf("bars with no payments: %q", bars)
	}

	for _, amount := range []int{1000, 2000, 1500} {
		if fee := verifyFee(t, s, pk, sk, amount); fee != amount*3/100 {
			t.Fatalf("fee on %d = %d, want 3%%", amount, fee)
		}
	}
	s.initiate(t, pk, "9800000001", 5000) // not completed, so not charted
	p = merchant.get(t, "/dashboard/")
	wantPage(t, "dashboard after payments", p, 200, `id="chart-test-count">3<`, `id="chart-test-volume">Rs 45.00<`,
		": Rs 45.00, 3 payments</title>")
	if !strings.Contains(cells(p.Body), "|3|Rs 45.00|Rs 0.00") {
		t.Fatalf("the day's row (3 payments, Rs 45.00, nothing refunded) is not in the table: %s", cells(p.Body))
	}
	vol, cnt := chartVolumeBarRE.FindAllStringSubmatch(p.Body, -1), chartCountBarRE.FindAllStringSubmatch(p.Body, -1)
	if len(vol) != 1 || vol[0][1] != "110" || len(cnt) != 1 || cnt[0][1] != "50" {
		t.Fatalf("today's bars: volume %q, count %q; want one full-height bar each", vol, cnt)
	}
	live := merchant.get(t, "/dashboard/?book=live")
	wantPage(t, "live overview", live, 200, `id="chart-live"`)
	if got := feesShown(live.Body); got["live"] != "live book Rs 10.00 and up 3.00% + Rs 0.00" {
		t.Fatalf("live fees after go-live: %q", got)
	}

	// The operator finds the merchant and its fee page.
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	list := op.get(t, "/admin/merchants/?q=fees%40shop")
	m := regexp.MustCompile(`href="/admin/merchants/([0-9A-Za-z]+)/fees/"`).FindStringSubmatch(list.Body)
	if m == nil {
		t.Fatalf("no fee link in the merchant search:\n%s", list.Body)
	}
	feesPath := "/admin/merchants/" + m[1] + "/fees/"
	// The form shows and takes amounts in rupees.
	wantPage(t, "fee page", op.get(t, feesPath), 200, "Fee schedules of Fee &lt;i&gt;Shop&lt;/i&gt;",
		"<li>Rs 10.00 and up: 3.00% &#43; Rs 0.00</li>", `name="from0" id="test-from0" inputmode="decimal" maxlength="20" value="10.00"`,
		`name="percent0" id="test-percent0" inputmode="decimal" maxlength="6" value="3"`, `<label class="visually-hidden" for="test-percent0">Tier 1 percent</label>`)
	wantPage(t, "unknown merchant's fee page", op.get(t, "/admin/merchants/nosuchmerchant/fees/"), 404, "No such merchant.")

	// Bad schedules are refused with a message, the typed rows kept and
	// escaped, and nothing changed.
	form := func(book string, rows ...[4]string) url.Values {
		v := url.Values{"book": {book}}
		for i, r := range rows {
			n := string(rune('0' + i))
			v.Set("from"+n, r[0])
			v.Set("to"+n, r[1])
			v.Set("percent"+n, r[2])
			v.Set("flat"+n, r[3])
		}
		return v
	}
	for _, c := range []struct {
		name string
		form url.Values
		msg  string
		echo string
	}{
		{"nothing", form("test"), "Give at least one tier.", ""},
		{"gap", form("test", [4]string{"0", "50", "0", "1"}, [4]string{"50.02", "", "1", "0"}), "Tier 2 must start at Rs 50.01, one paisa after tier 1 ends.", `value="50.02"`},
		{"script percent", form("test", [4]string{"0", "", "<script>alert(1)</script>", "0"}),
			"Tier 1: enter the percentage as a number with at most two decimals, such as 2.5.", `value="&lt;script&gt;alert(1)&lt;/script&gt;"`},
		{"three decimals", form("test", [4]string{"10.505", "", "1", "0"}), "Tier 1, from: Enter at most two decimals: the smallest amount is 1 paisa, Rs 0.01.", `value="10.505"`},
		{"over 100%", form("test", [4]string{"0", "", "100.01", "0"}), "Tier 1: the percentage cannot exceed 100%.", `value="100.01"`},
		{"negative", form("test", [4]string{"0", "", "1", "-5"}), "Tier 1, flat fee: The amount cannot be negative.", `value="-5"`},
		{"bounded last", form("test", [4]string{"0", "50", "1", "0"}), "Tier 1: the last tier must have no upper limit, so that every amount has a fee.", ""},
		{"huge", form("test", [4]string{"99999999999999999999", "", "1", "0"}), "Tier 1, from: The amount can be at most Rs 1,00,00,00,00,000.00.", ""},
		{"bad book", form("gold", [4]string{"0", "", "1", "0"}), "Book must be test or live.", ""},
	} {
		p := op.post(t, feesPath, c.form)
		wantPage(t, c.name, p, 400, c.msg, c.echo)
		if strings.Contains(p.Body, "<script>alert(1)") {
			t.Fatalf("%s: raw script echoed", c.name)
		}
	}
	if got := feesShown(merchant.get(t, "/dashboard/").Body); got["test"] != "test book Rs 10.00 and up 3.00% + Rs 0.00" {
		t.Fatalf("refused changes altered the schedule: %q", got)
	}

	// A good schedule: Rs 1 flat up to Rs 50, then 1.5% + 25 paisa. The
	// empty fourth row is skipped.
	p = op.post(t, feesPath, form("test", [4]string{"0", "50", "", "1"}, [4]string{" 50.01 ", "", "1.5", "0.25"}, [4]string{}))
	wantPage(t, "good schedule", p, 200, "The test fee schedule of Fee &lt;i&gt;Shop&lt;/i&gt; is now: Rs 0.00 to Rs 50.00: 0.00% &#43; Rs 1.00; Rs 50.01 and up: 1.50% &#43; Rs 0.25.",
		`id="test-percent1" inputmode="decimal" maxlength="6" value="1.5"`, `id="test-from1" inputmode="decimal" maxlength="20" value="50.01"`,
		`id="test-flat1" inputmode="decimal" maxlength="12" value="0.25"`)
	got := feesShown(merchant.get(t, "/dashboard/").Body)
	maps.Copy(got, feesShown(merchant.get(t, "/dashboard/?book=live").Body))
	if got["test"] != "test book Rs 0.00 to Rs 50.00 0.00% + Rs 1.00 Rs 50.01 and up 1.50% + Rs 0.25" || got["live"] != "live book Rs 10.00 and up 3.00% + Rs 0.00" {
		t.Fatalf("fees after the change: %q", got)
	}
	for _, c := range []struct{ amount, fee int }{{2000, 100}, {5000, 100}, {10000, 175}} {
		if fee := verifyFee(t, s, pk, sk, c.amount); fee != c.fee {
			t.Errorf("fee on %d = %d, want %d", c.amount, fee, c.fee)
		}
	}
	audit := op.get(t, "/admin/audit/")
	audit.Body = plainCells(audit.Body)
	wantPage(t, "audit log", audit, 200, "<td>fees.set</td><td>"+m[1]+"</td>",
		"test book: Rs 0.00 to Rs 50.00: 0.00% &#43; Rs 1.00; Rs 50.01 and up: 1.50% &#43; Rs 0.25 (was Rs 10.00 and up: 3.00% &#43; Rs 0.00)")

	// Merchants cannot reach the fee form.
	wantRedirect(t, "merchant posting fees", merchant.post(t, feesPath, form("test", [4]string{"0", "", "0", "0"})), "/admin/login/")
	s.ledgerOK(t)
}
