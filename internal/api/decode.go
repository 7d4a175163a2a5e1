package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/money"
)

// maxBody bounds every request body; Khalti requests are a few hundred bytes.
const maxBody = 64 << 10

// form is a decoded request body (JSON object or urlencoded form) or query
// string, with the field errors found while reading it.
type form struct {
	values map[string]any
	errs   map[string][]string
}

// readForm decodes a JSON, urlencoded or multipart body. The content type
// decides; without one, a body starting with "{" or "[" is taken as JSON.
// Any other content type is a 415, and a JSON body sent as a form is
// refused. An empty body is an empty form whatever its content type.
func readForm(r *http.Request) (*form, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &fault.Error{Kind: fault.KindTooLarge, Detail: fmt.Sprintf("Request body is larger than %d bytes.", maxBody)}
	}
	if err != nil {
		return nil, fault.DetailError("Could not read the request body.")
	}
	f := &form{values: map[string]any{}, errs: map[string][]string{}}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return f, nil
	}
	// A body is read only as what its content type says (DRF's JSON, form
	// and multipart parsers). Reading anything else as a form would find
	// no fields, and a refund without an amount refunds everything.
	contentType := strings.TrimSpace(r.Header.Get("Content-Type"))
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) && contentType != "" {
		return nil, unsupportedMedia(contentType)
	}
	looksJSON := trimmed[0] == '{' || trimmed[0] == '['
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") || (mediaType == "" && looksJSON):
	case mediaType == "application/x-www-form-urlencoded" || mediaType == "":
		if looksJSON {
			return nil, fault.DetailError("Form parse error: the body is JSON; send it with Content-Type: application/json.")
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fault.DetailError("Form body could not be parsed.")
		}
		return queryForm(q), nil
	case mediaType == "multipart/form-data":
		bad := fault.DetailError("Multipart form parse error: the body is not a valid multipart form.")
		if params["boundary"] == "" {
			return nil, bad
		}
		mf, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return nil, bad
		}
		defer mf.RemoveAll()
		return queryForm(mf.Value), nil
	default:
		return nil, unsupportedMedia(contentType)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, fault.DetailError("JSON parse error: the body is not valid JSON.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &fault.Error{Kind: fault.KindValidation, ErrorKey: fault.ErrorKeyValidation,
			Fields: map[string][]string{"non_field_error": {"Invalid data. Expected a dictionary."}}}
	}
	f.values = obj
	return f, nil
}

// unsupportedMedia is DRF's 415 answer.
func unsupportedMedia(contentType string) error {
	return &fault.Error{Kind: fault.KindUnsupportedMedia, Detail: fmt.Sprintf("Unsupported media type %q in request.", contentType)}
}

// queryForm wraps url.Values, taking the first value of each key.
func queryForm(q url.Values) *form {
	f := &form{values: map[string]any{}, errs: map[string][]string{}}
	for k, v := range q {
		if len(v) > 0 {
			f.values[k] = v[0]
		}
	}
	return f
}

func (f *form) fail(field, msg string) { f.errs[field] = append(f.errs[field], msg) }

// err returns the collected field errors, if any, in Khalti's E1 shape.
func (f *form) err() error {
	if e := fault.FieldErrors(f.errs); e != nil {
		return e
	}
	return nil
}

// str reads a string field the way DRF's CharField does: numbers become
// their text; objects, arrays and booleans are refused; a required field
// may not be missing, null or blank.
func (f *form) str(field string, required bool) string {
	v, ok := f.values[field]
	if !ok {
		if required {
			f.fail(field, fault.MsgRequired)
		}
		return ""
	}
	var s string
	switch t := v.(type) {
	case nil:
		if required {
			f.fail(field, fault.MsgNull)
		}
		return ""
	case string:
		// Form values may hold any bytes: invalid UTF-8 is replaced as
		// Django decodes it, and NUL, which no database text column
		// takes, is refused as DRF's CharField does.
		s = strings.TrimSpace(strings.ToValidUTF8(t, "\uFFFD"))
		if strings.ContainsRune(s, 0) {
			f.fail(field, "Null characters are not allowed.")
			return ""
		}
	case json.Number:
		s = t.String()
	default:
		f.fail(field, "Not a valid string.")
		return ""
	}
	if required && s == "" {
		f.fail(field, fault.MsgBlank)
	}
	if len(s) > 1000 {
		f.fail(field, "Ensure this field has no more than 1000 characters.")
		return ""
	}
	return s
}

// amount reads a required integer amount in paisa.
func (f *form) amount(field string) money.Paisa {
	v, ok := f.values[field]
	if !ok {
		f.fail(field, fault.MsgRequired)
		return 0
	}
	if v == nil {
		f.fail(field, fault.MsgNull)
		return 0
	}
	p, err := money.Parse(v)
	if err != nil {
		f.fail(field, err.Error())
	}
	return p
}

// optionalAmount reads an amount that may be absent. A present but blank
// or null amount is an error rather than "no amount": for a refund that
// would silently mean "everything".
func (f *form) optionalAmount(field string) *money.Paisa {
	if _, ok := f.values[field]; !ok {
		return nil
	}
	p := f.amount(field)
	return &p
}

// extras returns the merchant_* fields, kept as sent.
func (f *form) extras() map[string]any {
	out := map[string]any{}
	for k, v := range f.values {
		if strings.HasPrefix(k, "merchant_") && len(k) <= 100 {
			out[k] = v
		}
	}
	return out
}
