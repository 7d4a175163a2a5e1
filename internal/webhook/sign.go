package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// SignatureHeader is the header a delivery's signature travels in.
const SignatureHeader = "Thaili-Signature"

// Sign returns the SignatureHeader value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>", as Stripe signs, so a
// receiver can check both the MAC and how old the delivery is.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}
