package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
)

// What the delivery log shows as a delivery's last error: one of these
// plain categories, or "HTTP nnn" for an answer that was not 2xx. Never
// the Go error, whose text can hold the resolver's address and the
// private address a name resolved to; that goes to the server log.
const (
	failRefused    = "connection refused"
	failBlocked    = "blocked address" // the SSRF guard refused the address
	failTimeout    = "timeout"
	failDNS        = "DNS lookup failed"
	failTLS        = "TLS handshake failed"
	failConnection = "connection failed" // anything else without an answer
	failDeleted    = "endpoint deleted"
	failSecret     = "endpoint secret unreadable" // the server secret changed
)

// failureCategory names what went wrong with a request that got no
// answer; inHandshake says the client saw its TLS handshake fail.
func failureCategory(err error, inHandshake bool) string {
	var blocked *blockedAddressError
	var dns *net.DNSError
	var timeout net.Error
	var certificate *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &blocked):
		return failBlocked
	case errors.As(err, &dns): // before timeouts: a lookup that timed out is a DNS failure
		return failDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return failRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return failTimeout
	case inHandshake, errors.As(err, &certificate), errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		return failTLS
	default:
		return failConnection
	}
}

// shownFailure is what the delivery log shows for a stored last_error.
// Rows written before last_error held categories (or by an older node
// during an upgrade) hold raw Go errors, which can name private
// addresses: anything that is not a category shows as "connection
// failed".
func shownFailure(stored string) string {
	switch stored {
	case "", failRefused, failBlocked, failTimeout, failDNS, failTLS, failConnection, failDeleted, failSecret:
		return stored
	}
	if code, ok := strings.CutPrefix(stored, "HTTP "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '9' &&
		strings.Trim(code, "0123456789") == "" {
		return stored
	}
	return failConnection
}
