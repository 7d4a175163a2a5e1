package identity

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// MPIN hashes. docs/identity.md ("The MPIN hash") has the threat model
// behind them: an MPIN is four digits, so a stolen hash together with
// the server secret gives the MPIN after at most ten thousand guesses,
// whatever the hash costs; what protects it is the secret, which is not in the database,
// and the limits on online guesses. A new hash is therefore one
// HMAC-SHA256 under the server secret over a per-wallet salt and the
// MPIN: "hmac-sha256$<salt>$<mac>". Hashes made before that,
// "pbkdf2-sha256$<rounds>$<salt>$<key>", still verify and are replaced
// by the keyed hash the first time the right MPIN is given.
const (
	mpinScheme       = "hmac-sha256"
	legacyMPINScheme = "pbkdf2-sha256"
)

// hashMPIN returns a new keyed hash of mpin with a fresh salt.
func (s *Service) hashMPIN(mpin string) (string, error) {
	s.mpinHashes.Add(1)
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.ids.Rand, salt); err != nil {
		return "", err
	}
	encSalt := base64.RawStdEncoding.EncodeToString(salt)
	return mpinScheme + "$" + encSalt + "$" + s.ring.MAC("mpin-hash", encSalt, mpin), nil
}

// checkMPIN reports whether mpin matches hash, and whether hash is of
// the legacy scheme (to be replaced once the MPIN is known right).
func (s *Service) checkMPIN(hash, mpin string) (ok, legacy bool) {
	s.mpinHashes.Add(1)
	scheme, rest, _ := strings.Cut(hash, "$")
	switch scheme {
	case mpinScheme:
		encSalt, mac, found := strings.Cut(rest, "$")
		if !found {
			return false, false
		}
		got := s.ring.MAC("mpin-hash", encSalt, mpin)
		return subtle.ConstantTimeCompare([]byte(got), []byte(mac)) == 1, false
	case legacyMPINScheme:
		return s.checkLegacyMPIN(rest, mpin), true
	}
	return false, false
}

// checkLegacyMPIN checks mpin against the rest of a PBKDF2 hash,
// "<rounds>$<salt>$<key>": PBKDF2-SHA256 over the MPIN's HMAC under the
// server secret.
func (s *Service) checkLegacyMPIN(rest, mpin string) bool {
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[1])
	want, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// dummyMPIN is an MPIN hash that no MPIN given is checked against for
// real: a number without a wallet is checked against it, so it takes as
// long as a wallet's wrong MPIN.
func (s *Service) dummyMPIN() string {
	s.dummyMPINOnce.Do(func() { s.dummyMPINHash, _ = s.hashMPIN("0000") })
	return s.dummyMPINHash
}

var mpinPattern = regexp.MustCompile(`^[0-9]{4}$`)

// ValidMPIN reports whether mpin is four digits.
func ValidMPIN(mpin string) bool { return mpinPattern.MatchString(mpin) }

// PayerCheck is what CheckPayer checks: a payer's mobile and MPIN, and
// where they were given.
type PayerCheck struct {
	Mobile, MPIN string
	// Via says where the MPIN was given ("a payment to Shop"), for the
	// owner's notice of a lock.
	Via string
	// Scope is the merchant the guess comes through (a public key, or
	// "merchant:id:book" for the hosted page), for the per-merchant guess
	// limit; "" counts the guess against the client address only.
	Scope string
	// Book, if set, is the book whose wallet balance is read with the
	// payer, in the statement that locks the payer's row.
	Book ledger.Book
	// Check, if set, runs once the mobile and MPIN are well formed and
	// before any transaction (initiate checks and prices the amount
	// there); its error is returned.
	Check func() error
}

// CheckPayer checks a payer's mobile and MPIN (guesses.go) in one write
// transaction that holds the payer's row: a locked payer is refused
// before the MPIN is checked, a number without a wallet is answered like
// a wallet with a wrong MPIN, and each wrong MPIN is counted, with the
// lock it may start. When the MPIN is right, then runs in that
// transaction, with the payer as read there (and its balance in
// in.Book), and its error is returned: a payment starts in the
// transaction that accepted the MPIN.
//
// Refusals that write nothing (a lock, the guess limit) end the
// transaction without an error, so under group commit they never
// cost the batch they share a rerun (docs/storage.md, "Group commit").
func (s *Service) CheckPayer(ctx context.Context, in PayerCheck, then func(tx store.Tx, c store.Consumer, balance money.Paisa) error) (store.Consumer, error) {
	if !phone.Valid(in.Mobile) {
		return store.Consumer{}, fault.FieldError("mobile", "Enter a valid 10 digit mobile number starting with 96, 97 or 98.")
	}
	if !ValidMPIN(in.MPIN) {
		return store.Consumer{}, fault.FieldError("transaction_pin", "Khalti PIN must be 4 digits long.")
	}
	if in.Check != nil {
		if err := in.Check(); err != nil {
			return store.Consumer{}, err
		}
	}
	keys := s.guessKeysOf(ctx, in.Scope)
	var c store.Consumer
	var early error          // refused before the MPIN was checked: nothing written
	var refusal *fault.Error // the MPIN's refusal, counted
	var lockedBy string
	err := store.Retry(ctx, func() error {
		early, refusal, lockedBy = nil, nil, ""
		return s.store.InTx(ctx, func(tx store.Tx) error {
			var bal money.Paisa
			var err error
			if in.Book != "" {
				c, bal, err = tx.ConsumerWithBalance(ctx, in.Mobile, in.Book)
			} else {
				c, err = tx.ConsumerForUpdate(ctx, in.Mobile)
			}
			if errors.Is(err, store.ErrNotFound) {
				c, err = store.Consumer{}, nil
			}
			if err != nil {
				return err
			}
			pre, err := s.payerBefore(ctx, tx, in.Mobile, c)
			if err != nil {
				return err
			}
			if r := s.refuseLocked(pre, s.now()); r != nil {
				early = r
				return nil
			}
			if err := s.allowGuess(keys); err != nil {
				early = err
				return nil
			}
			pinOK, legacy := s.checkPayerMPIN(pre, in.MPIN)
			hash := c.MPINHash
			if refusal, lockedBy, err = s.decideMPIN(ctx, tx, in.Mobile, &c, pinOK, in.Via); err != nil || refusal != nil {
				return err
			}
			if legacy {
				// The MPIN is right and its hash of the legacy scheme:
				// replace it by the keyed one, on the row held.
				rehash, err := s.hashMPIN(in.MPIN)
				if err != nil {
					return err
				}
				if err := tx.ReplaceMPINHash(ctx, c.ID, hash, rehash); err != nil {
					return err
				}
				c.MPINHash = rehash
			}
			return then(tx, c, bal)
		})
	})
	switch {
	case err != nil:
		return c, fault.Wrap(err)
	case early != nil:
		return store.Consumer{}, early
	case refusal != nil:
		s.afterWrongMPIN(ctx, keys, in.Mobile, refusal, lockedBy)
		return c, refusal
	}
	return c, nil
}

// afterWrongMPIN charges a refused guess to its client and merchant and
// sends the owner the notice of a lock it started.
func (s *Service) afterWrongMPIN(ctx context.Context, keys guessKeys, mobile string, refusal *fault.Error, lockedBy string) {
	if refusal.Kind == fault.KindValidation || lockedBy != "" {
		s.chargeGuess(keys)
	}
	if lockedBy != "" {
		s.sendNotice(ctx, mobile, lockedBy)
	}
}
