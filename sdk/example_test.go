package sdk_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/sdk"
)

// baseURL is the test server's URL (server_test.go); a merchant would use
// its Thaili host, e.g. "http://127.0.0.1:8000".

func ExampleClient_InitiateEPayment() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{
		ReturnURL:         "https://shop.example/return",
		WebsiteURL:        "https://shop.example",
		Amount:            1300,
		PurchaseOrderID:   "order-1",
		PurchaseOrderName: "A book",
		CustomerInfo:      &sdk.CustomerInfo{Name: "Ram Bahadur", Phone: "9800000001"},
		MerchantExtra:     map[string]any{"merchant_cart": "c-17"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Send the payer's browser to p.PaymentURL.
	fmt.Println("hosted page:", strings.HasPrefix(p.PaymentURL, baseURL+"/?"))
	fmt.Println("expires in:", p.ExpiresIn)
	l, err := client.Lookup(ctx, p.Pidx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", l.Status)
	fmt.Println("transaction id:", l.TransactionID)
	// Output:
	// hosted page: true
	// expires in: 1800
	// status: Initiated
	// transaction id: <nil>
}

// The whole ePayment flow: initiate, the payer pays on the hosted page,
// lookup, a partial refund and the transaction list.
func Example_ePayment() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{
		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example",
		Amount: 2000, PurchaseOrderID: "order-2", PurchaseOrderName: "Two books",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	payEPayment(p.Pidx) // the payer pays at p.PaymentURL

	l, err := client.Lookup(ctx, p.Pidx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", l.Status, "amount:", l.TotalAmount, "fee:", l.Fee)

	half := int64(500)
	if err := client.Refund(ctx, *l.TransactionID, &half); err != nil {
		fmt.Println(err)
		return
	}
	l, _ = client.Lookup(ctx, p.Pidx)
	fmt.Println("status:", l.Status, "refunded:", l.Refunded)

	page, err := client.Transactions(ctx, sdk.ListOptions{State: sdk.StatusPartiallyRefunded, PageSize: 100})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range page.Records {
		if t.Idx == *l.TransactionID {
			fmt.Println("listed:", t.State.Name, t.Amount)
		}
	}

	d, err := client.Transaction(ctx, *l.TransactionID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("can refund:", d.CanRefund, "fee transactions:", len(d.ChildTransactions))
	// Output:
	// status: Completed amount: 2000 fee: 60
	// status: Partially refunded refunded: true
	// listed: Partially refunded 2000
	// can refund: true fee transactions: 1
}

// Expired, canceled and failed payments are answered with HTTP 400 and a
// full body: Lookup returns it without an error.
func ExampleClient_Lookup() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{
		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example",
		Amount: 1000, PurchaseOrderID: "order-3", PurchaseOrderName: "A pen",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	cancelEPayment(p.Pidx) // the payer presses Cancel on the hosted page

	l, err := client.Lookup(ctx, p.Pidx)
	fmt.Println("status:", l.Status, "error:", err)
	// Output:
	// status: User canceled error: <nil>
}

// Verify captures a legacy (KPG-1) payment that the checkout widget
// confirmed in the payer's browser; its token came back in onSuccess.
func ExampleClient_Verify() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	token := confirmedLegacyPayment(1000)

	t, err := client.Verify(ctx, token, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("state:", t.State.Name, "amount:", t.Amount, "fee:", t.FeeAmount)
	// Output:
	// state: Completed amount: 1000 fee: 30
}

func ExampleClient_Status() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	token := confirmedLegacyPayment(1000)

	s, _ := client.Status(ctx, token, 1000)
	fmt.Println(s.State, s.Status)
	if _, err := client.Verify(ctx, token, 1000); err != nil {
		fmt.Println(err)
		return
	}
	s, _ = client.Status(ctx, token, 1000)
	fmt.Println(s.State, s.Status)
	s, _ = client.Status(ctx, token, 999) // a wrong amount is not found
	fmt.Println(s.State, s.Status)
	// Output:
	// Confirmed true
	// Complete true
	// Error false
}

func ExampleClient_Refund() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	t, err := client.Verify(ctx, confirmedLegacyPayment(1500), 1500)
	if err != nil {
		fmt.Println(err)
		return
	}

	// A nil amount refunds what remains; the idempotency key makes a
	// retry after a lost answer safe.
	ctx = sdk.WithIdempotencyKey(ctx, "refund-"+t.Idx)
	if err := client.Refund(ctx, t.Idx, nil); err != nil {
		fmt.Println(err)
		return
	}
	if err := client.Refund(ctx, t.Idx, nil); err != nil { // replayed, not run again
		fmt.Println(err)
		return
	}
	d, _ := client.Transaction(context.Background(), t.Idx)
	fmt.Println("state:", d.State.Name, "refunded:", d.Refunded, "can refund:", d.CanRefund)
	// Output:
	// state: Refunded refunded: true can refund: false
}

func ExampleClient_Transactions() {
	client := sdk.New(baseURL, secretKey)
	ctx := context.Background()
	t, err := client.Verify(ctx, confirmedLegacyPayment(1200), 1200)
	if err != nil {
		fmt.Println(err)
		return
	}
	today := time.Now().In(time.FixedZone("NPT", 5*3600+45*60)).Format("2006-01-02")
	page, err := client.Transactions(ctx, sdk.ListOptions{Page: 1, PageSize: 5, State: "Completed", StartDate: today, EndDate: today})
	if err != nil {
		fmt.Println(err)
		return
	}
	newest := page.Records[0] // newest first
	fmt.Println("newest is ours:", newest.Idx == t.Idx, newest.State.Name, newest.Amount)
	fmt.Println("first page:", page.CurrentPage, page.Previous == nil)
	// Output:
	// newest is ours: true Completed 1200
	// first page: 1 true
}

func ExampleError() {
	client := sdk.New(baseURL, secretKey)
	_, err := client.Verify(context.Background(), confirmedLegacyPayment(1000), 2000)
	var e *sdk.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.ErrorKey)
		fmt.Println(e.Fields["amount"][0])
	}

	_, err = sdk.New(baseURL, "test_secret_key_00000000000000000000000000000000").Transactions(context.Background(), sdk.ListOptions{})
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Detail)
	}
	// Output:
	// 400 validation_error
	// Amount does not match the transaction amount.
	// 401 Invalid token.
}

func ExampleWithIdempotencyKey() {
	client := sdk.New(baseURL, secretKey)
	ctx := sdk.WithIdempotencyKey(context.Background(), "order-4-attempt-1")
	req := sdk.EPaymentRequest{
		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example",
		Amount: 1000, PurchaseOrderID: "order-4", PurchaseOrderName: "A pen",
	}
	first, _ := client.InitiateEPayment(ctx, req)
	again, _ := client.InitiateEPayment(ctx, req) // a retry: the same answer
	fmt.Println("same pidx:", first.Pidx == again.Pidx)

	req.Amount = 2000 // the same key with another request
	_, err := client.InitiateEPayment(ctx, req)
	var e *sdk.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.ErrorKey)
	}
	// Output:
	// same pidx: true
	// 422 idempotency_error
}

func ExampleVerifyRedirect() {
	// The query of a signed redirect to return_url (thaili serve --sign-redirects).
	q, _ := url.ParseQuery("pidx=bZQLD9wRVWo4CdESSfuSsB&txnId=4H7AhoXDJWg5WjrcPT9ixW&amount=1000&total_amount=1000" +
		"&status=Completed&mobile=98XXXXX904&tidx=4H7AhoXDJWg5WjrcPT9ixW&purchase_order_id=test12" +
		"&purchase_order_name=test&transaction_id=4H7AhoXDJWg5WjrcPT9ixW" +
		"&signature=e9f718f0789a0645aed4ae88916ced8f2a2afd6965ea712d7e2f1951ce92a888" +
		"&signed_field_names=pidx,txnId,amount,total_amount,status,mobile,tidx,purchase_order_id,purchase_order_name,transaction_id")
	// A valid signature is not proof of payment: still call Lookup.
	fmt.Println(sdk.VerifyRedirect("test_secret_key_f59e8b7d18b4499ca40f68195a846e9b", q))
	q.Set("amount", "10")
	fmt.Println(sdk.VerifyRedirect("test_secret_key_f59e8b7d18b4499ca40f68195a846e9b", q))
	// Output:
	// true
	// false
}

func ExampleVerifyWebhook() {
	// What a webhook carries.
	secret := "whsec_example"
	body := []byte(`{"pidx":"bZQLD9wRVWo4CdESSfuSsB","status":"Completed"}`)
	sent := time.Unix(1700000000, 0)
	t := strconv.FormatInt(sent.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "." + string(body)))
	header := "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))

	fmt.Println(sdk.VerifyWebhook(secret, header, body, sent.Add(time.Minute), 0))
	fmt.Println(sdk.VerifyWebhook(secret, header, body, sent.Add(time.Hour), 0))
	fmt.Println(sdk.VerifyWebhook("another secret", header, body, sent, 0))
	// Output:
	// <nil>
	// sdk: webhook timestamp outside the tolerance
	// sdk: no valid webhook signature
}
