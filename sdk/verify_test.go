package sdk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/sdk"
)

// Redirects to return_url that a sandbox `thaili serve --sign-redirects`
// sent, signed with the sandbox secret key: after a payment, and after a
// cancel (cmd/thaili/sdk_e2e_test.go checks the SDK against the server's
// signer and the live hosted page).
const (
	paidRedirect = "pidx=49FikeNMkgPbDENwDRNFmg&txnId=VXSR5iSMwipPgmhwwUfMj5&amount=1300&total_amount=1300&status=Completed" +
		"&mobile=98XXXXX001&tidx=VXSR5iSMwipPgmhwwUfMj5&purchase_order_id=order-1&purchase_order_name=A+book" +
		"&transaction_id=VXSR5iSMwipPgmhwwUfMj5&signature=37f70ec1921ee38f73ce3837520edbd1385731ceadae44ff2e6c4784daaae88b" +
		"&signed_field_names=pidx%2CtxnId%2Camount%2Ctotal_amount%2Cstatus%2Cmobile%2Ctidx%2Cpurchase_order_id%2Cpurchase_order_name%2Ctransaction_id"
	canceledRedirect = "pidx=8N2PWRWqNf9RLam6Sxo7S6&transaction_id=&tidx=&amount=1000&total_amount=1000&mobile=&status=User+canceled" +
		"&purchase_order_id=o&purchase_order_name=n&signature=af08dfab1c0540d9425f6821ca1c2dd80925ca1da0eba07b766b38d4943b9772" +
		"&signed_field_names=pidx%2Camount%2Ctotal_amount%2Cstatus%2Cmobile%2Ctidx%2Cpurchase_order_id%2Cpurchase_order_name%2Ctransaction_id"
)

func TestVerifyRedirect(t *testing.T) {
	tamper := map[string]func(q url.Values){
		"as sent":        func(url.Values) {},
		"shop's param":   func(q url.Values) { q.Set("cart", "7") }, // not signed: still valid
		"upper hex":      func(q url.Values) { q.Set("signature", strings.ToUpper(q.Get("signature"))) },
		"value":          func(q url.Values) { q.Set("amount", "100") },
		"status":         func(q url.Values) { q.Set("status", "Completed ") },
		"duplicate":      func(q url.Values) { q.Add("pidx", "other") },
		"missing field":  func(q url.Values) { q.Del("tidx") },
		"no signature":   func(q url.Values) { q.Del("signature") },
		"two signatures": func(q url.Values) { q.Add("signature", q.Get("signature")) },
		"bad hex":        func(q url.Values) { q.Set("signature", "zz"+q.Get("signature")[2:]) },
		"short":          func(q url.Values) { q.Set("signature", q.Get("signature")[:62]) },
		"fewer names":    func(q url.Values) { q.Set("signed_field_names", "pidx,amount") },
		"no status":      func(q url.Values) { q.Set("signed_field_names", "pidx,amount,total_amount") },
		"unknown name": func(q url.Values) {
			q.Set("signed_field_names", q.Get("signed_field_names")+",cart")
			q.Set("cart", "7")
		},
		"repeated name": func(q url.Values) { q.Set("signed_field_names", q.Get("signed_field_names")+",pidx") },
		"empty names":   func(q url.Values) { q.Set("signed_field_names", "") },
		"reordered": func(q url.Values) {
			n := strings.Split(q.Get("signed_field_names"), ",")
			n[0], n[1] = n[1], n[0]
			q.Set("signed_field_names", strings.Join(n, ","))
		},
	}
	for name, change := range tamper {
		for _, raw := range []string{paidRedirect, canceledRedirect} {
			q, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatal(err)
			}
			change(q)
			want := name == "as sent" || name == "shop's param" || name == "upper hex"
			if got := sdk.VerifyRedirect(secretKey, q); got != want {
				t.Errorf("%s (%s): VerifyRedirect = %v, want %v", name, q.Get("status"), got, want)
			}
		}
	}
	q, _ := url.ParseQuery(paidRedirect)
	if sdk.VerifyRedirect("test_secret_key_00000000000000000000000000000000", q) {
		t.Error("another merchant's key verifies")
	}
}

// A webhook delivery a sandbox `thaili serve` sent, with its endpoint's
// secret (cmd/thaili/sdk_e2e_test.go verifies live deliveries).
const (
	deliverySecret = "whsec_8ad4351b3befb49c736b7e0b92c4c8146f993482aa19146c"
	deliveryHeader = "t=1796305105,v1=225c0679858d41cfe88ebff239f6675cf986c2adc2ee9d743d173ab51b5ba6c6"
	deliveryBody   = `{"book":"test","created":1796305105,"data":{"amount":1300,"fee_amount":39,"idx":"VXSR5iSMwipPgmhwwUfMj5",` +
		`"pidx":"49FikeNMkgPbDENwDRNFmg","purchase_order_id":"order-1","refunded_amount":0,"state":"Completed",` +
		`"transaction_id":"VXSR5iSMwipPgmhwwUfMj5"},"id":"fCkRLXcnkcRSYnioajssq8","type":"payment.completed"}`
)

func webhookHeader(secret string, ts int64, body string) string {
	t := strconv.FormatInt(ts, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t + "." + body))
	return "t=" + t + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	sent := time.Unix(1796305105, 0)
	if err := sdk.VerifyWebhook(deliverySecret, deliveryHeader, []byte(deliveryBody), sent.Add(time.Second), 0); err != nil {
		t.Fatalf("a delivery Thaili sent: %v", err)
	}
	if h := webhookHeader(deliverySecret, sent.Unix(), deliveryBody); h != deliveryHeader {
		t.Fatalf("the test's signer drifted from the server's: %q, want %q", h, deliveryHeader)
	}

	const secret, body = "whsec_test", `{"pidx":"x","status":"Completed"}`
	now := time.Unix(1700000000, 0)
	good := webhookHeader(secret, now.Unix(), body)
	cases := []struct {
		name      string
		secret    string
		header    string
		body      string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, good, body, now, 0, nil},
		{"spaces", secret, strings.ReplaceAll(good, ",", ", "), body, now, 0, nil},
		{"rotation", secret, good + ",v1=" + strings.Repeat("ab", 32), body, now, 0, nil},
		{"rotation first", secret, "t=1700000000,v1=" + strings.Repeat("ab", 32) + "," + strings.SplitN(good, ",", 2)[1], body, now, 0, nil},
		{"unknown scheme ignored", secret, good + ",v0=deadbeef", body, now, 0, nil},
		{"within default 5m", secret, good, body, now.Add(5 * time.Minute), 0, nil},
		{"past default 5m", secret, good, body, now.Add(5*time.Minute + time.Second), 0, sdk.ErrWebhookTimestamp},
		{"future beyond 5m", secret, good, body, now.Add(-6 * time.Minute), 0, sdk.ErrWebhookTimestamp},
		{"custom tolerance", secret, good, body, now.Add(time.Hour), 2 * time.Hour, nil},
		{"tight tolerance", secret, good, body, now.Add(2 * time.Second), time.Second, sdk.ErrWebhookTimestamp},
		{"body changed", secret, good, body + " ", now, 0, sdk.ErrWebhookSignature},
		{"wrong secret", "whsec_other", good, body, now, 0, sdk.ErrWebhookSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1700000000", "t=1700000001", 1), body, now, 0, sdk.ErrWebhookSignature},
		{"no v1", secret, "t=1700000000", body, now, 0, sdk.ErrWebhookSignature},
		{"bad v1", secret, "t=1700000000,v1=xyz", body, now, 0, sdk.ErrWebhookSignature},
		{"no t", secret, "v1=" + strings.Repeat("ab", 32), body, now, 0, sdk.ErrWebhookHeader},
		{"two t", secret, "t=1,t=2,v1=ab", body, now, 0, sdk.ErrWebhookHeader},
		{"bad t", secret, "t=soon,v1=ab", body, now, 0, sdk.ErrWebhookHeader},
		{"empty", secret, "", body, now, 0, sdk.ErrWebhookHeader},
		{"garbage", secret, "sha256=abc;t", body, now, 0, sdk.ErrWebhookHeader},
	}
	for _, c := range cases {
		if err := sdk.VerifyWebhook(c.secret, c.header, []byte(c.body), c.now, c.tolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}
