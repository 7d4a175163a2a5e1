package lockout

import (
	"testing"
	"time"
)

func TestWrongLocksAfterMaxTriesAndEscalates(t *testing.T) {
	p := Default
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var s State
	for i, left := range []int{2, 1} {
		var locked bool
		if s, locked = p.Wrong(s, now); locked {
			t.Fatalf("guess %d locked", i+1)
		}
		if got := p.TriesLeft(s, now); got != left {
			t.Fatalf("after guess %d: %d tries left, want %d", i+1, got, left)
		}
	}
	wantLock := []time.Duration{30 * time.Minute, 2 * time.Hour, 8 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i, d := range wantLock {
		var locked bool
		s, locked = p.Wrong(s, now)
		if !locked || !s.LockedUntil.Equal(now.Add(d)) {
			t.Fatalf("lock %d: locked %t until %v, want %v", i+1, locked, s.LockedUntil, now.Add(d))
		}
		// While locked, guesses change nothing.
		if again, l := p.Wrong(s, now.Add(d-time.Second)); l || again != s {
			t.Fatalf("lock %d: a guess while locked changed %+v to %+v", i+1, s, again)
		}
		if p.TriesLeft(s, now.Add(d-time.Second)) != 0 || !p.Locked(s, now.Add(d-time.Second)) {
			t.Fatalf("lock %d: not locked a second before its end", i+1)
		}
		if p.Locked(s, now.Add(d)) {
			t.Fatalf("lock %d: still locked at its end", i+1)
		}
		// The attacker comes back when it ends and guesses three times.
		now = now.Add(d)
		s, _ = p.Wrong(s, now)
		s, _ = p.Wrong(s, now)
	}
}

func TestLevelIsForgottenAfterADay(t *testing.T) {
	p := Default
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var s State
	for range 3 {
		s, _ = p.Wrong(s, now)
	}
	if s.Level != 1 {
		t.Fatalf("level %d after one lock", s.Level)
	}
	// A right guess keeps the level: the owner's success does not give
	// an attacker a fresh start.
	s = p.Right(s)
	if s.Failed != 0 || s.Level != 1 {
		t.Fatalf("after a right guess: %+v", s)
	}
	later := s.LockedUntil.Add(p.Forget - time.Minute)
	for range 3 {
		s, _ = p.Wrong(s, later)
	}
	if got := s.LockedUntil.Sub(later); got != 2*time.Hour {
		t.Fatalf("a lock within a day of the last lasts %v, want 2h", got)
	}
	muchLater := s.LockedUntil.Add(p.Forget)
	for range 3 {
		s, _ = p.Wrong(s, muchLater)
	}
	if got := s.LockedUntil.Sub(muchLater); got != 30*time.Minute {
		t.Fatalf("a lock a day after the last lasts %v, want 30m", got)
	}
}

func TestDurationIsCapped(t *testing.T) {
	for level, want := range map[int]time.Duration{0: 30 * time.Minute, 1: 2 * time.Hour, 3: 24 * time.Hour, 60: 24 * time.Hour} {
		if got := Default.Duration(level); got != want {
			t.Errorf("Duration(%d) = %v, want %v", level, got, want)
		}
	}
}
