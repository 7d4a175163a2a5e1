package main

// End-to-end tests of the bank list (docs/khalti.md §6, §2.9) and `thaili bank`.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const bodyEmptyBanks = `{"total_pages":1,"total_records":0,"next":null,"previous":null,"record_range":[0,0],"current_page":1,"records":[]}`

// bankPaths are every path the bank list answers on.
var bankPaths = []string{"/api/v5/bank/", "/api/v5/bank", "/api/v2/bank/", "/api/v2/bank", "/api/bank/", "/api/bank"}

var addedBankRE = regexp.MustCompile(`(?m)^added bank ([23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]{22}) `)

// addBank runs `thaili bank add` and returns the new bank's idx.
func (s *testServer) addBank(t testing.TB, args ...string) string {
	t.Helper()
	out := s.cliOK(t, append([]string{"bank", "add"}, args...)...)
	m := addedBankRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bank add printed %q", out)
	}
	return m[1]
}

// bankPage is the exact envelope of one bank-list page.
func bankPage(totalPages, total int, next, previous any, first, last, page int, records ...string) string {
	link := func(v any) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf(`{"total_pages":%d,"total_records":%d,"next":%s,"previous":%s,"record_range":[%d,%d],"current_page":%d,"records":[%s]}`,
		totalPages, total, link(next), link(previous), first, last, page, strings.Join(records, ","))
}

func TestBankList(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	// The list starts empty: Thaili pays from wallets only.
	for _, path := range bankPaths {
		checkBody(t, "empty "+path, s.do(t, "GET", path, "", ""), 200, bodyEmptyBanks)
		checkBody(t, "empty "+path+" ebanking", s.do(t, "GET", path+"?payment_type=ebanking&page=1&page_size=200", "", ""), 200, bodyEmptyBanks)
	}

	nabil := s.addBank(t, "--name", "Nabil Bank Limited", "--short-name", "NABIL",
		"--logo", "https://cdn.example/bank-logo/nabil.png", "--swift-code", "NARBNPKA", "--address", "Kamaladi, Kathmandu",
		"--ebanking-url", "https://ebank.example/nabil", "--play-store", "https://play.example/nabil", "--app-store", "https://apps.example/nabil",
		"--ebanking", "--mobile-checkout", "--cardpayment")
	adbl := s.addBank(t, "--name", "Agricultural Development Bank Limited", "--short-name", "ADBL", "--address", "Singhadurbar, Kathmandu",
		"--ebanking", "--nchl", "--direct-withdraw", "--mobile-banking")
	if nabil == adbl {
		t.Fatalf("two banks share idx %s", nabil)
	}
	recNabil := `{"idx":"` + nabil + `","name":"Nabil Bank Limited","short_name":"NABIL","logo":"https://cdn.example/bank-logo/nabil.png",` +
		`"swift_code":"NARBNPKA","has_cardpayment":true,"address":"Kamaladi, Kathmandu","ebanking_url":"https://ebank.example/nabil",` +
		`"has_ebanking":true,"has_mobile_checkout":true,"has_direct_withdraw":false,"has_nchl":false,"has_mobile_banking":false,` +
		`"play_store":"https://play.example/nabil","app_store":"https://apps.example/nabil","branches":[]}`
	recADBL := `{"idx":"` + adbl + `","name":"Agricultural Development Bank Limited","short_name":"ADBL","logo":"",` +
		`"swift_code":"","has_cardpayment":false,"address":"Singhadurbar, Kathmandu","ebanking_url":"",` +
		`"has_ebanking":true,"has_mobile_checkout":false,"has_direct_withdraw":true,"has_nchl":true,"has_mobile_banking":true,` +
		`"play_store":"","app_store":"","branches":[]}`

	// Every path, ordered by name; the record's keys in the order of §8.1.
	all := bankPage(1, 2, nil, nil, 1, 2, 1, recADBL, recNabil)
	for _, path := range bankPaths {
		r := s.do(t, "GET", path, "", "")
		checkBody(t, "all "+path, r, 200, all)
		if i := strings.Index(r.Raw, `"idx"`); i < 0 || !strings.HasPrefix(r.Raw[i:], `"idx":"`+adbl+`","name":"Agricultural Development Bank Limited","short_name":"ADBL","logo":"","swift_code":"","has_cardpayment":false,"address"`) {
			t.Errorf("%s: record keys not in the documented order: %s", path, r.Raw)
		}
	}
	// No authentication is needed, and a key sent anyway is not checked.
	checkBody(t, "with a bogus key", s.do(t, "GET", "/api/v5/bank/", unknownSecretKey, ""), 200, all)

	// Filters: payment_type and the legacy flags, alone and together.
	none := bankPage(1, 0, nil, nil, 0, 0, 1)
	for q, want := range map[string]string{
		"payment_type=ebanking":                               all,
		"payment_type=sdkebanking&page_size=100":              all,
		"payment_type=mobilecheckout&page_size=100":           bankPage(1, 1, nil, nil, 1, 1, 1, recNabil),
		"payment_type=connectips":                             bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
		"payment_type=sct":                                    bankPage(1, 1, nil, nil, 1, 1, 1, recNabil),
		"payment_type=":                                       all,
		"has_ebanking=true":                                   all,
		"has_ebanking=false":                                  none,
		"has_cardpayment=true&page_size=200":                  bankPage(1, 1, nil, nil, 1, 1, 1, recNabil),
		"has_cardpayment=false":                               bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
		"has_mobile_banking=true":                             bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
		"has_mobile_banking=True&has_ebanking=True":           bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
		"payment_type=mobilecheckout&has_mobile_banking=true": none,
		"payment_type=ebanking&has_cardpayment=false":         bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
		"payment_type=sct&has_cardpayment=false":              none, // contradictory
		"page=1&page_size=200&payment_type=connectips":        bankPage(1, 1, nil, nil, 1, 1, 1, recADBL),
	} {
		for _, path := range []string{"/api/v5/bank/", "/api/v2/bank/", "/api/bank/"} {
			checkBody(t, path+"?"+q, s.do(t, "GET", path+"?"+q, "", ""), 200, want)
		}
	}

	// Paging by one, following the absolute links; they keep the filters.
	const v2 = "/api/v2/bank/"
	p1 := s.do(t, "GET", v2+"?payment_type=ebanking&page_size=1", "", "")
	mustBody(t, "page 1", p1, 200, bankPage(2, 2, s.URL+v2+"?page=2&page_size=1&payment_type=ebanking", nil, 1, 1, 1, recADBL))
	p2 := s.do(t, "GET", strings.TrimPrefix(p1.Body["next"].(string), s.URL), "", "")
	mustBody(t, "page 2", p2, 200, bankPage(2, 2, nil, s.URL+v2+"?page=1&page_size=1&payment_type=ebanking", 2, 2, 2, recNabil))
	back := s.do(t, "GET", strings.TrimPrefix(p2.Body["previous"].(string), s.URL), "", "")
	checkBody(t, "back to page 1", back, 200, p1.Raw)
	checkBody(t, "page 2 without slash", s.do(t, "GET", "/api/bank?page=2&page_size=1", "", ""), 200,
		bankPage(2, 2, nil, s.URL+"/api/bank?page=1&page_size=1", 2, 2, 2, recNabil))
	for _, q := range []string{"page=3&page_size=1", "page=2", "page=0", "page=-1", "page=abc", "page=2&payment_type=sct"} {
		checkBody(t, "invalid page "+q, s.do(t, "GET", v2+"?"+q, "", ""), 404, `{"detail":"Invalid page."}`)
	}
	// A page size beyond 200, or not a positive number, is the cap or the default.
	for _, q := range []string{"page_size=1000", "page_size=0", "page_size=x"} {
		checkBody(t, q, s.do(t, "GET", v2+"?"+q, "", ""), 200, all)
	}

	// Errors are E1.
	for _, v := range []string{"card", "EBANKING", "wallet"} {
		checkBody(t, "payment_type="+v, s.do(t, "GET", "/api/v5/bank/?payment_type="+v, "", ""), 400,
			`{"payment_type":["Select a valid choice. `+v+` is not one of the available choices."],"error_key":"validation_error"}`)
	}
	checkBody(t, "has_ebanking=maybe", s.do(t, "GET", "/api/bank/?has_ebanking=maybe", "", ""), 400,
		`{"has_ebanking":["Must be a valid boolean."],"error_key":"validation_error"}`)
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		checkBody(t, m, s.do(t, m, "/api/v5/bank/", "", ""), 405, `{"detail":`+fmt.Sprintf("%q", `Method "`+m+`" not allowed.`)+`}`)
	}
	for _, path := range []string{"/api/v3/bank/", "/api/v5/bank/extra/", "/api/v5/banks/"} {
		checkBody(t, path, s.do(t, "GET", path, "", ""), 404, `{"detail":"Not found."}`)
	}
}

func TestBankListCORS(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.addBank(t, "--name", "Nabil Bank Limited", "--short-name", "NABIL", "--mobile-checkout")
	origin := "https://khalti.s3.ap-south-1.amazonaws.com"
	for _, path := range bankPaths {
		r := s.doHeaders(t, "OPTIONS", path, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-requested-with",
		}, "")
		if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("preflight %s: %d, allow-origin %q, allow-methods %q", path, r.Status,
				r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Methods"))
		}
		r = s.doHeaders(t, "GET", path+"?payment_type=mobilecheckout&page_size=100", map[string]string{"Origin": origin}, "")
		if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Body["total_records"] != json.Number("1") {
			t.Errorf("GET %s: %d, allow-origin %q: %s", path, r.Status, r.Header.Get("Access-Control-Allow-Origin"), r.Raw)
		}
		// Errors carry it too, or the widget could not read them.
		r = s.doHeaders(t, "GET", path+"?payment_type=bogus", map[string]string{"Origin": origin}, "")
		if r.Status != 400 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s error: %d, allow-origin %q", path, r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestBankCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "banks.db")
	if out, code := runCLI(t, db, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bank"}, 2, "bank: missing subcommand"},
		{[]string{"bank", "remove"}, 2, `unknown command "bank remove"`},
		{[]string{"bank", "add", "-h"}, 0, "-short-name"},
		{[]string{"bank", "add", "--short-name", "NABIL"}, 1, "--name: This field is required."},
		{[]string{"bank", "add", "--name", "Nabil Bank Limited"}, 1, "--short-name: This field is required."},
		{[]string{"bank", "add"}, 1, "--name: This field is required.; --short-name: This field is required."},
		{[]string{"bank", "add", "--name", "N", "--short-name", "S", "--logo", "ftp://x.example/l.png"}, 1, "--logo: Enter a valid http or https URL."},
		{[]string{"bank", "add", "--name", "N", "--short-name", "S", "--ebanking-url", "javascript:alert(1)"}, 1, "--ebanking-url: Enter a valid http or https URL."},
		{[]string{"bank", "add", "--name", "N", "--short-name", "S", "--swift-code", "NAB"}, 1, "--swift-code: Enter a valid SWIFT code"},
		{[]string{"bank", "add", "--name", "N", "--short-name", "S", "extra"}, 2, "unexpected arguments: extra"},
		{[]string{"bank", "list"}, 0, "no banks: the bank list is empty"},
	} {
		where := db
		if len(tt.args) == 1 {
			where = "" // a flag after "bank" would be taken for the subcommand
		}
		out, code := runCLI(t, where, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("thaili %s: exit %d, output %q; want exit %d containing %q", strings.Join(tt.args, " "), code, out, tt.code, tt.want)
		}
	}
	out, code := runCLI(t, db, "bank", "add", "--name", "Sanima Bank Limited", "--short-name", "SANIMA", "--swift-code", "snmanpka", "--mobile-banking", "--nchl")
	m := addedBankRE.FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, `SANIMA "Sanima Bank Limited" [mobile-banking, nchl]`) {
		t.Fatalf("bank add: exit %d: %s", code, out)
	}
	out, code = runCLI(t, db, "bank", "add", "--name", "Agricultural Development Bank Limited", "--short-name", "ADBL")
	a := addedBankRE.FindStringSubmatch(out)
	if code != 0 || a == nil {
		t.Fatalf("bank add: exit %d: %s", code, out)
	}
	out, _, code = runCLIStreams(t, testEnv(nil), "bank", "list", "--database-url", db)
	want := []string{
		a[1] + ` ADBL "Agricultural Development Bank Limited" [no payment types]`,
		m[1] + ` SANIMA "Sanima Bank Limited" [mobile-banking, nchl]`,
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("bank list: exit %d\n%s\nwant\n%s", code, out, strings.Join(want, "\n"))
	}
}
