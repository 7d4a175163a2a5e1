// Package ratelimit is a keyed token-bucket limiter kept in memory: each
// key (e.g. a client address) may do burst things at once and then one
// more every per/burst. Thaili uses it to slow one address that sprays
// password or MPIN guesses across many accounts, which the per-account
// lockout alone does not stop.
//
// The state is per process: behind a load balancer each node keeps its
// own buckets, so N nodes together allow up to N times the limit.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// MaxKeys bounds how many keys a Limiter remembers, so a flood of
// distinct keys (IPv6 makes addresses cheap) cannot grow memory without
// end. A bucket costs well under 200 bytes, so the bound is about 20 MB.
const MaxKeys = 100_000

// Limiter is a set of token buckets, one per key. A key seen for the
// first time starts with a full bucket. It is safe for concurrent use.
type Limiter struct {
	burst   float64
	per     time.Duration
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one key's tokens as of at; refills are computed lazily on
// the next Allow, so idle keys cost no work.
type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter whose buckets hold burst tokens and refill at
// burst tokens per per (e.g. 30 per minute is one every 2 seconds). now
// is the clock, injected so tests need not sleep. It panics if burst < 1
// or per <= 0: callers validate their configuration first.
func New(burst int, per time.Duration, now func() time.Time) *Limiter {
	if burst < 1 || per <= 0 {
		panic("ratelimit: burst must be at least 1 and per positive")
	}
	return &Limiter{burst: float64(burst), per: per, now: now, maxKeys: MaxKeys, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket. If the bucket is empty it
// takes nothing and returns false and how long until a token is back
// (never zero, so a caller can always tell the client when to retry).
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// Check reports whether key's bucket holds a token, taking none; if not,
// it returns how long until one is back. With Charge it limits what only
// counts once its outcome is known (a wrong guess, not a right one).
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b)
}

// Charge takes one token from key's bucket. Checks made at once may each
// have seen the last token, so the bucket may go below empty, by at most
// a burst; the debt is paid back before the key is let in again.
func (l *Limiter) Charge(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	b.tokens = math.Max(b.tokens-1, -l.burst)
}

// bucket returns key's bucket, refilled to now, making a full one for a
// new key. l.mu is held.
func (l *Limiter) bucket(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	return b
}

// wait is how long until b holds a token again, rounded up to the
// nanosecond so that waiting exactly that long is always enough.
func (l *Limiter) wait(b *bucket) time.Duration {
	d := time.Duration(math.Ceil((1 - b.tokens) * float64(l.per) / l.burst))
	return max(d, 1)
}

// refill adds the tokens earned since b.at, up to burst. A clock that
// steps back earns nothing rather than taking tokens away.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(elapsed)*l.burst/float64(l.per))
		b.at = now
	}
}

// prune makes room when the table is at its bound. It first forgets the
// buckets that have refilled completely: forgetting them changes
// nothing, since an unknown key starts full. If that frees less than a
// tenth of the table, every key is busy (a flood from many addresses),
// and the whole table is cleared: memory stays bounded at the price of
// giving every key a fresh burst. The tenth keeps the O(n) sweep rare:
// at least MaxKeys/10 new keys come between two sweeps.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if l.full(b, now) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) > l.maxKeys-l.maxKeys/10 {
		clear(l.buckets)
	}
}

// full reports whether b would be full at now.
func (l *Limiter) full(b *bucket, now time.Time) bool {
	elapsed := max(now.Sub(b.at), 0)
	return b.tokens+float64(elapsed)*l.burst/float64(l.per) >= l.burst
}

// Len returns how many keys the limiter remembers, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
