// Package sdk is a Go client for Thaili's Khalti-compatible merchant API:
// ePayment (KPG-2) initiate and lookup, legacy (KPG-1) verify and status,
// refunds, the transaction list and detail, Thaili's webhook endpoints
// (register, list, delete, the delivery log and replay), and the
// verification of signed return_url redirects and webhook deliveries. It
// is a module of its own that imports only the standard library, so a
// merchant's server can use it against any Khalti-compatible host (the
// webhook calls and the signatures are Thaili's own).
//
// Amounts are int64 paisa (Rs 1 = 100 paisa). The response types mirror
// the wire JSON field for field; timestamps are time.Time, parsed from
// Khalti's format (2024-01-02T15:04:05.000000+05:45, RFC 3339). A
// malformed timestamp makes the call return an error matching
// ErrTimestamp together with the answer, that time left zero: the call
// may have done something (InitiateEPayment created a payment,
// CreateWebhookEndpoint shows its secret only once), so the rest of the
// answer is kept. An API error is an *Error carrying the HTTP status and
// Khalti's error body. Every error the package makes starts with "sdk: ".
//
// A payment with the hosted page:
//
//	client := sdk.New("http://127.0.0.1:8000", "test_secret_key_f59e8b7d18b4499ca40f68195a846e9b")
//	ctx := sdk.WithIdempotencyKey(context.Background(), "order-42") // optional: safe retries
//	p, err := client.InitiateEPayment(ctx, sdk.EPaymentRequest{
//		ReturnURL: "https://shop.example/return", WebsiteURL: "https://shop.example",
//		Amount: 1300, PurchaseOrderID: "order-42", PurchaseOrderName: "A book",
//	})
//	if err != nil { ... }
//	// Send the payer's browser to p.PaymentURL. When it comes back to
//	// return_url, trust only a lookup:
//	l, err := client.Lookup(context.Background(), p.Pidx)
//	if err == nil && l.Status == sdk.StatusCompleted { ... ship the order ... }
//
// Refund with client.Refund(ctx, *l.TransactionID, nil) (everything) or a
// pointer to a partial amount.
//
// A Thaili server also sends webhooks: register an endpoint with
// CreateWebhookEndpoint and the server POSTs each payment event it
// subscribed to (payment.completed, payment.refunded, ...) as signed
// JSON, retrying failures for three days; check each delivery with
// VerifyWebhook before trusting it, and see WebhookDeliveries and
// ReplayWebhookDelivery for the log. Khalti sends none, so code that must
// run against both still relies on Lookup.
package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// PaymentStatus is an ePayment's status as lookup reports it
// (Lookup.Status). Only StatusCompleted means paid. A word this package
// does not list is kept as the host sent it.
type PaymentStatus string

// ePayment lookup statuses.
const (
	StatusInitiated         PaymentStatus = "Initiated"
	StatusPending           PaymentStatus = "Pending" // paid, not settled yet: look up again later
	StatusCompleted         PaymentStatus = "Completed"
	StatusRefunded          PaymentStatus = "Refunded"
	StatusPartiallyRefunded PaymentStatus = "Partially refunded"
	StatusExpired           PaymentStatus = "Expired"
	StatusUserCanceled      PaymentStatus = "User canceled"
	StatusFailed            PaymentStatus = "Failed"
)

// maxResponse bounds how much of a response body the client reads.
const maxResponse = 10 << 20

// Client calls one Thaili (or Khalti) host with a merchant's secret key.
// Its fields may be set directly; the zero HTTPClient is
// http.DefaultClient. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the host's root, e.g. "http://127.0.0.1:8000" (a
	// trailing slash is ignored).
	BaseURL string
	// SecretKey is the merchant's secret key, sent as "Authorization: Key ...".
	SecretKey string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with h (for
// timeouts, proxies or tests).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTPClient = h } }

// New returns a client for the host at baseURL with the merchant's secret key.
func New(baseURL, secretKey string, opts ...Option) *Client {
	c := &Client{BaseURL: baseURL, SecretKey: secretKey}
	for _, o := range opts {
		o(c)
	}
	return c
}

type idempotencyKey struct{}

// WithIdempotencyKey returns a context that makes the calls which move
// money or create a payment (InitiateEPayment, Verify, Refund) carry the
// header "Idempotency-Key: key"; the host takes none on the other calls
// (the webhook endpoint calls included), so they send none. Repeating a
// request with the same key and the same body returns the first answer
// instead of running it again; the same key with another request is a
// 422 *Error (error_key "idempotency_error"). A key is 1 to 255 printable
// ASCII characters and is kept for 24 hours.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// IdempotencyKey returns the key WithIdempotencyKey put in ctx, if any.
func IdempotencyKey(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(idempotencyKey{}).(string)
	return k, ok
}

// CustomerInfo is an ePayment's customer_info.
type CustomerInfo struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// AmountBreakdownItem is one line of amount_breakdown; the lines' amounts
// must add up to the payment's amount (a discount line is negative).
type AmountBreakdownItem struct {
	Label  string `json:"label"`
	Amount int64  `json:"amount"`
}

// ProductDetail is one item of product_details.
type ProductDetail struct {
	Identity   string `json:"identity"`
	Name       string `json:"name"`
	TotalPrice int64  `json:"total_price"`
	Quantity   int64  `json:"quantity"`
	UnitPrice  int64  `json:"unit_price"`
}

// EPaymentRequest is the body of POST /api/v2/epayment/initiate/.
type EPaymentRequest struct {
	ReturnURL         string                `json:"return_url"`
	WebsiteURL        string                `json:"website_url"`
	Amount            int64                 `json:"amount"` // paisa
	PurchaseOrderID   string                `json:"purchase_order_id"`
	PurchaseOrderName string                `json:"purchase_order_name"`
	CustomerInfo      *CustomerInfo         `json:"customer_info,omitempty"`
	AmountBreakdown   []AmountBreakdownItem `json:"amount_breakdown,omitempty"`
	ProductDetails    []ProductDetail       `json:"product_details,omitempty"`
	Modes             []string              `json:"modes,omitempty"`
	Bank              string                `json:"bank,omitempty"`
	// TTL is the link's lifetime in seconds (60 to 604800); 0 is the
	// host's default.
	TTL int64 `json:"ttl,omitempty"`
	// MerchantExtra are merchant_* fields, sent at the top level of the
	// body and returned by lookup-sdk as extra_merchant_params. Keys
	// without the "merchant_" prefix are ignored by the host.
	MerchantExtra map[string]any `json:"-"`
}

// MarshalJSON writes the request with MerchantExtra's keys at the top level.
func (r EPaymentRequest) MarshalJSON() ([]byte, error) {
	type plain EPaymentRequest
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, fmt.Errorf("sdk: %w", err)
	}
	if len(r.MerchantExtra) == 0 {
		return b, nil
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("sdk: %w", err)
	}
	for k, v := range r.MerchantExtra {
		if _, taken := m[k]; taken {
			return nil, fmt.Errorf("sdk: merchant extra %q collides with a request field", k)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("sdk: merchant extra %q: %w", k, err)
		}
		m[k] = raw
	}
	return json.Marshal(m)
}

// EPaymentInitiated is the answer to an ePayment initiate.
type EPaymentInitiated struct {
	Pidx       string `json:"pidx"`
	PaymentURL string `json:"payment_url"` // send the payer's browser here
	// ExpiresAt is when the link expires, in the host's zone (Nepal
	// time: expires_at 2024-01-02T15:04:05.000000+05:45). If the host
	// sent a malformed expires_at, InitiateEPayment returns this answer
	// with ExpiresAt zero and an error matching ErrTimestamp: the payment
	// was created, and Pidx and PaymentURL are set.
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn int64     `json:"expires_in"` // seconds
}

// Lookup is the answer of POST /api/v2/epayment/lookup/. Only Status ==
// StatusCompleted means the payment is paid.
type Lookup struct {
	Pidx          string        `json:"pidx"`
	TotalAmount   int64         `json:"total_amount"`
	Status        PaymentStatus `json:"status"`
	TransactionID *string       `json:"transaction_id"` // nil until paid
	Fee           int64         `json:"fee"`
	Refunded      bool          `json:"refunded"`
}

// Type is a transaction's type ("Wallet payment", "Fee").
type Type struct {
	Idx  string `json:"idx"`
	Name string `json:"name"`
}

// State is a transaction's state; Name is e.g. "Completed".
type State struct {
	Idx      string `json:"idx"`
	Name     string `json:"name"`
	Template string `json:"template"`
}

// Party is a transaction's user or merchant.
type Party struct {
	Idx    string `json:"idx"`
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
}

// Transaction is a transaction record as verify and the list show it.
type Transaction struct {
	Idx       string          `json:"idx"`
	Type      Type            `json:"type"`
	State     State           `json:"state"`
	Amount    int64           `json:"amount"`
	FeeAmount int64           `json:"fee_amount"`
	Refunded  bool            `json:"refunded"`
	CreatedOn time.Time       `json:"created_on"` // in the host's zone (Nepal time)
	Ebanker   json.RawMessage `json:"ebanker"`    // always null for wallet payments
	User      Party           `json:"user"`
	Merchant  Party           `json:"merchant"`
}

// Meta is a legacy payment's product fields in a TransactionDetail.
type Meta struct {
	ProductIdentity string `json:"product_identity"`
	ProductName     string `json:"product_name"`
	ProductURL      string `json:"product_url"`
}

// TransactionDetail is GET /api/v2/merchant-transaction/<idx>/: the record
// with whether it can be refunded and its child (fee) transactions.
type TransactionDetail struct {
	Transaction
	CanRefund         bool                `json:"can_refund"`
	CanComplete       bool                `json:"can_complete"`
	ChildTransactions []TransactionDetail `json:"child_transactions"`
	Meta              *Meta               `json:"meta"`
}

// Status is the legacy status API's answer. Status is true for
// Initiated, Confirmed and Complete; an unknown token or a wrong amount is
// State "Error" (still HTTP 200, not an *Error).
type Status struct {
	Status bool   `json:"status"`
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// ListOptions filter GET /api/v2/merchant-transaction/. Zero values are
// left out.
type ListOptions struct {
	Page     int    // 1-based
	PageSize int    // default 10, at most 100
	State    string // a state name ("Completed", "Partially refunded"), or several separated by commas
	// StartDate and EndDate are YYYY-MM-DD in Nepal time, inclusive.
	StartDate string
	EndDate   string
}

// TransactionPage is one page of the transaction list, newest first.
type TransactionPage struct {
	TotalPages   int           `json:"total_pages"`
	TotalRecords int           `json:"total_records"`
	Next         *string       `json:"next"`     // absolute URL, nil on the last page
	Previous     *string       `json:"previous"` // absolute URL, nil on the first page
	RecordRange  []int         `json:"record_range"`
	CurrentPage  int           `json:"current_page"`
	Records      []Transaction `json:"records"`
}

// InitiateEPayment starts an ePayment (POST /api/v2/epayment/initiate/).
// Send the payer to the answer's PaymentURL.
func (c *Client) InitiateEPayment(ctx context.Context, req EPaymentRequest) (EPaymentInitiated, error) {
	var out EPaymentInitiated
	return out, c.call(ctx, http.MethodPost, "/api/v2/epayment/initiate/", nil, req, true, &out)
}

// Lookup reads an ePayment's status (POST /api/v2/epayment/lookup/).
// Expired, canceled and failed payments come with HTTP 400 and a full
// body; Lookup returns that body (Status says which) without an error.
func (c *Client) Lookup(ctx context.Context, pidx string) (Lookup, error) {
	var out Lookup
	code, body, err := c.send(ctx, http.MethodPost, "/api/v2/epayment/lookup/", nil, map[string]string{"pidx": pidx}, false)
	if err != nil {
		return out, err
	}
	if code == http.StatusBadRequest {
		var probe struct {
			Pidx   string `json:"pidx"`
			Status string `json:"status"`
		}
		if json.Unmarshal(body, &probe) == nil && probe.Pidx != "" && probe.Status != "" {
			code = http.StatusOK
		}
	}
	return out, decode(code, body, &out)
}

// Verify captures a confirmed legacy (KPG-1) payment
// (POST /api/v2/payment/verify/); amount must be the payment's amount.
// Verifying a captured payment again returns the same record.
func (c *Client) Verify(ctx context.Context, token string, amount int64) (Transaction, error) {
	var out Transaction
	body := map[string]any{"token": token, "amount": amount}
	return out, c.call(ctx, http.MethodPost, "/api/v2/payment/verify/", nil, body, true, &out)
}

// Status reads a legacy payment's status
// (GET /api/v2/payment/status/?token=&amount=).
func (c *Client) Status(ctx context.Context, tokenOrIdx string, amount int64) (Status, error) {
	var out Status
	q := url.Values{"token": {tokenOrIdx}, "amount": {strconv.FormatInt(amount, 10)}}
	return out, c.call(ctx, http.MethodGet, "/api/v2/payment/status/", q, nil, false, &out)
}

// Refund refunds a completed payment, legacy or ePayment, by its
// transaction id (idx, an ePayment's transaction_id): amount nil refunds
// what remains, otherwise *amount paisa. The fee is not returned.
func (c *Client) Refund(ctx context.Context, transactionID string, amount *int64) error {
	var body any
	if amount != nil {
		body = map[string]int64{"amount": *amount}
	}
	path := "/api/merchant-transaction/" + url.PathEscape(transactionID) + "/refund/"
	return c.call(ctx, http.MethodPost, path, nil, body, true, nil)
}

// Transactions lists the merchant's transactions
// (GET /api/v2/merchant-transaction/).
func (c *Client) Transactions(ctx context.Context, opts ListOptions) (TransactionPage, error) {
	q := url.Values{}
	if opts.Page != 0 {
		q.Set("page", strconv.Itoa(opts.Page))
	}
	if opts.PageSize != 0 {
		q.Set("page_size", strconv.Itoa(opts.PageSize))
	}
	for k, v := range map[string]string{"state": opts.State, "start_date": opts.StartDate, "end_date": opts.EndDate} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out TransactionPage
	return out, c.call(ctx, http.MethodGet, "/api/v2/merchant-transaction/", q, nil, false, &out)
}

// Transaction reads one transaction with its details
// (GET /api/v2/merchant-transaction/<idx>/).
func (c *Client) Transaction(ctx context.Context, idx string) (TransactionDetail, error) {
	var out TransactionDetail
	path := "/api/v2/merchant-transaction/" + url.PathEscape(idx) + "/"
	return out, c.call(ctx, http.MethodGet, path, nil, nil, false, &out)
}

// call sends a request and decodes a 2xx answer into out (if not nil);
// any other answer is an *Error.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body any, idempotent bool, out any) error {
	code, b, err := c.send(ctx, method, path, q, body, idempotent)
	if err != nil {
		return err
	}
	return decode(code, b, out)
}

// decode turns an answer into out (if not nil) or an *Error.
func decode(code int, body []byte, out any) error {
	if code < 200 || code > 299 {
		return newError(code, body)
	}
	if out == nil {
		return nil
	}
	return decodeJSON(code, body, out)
}

// send makes one request and returns the status and body. A non-nil body
// is sent as JSON.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body any, idempotent bool) (int, []byte, error) {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("sdk: encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("sdk: %w", err)
	}
	req.Header.Set("Authorization", "Key "+c.SecretKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "thaili-go-sdk")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key, ok := IdempotencyKey(ctx); ok && idempotent {
		req.Header.Set("Idempotency-Key", key)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sdk: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("sdk: reading %s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}
