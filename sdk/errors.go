package sdk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Error is an API answer other than success, in Khalti's shapes:
//
//	{"detail": "Not found.", "error_key": "validation_error"}
//	{"amount": ["Amount does not match the transaction amount."], "error_key": "validation_error"}
//	{"detail": "Invalid token.", "status_code": 401}
type Error struct {
	StatusCode int                 // the HTTP status
	Detail     string              // "detail", if any
	ErrorKey   string              // "error_key", e.g. "validation_error", "idempotency_error"
	Fields     map[string][]string // field errors, e.g. Fields["amount"]; nil if none
	Body       []byte              // the raw response body
}

// Error describes the status, the detail and the field errors, e.g.
// "sdk: HTTP 400; amount: Amount does not match the transaction amount.".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sdk: HTTP %d", e.StatusCode)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	names := make([]string, 0, len(e.Fields))
	for n := range e.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "; %s: %s", n, strings.Join(e.Fields[n], " "))
	}
	if e.Detail == "" && len(names) == 0 {
		b.WriteString(" " + http.StatusText(e.StatusCode))
	}
	return b.String()
}

// newError parses an error body. Keys holding a string or a list of
// strings other than detail and error_key are field errors (as are
// non_field_errors); other keys (status_code, tries_remaining) stay in Body.
func newError(code int, body []byte) *Error {
	e := &Error{StatusCode: code, Body: body}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return e
	}
	for k, raw := range m {
		var s string
		var list []string
		switch {
		case k == "detail":
			if json.Unmarshal(raw, &s) == nil {
				e.Detail = s
			}
		case k == "error_key":
			if json.Unmarshal(raw, &s) == nil {
				e.ErrorKey = s
			}
		case k == "status_code" || k == "tries_remaining":
		case json.Unmarshal(raw, &list) == nil && list != nil:
			e.addField(k, list...)
		case json.Unmarshal(raw, &s) == nil:
			e.addField(k, s)
		}
	}
	return e
}

func (e *Error) addField(name string, msgs ...string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[name] = append(e.Fields[name], msgs...)
}
