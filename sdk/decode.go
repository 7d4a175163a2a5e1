package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrTimestamp is matched (errors.Is) by the error of a call whose answer
// held a malformed timestamp. The call still returns the answer, with
// that time zero (nil for WebhookDelivery.NextAttemptAt).
var ErrTimestamp = errors.New("sdk: malformed timestamp")

// timestampFields are the answer fields that hold a timestamp, wherever
// they are in the body. Each is a time.Time (or *time.Time) in the
// response types.
var timestampFields = map[string]bool{
	"expires_at": true, "created_on": true, "created_at": true, "updated_at": true, "next_attempt_at": true,
}

// decodeJSON decodes a 2xx body into out. A malformed timestamp does not
// stop the decoding, as it would with time.Time's own: it is nulled (so
// left zero) and reported as ErrTimestamp after the rest is decoded.
func decodeJSON(code int, body []byte, out any) error {
	var tree any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // numbers re-encode exactly
	if err := d.Decode(&tree); err != nil {
		return fmt.Errorf("sdk: decoding HTTP %d response: %w", code, err)
	}
	var bad []string
	clearBadTimestamps(tree, &bad)
	if len(bad) > 0 {
		b, err := json.Marshal(tree)
		if err != nil {
			return fmt.Errorf("sdk: decoding HTTP %d response: %w", code, err)
		}
		body = b
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("sdk: decoding HTTP %d response: %w", code, err)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		more := ""
		if len(bad) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-1)
		}
		return fmt.Errorf("%w in the HTTP %d response: %s%s", ErrTimestamp, code, bad[0], more)
	}
	return nil
}

// clearBadTimestamps replaces each timestamp field of v that time.Time
// would refuse (anything but null or an RFC 3339 string) with null, and
// appends `name "value"` for it to bad.
func clearBadTimestamps(v any, bad *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !timestampFields[k] {
				clearBadTimestamps(x, bad)
				continue
			}
			if x == nil {
				continue
			}
			s, ok := x.(string)
			if ok {
				var t time.Time
				if t.UnmarshalText([]byte(s)) == nil {
					continue
				}
			}
			raw, _ := json.Marshal(x)
			*bad = append(*bad, k+" "+string(raw))
			v[k] = nil
		}
	case []any:
		for _, x := range v {
			clearBadTimestamps(x, bad)
		}
	}
}
