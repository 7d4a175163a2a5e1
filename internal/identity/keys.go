package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

var keyPattern = regexp.MustCompile(`^(test|live)_(public|secret)_key_[0-9a-f]{32}$`)

// keyLookup is how a key is found in the store: public keys in clear,
// secret keys by keyed hash so a database leak does not leak them.
func (s *Service) keyLookup(key string) string {
	if strings.Contains(key, "_secret_key_") {
		return "hmac:" + s.ring.MAC("api-key", key)
	}
	return key
}

// Caller is an authenticated merchant acting in one book.
type Caller struct {
	Merchant store.Merchant
	Book     ledger.Book
	Kind     store.KeyKind
	// Fees is the merchant's fee schedule in Book, read with the key
	// and remembered with it (Resolve, which never leaves it nil), so
	// pricing a payment costs no statement of its own. Nil in a Caller
	// not resolved from a key (a dashboard page's): the payment service
	// then reads the schedule. Shared between callers: read only.
	Fees []store.FeeTier
}

// Scope is the window of payments the caller may see.
func (c Caller) Scope() store.Scope { return store.Scope{MerchantID: c.Merchant.ID, Book: c.Book} }

// Authenticate resolves an API key of the wanted kind. Any unknown,
// revoked, malformed or wrong-kind key is the same "Invalid token." 401.
func (s *Service) Authenticate(ctx context.Context, key string, kind store.KeyKind) (Caller, error) {
	c, err := s.Resolve(ctx, key, kind)
	if err != nil {
		return Caller{}, err
	}
	if c == nil {
		return Caller{}, fault.Unauthorized(fault.MsgInvalidToken)
	}
	return *c, nil
}

// cachedCaller is a resolved key remembered for Config.KeyCacheTTL.
type cachedCaller struct {
	caller  Caller
	expires time.Time
}

// Resolve finds the merchant and book of an active key of the wanted
// kind, or nil. Resolved keys are remembered briefly, since every API
// request starts with this lookup; only known keys are remembered, so a
// new key works at once, and this node forgets everything when keys are
// rotated or KYC or a fee schedule changes (ForgetCallers). Another node
// may honour a revoked key, or an old KYC state or fee schedule, for up
// to KeyCacheTTL.
func (s *Service) Resolve(ctx context.Context, key string, kind store.KeyKind) (*Caller, error) {
	if !keyPattern.MatchString(key) || !strings.Contains(key, "_"+string(kind)+"_key_") {
		return nil, nil
	}
	now := s.now()
	if v, ok := s.keyCache.Load(key); ok {
		if cc := v.(cachedCaller); now.Before(cc.expires) {
			c := cc.caller
			return &c, nil
		}
		s.keyCache.Delete(key)
	}
	var c *Caller
	err := s.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.KeyByLookup(ctx, s.keyLookup(key))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() || k.Kind != kind || !strings.HasPrefix(key, string(k.Book)+"_") {
			return nil
		}
		m, err := tx.Merchant(ctx, k.MerchantID)
		if err != nil || !m.Confirmed {
			return err // an unconfirmed sign-up may not take payments
		}
		fees, err := tx.FeeTiers(ctx, m.ID, k.Book)
		if err != nil {
			return err
		}
		if fees == nil {
			fees = []store.FeeTier{} // resolved, and empty
		}
		c = &Caller{Merchant: m, Book: k.Book, Kind: k.Kind, Fees: fees}
		return nil
	})
	if err != nil {
		return nil, fault.Internal(err)
	}
	if c != nil && s.cfg.KeyCacheTTL > 0 {
		s.keyCache.Store(key, cachedCaller{caller: *c, expires: now.Add(s.cfg.KeyCacheTTL)})
	}
	return c, nil
}

// forgetKeys empties the key cache after keys or merchants change.
func (s *Service) forgetKeys() { s.keyCache.Clear() }

// ForgetCallers empties this node's cache of resolved keys, after a
// change to what a Caller holds that this package did not make (a fee
// schedule).
func (s *Service) ForgetCallers() { s.forgetKeys() }

// KeyPair is a newly issued public and secret key for one book.
type KeyPair struct {
	Book   ledger.Book
	Public string
	Secret string
}

// newKeyPair makes random keys in Khalti's format (UUID-v4-shaped hex).
func (s *Service) newKeyPair(book ledger.Book) KeyPair {
	return KeyPair{Book: book,
		Public: string(book) + "_public_key_" + s.uuidHex(),
		Secret: string(book) + "_secret_key_" + s.uuidHex()}
}

func (s *Service) uuidHex() string {
	h := []byte(s.ids.Hex(16))
	h[12] = '4'
	h[16] = "89ab"[strings.IndexByte("0123456789abcdef", h[16])%4]
	return string(h)
}

// storeKeyPair records kp for merchant m, with the secret key's redirect
// signing key sealed. When seal is true the secret is also kept encrypted
// so an operator can be shown it once later.
func (s *Service) storeKeyPair(ctx context.Context, tx store.Tx, merchantID int64, kp KeyPair, seal bool) error {
	now := s.now()
	pub := store.Key{MerchantID: merchantID, Book: kp.Book, Kind: store.PublicKey, Lookup: kp.Public, Prefix: kp.Public, CreatedAt: now}
	sec := store.Key{MerchantID: merchantID, Book: kp.Book, Kind: store.SecretKey, Lookup: s.keyLookup(kp.Secret),
		Prefix: kp.Secret[:len(kp.Book)+len("_secret_key_")+4] + "…", CreatedAt: now}
	var err error
	if sec.SealedSigningKey, err = s.sealSigningKey(sec.Lookup, RedirectSigningKey(kp.Secret)); err != nil {
		return err
	}
	if seal {
		sealed, err := s.ring.Seal([]byte(kp.Secret), nil)
		if err != nil {
			return err
		}
		sec.Sealed = sealed
	}
	if err := tx.CreateKey(ctx, &pub); err != nil {
		return err
	}
	return tx.CreateKey(ctx, &sec)
}

// KeyInfo describes one key for display. Secret is set only the first
// time a sealed secret is shown.
type KeyInfo struct {
	Key    store.Key
	Secret string
}

// RotateKeys revokes a merchant's keys in one book and issues new ones,
// for actor (ref is the merchant's idx or email). It is audited
// (keys.rotate).
func (s *Service) RotateKeys(ctx context.Context, actor Actor, ref string, book ledger.Book) (KeyPair, error) {
	if !book.Valid() {
		return KeyPair{}, fault.FieldError("book", "Book must be test or live.")
	}
	kp := s.newKeyPair(book)
	err := s.OperatorAction(ctx, actor, AuditRotateKeys, func(tx store.Tx) (AuditRecord, error) {
		m, err := s.MerchantByRef(ctx, tx, ref)
		if err != nil {
			return AuditRecord{}, err
		}
		if err := s.rotateKeys(ctx, tx, m, kp); err != nil {
			return AuditRecord{}, err
		}
		return AuditRecord{Subject: m.Idx, Detail: fmt.Sprintf("%s book; new public key %s", book, kp.Public)}, nil
	})
	s.forgetKeys()
	if err != nil {
		return KeyPair{}, err
	}
	return kp, nil
}

// RotateOwnKeys is RotateKeys for the merchant itself (its dashboard),
// which is not an operator action, so nothing is audited.
func (s *Service) RotateOwnKeys(ctx context.Context, merchantIdx string, book ledger.Book) (KeyPair, error) {
	if !book.Valid() {
		return KeyPair{}, fault.FieldError("book", "Book must be test or live.")
	}
	kp := s.newKeyPair(book)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		m, err := s.MerchantByRef(ctx, tx, merchantIdx)
		if err != nil {
			return err
		}
		return s.rotateKeys(ctx, tx, m, kp)
	})
	s.forgetKeys()
	if err != nil {
		return KeyPair{}, fault.Wrap(err)
	}
	return kp, nil
}

// rotateKeys revokes m's keys in kp's book and stores kp. The live book
// can be rotated only once it has keys.
func (s *Service) rotateKeys(ctx context.Context, tx store.Tx, m store.Merchant, kp KeyPair) error {
	if kp.Book == ledger.Live {
		keys, err := tx.Keys(ctx, m.ID)
		if err != nil {
			return err
		}
		live := false
		for _, k := range keys {
			live = live || k.Book == ledger.Live
		}
		if !live {
			return fault.DetailError("This merchant has no live keys yet: they are issued after its first completed test payment.")
		}
	}
	if err := tx.RevokeKeys(ctx, m.ID, kp.Book, s.now()); err != nil {
		return err
	}
	return s.storeKeyPair(ctx, tx, m.ID, kp, false)
}

// IssueLiveKeys issues live keys to a merchant, in tx, unless it has
// them: payment calls it when one of the merchant's test payments
// completes (going live). The secret is sealed so `thaili merchant show` can
// display it once.
//
// Merchants known to be live are remembered, so a busy test merchant's
// verifies do not look its keys up every time; live keys are never
// removed, only rotated, so the memory cannot go stale.
func (s *Service) IssueLiveKeys(ctx context.Context, tx store.Tx, merchantID int64) error {
	if _, ok := s.liveMerchants.Load(merchantID); ok {
		return nil
	}
	keys, err := tx.Keys(ctx, merchantID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Book == ledger.Live {
			s.liveMerchants.Store(merchantID, true)
			return nil
		}
	}
	return s.storeKeyPair(ctx, tx, merchantID, s.newKeyPair(ledger.Live), true)
}

// KeysOf reads a merchant's keys in tx for display. With reveal, a
// sealed secret (a key issued automatically, or a sign-up's first test
// key, not shown yet) is unsealed into its KeyInfo and forgotten, so it
// is shown this once; the caller decides who may see it.
func (s *Service) KeysOf(ctx context.Context, tx store.Tx, merchantID int64, reveal bool) ([]KeyInfo, error) {
	keys, err := tx.Keys(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		ki := KeyInfo{Key: k}
		if k.Sealed != nil && reveal {
			secret, err := s.ring.Open(k.Sealed, nil)
			if err != nil {
				return nil, err
			}
			ki.Secret = string(secret)
			if err := tx.ForgetSealedSecret(ctx, k.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, ki)
	}
	return out, nil
}
