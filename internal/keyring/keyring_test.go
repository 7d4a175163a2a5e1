package keyring

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

var secret = []byte(strings.Repeat("s", 32))

// TestMACFraming pins MAC's output: API key lookups, MPIN and password
// peppers and code hashes are stored, so a change of framing would lock
// every merchant and payer out. The value was computed by the service's
// MAC before it moved here.
func TestMACFraming(t *testing.T) {
	r, err := New(secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const want = "48f9a7f115c1958f003b536e002a6f88b94ff564bf4f8eafc4442a32cf6b0128"
	if got := r.MAC("api-key", "test_secret_key_x"); got != want {
		t.Errorf("MAC = %s, want %s", got, want)
	}
	if r.MAC("a", "bc") == r.MAC("ab", "c") {
		t.Error("MAC does not separate the purpose from the parts")
	}
}

func TestSealOpens(t *testing.T) {
	r, err := New(secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := r.Seal([]byte("whsec_x"), []byte("row 1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("whsec_x")) {
		t.Error("sealed value holds the plain text")
	}
	plain, err := r.Open(sealed, []byte("row 1"))
	if err != nil || string(plain) != "whsec_x" {
		t.Errorf("Open = %q, %v; want whsec_x", plain, err)
	}
	if _, err := r.Open(sealed, []byte("row 2")); err == nil {
		t.Error("a value sealed for one row opened for another")
	}
	other, _ := New([]byte(strings.Repeat("t", 32)), rand.Reader)
	if _, err := other.Open(sealed, []byte("row 1")); err == nil {
		t.Error("a value sealed under one secret opened under another")
	}
	if _, err := r.Open(sealed[:5], nil); err == nil {
		t.Error("a truncated value opened")
	}
}

func TestNewRefusesShortSecret(t *testing.T) {
	if _, err := New(secret[:31], rand.Reader); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
}
