package notify

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestLogShowsCodesOnlyWhenAsked: outside the sandbox a code in the log
// is a secret in the wrong place, so the log names only the masked phone.
func TestLogShowsCodesOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		n := Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), ShowCodes: show}
		if err := n.SendOTP(ctx, "9800000001", "482913", 1000, "Shop"); err != nil {
			t.Fatal(err)
		}
		if err := n.SendCode(ctx, "9800000001", "735102", "confirm phone"); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, code := range []string{"482913", "735102", "9800000001"} {
			if strings.Contains(out, code) != show {
				t.Errorf("ShowCodes %t: log holds %q: %t\n%s", show, code, !show, out)
			}
		}
		if !show && strings.Count(out, "98XXXXX001") != 2 {
			t.Errorf("the log does not name the masked phone twice:\n%s", out)
		}
	}
}
