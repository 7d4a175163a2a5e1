package identity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/lockout"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/store"
)

// Guessing at MPINs and codes (issue 11). Three limits stand in the way:
//
//   - per wallet: wrong MPINs lock it for a while (lockout.Default: 30
//     minutes, growing to a day while locks follow each other), counted
//     in the database under the wallet's row lock, so simultaneous
//     guesses are decided one after the other;
//   - per number without a wallet: the same count, kept in mpin_guards,
//     so that a stranger is answered alike whether or not a number has a
//     wallet (and the MPIN is hashed either way, against a dummy hash);
//   - per client: wrong guesses from one client address, and through one
//     merchant's public key, are limited in each node's memory
//     (GuessLimiter); over it the request is refused before the MPIN is
//     hashed, with 429 and Retry-After.

// GuessLimiter bounds wrong guesses per client key (a client address, a
// merchant's public key). Guesses that turn out right cost nothing, so
// paying customers behind one address are not held back by a limit
// meant for guessers.
type GuessLimiter interface {
	// Check reports whether key may guess now, and if not, how long it
	// must wait.
	Check(key string) (ok bool, retryAfter time.Duration)
	// Charge counts one wrong guess against key.
	Charge(key string)
}

type clientKey struct{}

// WithClient returns ctx carrying the client address of the request it
// serves, which the per-address guess limit is counted against.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

func clientOf(ctx context.Context) string {
	addr, _ := ctx.Value(clientKey{}).(string)
	return addr
}

// guessKeys are the limiter keys a guess is counted against: the client
// address and, when the guess comes through a merchant (scope: a public
// key, or a merchant and book for the hosted page), that merchant.
type guessKeys struct{ addr, scope string }

func (s *Service) guessKeysOf(ctx context.Context, scope string) guessKeys {
	return guessKeys{addr: clientOf(ctx), scope: scope}
}

// allowGuess refuses a guess when its client or merchant is over the
// limit; it is asked before the MPIN is hashed.
func (s *Service) allowGuess(k guessKeys) error {
	var wait time.Duration
	if s.addrGuesses != nil && k.addr != "" {
		if ok, d := s.addrGuesses.Check("addr:" + k.addr); !ok {
			wait = d
		}
	}
	if s.keyGuesses != nil && k.scope != "" {
		if ok, d := s.keyGuesses.Check("key:" + k.scope); !ok {
			wait = max(wait, d)
		}
	}
	if wait == 0 {
		return nil
	}
	return Throttled(wait)
}

// AllowGuess refuses a guess at a code (a payment's confirmation code)
// when its client, or the merchant it comes through (scope, as in
// PayerCheck), is over its limit; ask before checking the code.
func (s *Service) AllowGuess(ctx context.Context, scope string) error {
	return s.allowGuess(s.guessKeysOf(ctx, scope))
}

// ChargeGuess counts a wrong code against its client and merchant.
func (s *Service) ChargeGuess(ctx context.Context, scope string) {
	s.chargeGuess(s.guessKeysOf(ctx, scope))
}

// chargeGuess counts a wrong guess against its client and merchant.
func (s *Service) chargeGuess(k guessKeys) {
	if s.addrGuesses != nil && k.addr != "" {
		s.addrGuesses.Charge("addr:" + k.addr)
	}
	if s.keyGuesses != nil && k.scope != "" {
		s.keyGuesses.Charge("key:" + k.scope)
	}
}

// Throttled is DRF's answer to a request over a rate limit: HTTP 429
// with Retry-After.
func Throttled(wait time.Duration) *fault.Error {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	return &fault.Error{Kind: fault.KindThrottled, ErrorKey: "throttled", RetryAfter: time.Duration(secs) * time.Second,
		Detail: "Request was throttled. Expected available in " + strconv.FormatInt(secs, 10) + " seconds."}
}

// mpinPolicy is lockout.Default with the configured number of tries.
func (s *Service) mpinPolicy() lockout.Policy {
	p := lockout.Default
	p.MaxTries = s.cfg.MaxMPINTries
	return p
}

func consumerGuard(c store.Consumer) lockout.State {
	return lockout.State{Failed: c.FailedMPIN, LockedUntil: c.MPINLockedUntil, Level: c.MPINLockLevel}
}

func phantomGuard(g store.MPINGuard) lockout.State {
	return lockout.State{Failed: g.Failed, LockedUntil: g.LockedUntil, Level: g.LockLevel}
}

// lockedError is Khalti's answer for a wallet locked by wrong MPINs
// (docs/khalti.md §2.6), saying when the lock ends; until is zero for a wallet locked
// until its MPIN is reset.
func lockedError(until, now time.Time) *fault.Error {
	when := "Reset your PIN to unlock it."
	if !until.IsZero() {
		mins := int64((until.Sub(now) + time.Minute - 1) / time.Minute)
		when = fmt.Sprintf("Try again in %d minutes, or reset your PIN to unlock it now.", max(mins, 1))
	}
	return &fault.Error{Kind: fault.KindLocked, ErrorKey: "third_party_transaction_locked", LockedUntil: until,
		Detail: "Your wallet is locked for third-party payments after too many wrong Khalti PINs. " + when}
}

// mpinRefusal is the answer to a wrong MPIN that left triesLeft tries.
func mpinRefusal(triesLeft int) *fault.Error {
	return &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgMobileOrPin, TriesRemaining: strconv.Itoa(triesLeft), ErrorKey: fault.ErrorKeyValidation}
}

// preMPIN is what is known of a payer before the MPIN is hashed: the
// wallet (ID 0 for a number without one) or the number's guard.
type preMPIN struct {
	consumer store.Consumer
	guard    lockout.State
	held     bool // locked until the MPIN is reset
}

// payerBefore is a payer's lock state before the MPIN is checked, from
// c, the wallet read in the transaction (ID 0: none), or else from the
// number's guard, so a locked one is refused before any guess counts.
func (s *Service) payerBefore(ctx context.Context, tx store.Tx, mobile string, c store.Consumer) (preMPIN, error) {
	if c.ID == 0 {
		g, err := tx.MPINGuard(ctx, mobile)
		return preMPIN{guard: phantomGuard(g)}, err
	}
	return preMPIN{consumer: c, guard: consumerGuard(c), held: c.Locked}, nil
}

// refuseLocked answers a payer locked at now, if it is.
func (s *Service) refuseLocked(p preMPIN, now time.Time) *fault.Error {
	switch {
	case p.held:
		return lockedError(time.Time{}, now)
	case s.mpinPolicy().Locked(p.guard, now):
		return lockedError(p.guard.LockedUntil, now)
	}
	return nil
}

// checkPayerMPIN checks mpin against the payer's MPIN hash, or against a
// dummy hash of the same scheme for a number without a wallet, so both
// take as long. legacy reports a right MPIN whose hash is of the legacy
// scheme (mpin.go), to be replaced.
func (s *Service) checkPayerMPIN(p preMPIN, mpin string) (ok, legacy bool) {
	if p.consumer.ID == 0 {
		s.checkMPIN(s.dummyMPIN(), mpin)
		return false, false
	}
	ok, legacy = s.checkMPIN(p.consumer.MPINHash, mpin)
	return ok, ok && legacy
}

// decideMPIN records an MPIN attempt for mobile in tx, on c, the payer
// read with its row locked (ConsumerForUpdate, ConsumerWithBalance), or,
// when c.ID is 0, on the number's guard under a key lock. It returns the
// refusal to answer with: the lock, or a wrong MPIN's tries left; nil
// when pinOK and the payer is not locked, after clearing its count. A
// wrong MPIN that locks a wallet tells its owner (notice, and lockedBy
// for the SMS sent once the transaction commits). via says where the
// MPIN was given, for that notice.
func (s *Service) decideMPIN(ctx context.Context, tx store.Tx, mobile string, c *store.Consumer, pinOK bool, via string) (refusal *fault.Error, lockedBy string, err error) {
	now, policy := s.now(), s.mpinPolicy()
	if c.ID == 0 {
		if err := tx.LockKey(ctx, "mpin:"+mobile); err != nil {
			return nil, "", err
		}
		g, err := tx.MPINGuard(ctx, mobile)
		if err != nil {
			return nil, "", err
		}
		st := phantomGuard(g)
		if policy.Locked(st, now) {
			return lockedError(st.LockedUntil, now), "", nil
		}
		st, locked := policy.Wrong(st, now)
		g.Failed, g.LockedUntil, g.LockLevel, g.UpdatedAt = st.Failed, st.LockedUntil, st.Level, now
		if err := tx.SetMPINGuard(ctx, g); err != nil {
			return nil, "", err
		}
		if locked {
			return lockedError(st.LockedUntil, now), "", nil
		}
		return mpinRefusal(policy.TriesLeft(st, now)), "", nil
	}
	st := consumerGuard(*c)
	switch {
	case c.Locked:
		return lockedError(time.Time{}, now), "", nil
	case policy.Locked(st, now):
		return lockedError(st.LockedUntil, now), "", nil
	case pinOK:
		if st.Failed != 0 {
			st = policy.Right(st)
			c.FailedMPIN = st.Failed
			if err := tx.SetConsumerGuard(ctx, *c); err != nil {
				return nil, "", err
			}
		}
		return nil, "", nil
	}
	st, locked := policy.Wrong(st, now)
	c.FailedMPIN, c.MPINLockedUntil, c.MPINLockLevel = st.Failed, st.LockedUntil, st.Level
	if err := tx.SetConsumerGuard(ctx, *c); err != nil {
		return nil, "", err
	}
	if !locked {
		return mpinRefusal(policy.TriesLeft(st, now)), "", nil
	}
	text := fmt.Sprintf("Your wallet was locked after %d wrong MPINs in a row, the last one on %s%s. "+
		"Payments and sign-in with the MPIN are refused until %s (Nepal time); resetting your MPIN with a code sent to this phone unlocks it now. "+
		"If this was not you, someone is guessing your MPIN: never share it.",
		policy.MaxTries, via, fromClient(ctx), nepal.Minute(st.LockedUntil))
	if err := s.notify(ctx, tx, c.ID, text); err != nil {
		return nil, "", err
	}
	return lockedError(st.LockedUntil, now), text, nil
}

// fromClient names the request's client address for a notice, if known.
func fromClient(ctx context.Context) string {
	if a := clientOf(ctx); a != "" {
		return " from " + a
	}
	return ""
}
