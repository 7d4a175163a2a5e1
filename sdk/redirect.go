package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// redirectKeyLabel is the message the redirect signing key is derived with.
const redirectKeyLabel = "thaili-redirect-v1"

// redirectSignedFields are the redirect parameters a signature may cover,
// in the order signed_field_names lists them.
var redirectSignedFields = []string{"pidx", "txnId", "amount", "total_amount", "status", "mobile", "tidx",
	"purchase_order_id", "purchase_order_name", "transaction_id"}

// VerifyRedirect reports whether query, the query of a redirect to
// return_url, carries a valid Thaili signature by the merchant of
// secretKey. Thaili signs redirects only when run with
// --sign-redirects; Khalti never does. The scheme:
//
//	signing_key = HMAC-SHA256(key = secret key, message = "thaili-redirect-v1")
//	canonical   = "name=value" for each name of signed_field_names, in that
//	              order, joined by "\n", values as decoded from the query
//	signature   = lowercase hex of HMAC-SHA256(signing_key, canonical)
//
// Every signed field must appear exactly once, signed_field_names must
// name only redirect parameters, each once, and include pidx, amount and
// status. A valid signature proves the redirect came from Thaili for that
// pidx and amount, but a redirect can be replayed and is not proof of
// payment: call Lookup before treating the payment as paid.
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
	for _, n := range redirectSignedFields {
		known[n] = true
	}
	list := strings.Split(names[0], ",")
	seen := map[string]bool{}
	lines := make([]string, len(list))
	for i, n := range list {
		if !known[n] || seen[n] || len(query[n]) != 1 {
			return false
		}
		seen[n] = true
		lines[i] = n + "=" + query[n][0]
	}
	if !seen["pidx"] || !seen["amount"] || !seen["status"] {
		return false
	}
	k := hmac.New(sha256.New, []byte(secretKey))
	k.Write([]byte(redirectKeyLabel))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strings.Join(lines, "\n")))
	return hmac.Equal(sig, m.Sum(nil))
}
