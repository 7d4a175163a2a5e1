// Package ids makes the public identifiers Thaili hands out: 22 characters
// of the 57-symbol "shortuuid" alphabet Khalti uses for idx, token and pidx,
// and random numeric codes such as OTPs.
package ids

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Alphabet is the shortuuid alphabet: no 0, 1, I, O or l.
const Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// Length is the length of every id: 57^22 > 2^128, so 16 random bytes fit.
const Length = 22

// Generator makes ids from a source of randomness, normally crypto/rand.Reader;
// tests inject a deterministic reader.
type Generator struct {
	Rand io.Reader
}

// New returns a fresh 22-character id.
func (g Generator) New() string {
	var b [16]byte
	if _, err := io.ReadFull(g.Rand, b[:]); err != nil {
		// crypto/rand never fails on supported platforms; a failing
		// injected reader is a programming error.
		panic(fmt.Sprintf("ids: reading randomness: %v", err))
	}
	return Encode(b)
}

// NewAt returns a fresh 22-character id that sorts, as a string, after
// every id NewAt made for an earlier millisecond: its first 48 bits are
// t's Unix time in milliseconds and the other 80 are random, the layout
// of a UUIDv7. A table keyed by such ids takes each new row at the end of
// its index, on a page the last insert touched, not on a random page as
// with New (docs/storage.md, "Indexes and plans"). 80 random bits still
// cannot be guessed; the id tells when it was made, which every record
// that shows it tells anyway.
func (g Generator) NewAt(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(max(t.UnixMilli(), 0))<<16)
	if _, err := io.ReadFull(g.Rand, b[6:]); err != nil {
		panic(fmt.Sprintf("ids: reading randomness: %v", err))
	}
	return Encode(b)
}

// Encode turns 16 bytes into a 22-character id, left-padded with the
// alphabet's first symbol as Python's shortuuid does.
func Encode(b [16]byte) string {
	n := new(big.Int).SetBytes(b[:])
	base := big.NewInt(int64(len(Alphabet)))
	out := make([]byte, Length)
	rem := new(big.Int)
	for i := Length - 1; i >= 0; i-- {
		n.DivMod(n, base, rem)
		out[i] = Alphabet[rem.Int64()]
	}
	return string(out)
}

// Valid reports whether s looks like an id this package could have made.
func Valid(s string) bool {
	if len(s) != Length {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlphabet(s[i]) {
			return false
		}
	}
	return true
}

func isAlphabet(c byte) bool {
	for i := 0; i < len(Alphabet); i++ {
		if Alphabet[i] == c {
			return true
		}
	}
	return false
}

// Digits returns n random decimal digits, uniformly distributed.
func (g Generator) Digits(n int) string {
	out := make([]byte, n)
	var b [1]byte
	for i := 0; i < n; {
		if _, err := io.ReadFull(g.Rand, b[:]); err != nil {
			panic(fmt.Sprintf("ids: reading randomness: %v", err))
		}
		if b[0] >= 250 { // reject to avoid modulo bias
			continue
		}
		out[i] = '0' + b[0]%10
		i++
	}
	return string(out)
}

// Hex returns n random bytes as 2n lowercase hex characters.
func (g Generator) Hex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.Rand, b); err != nil {
		panic(fmt.Sprintf("ids: reading randomness: %v", err))
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i] = hexdigits[c>>4]
		out[2*i+1] = hexdigits[c&0xf]
	}
	return string(out)
}
