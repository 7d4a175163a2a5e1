package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// WebhookSignatureHeader is the header every webhook delivery's signature
// comes in.
const WebhookSignatureHeader = "Thaili-Signature"

// DefaultWebhookTolerance is how far a webhook's timestamp may be from
// now when VerifyWebhook is given no tolerance.
const DefaultWebhookTolerance = 5 * time.Minute

// Errors of VerifyWebhook.
var (
	ErrWebhookHeader    = errors.New("sdk: malformed Thaili-Signature header")
	ErrWebhookTimestamp = errors.New("sdk: webhook timestamp outside the tolerance")
	ErrWebhookSignature = errors.New("sdk: no valid webhook signature")
)

// VerifyWebhook checks a webhook's Thaili-Signature header against its raw
// body, as Thaili signs every delivery to an endpoint registered with
// CreateWebhookEndpoint (secret is the whsec_... value shown then):
//
//	Thaili-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// The header may carry several v1 values (during a secret rotation); one
// valid value is enough. Unknown keys are ignored. The timestamp must be
// within tolerance of now (either side); tolerance <= 0 means
// DefaultWebhookTolerance (5 minutes). The error is ErrWebhookHeader,
// ErrWebhookTimestamp or ErrWebhookSignature. Pass body exactly as
// received, before any JSON decoding.
func VerifyWebhook(secret string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrWebhookHeader
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrWebhookHeader
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				continue // a malformed signature is just not a valid one
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" {
		return ErrWebhookHeader
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || unix < 0 {
		return ErrWebhookHeader
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookTimestamp
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	want := m.Sum(nil)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}
