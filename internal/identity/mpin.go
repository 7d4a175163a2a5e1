package identity

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
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

// hashMPIN stores a 4-digit MPIN as PBKDF2-SHA256 over an HMAC with the
// server secret. Ten thousand PINs are cheap to brute-force whatever the
// cost factor, so the pepper (absent from the database) and the lock after
// three wrong tries are the real protection; the rounds add a little.
func (s *Service) hashMPIN(mpin string) (string, error) {
	s.mpinHashes.Add(1)
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.ids.Rand, salt); err != nil {
		return "", err
	}
	iter := s.cfg.MPINIterations
	dk, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(dk)), nil
}

func (s *Service) checkMPIN(hash, mpin string) bool {
	s.mpinHashes.Add(1)
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, s.ring.MAC("mpin", mpin), salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// dummyMPIN is an MPIN hash of the configured cost that no MPIN given is
// checked against for real: a number without a wallet is hashed against
// it, so it takes as long as a wallet's wrong MPIN.
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
	// Read, if set, runs in the read-only transaction that reads the
	// payer's lock state before the MPIN is hashed, so a caller's own
	// reads (initiate fixes the fee there) cost no transaction of their
	// own; its error is returned.
	Read func(tx store.Tx) error
}

// CheckPayer checks a payer's mobile and MPIN (guesses.go): a locked
// payer is refused before the MPIN is hashed, a number without a wallet
// is answered like a wallet with a wrong MPIN, and each wrong MPIN is
// counted, with the lock it may start, in a transaction that holds the
// payer's row. When the MPIN is right, then runs in that transaction,
// with the payer as read there (and its balance in in.Book), and its
// error is returned: a payment starts in the transaction that accepted
// the MPIN.
func (s *Service) CheckPayer(ctx context.Context, in PayerCheck, then func(tx store.Tx, c store.Consumer, balance money.Paisa) error) (store.Consumer, error) {
	if !phone.Valid(in.Mobile) {
		return store.Consumer{}, fault.FieldError("mobile", "Enter a valid 10 digit mobile number starting with 96, 97 or 98.")
	}
	if !ValidMPIN(in.MPIN) {
		return store.Consumer{}, fault.FieldError("transaction_pin", "Khalti PIN must be 4 digits long.")
	}
	var pre preMPIN
	err := s.store.View(ctx, func(tx store.Tx) error {
		if in.Read != nil {
			if err := in.Read(tx); err != nil {
				return err
			}
		}
		var err error
		pre, err = s.payerBefore(ctx, tx, in.Mobile)
		return err
	})
	if err != nil {
		return store.Consumer{}, fault.Wrap(err)
	}
	if r := s.refuseLocked(pre, s.now()); r != nil {
		return store.Consumer{}, r
	}
	keys := s.guessKeysOf(ctx, in.Scope)
	if err := s.allowGuess(keys); err != nil {
		return store.Consumer{}, err
	}
	pinOK := s.checkPayerMPIN(pre, in.MPIN) // slow: outside the write transaction
	var c store.Consumer
	var refusal *fault.Error
	var lockedBy string
	err = store.Retry(ctx, func() error {
		refusal, lockedBy = nil, ""
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
			if refusal, lockedBy, err = s.decideMPIN(ctx, tx, in.Mobile, &c, pinOK && c.ID == pre.consumer.ID, in.Via); err != nil || refusal != nil {
				return err
			}
			return then(tx, c, bal)
		})
	})
	if err != nil {
		return c, fault.Wrap(err)
	}
	if refusal != nil {
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
