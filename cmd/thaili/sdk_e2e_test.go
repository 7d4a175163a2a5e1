package main

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/sdk"
)

// The Go SDK (its own module, sdk/) against a real `thaili serve`: every
// call, the hosted page's signed redirects and live webhook deliveries.
// sdk/'s own tests hold the client's encoding and decoding to recorded
// answers; these show the server sends those answers.

// sdkClient is a client of s with the sandbox secret key.
func sdkClient(s *testServer) *sdk.Client {
	return sdk.New(s.URL, testSK, sdk.WithHTTPClient(s.client))
}

// nepalOffset is the offset of the server's timestamps (+05:45).
const nepalOffset = 5*3600 + 45*60

// wantStamp fails the test unless at is in Nepal time and within
// [from, to] (to the microsecond the server writes).
func wantStamp(t *testing.T, what string, at, from, to time.Time) {
	t.Helper()
	if _, off := at.Zone(); off != nepalOffset || at.Before(from.Truncate(time.Microsecond)) || at.After(to) {
		t.Errorf("%s = %v, want in +05:45 between %v and %v", what, at, from, to)
	}
}

// sdkError returns err as an *sdk.Error with the wanted status, or fails.
func sdkError(t *testing.T, what string, err error, status int) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || e.StatusCode != status {
		t.Fatalf("%s: err = %v, want an *sdk.Error with HTTP %d", what, err, status)
	}
	return e
}

// TestSDKEPayment: initiate (with an idempotency key), the payer pays on
// the hosted page, whose signed redirect the SDK verifies, lookup, both
// refunds, the list and the detail.
func TestSDKEPayment(t *testing.T) { onBothStores(t, sdkEPayment, "--sign-redirects") }

func sdkEPayment(t *testing.T, s *testServer) {
	client := sdkClient(s)
	req := sdk.EPaymentRequest{ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example", Amount: 1300,
		PurchaseOrderID: "order-1", PurchaseOrderName: "A book", CustomerInfo: &sdk.CustomerInfo{Name: "Ram Bahadur", Phone: "9800000001"},
		AmountBreakdown: []sdk.AmountBreakdownItem{{Label: "Price", Amount: 1500}, {Label: "Discount", Amount: -200}},
		ProductDetails:  []sdk.ProductDetail{{Identity: "b1", Name: "A book", TotalPrice: 1300, Quantity: 1, UnitPrice: 1300}},
		MerchantExtra:   map[string]any{"merchant_cart": "c-17"}}
	ctx := sdk.WithIdempotencyKey(context.Background(), "order-1")
	before := time.Now()
	p, err := client.InitiateEPayment(ctx, req)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pidx) != 22 || !strings.HasPrefix(p.PaymentURL, s.URL+"/?pidx="+p.Pidx+"&") || p.ExpiresIn != 1800 {
		t.Fatalf("initiated %+v", p)
	}
	wantStamp(t, "ExpiresAt", p.ExpiresAt, before.Add(30*time.Minute), after.Add(30*time.Minute))

	// The same key and request: the first answer again. Another request
	// with it: 422.
	if again, err := client.InitiateEPayment(ctx, req); err != nil || again.Pidx != p.Pidx || again.PaymentURL != p.PaymentURL ||
		!again.ExpiresAt.Equal(p.ExpiresAt) || again.ExpiresIn != p.ExpiresIn {
		t.Errorf("replayed initiate %+v, %v; want %+v", again, err, p)
	}
	other := req
	other.Amount = 2000
	_, err = client.InitiateEPayment(ctx, other)
	if e := sdkError(t, "key reused", err, 422); e.ErrorKey != "idempotency_error" {
		t.Errorf("key reused: %+v", e)
	}
	// The merchant extra reached the server.
	if r := s.do(t, "POST", "/api/v2/epayment/lookup-sdk/", testPK, "pidx="+p.Pidx); !strings.Contains(r.Raw, `"extra_merchant_params":{"merchant_cart":"c-17"}`) {
		t.Errorf("lookup-sdk: %s", r.Raw)
	}

	l, err := client.Lookup(context.Background(), p.Pidx)
	if want := (sdk.Lookup{Pidx: p.Pidx, TotalAmount: 1300, Status: sdk.StatusInitiated}); err != nil || !reflect.DeepEqual(l, want) {
		t.Errorf("lookup %+v, %v; want %+v", l, err, want)
	}

	// The payer pays on the hosted page, which redirects with a signature.
	u, err := url.Parse(p.PaymentURL)
	if err != nil {
		t.Fatal(err)
	}
	page := newPage(t, s)
	token := csrf(t, page.get(u.RequestURI()))
	mustContain(t, "sign-in", page.post("/pay/"+p.Pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000001"}, "mpin": {"1111"}}), 200, `name="code"`)
	q := redirectQuery(t, page.post("/pay/"+p.Pidx+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {"1111"}}))
	if !sdk.VerifyRedirect(testSK, q) || q.Get("status") != string(sdk.StatusCompleted) {
		t.Fatalf("the hosted page's redirect does not verify: %v", q)
	}
	q.Set("amount", "100")
	if sdk.VerifyRedirect(testSK, q) {
		t.Error("a redirect with its amount changed verifies")
	}

	l, err = client.Lookup(context.Background(), p.Pidx)
	txn := q.Get("transaction_id")
	if want := (sdk.Lookup{Pidx: p.Pidx, TotalAmount: 1300, Status: sdk.StatusCompleted, TransactionID: &txn, Fee: 39}); err != nil || !reflect.DeepEqual(l, want) {
		t.Fatalf("paid lookup %+v, %v; want %+v", l, err, want)
	}

	// A partial refund, sent twice with one key: refunded once.
	half := int64(500)
	refundCtx := sdk.WithIdempotencyKey(context.Background(), "refund-"+txn)
	for range 2 {
		if err := client.Refund(refundCtx, txn, &half); err != nil {
			t.Fatal(err)
		}
	}
	l, err = client.Lookup(context.Background(), p.Pidx)
	if err != nil || l.Status != sdk.StatusPartiallyRefunded || !l.Refunded {
		t.Errorf("partly refunded lookup %+v, %v", l, err)
	}
	d, err := client.Transaction(context.Background(), txn)
	if err != nil {
		t.Fatal(err)
	}
	wantStamp(t, "CreatedOn", d.CreatedOn, before, time.Now())
	if d.Idx != txn || d.State.Name != "Partially refunded" || d.Amount != 1300 || d.FeeAmount != 39 || !d.Refunded || !d.CanRefund ||
		len(d.ChildTransactions) != 1 || d.ChildTransactions[0].Type.Name != "Fee" || d.ChildTransactions[0].Amount != 39 {
		t.Errorf("detail %+v", d)
	}
	// The list, filtered to the payment's day and state (from its own
	// timestamp, so a test across midnight still finds it).
	day := d.CreatedOn.Format(time.DateOnly)
	list, err := client.Transactions(context.Background(), sdk.ListOptions{State: string(sdk.StatusPartiallyRefunded), PageSize: 100, StartDate: day, EndDate: day})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Records) != 1 || list.Records[0].Idx != txn || list.Records[0].State.Name != "Partially refunded" ||
		!list.Records[0].CreatedOn.Equal(d.CreatedOn) || list.TotalRecords != 1 || list.Next != nil || list.Previous != nil {
		t.Errorf("list %+v", list)
	}

	// The rest: refunded, and no more to refund.
	if err := client.Refund(context.Background(), txn, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := client.Lookup(context.Background(), p.Pidx); err != nil || l.Status != sdk.StatusRefunded {
		t.Errorf("refunded lookup %+v, %v", l, err)
	}
	if d, err := client.Transaction(context.Background(), txn); err != nil || d.State.Name != "Refunded" || d.CanRefund {
		t.Errorf("refunded detail %+v, %v", d, err)
	}
	sdkError(t, "refund again", client.Refund(context.Background(), txn, nil), 400)
	s.ledgerOK(t)
}

// TestSDKLegacyAndErrors: verify and status of a legacy payment, the
// list's pages, a canceled link's lookup and the API's errors.
func TestSDKLegacyAndErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--sign-redirects")
	client := sdkClient(s)
	ctx := context.Background()

	token := s.initiate(t, testPK, "9800000002", 1000)
	s.confirm(t, testPK, token)
	if st, err := client.Status(ctx, token, 1000); err != nil || st != (sdk.Status{Status: true, State: "Confirmed", Detail: "Transaciton not verified."}) {
		t.Errorf("confirmed status %+v, %v", st, err)
	}
	_, err := client.Verify(ctx, token, 2000)
	if e := sdkError(t, "wrong amount", err, 400); e.ErrorKey != "validation_error" ||
		!reflect.DeepEqual(e.Fields, map[string][]string{"amount": {"Amount does not match the transaction amount."}}) {
		t.Errorf("wrong amount: %+v", e)
	}
	before := time.Now()
	verifyCtx := sdk.WithIdempotencyKey(ctx, "verify-"+token)
	tx, err := client.Verify(verifyCtx, token, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if tx.State.Name != "Completed" || tx.Amount != 1000 || tx.FeeAmount != 30 || tx.Type.Name != "Wallet payment" ||
		tx.Merchant.Name != "Thaili Demo Shop" || string(tx.Ebanker) != "null" || len(tx.Idx) != 22 {
		t.Errorf("verified %+v", tx)
	}
	// created_on is the payment's creation, before this verify.
	wantStamp(t, "CreatedOn", tx.CreatedOn, before.Add(-time.Minute), time.Now())
	if again, err := client.Verify(verifyCtx, token, 1000); err != nil || !reflect.DeepEqual(again, tx) {
		t.Errorf("verify replayed %+v, %v", again, err)
	}
	if again, err := client.Verify(ctx, token, 1000); err != nil || again.Idx != tx.Idx { // a captured payment verifies again
		t.Errorf("verify again %+v, %v", again, err)
	}
	if st, err := client.Status(ctx, token, 1000); err != nil || st != (sdk.Status{Status: true, State: "Complete", Detail: "Transaction complete."}) {
		t.Errorf("complete status %+v, %v", st, err)
	}
	if st, err := client.Status(ctx, token, 999); err != nil || st.State != "Error" || st.Status {
		t.Errorf("wrong amount's status %+v, %v", st, err)
	}

	// A second payment, then the list page by page, newest first.
	_, idx2 := s.pay(t, testPK, testSK, "9800000003", 1200)
	first, err := client.Transactions(ctx, sdk.ListOptions{Page: 1, PageSize: 1})
	if err != nil || len(first.Records) != 1 || first.Records[0].Idx != idx2 || first.Next == nil || first.Previous != nil ||
		first.CurrentPage != 1 || first.TotalPages < 2 || !reflect.DeepEqual(first.RecordRange, []int{1, 1}) {
		t.Errorf("first page %+v, %v", first, err)
	}
	second, err := client.Transactions(ctx, sdk.ListOptions{Page: 2, PageSize: 1})
	if err != nil || len(second.Records) != 1 || second.Records[0].Idx != tx.Idx || second.Previous == nil || second.CurrentPage != 2 {
		t.Errorf("second page %+v, %v", second, err)
	}
	_, err = client.Transactions(ctx, sdk.ListOptions{State: "Bogus"})
	if e := sdkError(t, "bad state filter", err, 400); len(e.Fields["state"]) != 1 {
		t.Errorf("bad state filter: %+v", e)
	}

	// A full refund, then the detail.
	if err := client.Refund(sdk.WithIdempotencyKey(ctx, "refund-"+tx.Idx), tx.Idx, nil); err != nil {
		t.Fatal(err)
	}
	if d, err := client.Transaction(ctx, tx.Idx); err != nil || d.State.Name != "Refunded" || !d.Refunded || d.CanRefund ||
		d.Meta == nil || d.Meta.ProductIdentity != "p1" {
		t.Errorf("refunded detail %+v, %v", d, err)
	}

	// A link the payer canceled: a signed redirect, and a lookup with
	// HTTP 400 that is an answer, not an error.
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{ReturnURL: "https://shop.example/return?cart=7", WebsiteURL: "https://shop.example",
		Amount: 1000, PurchaseOrderID: "o-2", PurchaseOrderName: "A pen"})
	if err != nil {
		t.Fatal(err)
	}
	page := newPage(t, s)
	u, _ := url.Parse(p.PaymentURL)
	q := redirectQuery(t, page.post("/pay/"+p.Pidx+"/cancel", url.Values{"csrf": {csrf(t, page.get(u.RequestURI()))}}))
	if !sdk.VerifyRedirect(testSK, q) || q.Get("status") != string(sdk.StatusUserCanceled) || q.Get("cart") != "7" {
		t.Errorf("cancel redirect %v (verifies: %v)", q, sdk.VerifyRedirect(testSK, q))
	}
	q.Set("status", string(sdk.StatusCompleted))
	if sdk.VerifyRedirect(testSK, q) {
		t.Error("a redirect with its status changed verifies")
	}
	l, err := client.Lookup(ctx, p.Pidx)
	if want := (sdk.Lookup{Pidx: p.Pidx, TotalAmount: 1000, Status: sdk.StatusUserCanceled}); err != nil || !reflect.DeepEqual(l, want) {
		t.Errorf("canceled lookup %+v, %v; want %+v", l, err, want)
	}

	// Errors.
	_, err = client.Lookup(ctx, "")
	if e := sdkError(t, "blank pidx", err, 400); len(e.Fields["pidx"]) != 1 {
		t.Errorf("blank pidx: %+v", e)
	}
	_, err = client.Lookup(ctx, "bZQLD9wRVWo4CdESSfuSsB")
	if e := sdkError(t, "unknown pidx", err, 404); e.Detail != "Not found." || e.Error() != "sdk: HTTP 404: Not found." {
		t.Errorf("unknown pidx: %+v", e)
	}
	sdkError(t, "unknown transaction", client.Refund(ctx, "bZQLD9wRVWo4CdESSfuSsB", nil), 404)
	_, err = sdk.New(s.URL, "test_secret_key_00000000000000000000000000000000").Transactions(ctx, sdk.ListOptions{})
	if e := sdkError(t, "unknown key", err, 401); e.Detail != "Invalid token." {
		t.Errorf("unknown key: %+v", e)
	}
	s.ledgerOK(t)
}

// TestSDKVerifyRedirectMatchesServer cross-checks the SDK's verifier
// with the server's signer and verifier, on valid and tampered redirects.
func TestSDKVerifyRedirectMatchesServer(t *testing.T) {
	t.Parallel()
	key := identity.RedirectSigningKey(testSK)
	paid := [][2]string{{"pidx", "bZQLD9wRVWo4CdESSfuSsB"}, {"txnId", "4H7AhoXDJWg5WjrcPT9ixW"}, {"amount", "1000"},
		{"total_amount", "1000"}, {"status", "Completed"}, {"mobile", "98XXXXX904"}, {"tidx", "4H7AhoXDJWg5WjrcPT9ixW"},
		{"purchase_order_id", "order 1&2=3"}, {"purchase_order_name", "Café, कलम\nline"}, {"transaction_id", "4H7AhoXDJWg5WjrcPT9ixW"}}
	canceled := [][2]string{{"pidx", "bZQLD9wRVWo4CdESSfuSsB"}, {"amount", "1000"}, {"total_amount", "1000"},
		{"status", "User canceled"}, {"mobile", ""}, {"tidx", ""}, {"purchase_order_id", "o"}, {"purchase_order_name", "n"},
		{"transaction_id", ""}}
	signed := func(params [][2]string) url.Values {
		q := url.Values{"return_own": {"x"}}
		for _, kv := range params {
			q.Add(kv[0], kv[1])
		}
		sig, names := payment.SignRedirect(key, params)
		q.Set("signature", sig)
		q.Set("signed_field_names", names)
		return q
	}
	tamper := map[string]func(q url.Values){
		"as signed":      func(url.Values) {},
		"own param":      func(q url.Values) { q.Set("return_own", "changed") }, // not signed: still valid
		"upper hex":      func(q url.Values) { q.Set("signature", strings.ToUpper(q.Get("signature"))) },
		"value":          func(q url.Values) { q.Set("amount", "100") },
		"status":         func(q url.Values) { q.Set("status", "Completed ") },
		"duplicate":      func(q url.Values) { q.Add("pidx", "other") },
		"missing field":  func(q url.Values) { q.Del("tidx") },
		"no signature":   func(q url.Values) { q.Del("signature") },
		"two signatures": func(q url.Values) { q.Add("signature", q.Get("signature")) },
		"bad hex":        func(q url.Values) { q.Set("signature", "zz"+q.Get("signature")[2:]) },
		"fewer names":    func(q url.Values) { q.Set("signed_field_names", "pidx,amount") },
		"unknown name":   func(q url.Values) { q.Set("signed_field_names", q.Get("signed_field_names")+",return_own") },
		"repeated name":  func(q url.Values) { q.Set("signed_field_names", q.Get("signed_field_names")+",pidx") },
		"empty names":    func(q url.Values) { q.Set("signed_field_names", "") },
		"reordered": func(q url.Values) {
			n := strings.Split(q.Get("signed_field_names"), ",")
			n[0], n[1] = n[1], n[0]
			q.Set("signed_field_names", strings.Join(n, ","))
		},
	}
	for name, change := range tamper {
		for _, params := range [][][2]string{paid, canceled} {
			q := signed(params)
			change(q)
			got, server := sdk.VerifyRedirect(testSK, q), payment.VerifyRedirect(testSK, q)
			want := name == "as signed" || name == "own param" || name == "upper hex"
			if got != server || got != want {
				t.Errorf("%s: sdk says %v, server says %v, want %v", name, got, server, want)
			}
		}
	}
	if sdk.VerifyRedirect("test_secret_key_00000000000000000000000000000000", signed(paid)) {
		t.Error("another merchant's key verifies")
	}
}

// TestSDKWebhookEndpoints: register, list, the delivery log of a flaky
// and a failing endpoint, a verified live delivery, replay and delete.
func TestSDKWebhookEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--webhooks-allow-private", "--webhook-interval", "50ms", "--webhook-backoff", "100ms")
	client := sdkClient(s)
	ctx := context.Background()
	all := []sdk.WebhookEvent{sdk.EventPaymentCompleted, sdk.EventPaymentRefunded, sdk.EventPaymentPartiallyRefunded,
		sdk.EventPaymentExpired, sdk.EventPaymentCanceled, sdk.EventPaymentFailed}

	ok := newHookReceiver(t, 0)
	flaky := newHookReceiver(t, 2)
	failing := newHookReceiver(t, 1<<30) // answers 500, always
	before := time.Now()
	okEnd, err := client.CreateWebhookEndpoint(ctx, ok.srv.URL+"/hooks", all...)
	if err != nil {
		t.Fatal(err)
	}
	if len(okEnd.Idx) != 22 || okEnd.URL != ok.srv.URL+"/hooks" || !reflect.DeepEqual(okEnd.Events, all) || !strings.HasPrefix(okEnd.Secret, "whsec_") {
		t.Errorf("created %+v", okEnd)
	}
	wantStamp(t, "CreatedAt", okEnd.CreatedAt, before, time.Now())
	flakyEnd, err := client.CreateWebhookEndpoint(ctx, flaky.srv.URL, sdk.EventPaymentCompleted)
	if err != nil {
		t.Fatal(err)
	}
	failingEnd, err := client.CreateWebhookEndpoint(ctx, failing.srv.URL, sdk.EventPaymentCompleted)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CreateWebhookEndpoint(ctx, "ftp://shop.example/")
	if e := sdkError(t, "invalid endpoint", err, 400); len(e.Fields["url"]) != 1 || len(e.Fields["events"]) != 1 {
		t.Errorf("invalid endpoint: %+v", e)
	}

	list, err := client.WebhookEndpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list.Events, all) || len(list.Endpoints) != 3 || !reflect.DeepEqual(list.Endpoints[0], okEnd.WebhookEndpoint) ||
		list.Endpoints[1].Idx != flakyEnd.Idx || list.Endpoints[2].Idx != failingEnd.Idx {
		t.Errorf("list %+v", list)
	}

	// A payment: the delivery verifies with its endpoint's secret only.
	_, idx := s.pay(t, testPK, testSK, "9800000001", 2000)
	got := ok.event(t, "payment.completed", idx)
	if err := sdk.VerifyWebhook(okEnd.Secret, got.Header.Get(sdk.WebhookSignatureHeader), got.Body, time.Now(), 0); err != nil {
		t.Errorf("a live delivery does not verify: %v", err)
	}
	if err := sdk.VerifyWebhook(flakyEnd.Secret, got.Header.Get(sdk.WebhookSignatureHeader), got.Body, time.Now(), 0); !errors.Is(err, sdk.ErrWebhookSignature) {
		t.Errorf("another endpoint's secret: %v", err)
	}

	// The flaky endpoint fails twice, then takes it.
	var delivery sdk.WebhookDelivery
	waitFor(t, "the flaky delivery to succeed", func() bool {
		ds, err := client.WebhookDeliveries(ctx, flakyEnd.Idx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 {
			delivery = ds[0]
		}
		return delivery.Status == sdk.DeliverySucceeded
	})
	if delivery.Attempts != 3 || delivery.LastStatusCode != 200 || delivery.LastError != "" || delivery.NextAttemptAt != nil ||
		delivery.EventType != sdk.EventPaymentCompleted || delivery.EventID != got.Event["id"] {
		t.Errorf("flaky delivery %+v (event %v)", delivery, got.Event["id"])
	}
	wantStamp(t, "delivery CreatedAt", delivery.CreatedAt, before, time.Now())
	if delivery.UpdatedAt.Before(delivery.CreatedAt) {
		t.Errorf("delivery updated %v before created %v", delivery.UpdatedAt, delivery.CreatedAt)
	}
	// The failing endpoint's delivery waits for its next attempt.
	waitFor(t, "the failing endpoint's failed attempt", func() bool {
		ds, err := client.WebhookDeliveries(ctx, failingEnd.Idx)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds) == 1 && ds[0].Attempts >= 1 && ds[0].Status == sdk.DeliveryPending && ds[0].LastError == "HTTP 500" &&
			ds[0].LastStatusCode == 500 && ds[0].NextAttemptAt != nil
	})

	// Replay sends the same event again, signed.
	replayed, err := client.ReplayWebhookDelivery(ctx, delivery.Idx)
	if err != nil {
		t.Fatal(err)
	}
	if replayed.Idx != delivery.Idx || replayed.Status != sdk.DeliveryPending || replayed.EventID != delivery.EventID || replayed.NextAttemptAt == nil {
		t.Errorf("replayed %+v", replayed)
	}
	waitFor(t, "the replay", func() bool { return len(flaky.requests()) == 4 })
	again := flaky.requests()[3]
	if again.Header.Get("Thaili-Event-Id") != delivery.EventID ||
		sdk.VerifyWebhook(flakyEnd.Secret, again.Header.Get(sdk.WebhookSignatureHeader), again.Body, time.Now(), 0) != nil {
		t.Errorf("replayed request %v %s", again.Header, again.Body)
	}
	_, err = client.ReplayWebhookDelivery(ctx, "bZQLD9wRVWo4CdESSfuSsB")
	sdkError(t, "unknown delivery", err, 404)

	// A test event: sent at once, verified with the endpoint's secret,
	// the payload and answer in its delivery.
	sent := len(ok.requests())
	test, err := client.SendTestWebhookEvent(ctx, okEnd.Idx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ok.requests()); n != sent+1 {
		t.Fatalf("the test event was not sent at once: %d requests, want %d", n, sent+1)
	}
	heard := ok.requests()[sent]
	if test.EventType != sdk.EventWebhookTest || test.Status != sdk.DeliverySucceeded || test.Attempts != 1 || test.LastStatusCode != 200 ||
		string(test.Payload) != string(heard.Body) || heard.Event["type"] != "webhook.test" || test.ResponseBody != "" || test.ResponseTruncated ||
		sdk.VerifyWebhook(okEnd.Secret, heard.Header.Get(sdk.WebhookSignatureHeader), heard.Body, time.Now(), 0) != nil {
		t.Errorf("test event %+v\nheard %v %s", test, heard.Header, heard.Body)
	}
	_, err = client.SendTestWebhookEvent(ctx, "bZQLD9wRVWo4CdESSfuSsB")
	sdkError(t, "test event to an unknown endpoint", err, 404)

	// Delete.
	if err := client.DeleteWebhookEndpoint(ctx, flakyEnd.Idx); err != nil {
		t.Fatal(err)
	}
	sdkError(t, "deleted again", client.DeleteWebhookEndpoint(ctx, flakyEnd.Idx), 404)
	_, err = client.WebhookDeliveries(ctx, flakyEnd.Idx)
	sdkError(t, "deleted endpoint's log", err, 404)
	if list, err := client.WebhookEndpoints(ctx); err != nil || len(list.Endpoints) != 2 || list.Endpoints[0].Idx != okEnd.Idx || list.Endpoints[1].Idx != failingEnd.Idx {
		t.Errorf("list after delete %+v, %v", list, err)
	}
	// An unknown key is refused.
	_, err = sdk.New(s.URL, "test_secret_key_00000000000000000000000000000000").WebhookEndpoints(ctx)
	sdkError(t, "unknown key", err, 401)
	s.ledgerOK(t)
}
