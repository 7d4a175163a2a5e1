package payment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/thaili/thaili/internal/identity"
)

// Signed redirects (issue 7). Thaili keeps secret keys only as keyed
// hashes, so it cannot sign with the secret itself. Instead, when a secret
// key is issued, Thaili also stores its redirect signing key
//
//	signing_key = HMAC-SHA256(key = secret key, message = "thaili-redirect-v1")
//
// which the merchant can compute from its secret key but which does not
// give the secret back. The hosted page's redirect to return_url then
// carries
//
//	signed_field_names = the §5 parameters present, comma-separated, in
//	                     the order of RedirectSignedFields
//	signature          = hex(HMAC-SHA256(signing_key, canonical))
//
// where canonical is "name=value" for each name of signed_field_names, in
// that order, joined by "\n", with the values as decoded from the query.
// NOTES.md shows a verifier; VerifyRedirect is Thaili's own.

// RedirectSignedFields are the redirect parameters a signature may cover,
// in the order signed_field_names lists them.
var RedirectSignedFields = []string{"pidx", "txnId", "amount", "total_amount", "status", "mobile", "tidx",
	"purchase_order_id", "purchase_order_name", "transaction_id"}

// redirectCanonical is the signed message: "name=value" lines.
func redirectCanonical(names []string, value func(string) string) string {
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = n + "=" + value(n)
	}
	return strings.Join(lines, "\n")
}

func redirectMAC(signingKey []byte, canonical string) []byte {
	mac := hmac.New(sha256.New, signingKey)
	mac.Write([]byte(canonical))
	return mac.Sum(nil)
}

// SignRedirect signs the redirect parameters params (name and value
// pairs) with signingKey. It returns the signature and signed_field_names
// covering those of RedirectSignedFields that params holds.
func SignRedirect(signingKey []byte, params [][2]string) (signature, signedFieldNames string) {
	vals := map[string]string{}
	for _, kv := range params {
		vals[kv[0]] = kv[1]
	}
	var names []string
	for _, n := range RedirectSignedFields {
		if _, ok := vals[n]; ok {
			names = append(names, n)
		}
	}
	sum := redirectMAC(signingKey, redirectCanonical(names, func(n string) string { return vals[n] }))
	return hex.EncodeToString(sum), strings.Join(names, ",")
}

// VerifyRedirect reports whether the query of a return_url redirect
// carries a valid signature by secretKey's merchant. Every signed field
// must appear exactly once, and signed_field_names must name only known
// fields, each once, and include pidx, amount and status. A merchant must
// still call lookup before treating a payment as paid (docs/khalti.md §3.3).
func VerifyRedirect(secretKey string, query url.Values) bool {
	sigs, names := query["signature"], query["signed_field_names"]
	if len(sigs) != 1 || len(names) != 1 || names[0] == "" {
		return false
	}
	sig, err := hex.DecodeString(sigs[0])
	if err != nil {
		return false
	}
	known := map[string]bool{}
	for _, n := range RedirectSignedFields {
		known[n] = true
	}
	list := strings.Split(names[0], ",")
	seen := map[string]bool{}
	for _, n := range list {
		if !known[n] || seen[n] || len(query[n]) != 1 {
			return false
		}
		seen[n] = true
	}
	if !seen["pidx"] || !seen["amount"] || !seen["status"] {
		return false
	}
	want := redirectMAC(identity.RedirectSigningKey(secretKey), redirectCanonical(list, query.Get))
	return hmac.Equal(sig, want)
}
