package ids

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestNewShape(t *testing.T) {
	g := Generator{Rand: rand.Reader}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := g.New()
		if !Valid(id) {
			t.Fatalf("invalid id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestEncodeBounds(t *testing.T) {
	var zero, max [16]byte
	for i := range max {
		max[i] = 0xff
	}
	if got := Encode(zero); got != strings.Repeat("2", 22) {
		t.Errorf("Encode(0) = %q", got)
	}
	if got := Encode(max); !Valid(got) {
		t.Errorf("Encode(max) = %q is not valid", got)
	}
}

func TestValidRejects(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("0", 22), strings.Repeat("2", 21) + "l", strings.Repeat("2", 23)} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestDigitsAndHexDeterministic(t *testing.T) {
	g := Generator{Rand: bytes.NewReader(bytes.Repeat([]byte{0x12, 0xfb, 0x07}, 64))}
	if got := g.Digits(6); len(got) != 6 || strings.Trim(got, "0123456789") != "" {
		t.Errorf("Digits = %q", got)
	}
	if got := g.Hex(16); len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Errorf("Hex = %q", got)
	}
}

// TestNewAtSortsByTime: ids made for later milliseconds sort after those
// made for earlier ones, whatever their random bits, and ids made in the
// same millisecond still differ.
func TestNewAtSortsByTime(t *testing.T) {
	g := Generator{Rand: rand.Reader}
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var prev string
	for i := 0; i < 2000; i++ {
		at := base.Add(time.Duration(i/2) * time.Millisecond) // two ids per millisecond
		id := g.NewAt(at)
		if !Valid(id) {
			t.Fatalf("invalid id %q", id)
		}
		if i%2 == 1 && id == prev {
			t.Fatalf("two ids in one millisecond are the same: %q", id)
		}
		if i%2 == 0 && i > 0 && id <= prev {
			t.Fatalf("id %q for %v sorts before %q of the millisecond before", id, at, prev)
		}
		prev = id
	}
	// The layout's ends: the epoch and the last millisecond 48 bits hold.
	if got := g.NewAt(time.UnixMilli(0)); !Valid(got) || got[:8] != "22222222" {
		t.Errorf("NewAt(epoch) = %q, want a valid id whose time part is zero", got)
	}
	if got := g.NewAt(time.UnixMilli(1<<48 - 1)); !Valid(got) {
		t.Errorf("NewAt(2^48-1 ms) = %q is not valid", got)
	}
}

// TestNewAtRandomPart: the last 80 bits come from the generator's
// randomness, so two generators fed different bytes make different ids
// for the same millisecond.
func TestNewAtRandomPart(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	a := Generator{Rand: bytes.NewReader(bytes.Repeat([]byte{0x00}, 10))}.NewAt(at)
	b := Generator{Rand: bytes.NewReader(bytes.Repeat([]byte{0xff}, 10))}.NewAt(at)
	if a == b || a >= b {
		t.Errorf("ids with random parts 0x00... and 0xff...: %q and %q, want the first before the second", a, b)
	}
}
