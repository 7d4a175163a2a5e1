package identity

import (
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/store"
)

func TestCommandLineActor(t *testing.T) {
	for _, c := range []struct{ user, want string }{
		{"alice", "command line (alice)"},
		{"  bob ", "command line (bob)"},
		{"", "command line"},
		{"\t", "command line"},
		{"eve\x1b[31m\xff", "command line (eve[31m)"}, // no control bytes or invalid UTF-8 reach the log
		{strings.Repeat("ä", 100), "command line (" + strings.Repeat("ä", 64) + ")"},
	} {
		if got := CommandLine(c.user).String(); got != c.want {
			t.Errorf("CommandLine(%q) = %q, want %q", c.user, got, c.want)
		}
	}
	if got := ConsoleOperator(store.Operator{ID: 7, Email: "ops@example.com"}).String(); got != "ops@example.com" {
		t.Errorf("ConsoleOperator = %q", got)
	}
}
