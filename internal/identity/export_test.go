package identity

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
)

// HashCounts returns how many MPIN and password hashes the service has
// computed, so tests can check that answering for an account that does
// not exist costs the same slow work as for one that does.
func (s *Service) HashCounts() (mpin, password int64) {
	return s.mpinHashes.Load(), s.passwordHashes.Load()
}

// LegacyMPINHash returns a hash of mpin in the scheme used before keyed
// hashes (PBKDF2-SHA256 over the MPIN's HMAC, 10000 rounds), as a wallet
// created then has it.
func (s *Service) LegacyMPINHash(mpin string) string {
	salt := []byte("0123456789abcdef")
	dk, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, 10000, 32)
	if err != nil {
		panic(err)
	}
	enc := base64.RawStdEncoding
	return "pbkdf2-sha256$10000$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(dk)
}

// MPINMatches reports whether mpin matches hash.
func (s *Service) MPINMatches(hash, mpin string) bool {
	ok, _ := s.checkMPIN(hash, mpin)
	return ok
}

// NewMPINHash hashes mpin as a new wallet's MPIN is hashed.
func (s *Service) NewMPINHash(mpin string) (string, error) { return s.hashMPIN(mpin) }
