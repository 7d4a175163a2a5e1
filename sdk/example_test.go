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
	"time"

	"github.com/thaili/thaili/sdk"
)

// The examples call thaili, a stand-in for a Thaili host that answers as
// a sandbox `thaili serve` did (host_test.go); a merchant would call its
// Thaili host, e.g. sdk.New("http://127.0.0.1:8000", secretKey).
// cmd/thaili/sdk_e2e_test.go runs the same calls against a real server.

// The whole ePayment flow: initiate, the payer pays on the hosted page,
// lookup, and a partial refund.
func Example_ePayment() {
	thaili := newFakeThaili(map[string][]answer{
		"POST /api/v2/epayment/initiate/":                               ok(initiatedBody),
		"POST /api/v2/epayment/lookup/":                                 {{200, lookupCompletedBody}, {200, lookupPartialBody}},
		"POST /api/merchant-transaction/VXSR5iSMwipPgmhwwUfMj5/refund/": ok(refundedBody),
	})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	// The idempotency key makes a retry after a lost answer safe.
	ctx := sdk.WithIdempotencyKey(context.Background(), "order-1")
	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{
		ReturnURL:         "https://shop.example/return",
		WebsiteURL:        "https://shop.example",
		Amount:            1300,
		PurchaseOrderID:   "order-1",
		PurchaseOrderName: "A book",
		CustomerInfo:      &sdk.CustomerInfo{Name: "Ram Bahadur", Phone: "9800000001"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pay at:", p.PaymentURL)
	fmt.Println("expires:", p.ExpiresAt.Format(time.DateTime), "in", p.ExpiresIn, "s")

	// The payer's browser comes back to return_url; trust only a lookup.
	l, err := client.Lookup(context.Background(), p.Pidx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if l.Status == sdk.StatusCompleted {
		fmt.Println("paid:", l.TotalAmount, "fee:", l.Fee, "transaction:", *l.TransactionID)
	}

	half := int64(500)
	ctx = sdk.WithIdempotencyKey(context.Background(), "refund-1-1")
	if err := client.Refund(ctx, *l.TransactionID, &half); err != nil {
		fmt.Println(err)
		return
	}
	l, _ = client.Lookup(context.Background(), p.Pidx)
	fmt.Println("status:", l.Status, "refunded:", l.Refunded)
	// Output:
	// pay at: http://127.0.0.1:8000/?pidx=nZLuE7rjkjEvW74vcHVvcR&return_url=https%3A%2F%2Fshop.example%2Freturn&mode=wallet
	// expires: 2026-12-03 19:51:02 in 1800 s
	// paid: 1300 fee: 39 transaction: VXSR5iSMwipPgmhwwUfMj5
	// status: Partially refunded refunded: true
}

// Expired, canceled and failed payments are answered with HTTP 400 and a
// full body: Lookup returns it without an error.
func ExampleClient_Lookup() {
	thaili := newFakeThaili(map[string][]answer{"POST /api/v2/epayment/lookup/": {{400, lookupCanceledBody}}})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	l, err := client.Lookup(context.Background(), "8N2PWRWqNf9RLam6Sxo7S6")
	fmt.Println("status:", l.Status, "error:", err)
	// Output:
	// status: User canceled error: <nil>
}

// Verify captures a legacy (KPG-1) payment that the checkout widget
// confirmed in the payer's browser; its token came back in onSuccess.
func ExampleClient_Verify() {
	thaili := newFakeThaili(map[string][]answer{"POST /api/v2/payment/verify/": ok(verifiedBody)})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	t, err := client.Verify(context.Background(), "fuqeCDerDcPBsZUrpFgMqt", 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("state:", t.State.Name, "amount:", t.Amount, "fee:", t.FeeAmount)
	fmt.Println("created:", t.CreatedOn.Format(time.RFC3339))
	// Output:
	// state: Completed amount: 1000 fee: 30
	// created: 2026-12-03T19:21:03+05:45
}

func ExampleError() {
	thaili := newFakeThaili(map[string][]answer{
		"POST /api/v2/payment/verify/":      {{400, amountMismatchBody}},
		"GET /api/v2/merchant-transaction/": {{401, invalidKeyBody}},
	})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	_, err := client.Verify(context.Background(), "fuqeCDerDcPBsZUrpFgMqt", 2000)
	var e *sdk.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.ErrorKey, e.Fields["amount"][0])
	}
	_, err = client.Transactions(context.Background(), sdk.ListOptions{})
	fmt.Println(err)
	// Output:
	// 400 validation_error Amount does not match the transaction amount.
	// sdk: HTTP 401: Invalid token.
}

func ExampleWithIdempotencyKey() {
	thaili := newFakeThaili(map[string][]answer{"POST /api/v2/epayment/initiate/": {
		{200, initiatedBody}, {200, initiatedBody}, {422, idempotencyUsedBody}}})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	ctx := sdk.WithIdempotencyKey(context.Background(), "order-1-attempt-1")
	req := sdk.EPaymentRequest{
		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example",
		Amount: 1300, PurchaseOrderID: "order-1", PurchaseOrderName: "A book",
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

// Register an endpoint, keep its secret for VerifyWebhook, and read its
// delivery log.
func ExampleClient_CreateWebhookEndpoint() {
	thaili := newFakeThaili(map[string][]answer{
		"POST /api/thaili/webhooks/":                                  {{201, webhookCreatedBody}},
		"GET /api/thaili/webhooks/mwUsmEXzjtgZ7Ju8i2CdYz/deliveries/": ok(deliveriesBody),
	})
	defer thaili.Close()

	client := sdk.New(thaili.URL, secretKey)
	ctx := context.Background()
	e, err := client.CreateWebhookEndpoint(ctx, "https://shop.example/hooks", sdk.EventPaymentCompleted, sdk.EventPaymentPartiallyRefunded)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("endpoint:", e.Idx, e.Events)
	fmt.Println("secret shown once:", e.Secret[:6]+"...")

	log, err := client.WebhookDeliveries(ctx, e.Idx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range log {
		fmt.Printf("%s %s, attempts %d, last answer %d %q\n", d.EventType, d.Status, d.Attempts, d.LastStatusCode, d.LastError)
	}
	// Output:
	// endpoint: mwUsmEXzjtgZ7Ju8i2CdYz [payment.completed payment.partially_refunded]
	// secret shown once: whsec_...
	// payment.partially_refunded succeeded, attempts 1, last answer 200 ""
	// payment.completed pending, attempts 1, last answer 0 "connection refused"
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
