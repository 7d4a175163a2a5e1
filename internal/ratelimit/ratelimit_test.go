package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBurstThenRefused(t *testing.T) {
	c := newClock()
	l := New(5, time.Minute, c.Now)
	for i := range 5 {
		if ok, wait := l.Allow("a"); !ok || wait != 0 {
			t.Fatalf("attempt %d: %v %v, want allowed", i+1, ok, wait)
		}
	}
	ok, wait := l.Allow("a")
	if ok {
		t.Fatal("6th attempt allowed")
	}
	// 5 per minute: one token every 12 seconds.
	if wait != 12*time.Second {
		t.Fatalf("retryAfter %v, want 12s", wait)
	}
	// A refused attempt takes nothing, so the wait only shrinks.
	c.Advance(5 * time.Second)
	if ok, wait := l.Allow("a"); ok || wait != 7*time.Second {
		t.Fatalf("after 5s: %v %v, want refused with 7s", ok, wait)
	}
}

func TestRefill(t *testing.T) {
	c := newClock()
	l := New(5, time.Minute, c.Now)
	for range 5 {
		l.Allow("a")
	}
	c.Advance(12*time.Second - time.Nanosecond)
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("allowed before a whole token refilled")
	}
	c.Advance(time.Nanosecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after one token refilled")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a second token appeared from nowhere")
	}
	// A long idle time refills to burst, never beyond.
	c.Advance(time.Hour)
	for i := range 5 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("after an hour, attempt %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("the bucket held more than burst")
	}
}

func TestRetryAfterFraction(t *testing.T) {
	c := newClock()
	l := New(3, 10*time.Second, c.Now) // a token every 3.333...s
	for range 3 {
		l.Allow("a")
	}
	_, wait := l.Allow("a")
	if wait < 3333333333*time.Nanosecond || wait > 3333333334*time.Nanosecond {
		t.Fatalf("retryAfter %v, want about 3.333s", wait)
	}
	c.Advance(wait)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatalf("waiting retryAfter (%v) was not enough", wait)
	}
}

func TestClockBackwards(t *testing.T) {
	c := newClock()
	l := New(1, time.Minute, c.Now)
	l.Allow("a")
	c.Advance(-time.Hour)
	if ok, wait := l.Allow("a"); ok || wait != time.Minute {
		t.Fatalf("clock stepped back: %v %v, want refused with 1m", ok, wait)
	}
}

func TestKeysAreSeparate(t *testing.T) {
	c := newClock()
	l := New(2, time.Minute, c.Now)
	l.Allow("a")
	l.Allow("a")
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a: 3rd allowed")
	}
	for i := range 2 {
		if ok, _ := l.Allow("b"); !ok {
			t.Fatalf("b: attempt %d refused because of a", i+1)
		}
	}
	if l.Len() != 2 {
		t.Fatalf("Len %d, want 2", l.Len())
	}
}

func TestMemoryBoundDropsFullBuckets(t *testing.T) {
	c := newClock()
	l := New(2, time.Minute, c.Now)
	l.maxKeys = 100
	// 50 busy keys (empty buckets) and 50 that used one token.
	for i := range 50 {
		l.Allow(fmt.Sprint("busy", i))
		l.Allow(fmt.Sprint("busy", i))
		l.Allow(fmt.Sprint("idle", i))
	}
	// 30 seconds refill one token: the idle buckets are full again, the
	// busy ones are not.
	c.Advance(30 * time.Second)
	l.Allow("new")
	if n := l.Len(); n != 51 {
		t.Fatalf("after pruning: %d keys, want the 50 busy ones and the new one", n)
	}
	// The busy keys kept their state: one token refilled, then refused.
	if ok, _ := l.Allow("busy0"); !ok {
		t.Fatal("busy0: refilled token refused")
	}
	if ok, _ := l.Allow("busy0"); ok {
		t.Fatal("busy0: forgotten by pruning (got a fresh burst)")
	}
}

func TestMemoryBoundClearsWhenAllBusy(t *testing.T) {
	c := newClock()
	l := New(1, time.Minute, c.Now)
	l.maxKeys = 100
	for i := range 100 {
		l.Allow(fmt.Sprint("busy", i))
	}
	if l.Len() != 100 {
		t.Fatalf("Len %d, want 100", l.Len())
	}
	// None is full, so the table is cleared rather than grown.
	if ok, _ := l.Allow("new"); !ok {
		t.Fatal("a new key refused")
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("after clearing: %d keys, want 1", n)
	}
	for range 10 * l.maxKeys {
		l.Allow(fmt.Sprint("k", c.Now().UnixNano()))
		c.Advance(time.Nanosecond)
		if l.Len() > l.maxKeys {
			t.Fatalf("Len %d over the bound %d", l.Len(), l.maxKeys)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newClock()
	l := New(100, time.Hour, c.Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprint("own", g, i%5))
				if i%10 == 0 {
					c.Advance(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	// 800 attempts on "shared" within 160ms of an hour-long refill: the
	// burst and at most a token more.
	if n := allowed.Load(); n < 100 || n > 101 {
		t.Fatalf("%d allowed on the shared key, want 100 (or 101)", n)
	}
}

func TestNewRefusesBadLimits(t *testing.T) {
	for _, tt := range []struct {
		burst int
		per   time.Duration
	}{{0, time.Minute}, {1, 0}, {-1, time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d, %v) did not panic", tt.burst, tt.per)
				}
			}()
			New(tt.burst, tt.per, time.Now)
		}()
	}
}

func TestCheckAndCharge(t *testing.T) {
	c := newClock()
	l := New(2, time.Minute, c.Now)
	for i := range 5 {
		if ok, _ := l.Check("a"); !ok {
			t.Fatalf("check %d refused: checking takes nothing", i)
		}
	}
	l.Charge("a")
	l.Charge("a")
	ok, wait := l.Check("a")
	if ok || wait != 30*time.Second {
		t.Fatalf("after two charges of a burst of 2: %t, %v; want refused for 30s", ok, wait)
	}
	// Charges beyond the bucket are a debt, paid back before the next
	// check passes, down to at most a burst below empty.
	for range 10 {
		l.Charge("a")
	}
	if ok, wait := l.Check("a"); ok || wait != 90*time.Second {
		t.Fatalf("in debt: %t, %v; want refused for 90s (a burst of debt and one token)", ok, wait)
	}
	c.Advance(90 * time.Second)
	if ok, _ := l.Check("a"); !ok {
		t.Fatal("still refused after the debt was paid back")
	}
	if ok, _ := l.Check("b"); !ok {
		t.Fatal("another key refused")
	}
}
