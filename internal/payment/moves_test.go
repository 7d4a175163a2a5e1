package payment

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// TestMoveRefusesMovesOutsideTheTable tries every pair of states: move
// changes the payment exactly when the state machine allows it, and
// otherwise leaves it as it was with an ErrIllegalMove.
func TestMoveRefusesMovesOutsideTheTable(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := at.Add(time.Minute)
	for _, from := range store.States {
		for _, to := range store.States {
			before := store.Payment{Idx: "idx", State: from, UpdatedAt: at, ConfirmedAt: at}
			p := before
			err := move(&p, to, now)
			if store.CanMove(from, to) {
				if err != nil || p.State != to || !p.UpdatedAt.Equal(now) {
					t.Errorf("move %q to %q: state %q updated %v err %v, want it moved", from, to, p.State, p.UpdatedAt, err)
				}
				continue
			}
			if !errors.Is(err, store.ErrIllegalMove) || !reflect.DeepEqual(p, before) {
				t.Errorf("move %q to %q: err %v, payment %+v; want ErrIllegalMove and no change", from, to, err, p)
			}
		}
	}
}

// TestMoveRecordsWhen checks the timestamps entering a state sets.
func TestMoveRecordsWhen(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := store.Payment{State: store.Initiated}
	if err := move(&p, store.Completed, now); err != nil {
		t.Fatal(err)
	}
	if !p.ConfirmedAt.Equal(now) || !p.CompletedAt.Equal(now) {
		t.Errorf("an ePayment paid at once: confirmed %v completed %v, want both %v", p.ConfirmedAt, p.CompletedAt, now)
	}
	held := now.Add(-time.Hour)
	p = store.Payment{State: store.Confirmed, ConfirmedAt: held}
	if err := move(&p, store.Completed, now); err != nil {
		t.Fatal(err)
	}
	if !p.ConfirmedAt.Equal(held) || !p.CompletedAt.Equal(now) {
		t.Errorf("a held payment captured: confirmed %v completed %v, want %v and %v", p.ConfirmedAt, p.CompletedAt, held, now)
	}
}

// TestDocsStateTable keeps docs/payments.md's table of state changes the
// same as the state machine's: every move in one is in the other.
func TestDocsStateTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/payments.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## States")
	section, _, _ = strings.Cut(section, "\n## ")
	known := map[string]store.State{}
	for _, st := range store.States {
		known[string(st)] = st
	}
	documented := map[store.State][]store.State{}
	rows := 0
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) < 2 || cells[0] == "From" || cells[0] == "(none)" {
			continue
		}
		rows++
		for from := range strings.SplitSeq(cells[0], ", ") {
			for to := range strings.SplitSeq(cells[1], ", ") {
				f, okf := known[from]
				g, okt := known[to]
				if !okf || !okt {
					t.Fatalf("docs/payments.md row %q names a state that is not one of store.States", line)
				}
				documented[f] = append(documented[f], g)
			}
		}
	}
	if rows == 0 {
		t.Fatal("no state table found in docs/payments.md")
	}
	moves := store.Moves()
	for _, from := range store.States {
		doc, code := documented[from], moves[from]
		slices.Sort(doc)
		slices.Sort(code)
		if !slices.Equal(doc, code) {
			t.Errorf("moves from %q: docs/payments.md says %q, store.Moves says %q", from, doc, code)
		}
	}
}
