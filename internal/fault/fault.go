// Package fault is the one error type Thaili's services return: a kind
// that the API maps to an HTTP status in one place, what the client may
// see (already in Khalti's vocabulary and shape), and the cause, which
// only the log sees.
package fault

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies an Error; the API maps each kind to an HTTP status.
type Kind int

// Error kinds.
const (
	KindValidation       Kind = iota + 1 // the request is wrong: 400
	KindNotFound                         // no such thing visible to the caller: 404
	KindUnauthorized                     // missing or bad credentials: 401
	KindConflict                         // the request clashes with the current state: 409
	KindLocked                           // the payer's wallet is locked: 400
	KindTooLarge                         // the request body is too large: 413
	KindInternal                         // a bug or an outage: 500, details only in the log
	KindUnsupportedMedia                 // the body's content type is not understood: 415
	KindThrottled                        // too many guesses from this client: 429 with Retry-After
)

// Status is the HTTP status a response with an error of kind k carries:
// the one mapping the JSON API and the pages share (the numbers are the
// ones net/http names; this package stays free of HTTP). A locked wallet
// is 400, as Khalti answers it; an unknown kind is 500.
func (k Kind) Status() int {
	switch k {
	case KindValidation, KindLocked:
		return 400
	case KindUnauthorized:
		return 401
	case KindNotFound:
		return 404
	case KindConflict:
		return 409
	case KindTooLarge:
		return 413
	case KindUnsupportedMedia:
		return 415
	case KindThrottled:
		return 429
	}
	return 500
}

// Error is the one error type the services return. Its fields are what
// the client may see, already in Khalti's vocabulary; Cause is for the log.
type Error struct {
	Kind           Kind
	Fields         map[string][]string // per-field messages (Khalti's E1 shape)
	Detail         string              // the "detail" message, if any
	ErrorKey       string              // "error_key", if any
	TriesRemaining string              // "tries_remaining", a string as clients expect
	RetryAfter     time.Duration       // KindThrottled: when to try again (Retry-After)
	// LockedUntil is, for a wallet locked by wrong MPINs (KindLocked),
	// when the lock ends; zero for a lock that lasts until the MPIN is
	// reset. Pages word the lock themselves from it; the API does not
	// send it (Detail says it in Khalti's words).
	LockedUntil time.Time
	Cause       error // never shown to clients
}

func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = fmt.Sprint(e.Fields)
	}
	if e.Cause != nil {
		return msg + ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// ErrorKeyValidation is Khalti's error_key for request problems.
const ErrorKeyValidation = "validation_error"

// FieldError is a validation error on one field, in the E1 shape.
func FieldError(field, msg string) *Error {
	return &Error{Kind: KindValidation, Fields: map[string][]string{field: {msg}}, ErrorKey: ErrorKeyValidation}
}

// FieldErrors is a validation error on several fields; nil if none.
func FieldErrors(fields map[string][]string) *Error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Kind: KindValidation, Fields: fields, ErrorKey: ErrorKeyValidation}
}

// DetailError is a validation error with only a detail message.
func DetailError(detail string) *Error {
	return &Error{Kind: KindValidation, Detail: detail, ErrorKey: ErrorKeyValidation}
}

// NotFound is Khalti's "Not found." answer, identical whether the object
// does not exist or belongs to someone else.
func NotFound() *Error {
	return &Error{Kind: KindNotFound, Detail: "Not found.", ErrorKey: ErrorKeyValidation}
}

// Unauthorized is a 401 with one of DRF's token-authentication messages.
func Unauthorized(detail string) *Error {
	return &Error{Kind: KindUnauthorized, Detail: detail}
}

// Messages clients depend on, copied exactly from Khalti.
const (
	MsgInvalidToken       = "Invalid token."
	MsgNoCredentials      = "Authentication credentials were not provided."
	MsgTokenNoCredentials = "Invalid token header. No credentials provided."
	MsgTokenSpaces        = "Invalid token header. Token string should not contain spaces."
	MsgNotInteger         = "A valid integer is required."
	MsgMinAmount          = "Amount should be greater than Rs. 10, that is 1000 paisa."
	MsgFeeNotFound        = "Fee not found."
	MsgMobileOrPin        = "Mobile or pin invalid."
	MsgCodeOrPin          = "Confirmation code or transaction pin does not match."
	MsgRefundSuccessful   = "Transaction refund successful."
	MsgRequired           = "This field is required."
	MsgBlank              = "This field may not be blank."
	MsgNull               = "This field may not be null."
)

// Internal wraps an unexpected error; clients see a generic message.
func Internal(cause error) *Error {
	return &Error{Kind: KindInternal, Detail: "A server error occurred.", Cause: cause}
}

// Wrap returns err as the services return it: nil as nil, an *Error as
// it is, a canceled or timed-out request as an internal "Request
// cancelled.", anything else as Internal.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindInternal, Detail: "Request cancelled.", Cause: err}
	}
	return Internal(err)
}

// AsError returns err as an *Error, wrapping anything else as internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
