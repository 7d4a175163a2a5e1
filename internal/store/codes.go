package store

import (
	"context"
	"strconv"
	"time"
)

// Code is one code sent to a phone to prove it (a sign-up, an MPIN
// reset). The page that asked for it holds a random challenge, of which
// only the hash is stored, and the code is stored only as a keyed hash
// bound to the challenge, the subject and the purpose.
type Code struct {
	ChallengeHash string
	// Subject is the account the code proves: "merchant:<id>" or
	// "consumer:<id>"; empty for a decoy, which nothing was sent for and
	// no code opens.
	Subject string
	Purpose string
	// Target is the email or mobile the code was asked for; codes sent
	// per target are counted from it.
	Target string
	// CodeHash is empty once the code was used or a newer one replaced it.
	CodeHash  string
	Tries     int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// CodeTx is the account-code part of Tx.
type CodeTx interface {
	CreateCode(ctx context.Context, c Code) error
	// RetireCodes makes every usable code of subject for purpose
	// unusable, as a newer one was sent.
	RetireCodes(ctx context.Context, subject, purpose string) error
	// TryCode counts one try at the code with that challenge hash and
	// returns it (with the try counted) if it was still usable at now:
	// not used or replaced, not expired, and tried fewer than maxTries
	// times; otherwise ErrNotFound. The count is one statement, so
	// simultaneous guesses are all counted and at most maxTries get the
	// code.
	TryCode(ctx context.Context, challengeHash string, maxTries int, now time.Time) (Code, error)
	// UseCode makes the code unusable once it opened its account;
	// ErrNotFound if a simultaneous try used it first.
	UseCode(ctx context.Context, challengeHash string) error
	// CodesSince counts the codes asked for target since since.
	CodesSince(ctx context.Context, target string, since time.Time) (int, error)
	// PurgeCodes removes codes created before before.
	PurgeCodes(ctx context.Context, before time.Time) error
}

// CodeSubjectMerchant is the Subject of a merchant's codes.
func CodeSubjectMerchant(id int64) string { return "merchant:" + strconv.FormatInt(id, 10) }

// CodeSubjectConsumer is the Subject of a consumer's codes.
func CodeSubjectConsumer(id int64) string { return "consumer:" + strconv.FormatInt(id, 10) }
