// Package lockout decides when wrong guesses at a short secret (a wallet's
// 4-digit MPIN) lock it, and for how long. It is pure: callers read a
// State, ask the Policy what a guess does to it, and store the result
// under whatever lock makes their read-and-write atomic.
//
// A lock ends by itself, so an attacker who knows only a mobile number
// cannot lock its owner out for good with three requests; each lock that
// follows another within Forget lasts Factor times longer, up to Max, so
// the guesses an attacker gets stay few: MaxTries per lock, and the locks
// grow to a day.
package lockout

import "time"

// State is what is kept per secret. The zero State is a secret nobody
// has guessed at.
type State struct {
	Failed      int       // wrong guesses in a row since the last right one or the last lock
	LockedUntil time.Time // when the latest lock ends (kept after it ends)
	Level       int       // locks in a row: the next lock lasts First * Factor^Level
}

// Policy is how many wrong guesses lock, and how long locks last.
type Policy struct {
	MaxTries int           // wrong guesses in a row that lock
	First    time.Duration // the first lock
	Factor   int           // each lock in a row lasts this many times the one before
	Max      time.Duration // no lock lasts longer
	Forget   time.Duration // a lock that ended this long ago no longer counts towards the next
}

// Default is Thaili's MPIN policy: three wrong MPINs in a row lock the
// wallet for 30 minutes, then 2 hours, 8 hours and a day, until a day
// passes without a lock.
var Default = Policy{MaxTries: 3, First: 30 * time.Minute, Factor: 4, Max: 24 * time.Hour, Forget: 24 * time.Hour}

// Locked reports whether s is locked at now.
func (p Policy) Locked(s State, now time.Time) bool { return now.Before(s.LockedUntil) }

// TriesLeft is how many wrong guesses s may still take before it locks;
// 0 while it is locked.
func (p Policy) TriesLeft(s State, now time.Time) int {
	if p.Locked(s, now) {
		return 0
	}
	return max(p.MaxTries-s.Failed, 0)
}

// Wrong is s after a wrong guess at now, and whether that guess locked
// it. A guess while s is locked changes nothing (the caller refuses it
// without checking the secret).
func (p Policy) Wrong(s State, now time.Time) (next State, locked bool) {
	if p.Locked(s, now) {
		return s, false
	}
	s.Failed++
	if s.Failed < p.MaxTries {
		return s, false
	}
	if !s.LockedUntil.IsZero() && now.Sub(s.LockedUntil) >= p.Forget {
		s.Level = 0
	}
	s.LockedUntil = now.Add(p.Duration(s.Level))
	s.Level++
	s.Failed = 0
	return s, true
}

// Right is s after a right guess: the count of wrong ones starts again.
// The level stays, so an attacker gains nothing from the owner's
// successes; it is forgotten Forget after the last lock ended.
func (p Policy) Right(s State) State {
	s.Failed = 0
	return s
}

// Duration is how long the lock at level lasts.
func (p Policy) Duration(level int) time.Duration {
	d := p.First
	for i := 0; i < level && d < p.Max; i++ {
		d *= time.Duration(p.Factor)
	}
	return min(d, p.Max)
}
