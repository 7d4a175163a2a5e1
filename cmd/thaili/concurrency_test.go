package main

// Concurrency tests over real HTTP: many clients at once must never
// overdraw a wallet, capture or refund twice, or get past the MPIN lock.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tryDo is do for goroutines: it returns transport errors instead of
// failing the test, since t.Fatal may only be called from the test itself.
func (s *testServer) tryDo(c *http.Client, method, path, key, body string) (response, error) {
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if body != "" {
		if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if key != "" {
		req.Header.Set("Authorization", "Key "+key)
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	r := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		r.Body, _ = v.(map[string]any)
	}
	return r, nil
}

// parallelDo runs n requests at once (released together to maximise contention)
// and returns their responses in order.
func (s *testServer) parallelDo(t testing.TB, n int, req func(i int) (method, path, key, body string)) []response {
	t.Helper()
	// A client of its own, whose connections are all closed afterwards:
	// a connection dialled but never used would otherwise hold up the
	// server's graceful shutdown for five seconds.
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	out := make([]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		method, path, key, body := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = s.tryDo(c, method, path, key, body)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// fundedWallet creates a consumer with MPIN 1111 and the given test balance.
func (s *testServer) fundedWallet(t testing.TB, mobile string, balance int64) {
	t.Helper()
	if out, err := s.cli(t, "consumer", "create", "--mobile", mobile, "--name", "Payer "+mobile, "--mpin", "1111"); err != nil {
		t.Fatalf("consumer create: %v\n%s", err, out)
	}
	if balance > 0 {
		if out, err := s.cli(t, "consumer", "topup", "--mobile", mobile, "--amount", strconv.FormatInt(balance, 10), "--book", "test"); err != nil {
			t.Fatalf("consumer topup: %v\n%s", err, out)
		}
	}
}

var walletBalanceRE = regexp.MustCompile(`; balance (-?\d+) paisa`)

// walletBalanceProbe credits 1 paisa to a test wallet and returns the balance
// `consumer topup` prints, which includes that paisa. Nothing else shows a
// wallet balance, and the paisa is accounted for by the caller.
func (s *testServer) walletBalanceProbe(t testing.TB, mobile string) int64 {
	t.Helper()
	out, err := s.cli(t, "consumer", "topup", "--mobile", mobile, "--amount", "1", "--book", "test")
	m := walletBalanceRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("consumer topup: %v\n%s", err, out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

var merchantBalanceRE = regexp.MustCompile(`(?m)^balance: test (-?\d+) paisa, live (-?\d+) paisa$`)

// demoTestBalance is the demo merchant's test balance as `merchant show` prints it.
func (s *testServer) demoTestBalance(t testing.TB) int64 {
	t.Helper()
	out, err := s.cli(t, "merchant", "show", "--merchant", "demo@thaili.local")
	m := merchantBalanceRE.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("merchant show: %v\n%s", err, out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// defaultFee is the default schedule's 3%, rounded half up.
func defaultFee(amount int64) int64 { return (amount*300 + 5000) / 10000 }

func confirmJSON(t testing.TB, token string) string {
	return jsonBody(t, map[string]any{"public_key": testPK, "token": token, "confirmation_code": "987654", "transaction_pin": "1111"})
}

// statusTally counts responses by status.
func statusTally(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

func TestConcurrentConfirmsCannotOverdraw(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const mobile, n, fits = "9812345678", 50, 10
	s.fundedWallet(t, mobile, fits*1000)
	merchantBefore := s.demoTestBalance(t)

	// initiate only checks the balance, so all 50 are accepted.
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = s.initiate(t, testPK, mobile, 1000)
	}
	rs := s.parallelDo(t, n, func(i int) (string, string, string, string) {
		return "POST", "/api/v2/payment/confirm/", "", confirmJSON(t, tokens[i])
	})
	var confirmed, refused []string
	for i, r := range rs {
		switch r.Status {
		case 200:
			if r.Body["token"] != tokens[i] || r.Body["amount"] != json.Number("1000") {
				t.Errorf("confirm %d: %s", i, r.Raw)
			}
			confirmed = append(confirmed, tokens[i])
		case 400:
			if r.Body["detail"] != "Insufficient balance in the wallet." {
				t.Errorf("refused confirm %d: %s", i, r.Raw)
			}
			refused = append(refused, tokens[i])
		default:
			t.Errorf("confirm %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if len(confirmed) != fits || len(refused) != n-fits {
		t.Fatalf("%d confirms succeeded and %d were refused, want %d and %d (statuses %v)", len(confirmed), len(refused), fits, n-fits, statusTally(rs))
	}
	s.ledgerOK(t)

	// The wallet is empty: a further payment is refused at initiate...
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
		"public_key": testPK, "mobile": mobile, "transaction_pin": "1111", "amount": 1000,
		"product_identity": "p1", "product_name": "Product"}))
	if r.Status != 400 || r.Body["detail"] != "Insufficient balance in the wallet." {
		t.Errorf("initiate on an empty wallet: %d %s", r.Status, r.Raw)
	}
	// ...and holds exactly nothing (the probe's paisa aside).
	if got := s.walletBalanceProbe(t, mobile); got != 1 {
		t.Errorf("wallet balance after the confirms: %d, want 0 (+1 probe)", got-1)
	}
	// The refused payments are still Initiated; the confirmed ones capture.
	for _, tok := range refused {
		r := s.do(t, "GET", "/api/v2/payment/status/?token="+tok+"&amount=1000", testSK, "")
		if r.Status != 200 || r.Body["state"] != "Initiated" {
			t.Errorf("status of a refused confirm: %d %s", r.Status, r.Raw)
		}
	}
	for _, tok := range confirmed {
		mustStatus(t, s.verify(t, testSK, tok, 1000), 200)
	}
	if got, want := s.demoTestBalance(t)-merchantBefore, int64(fits*(1000-defaultFee(1000))); got != want {
		t.Errorf("merchant balance rose by %d, want %d", got, want)
	}
	s.ledgerOK(t)
}

func TestConcurrentVerifiesCaptureOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const amount, n = 10000, 20
	token := s.initiate(t, testPK, "9800000002", amount)
	idx := s.confirm(t, testPK, token)
	before := s.demoTestBalance(t)

	rs := s.parallelDo(t, n, func(int) (string, string, string, string) {
		return "POST", "/api/v2/payment/verify/", testSK, jsonBody(t, map[string]any{"token": token, "amount": amount})
	})
	for i, r := range rs {
		state, _ := r.Body["state"].(map[string]any)
		if r.Status != 200 || r.Body["idx"] != idx || state["name"] != "Completed" ||
			r.Body["amount"] != json.Number(strconv.Itoa(amount)) || r.Body["fee_amount"] != json.Number(strconv.FormatInt(defaultFee(amount), 10)) {
			t.Errorf("verify %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if got, want := s.demoTestBalance(t)-before, int64(amount)-defaultFee(amount); got != want {
		t.Errorf("merchant balance rose by %d, want %d (captured exactly once)", got, want)
	}
	s.ledgerOK(t)
}

func TestConcurrentPartialRefunds(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const payer, amount, part, n = "9800000003", 10000, 1000, 20
	_, idx := s.pay(t, testPK, testSK, payer, amount)
	merchantBefore := s.demoTestBalance(t)
	walletBefore := s.walletBalanceProbe(t, payer)

	rs := s.parallelDo(t, n, func(int) (string, string, string, string) {
		return "POST", "/api/merchant-transaction/" + idx + "/refund/", testSK, fmt.Sprintf(`{"amount": %d}`, part)
	})
	ok := 0
	for i, r := range rs {
		switch {
		case r.Status == 200 && r.Body["detail"] == "Transaction refund successful.":
			ok++
		case r.Status == 400:
			// The losers see the remaining amount exhausted, or the payment
			// already Refunded; never "not enough balance" (the merchant
			// has plenty) and never a server error.
			msgs, _ := r.Body["amount"].([]any)
			overAmount := len(msgs) == 1 && strings.HasPrefix(fmt.Sprint(msgs[0]), "Refund amount is more than the refundable amount of Rs 0.00")
			if !overAmount && r.Body["detail"] != "Transaction is already fully refunded." {
				t.Errorf("refused refund %d: %s", i, r.Raw)
			}
		default:
			t.Errorf("refund %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if ok != amount/part {
		t.Fatalf("%d refunds succeeded, want %d (statuses %v)", ok, amount/part, statusTally(rs))
	}
	d := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, "")
	state, _ := d.Body["state"].(map[string]any)
	if d.Status != 200 || state["name"] != "Refunded" || d.Body["refunded"] != true || d.Body["can_refund"] != false {
		t.Errorf("detail after the refunds: %d %s", d.Status, d.Raw)
	}
	if got := merchantBefore - s.demoTestBalance(t); got != amount {
		t.Errorf("merchant balance fell by %d, want %d", got, amount)
	}
	if got := s.walletBalanceProbe(t, payer) - walletBefore; got != amount+1 {
		t.Errorf("payer wallet rose by %d, want %d (+1 probe)", got-1, amount)
	}
	s.ledgerOK(t)
}

func TestConcurrentWrongMPINLocks(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const mobile, n = "9812345679", 20
	s.fundedWallet(t, mobile, 100000)
	body := func(pin string) string {
		return jsonBody(t, map[string]any{"public_key": testPK, "mobile": mobile, "transaction_pin": pin, "amount": 1000,
			"product_identity": "p1", "product_name": "Product"})
	}
	rs := s.parallelDo(t, n, func(int) (string, string, string, string) {
		return "POST", "/api/v2/payment/initiate/", "", body("2222")
	})
	// Three wrong MPINs lock the wallet: the first two are told how many
	// tries remain, the third and every later one that the wallet is
	// locked. However the requests interleave, no more than three count.
	remaining := map[any]int{}
	locked := 0
	for i, r := range rs {
		switch {
		case r.Status == 400 && r.Body["error_key"] == "third_party_transaction_locked":
			locked++
		case r.Status == 400 && r.Body["detail"] == "Mobile or pin invalid.":
			remaining[r.Body["tries_remaining"]]++
		default:
			t.Errorf("wrong MPIN %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if len(remaining) != 2 || remaining["2"] != 1 || remaining["1"] != 1 || locked != n-2 {
		t.Fatalf("tries_remaining answers %v and %d locked, want one each of \"2\" and \"1\" and %d locked", remaining, locked, n-2)
	}
	// The wallet stays locked, even for the right MPIN...
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", body("1111"))
	if r.Status != 400 || r.Body["error_key"] != "third_party_transaction_locked" {
		t.Fatalf("right MPIN on a locked wallet: %d %s", r.Status, r.Raw)
	}
	// ...until the MPIN is reset.
	if out, err := s.cli(t, "consumer", "reset-mpin", "--mobile", mobile, "--mpin", "1111"); err != nil {
		t.Fatalf("reset-mpin: %v\n%s", err, out)
	}
	s.pay(t, testPK, testSK, mobile, 1000)

	// Right and wrong MPINs at once: a right one resets the count, so the
	// wallet may or may not end locked, but once any answer said it was
	// locked it stays locked: no right MPIN in flight may unlock it.
	for round := range 5 {
		rs := s.parallelDo(t, 2*n, func(i int) (string, string, string, string) {
			if i%2 == 0 {
				return "POST", "/api/v2/payment/initiate/", "", body("2222")
			}
			return "POST", "/api/v2/payment/initiate/", "", body("1111")
		})
		sawLock := false
		for i, r := range rs {
			lockedAnswer := r.Status == 400 && r.Body["error_key"] == "third_party_transaction_locked"
			sawLock = sawLock || lockedAnswer
			ok := lockedAnswer || (i%2 == 1 && r.Status == 200) ||
				(i%2 == 0 && r.Status == 400 && r.Body["detail"] == "Mobile or pin invalid.")
			if !ok {
				t.Errorf("round %d request %d: %d %s", round, i, r.Status, r.Raw)
			}
		}
		after := s.do(t, "POST", "/api/v2/payment/initiate/", "", body("1111"))
		if lockedNow := after.Status == 400 && after.Body["error_key"] == "third_party_transaction_locked"; lockedNow != sawLock {
			t.Fatalf("round %d: answers said locked=%v but the wallet is now %d %s", round, sawLock, after.Status, after.Raw)
		}
		if out, err := s.cli(t, "consumer", "reset-mpin", "--mobile", mobile, "--mpin", "1111"); err != nil {
			t.Fatalf("reset-mpin: %v\n%s", err, out)
		}
	}
	s.ledgerOK(t)
}
