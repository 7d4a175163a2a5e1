package identity

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Account codes prove a phone: a sign-up's, or a wallet owner's who
// forgot the MPIN. Each code sent is one row (store.Code): the page that
// asked for it holds a random challenge, the phone gets the code, and a
// code opens nothing without its challenge. Only the challenge's SHA-256
// and a keyed hash of the code, bound to the challenge, the account and
// the purpose, are stored. A code is good for one use, for CodeTTL, for
// MaxCodeTries tries, and until a newer one is sent for the same account
// and purpose; the try is counted in the statement that reads the code,
// and the code is used in the transaction that acts on it (confirming
// the phone and starting the session, or setting the new MPIN).
//
// Where an account may not get a code (a sign-up for an email or mobile
// that has a confirmed account, a reset for a number without a wallet),
// a decoy row is made instead: the page is answered alike, and no code
// opens it. Codes asked for one email or mobile are limited to
// MaxCodesPerHour, decoys included, so that limit reveals nothing either.
const (
	CodeTTL         = 10 * time.Minute
	MaxCodeTries    = 5
	MaxCodesPerHour = 5
	codesKept       = 24 * time.Hour // the sweeper deletes codes this long after they were sent
)

// Code purposes. Each is bound into its codes' hashes.
const (
	PurposeConfirm   = "confirm phone"
	PurposeResetMPIN = "reset MPIN"
)

// Code messages.
const (
	MsgCodeWrong     = "The code is wrong."
	MsgCodeExpired   = "This code has expired, was used, or was entered wrongly too many times. Ask for a new one."
	MsgTooManyCodes  = "Too many codes were asked for with this email or mobile number. Try again in an hour."
	MsgCodeNotSent   = "The code could not be sent. Try again shortly."
	challengeBytes   = 16
	maxChallengeSize = 64
)

// CodeSent is what the page asks for next: the code sent to To, entered
// in a form that carries Challenge back.
type CodeSent struct {
	Challenge string
	To        string // the phone the code went to, masked
}

// pendingCode is a code made in a transaction, sent once it commits.
type pendingCode struct {
	sent    CodeSent
	mobile  string // where to send it; empty for a decoy
	code    string
	purpose string
}

// newCode records a code for subject and purpose, asked for with target
// (the email or mobile typed), to be sent to mobile after tx commits; a
// subject of "" makes a decoy. It refuses beyond MaxCodesPerHour codes
// for target.
func (s *Service) newCode(ctx context.Context, tx store.Tx, target, subject, purpose, mobile string) (pendingCode, error) {
	now := s.now()
	if err := tx.LockKey(ctx, "codes:"+target); err != nil {
		return pendingCode{}, err
	}
	n, err := tx.CodesSince(ctx, target, now.Add(-time.Hour))
	if err != nil {
		return pendingCode{}, err
	}
	if n >= MaxCodesPerHour {
		return pendingCode{}, &fault.Error{Kind: fault.KindLocked, Detail: MsgTooManyCodes}
	}
	var b [challengeBytes]byte
	if _, err := io.ReadFull(s.ids.Rand, b[:]); err != nil {
		return pendingCode{}, err
	}
	challenge := base64.RawURLEncoding.EncodeToString(b[:])
	code := s.ids.Digits(6)
	hash := s.codeHash(challenge, subject, purpose, code)
	if subject == "" {
		hash, mobile = s.ring.MAC("account-code-decoy", challenge), ""
	} else if err := tx.RetireCodes(ctx, subject, purpose); err != nil {
		return pendingCode{}, err
	}
	err = tx.CreateCode(ctx, store.Code{ChallengeHash: sessionHash(challenge), Subject: subject, Purpose: purpose, Target: target,
		CodeHash: hash, ExpiresAt: now.Add(CodeTTL), CreatedAt: now})
	if err != nil {
		return pendingCode{}, err
	}
	return pendingCode{sent: CodeSent{Challenge: challenge}, mobile: mobile, code: code, purpose: purpose}, nil
}

// send delivers a committed code to its phone; a decoy sends nothing.
func (s *Service) send(ctx context.Context, p pendingCode) error {
	if p.mobile == "" {
		return nil
	}
	if err := s.notifier.SendCode(ctx, p.mobile, p.code, p.purpose); err != nil {
		s.log.ErrorContext(ctx, "sending an account code", "to", phone.Mask(p.mobile), "purpose", p.purpose, "err", err)
		return &fault.Error{Kind: fault.KindInternal, Detail: MsgCodeNotSent, Cause: err}
	}
	return nil
}

func (s *Service) codeHash(challenge, subject, purpose, code string) string {
	return s.ring.MAC("account-code", challenge, subject, purpose, code)
}

// useCode counts a try at the code of challenge and, if code is right
// and was sent for purpose to an account of kind ("merchant:" or
// "consumer:"), uses it and returns its subject. A wrong, expired, used
// or foreign code returns a refusal (and no error), so the caller commits
// the counted try and then refuses.
func (s *Service) useCode(ctx context.Context, tx store.Tx, challenge, purpose, kind, code string) (subject string, refusal *fault.Error, err error) {
	code = strings.TrimSpace(code)
	if challenge == "" || len(challenge) > maxChallengeSize {
		return "", fault.DetailError(MsgCodeExpired), nil
	}
	c, err := tx.TryCode(ctx, sessionHash(challenge), MaxCodeTries, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", fault.DetailError(MsgCodeExpired), nil
	}
	if err != nil {
		return "", nil, err
	}
	want := s.codeHash(challenge, c.Subject, purpose, code)
	if !strings.HasPrefix(c.Subject, kind) || c.Purpose != purpose || subtle.ConstantTimeCompare([]byte(c.CodeHash), []byte(want)) != 1 {
		if c.Tries >= MaxCodeTries {
			return "", fault.DetailError(MsgCodeExpired), nil
		}
		return "", fault.DetailError(MsgCodeWrong), nil
	}
	if err := tx.UseCode(ctx, c.ChallengeHash); errors.Is(err, store.ErrNotFound) {
		return "", fault.DetailError(MsgCodeExpired), nil // a simultaneous try used it first
	} else if err != nil {
		return "", nil, err
	}
	return c.Subject, nil, nil
}

// subjectID is the account id of a code's subject ("merchant:12").
func subjectID(subject string) (int64, bool) {
	_, id, ok := strings.Cut(subject, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	return n, ok && err == nil
}
