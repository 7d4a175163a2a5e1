package payment

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Signed redirects (issue 7). Thaili keeps secret keys only as keyed
// hashes, so it cannot sign with the secret itself. Instead, when a secret
// key is issued, Thaili also stores its redirect signing key
//
//	signing_key = HMAC-SHA256(key = secret key, message = "thaili-redirect-v1")
//
// which the merchant can compute from its secret key but which does not
// give the secret back. The hosted page's redirect to return_url then
// carries
//
//	signed_field_names = the §5 parameters present, comma-separated, in
//	                     the order of RedirectSignedFields
//	signature          = hex(HMAC-SHA256(signing_key, canonical))
//
// where canonical is "name=value" for each name of signed_field_names, in
// that order, joined by "\n", with the values as decoded from the query.
// NOTES.md shows a verifier; VerifyRedirect is Thaili's own.

// RedirectKeyLabel is the message the signing key is derived with.
const RedirectKeyLabel = "thaili-redirect-v1"

// RedirectSignedFields are the redirect parameters a signature may cover,
// in the order signed_field_names lists them.
var RedirectSignedFields = []string{"pidx", "txnId", "amount", "total_amount", "status", "mobile", "tidx",
	"purchase_order_id", "purchase_order_name", "transaction_id"}

// RedirectSigningKey derives the redirect signing key of a secret key.
func RedirectSigningKey(secretKey string) []byte {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(RedirectKeyLabel))
	return mac.Sum(nil)
}

// redirectCanonical is the signed message: "name=value" lines.
func redirectCanonical(names []string, value func(string) string) string {
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = n + "=" + value(n)
	}
	return strings.Join(lines, "\n")
}

func redirectMAC(signingKey []byte, canonical string) []byte {
	mac := hmac.New(sha256.New, signingKey)
	mac.Write([]byte(canonical))
	return mac.Sum(nil)
}

// SignRedirect signs the redirect parameters params (name and value
// pairs) with signingKey. It returns the signature and signed_field_names
// covering those of RedirectSignedFields that params holds.
func SignRedirect(signingKey []byte, params [][2]string) (signature, signedFieldNames string) {
	vals := map[string]string{}
	for _, kv := range params {
		vals[kv[0]] = kv[1]
	}
	var names []string
	for _, n := range RedirectSignedFields {
		if _, ok := vals[n]; ok {
			names = append(names, n)
		}
	}
	sum := redirectMAC(signingKey, redirectCanonical(names, func(n string) string { return vals[n] }))
	return hex.EncodeToString(sum), strings.Join(names, ",")
}

// VerifyRedirect reports whether the query of a return_url redirect
// carries a valid signature by secretKey's merchant. Every signed field
// must appear exactly once, and signed_field_names must name only known
// fields, each once, and include pidx, amount and status. A merchant must
// still call lookup before treating a payment as paid (spec §5).
func VerifyRedirect(secretKey string, query url.Values) bool {
	sigs, names := query["signature"], query["signed_field_names"]
	if len(sigs) != 1 || len(names) != 1 || names[0] == "" {
		return false
	}
	sig, err := hex.DecodeString(sigs[0])
	if err != nil {
		return false
	}
	known := map[string]bool{}
	for _, n := range RedirectSignedFields {
		known[n] = true
	}
	list := strings.Split(names[0], ",")
	seen := map[string]bool{}
	for _, n := range list {
		if !known[n] || seen[n] || len(query[n]) != 1 {
			return false
		}
		seen[n] = true
	}
	if !seen["pidx"] || !seen["amount"] || !seen["status"] {
		return false
	}
	want := redirectMAC(RedirectSigningKey(secretKey), redirectCanonical(list, query.Get))
	return hmac.Equal(sig, want)
}

// RedirectKey returns the redirect signing key of the merchant's active
// secret key in book, or nil when that key predates signed redirects (or
// there is none). A sealed signing key that does not open (a damaged row,
// or a server secret other than the one that sealed it) is an error with
// a nil key: the caller logs it and redirects unsigned.
func (s *Service) RedirectKey(ctx context.Context, merchantID int64, book ledger.Book) ([]byte, error) {
	var active *store.Key
	err := s.store.View(ctx, func(tx store.Tx) error {
		keys, err := tx.Keys(ctx, merchantID)
		if err != nil {
			return err
		}
		active = nil
		for i, k := range keys { // oldest first: the last active one wins
			if k.Kind == store.SecretKey && k.Book == book && k.RevokedAt.IsZero() {
				active = &keys[i]
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, fault.Internal(err)
	case active == nil:
		return nil, nil
	case active.SealedSigningKey != nil:
		key, err := s.openSigningKey(active.Lookup, active.SealedSigningKey)
		if err != nil {
			return nil, fault.Internal(fmt.Errorf("opening the sealed redirect signing key of key %d: %w", active.ID, err))
		}
		return key, nil
	}
	// Written in clear before signing keys were sealed, and not sealed
	// yet: SealRedirectKeys will.
	return active.SigningKey, nil
}

// redirectKeyAD is the associated data a signing key is sealed with: its
// purpose and its key's lookup, so a sealed value opens only as the
// signing key of the row it was written for, never as another merchant's
// signing key, a secret key or a webhook secret.
func redirectKeyAD(lookup string) []byte { return []byte("redirect-signing-key\x00" + lookup) }

// sealSigningKey seals the redirect signing key of the key with lookup.
func (s *Service) sealSigningKey(lookup string, signingKey []byte) ([]byte, error) {
	return s.ring.Seal(signingKey, redirectKeyAD(lookup))
}

// openSigningKey is the inverse of sealSigningKey.
func (s *Service) openSigningKey(lookup string, sealed []byte) ([]byte, error) {
	return s.ring.Open(sealed, redirectKeyAD(lookup))
}

// sealBatch is how many clear signing keys SealRedirectKeys seals per
// transaction.
const sealBatch = 200

// SealRedirectKeys seals every redirect signing key still stored in
// clear (written before migration 14) and returns how many it sealed.
// Sealing needs the server secret, so no migration can do it; `thaili
// serve` calls this at start. Each row is replaced by a compare-and-set
// on its clear value, so running it again does nothing, and nodes
// running it at once seal each key exactly once between them.
func (s *Service) SealRedirectKeys(ctx context.Context) (int, error) {
	total := 0
	var after int64
	for {
		var batch []store.Key
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			batch, err = tx.KeysWithClearSigningKey(ctx, after, sealBatch)
			return err
		})
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, nil
		}
		sealed := 0
		err = s.store.InTx(ctx, func(tx store.Tx) error {
			sealed = 0 // fn may be retried
			for _, k := range batch {
				box, err := s.sealSigningKey(k.Lookup, k.SigningKey)
				if err != nil {
					return err
				}
				switch err := tx.SealSigningKey(ctx, k.ID, k.SigningKey, box); {
				case errors.Is(err, store.ErrConflict): // another node sealed it first
				case err != nil:
					return err
				default:
					sealed++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += sealed
		after = batch[len(batch)-1].ID
	}
}
