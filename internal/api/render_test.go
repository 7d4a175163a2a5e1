package api

import (
	"testing"

	"github.com/thaili/thaili/internal/store"
)

// TestEveryStateHasItsRecordFields: a transaction record names its state
// with an idx and a template, as Khalti's do; a state missing from the
// table rendered as empty strings in the transaction list.
func TestEveryStateHasItsRecordFields(t *testing.T) {
	seen := map[string]store.State{}
	for _, s := range store.States {
		got := stateOf(s)
		if got.Idx == "" || got.Template == "" || got.Name != string(s) {
			t.Errorf("state %q renders as %+v", s, got)
		}
		if other, dup := seen[got.Idx]; dup {
			t.Errorf("states %q and %q share idx %s", s, other, got.Idx)
		}
		seen[got.Idx] = s
	}
}
