package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestResponseHead: the delivery log keeps at most ResponseBodyMax bytes
// of an answer, cut between characters and marked when cut, as text
// PostgreSQL accepts, and never the endpoint's secret.
func TestResponseHead(t *testing.T) {
	const secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef"
	max := ResponseBodyMax
	for _, tc := range []struct {
		name      string
		body      string
		head      string
		truncated bool
	}{
		{"empty", "", "", false},
		{"short", `{"ok":true}`, `{"ok":true}`, false},
		{"exactly the limit", strings.Repeat("a", max), strings.Repeat("a", max), false},
		{"one byte over", strings.Repeat("a", max+1), strings.Repeat("a", max), true},
		{"far over", strings.Repeat("b", 100<<10), strings.Repeat("b", max), true},
		// "न" is 3 bytes; the one that would straddle the limit is dropped whole.
		{"a character across the limit", strings.Repeat("a", max-1) + "नमस्ते", strings.Repeat("a", max-1), true},
		{"invalid UTF-8 and NUL", "ok\xff\x00done", "ok\uFFFD\uFFFDdone", false},
		{"the secret echoed", "you sent " + secret + " back", "you sent [secret] back", false},
		// Blanking the secret happens before the cut, so its start
		// cannot survive at the end of the kept part.
		{"the secret across the limit", strings.Repeat("c", max-10) + secret + "tail", strings.Repeat("c", max-10) + "[secret]ta", true},
		{"the secret past the limit", strings.Repeat("c", max-5) + secret + strings.Repeat("d", 100), strings.Repeat("c", max-5) + "[secr", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head, truncated := responseHead(strings.NewReader(tc.body), secret)
			if head != tc.head || truncated != tc.truncated {
				t.Errorf("responseHead = %.40q... (%d bytes), %v; want %.40q... (%d bytes), %v", head, len(head), truncated, tc.head, len(tc.head), tc.truncated)
			}
			if !utf8.ValidString(head) || strings.ContainsRune(head, 0) || len(head) > max || strings.Contains(head, "whsec_") {
				t.Errorf("head is not clean text within the limit: %d bytes, valid %v", len(head), utf8.ValidString(head))
			}
		})
	}
}
