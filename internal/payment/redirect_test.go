package payment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/identity"
)

// verifyRedirect is the merchant-side verifier printed in NOTES.md,
// verbatim, checked here against the same example.
func verifyRedirect(secretKey string, q url.Values) bool {
	names := strings.Split(q.Get("signed_field_names"), ",")
	lines := make([]string, len(names))
	for i, n := range names {
		if len(q[n]) != 1 { // each signed field exactly once
			return false
		}
		lines[i] = n + "=" + q.Get(n)
	}
	k := hmac.New(sha256.New, []byte(secretKey))
	k.Write([]byte("thaili-redirect-v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strings.Join(lines, "\n")))
	sig, err := hex.DecodeString(q.Get("signature"))
	return err == nil && hmac.Equal(sig, m.Sum(nil)) && slices.Contains(names, "pidx") &&
		slices.Contains(names, "amount") && slices.Contains(names, "status")
}

// TestRedirectSignatureVector pins the scheme NOTES.md documents, so a
// merchant's verifier and Thaili cannot drift apart.
func TestRedirectSignatureVector(t *testing.T) {
	const sk = "test_secret_key_f59e8b7d18b4499ca40f68195a846e9b"
	q, err := url.ParseQuery("order=7&pidx=bZQLD9wRVWo4CdESSfuSsB&txnId=4H7AhoXDJWg5WjrcPT9ixW&amount=1000&total_amount=1000" +
		"&status=Completed&mobile=98XXXXX904&tidx=4H7AhoXDJWg5WjrcPT9ixW&purchase_order_id=test12&purchase_order_name=test" +
		"&transaction_id=4H7AhoXDJWg5WjrcPT9ixW&signature=e9f718f0789a0645aed4ae88916ced8f2a2afd6965ea712d7e2f1951ce92a888" +
		"&signed_field_names=pidx%2CtxnId%2Camount%2Ctotal_amount%2Cstatus%2Cmobile%2Ctidx%2Cpurchase_order_id%2Cpurchase_order_name%2Ctransaction_id")
	if err != nil {
		t.Fatal(err)
	}
	if got := identity.RedirectSigningKey(sk); hexOf(got) != "0a3d8938a4d05fcca4ce2eef84e2d08fc356eef4ce1f27bf925dd1b4932c0cff" {
		t.Fatalf("signing key %x", got)
	}
	if !VerifyRedirect(sk, q) || !verifyRedirect(sk, q) {
		t.Fatal("the documented example does not verify")
	}
	var params [][2]string
	for _, n := range RedirectSignedFields {
		params = append(params, [2]string{n, q.Get(n)})
	}
	sig, names := SignRedirect(identity.RedirectSigningKey(sk), params)
	if sig != q.Get("signature") || names != q.Get("signed_field_names") {
		t.Fatalf("SignRedirect: %s %s", sig, names)
	}
	q.Set("amount", "100000")
	if VerifyRedirect(sk, q) || verifyRedirect(sk, q) {
		t.Fatal("a changed amount verifies")
	}
	q.Set("amount", "1000")
	q.Set("signed_field_names", "purchase_order_id")
	if VerifyRedirect(sk, q) || verifyRedirect(sk, q) {
		t.Fatal("a list without pidx, amount and status verifies")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
