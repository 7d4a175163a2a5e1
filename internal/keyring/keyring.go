// Package keyring derives every key Thaili keeps from the one server
// secret: keyed MACs, one per purpose (API key lookups, MPIN and password
// peppers, code hashes), and sealing, the authenticated encryption of the
// few secrets the server must read back later (a merchant's first test
// key, redirect signing keys, webhook signing secrets). The secret itself
// never leaves the ring.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
)

// MinSecret is the shortest server secret a Ring accepts, in bytes.
const MinSecret = 32

// Ring holds the server secret and the sealing cipher derived from it.
// It is safe for concurrent use.
type Ring struct {
	secret []byte
	rand   io.Reader
	aead   cipher.AEAD
}

// New returns the ring of secret, which must be at least MinSecret bytes;
// rand supplies sealing nonces.
func New(secret []byte, rand io.Reader) (*Ring, error) {
	if len(secret) < MinSecret {
		return nil, errors.New("keyring: server secret must be at least 32 bytes")
	}
	if rand == nil {
		return nil, errors.New("keyring: a source of randomness is required")
	}
	r := &Ring{secret: append([]byte(nil), secret...), rand: rand}
	key := r.HMAC()
	key.Write([]byte("seal-key"))
	block, err := aes.NewCipher(key.Sum(nil))
	if err != nil {
		return nil, err
	}
	if r.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return r, nil
}

// HMAC returns a new HMAC-SHA256 keyed with the server secret, for MACs
// whose framing predates MAC (CSRF tokens, request hashes). The caller
// must write a purpose of its own first, so no two uses can collide.
func (r *Ring) HMAC() hash.Hash { return hmac.New(sha256.New, r.secret) }

// MAC is the hex HMAC-SHA256 of purpose and parts, each part after a zero
// byte. Stored hashes depend on this exact framing: it must never change.
func (r *Ring) MAC(purpose string, parts ...string) string {
	h := r.HMAC()
	h.Write([]byte(purpose))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal encrypts plain, binding it to the associated data ad: it opens
// only with the same ad, so a sealed value copied to another row does
// not open there.
func (r *Ring) Seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := io.ReadFull(r.rand, nonce); err != nil {
		return nil, err
	}
	return r.aead.Seal(nonce, nonce, plain, ad), nil
}

// Open decrypts what Seal sealed with the same ad.
func (r *Ring) Open(sealed, ad []byte) ([]byte, error) {
	n := r.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("keyring: sealed value too short")
	}
	return r.aead.Open(nil, sealed[:n], sealed[n:], ad)
}
