package ids

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
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
