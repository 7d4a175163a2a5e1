package sdk_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/thaili/thaili/sdk"
)

// The SDK's own module may use only the standard library, so its tests
// run the client against fakeThaili: canned answers, byte for byte what
// `thaili serve` answered to the same requests (recorded from a sandbox
// server; cmd/thaili's tests hold the server to the same wire contract,
// and cmd/thaili/sdk_e2e_test.go runs this client against a real server).

// secretKey is the sandbox merchant's test secret key.
const secretKey = "test_secret_key_f59e8b7d18b4499ca40f68195a846e9b"

// Answers of a sandbox `thaili serve`, recorded; only the server's
// address (now http://127.0.0.1:8000) and the webhook endpoint's URL
// were changed.
const (
	initiatedBody = `{"expires_at":"2026-12-03T19:51:02.925304+05:45","expires_in":1800,` +
		`"payment_url":"http://127.0.0.1:8000/?pidx=nZLuE7rjkjEvW74vcHVvcR\u0026return_url=https%3A%2F%2Fshop.example%2Freturn\u0026mode=wallet",` +
		`"pidx":"nZLuE7rjkjEvW74vcHVvcR"}`
	lookupInitiatedBody = `{"fee":0,"pidx":"nZLuE7rjkjEvW74vcHVvcR","refunded":false,"status":"Initiated","total_amount":1300,"transaction_id":null}`
	lookupCompletedBody = `{"fee":39,"pidx":"49FikeNMkgPbDENwDRNFmg","refunded":false,"status":"Completed","total_amount":1300,"transaction_id":"VXSR5iSMwipPgmhwwUfMj5"}`
	lookupPartialBody   = `{"fee":39,"pidx":"49FikeNMkgPbDENwDRNFmg","refunded":true,"status":"Partially refunded","total_amount":1300,"transaction_id":"VXSR5iSMwipPgmhwwUfMj5"}`
	// A canceled (or expired, or failed) link's lookup: HTTP 400 with
	// the full body.
	lookupCanceledBody = `{"fee":0,"pidx":"8N2PWRWqNf9RLam6Sxo7S6","refunded":false,"status":"User canceled","total_amount":1000,"transaction_id":null}`

	verifiedBody = `{"idx":"PH3QcLWYyry9tDz82Ny6z7","type":{"idx":"e476BL6jt9kgagEmsakyTL","name":"Wallet payment"},` +
		`"state":{"idx":"DhvMj9hdRufLqkP8ZY4d8g","name":"Completed","template":"is complete"},"amount":1000,"fee_amount":30,` +
		`"refunded":false,"created_on":"2026-12-03T19:21:03.104383+05:45","ebanker":null,` +
		`"user":{"idx":"Js2tjNFm7yoEZPDqGCbTvf","name":"Test User 1","mobile":"98XXXXXXX1"},` +
		`"merchant":{"idx":"LLXEKdHFkWugKUZ3wHr53Y","name":"Thaili Demo Shop","mobile":"demo@thaili.local"}}`
	statusConfirmedBody = `{"detail":"Transaciton not verified.","state":"Confirmed","status":true}`
	statusCompleteBody  = `{"detail":"Transaction complete.","state":"Complete","status":true}`
	statusNotFoundBody  = `{"detail":"Transaction not found","state":"Error","status":false}` // HTTP 200
	refundedBody        = `{"detail":"Transaction refund successful."}`
	listBody            = `{"current_page":1,"next":"http://127.0.0.1:8000/api/v2/merchant-transaction/?page=2\u0026page_size=1","previous":null,` +
		`"record_range":[1,1],"records":[{"idx":"PH3QcLWYyry9tDz82Ny6z7","type":{"idx":"e476BL6jt9kgagEmsakyTL","name":"Wallet payment"},` +
		`"state":{"idx":"DhvRj9hdRufLqkP8ZY4d8g","name":"Partially refunded","template":"is partially refund"},"amount":1000,"fee_amount":30,` +
		`"refunded":true,"created_on":"2026-12-03T19:21:03.104383+05:45","ebanker":null,` +
		`"user":{"idx":"Js2tjNFm7yoEZPDqGCbTvf","name":"Test User 1","mobile":"98XXXXXXX1"},` +
		`"merchant":{"idx":"LLXEKdHFkWugKUZ3wHr53Y","name":"Thaili Demo Shop","mobile":"demo@thaili.local"}}],"total_pages":2,"total_records":2}`
	detailBody = `{"idx":"PH3QcLWYyry9tDz82Ny6z7","type":{"idx":"e476BL6jt9kgagEmsakyTL","name":"Wallet payment"},` +
		`"state":{"idx":"DhvRj9hdRufLqkP8ZY4d8g","name":"Partially refunded","template":"is partially refund"},"amount":1000,"fee_amount":30,` +
		`"refunded":true,"created_on":"2026-12-03T19:21:03.104383+05:45","ebanker":null,` +
		`"user":{"idx":"Js2tjNFm7yoEZPDqGCbTvf","name":"Test User 1","mobile":"98XXXXXXX1"},` +
		`"merchant":{"idx":"LLXEKdHFkWugKUZ3wHr53Y","name":"Thaili Demo Shop","mobile":"demo@thaili.local"},"can_refund":true,"can_complete":false,` +
		`"child_transactions":[{"idx":"5L4LQDkiNjVAHJoX53Chfj","type":{"idx":"YpwbDVqAnH42odGZmT5vZ8","name":"Fee"},` +
		`"state":{"idx":"DhvMj9hdRufLqkP8ZY4d8g","name":"Completed","template":"is complete"},"amount":30,"fee_amount":0,"refunded":false,` +
		`"created_on":"2026-12-03T19:21:03.308639+05:45","ebanker":null,"user":{"idx":"LLXEKdHFkWugKUZ3wHr53Y","name":"Thaili Demo Shop","mobile":"demo@thaili.local"},` +
		`"merchant":{"idx":"9dUzuqrLetWo9VY3fNwB2E","name":"","mobile":"wallet@thaili.local"},"can_refund":false,"can_complete":false,` +
		`"child_transactions":[],"meta":null}],"meta":{"product_identity":"book-1","product_name":"A book","product_url":""}}`

	webhookCreatedBody = `{"created_at":"2026-12-03T19:23:23.636248+05:45","events":["payment.completed","payment.partially_refunded"],` +
		`"idx":"mwUsmEXzjtgZ7Ju8i2CdYz","secret":"whsec_8ad4351b3befb49c736b7e0b92c4c8146f993482aa19146c","url":"https://shop.example/hooks"}`
	webhookListBody = `{"endpoints":[{"created_at":"2026-12-03T19:23:23.636248+05:45","events":["payment.completed","payment.partially_refunded"],` +
		`"idx":"mwUsmEXzjtgZ7Ju8i2CdYz","url":"https://shop.example/hooks"}],` +
		`"events":["payment.completed","payment.refunded","payment.partially_refunded","payment.expired","payment.canceled","payment.failed"]}`
	webhookListEmptyBody = `{"endpoints":[],"events":["payment.completed","payment.refunded","payment.partially_refunded","payment.expired","payment.canceled","payment.failed"]}`
	webhookDeletedBody   = `{"detail":"Webhook endpoint deleted."}`
	deliveriesBody       = `{"deliveries":[{"attempts":1,"created_at":"2026-12-03T19:23:25.955649+05:45","event_id":"c8gS2fWq8V2tTPLevVVfQa",` +
		`"event_type":"payment.partially_refunded","idx":"UzVhAfdTYCrLNPXfQG8Ro4","last_error":"","last_status_code":200,"next_attempt_at":null,` +
		`"status":"succeeded","updated_at":"2026-12-03T19:23:26.005147+05:45"},{"attempts":1,"created_at":"2026-12-03T19:21:17.319819+05:45",` +
		`"event_id":"iiJfVqj9eW7byBas9PSGQp","event_type":"payment.completed","idx":"afkN299TNtvnm9cvjtqwLa","last_error":"connection refused",` +
		`"last_status_code":0,"next_attempt_at":"2026-12-03T19:22:18.624469+05:45","status":"pending","updated_at":"2026-12-03T19:21:18.624469+05:45"}]}`
	replayedBody = `{"attempts":1,"created_at":"2026-12-03T19:21:17.319819+05:45","event_id":"iiJfVqj9eW7byBas9PSGQp","event_type":"payment.completed",` +
		`"idx":"afkN299TNtvnm9cvjtqwLa","last_error":"connection refused","last_status_code":0,"next_attempt_at":"2026-12-03T19:21:20.511452+05:45",` +
		`"status":"pending","updated_at":"2026-12-03T19:21:20.511452+05:45"}`

	// Errors.
	notFoundBody        = `{"detail":"Not found.","error_key":"validation_error"}`                                                    // 404
	blankPidxBody       = `{"error_key":"validation_error","pidx":["This field may not be blank."]}`                                  // 400
	amountMismatchBody  = `{"amount":["Amount does not match the transaction amount."],"error_key":"validation_error"}`               // 400
	invalidKeyBody      = `{"detail":"Invalid token.","status_code":401}`                                                             // 401
	idempotencyUsedBody = `{"detail":"Idempotency-Key was used with a different request.","error_key":"idempotency_error"}`           // 422
	webhookInvalidBody  = `{"error_key":"validation_error","events":["Choose one or more of: payment.completed, payment.refunded, ` + // 400
		`payment.partially_refunded, payment.expired, payment.canceled, payment.failed."],"url":["Enter a valid http or https URL."]}`
)

// answer is a canned HTTP answer.
type answer struct {
	status int
	body   string
}

// request is a request fakeThaili received.
type request struct {
	Method string
	Path   string // escaped
	Query  string
	Header http.Header
	Body   string
}

// fakeThaili answers each "METHOD /escaped/path" with its canned answers
// in turn (the last one again once they run out) and records the
// requests. A request it has no answer for gets HTTP 599, which no test
// expects.
type fakeThaili struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string][]answer
	got     []request
}

func newFakeThaili(answers map[string][]answer) *fakeThaili {
	f := &fakeThaili{answers: answers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.EscapedPath()
		f.mu.Lock()
		f.got = append(f.got, request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
		queue := f.answers[key]
		var a answer
		switch {
		case len(queue) == 0:
			a = answer{599, "no canned answer for " + key}
		case len(queue) == 1:
			a = queue[0]
		default:
			a, f.answers[key] = queue[0], queue[1:]
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	return f
}

// startFake is newFakeThaili for a test, closed when it ends.
func startFake(t *testing.T, answers map[string][]answer) (*fakeThaili, *sdk.Client) {
	t.Helper()
	f := newFakeThaili(answers)
	t.Cleanup(f.Close)
	return f, f.client()
}

// client is a client of the fake with the sandbox secret key.
func (f *fakeThaili) client() *sdk.Client {
	return sdk.New(f.URL, secretKey, sdk.WithHTTPClient(f.Client()))
}

// requests returns the requests received so far.
func (f *fakeThaili) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}

// last returns the last request received; the test fails if none came.
func (f *fakeThaili) last(t *testing.T) request {
	t.Helper()
	got := f.requests()
	if len(got) == 0 {
		t.Fatal("no request reached the host")
	}
	return got[len(got)-1]
}

// ok answers 200 with body.
func ok(body string) []answer { return []answer{{200, body}} }
