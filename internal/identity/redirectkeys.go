package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Redirect signing keys (docs/webhooks.md, "Signed redirects"): when a
// secret key is issued, Thaili also keeps the key's redirect signing key,
// sealed, so the hosted page can sign its redirect to return_url with a
// key the merchant can derive from its secret key.

// RedirectKeyLabel is the message the signing key is derived with.
const RedirectKeyLabel = "thaili-redirect-v1"

// RedirectSigningKey derives the redirect signing key of a secret key.
func RedirectSigningKey(secretKey string) []byte {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(RedirectKeyLabel))
	return mac.Sum(nil)
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
