package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// waitQueued waits until n requests are queued.
func waitQueued(t *testing.T, q *Queue, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); q.Queued() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", q.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatches: requests queued while a batch runs make the next
// batches, in the order queued, at most maxBatch at a time, and each
// caller gets the answer its request was given.
func TestBatches(t *testing.T) {
	hold, held := make(chan struct{}), make(chan struct{})
	var sizes []int // only the committer goroutine appends
	q := New(2, func(batch []Request) {
		if batch[0].Ctx.Value(holdKey{}) != nil {
			close(held)
			<-hold
		}
		sizes = append(sizes, len(batch))
		for _, r := range batch {
			r.Answer(r.Fn(nil))
		}
	})
	holder := make(chan error, 1)
	go func() {
		holder <- q.Do(context.WithValue(context.Background(), holdKey{}, true), func(store.Tx) error { return nil })
	}()
	<-held
	results := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = q.Do(context.Background(), func(store.Tx) error {
				if i == 1 {
					return errors.New("refused")
				}
				return nil
			})
		}()
		waitQueued(t, q, i+1)
	}
	const holdFor = 20 * time.Millisecond
	time.Sleep(holdFor) // the first batch runs at least this long
	close(hold)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	q.Close() // the committer has stopped: sizes is safe to read
	if results[0] != nil || results[1] == nil || results[1].Error() != "refused" || results[2] != nil {
		t.Fatalf("answers %v, want nil, refused, nil", results)
	}
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 2 || sizes[2] != 1 {
		t.Fatalf("batch sizes %v, want [1 2 1]", sizes)
	}
	if st := q.Stats(); st.Batches != 3 || st.Requests != 4 || st.Busy < holdFor {
		t.Errorf("Stats %+v, want 3 batches, 4 requests, busy at least %v", st, holdFor)
	}
}

type holdKey struct{}

// TestCloseRunsQueued: Close runs the requests already queued, then
// refuses new ones with ErrClosed; a second Close returns at once.
func TestCloseRunsQueued(t *testing.T) {
	hold, held := make(chan struct{}), make(chan struct{})
	first := true
	q := New(64, func(batch []Request) {
		if first {
			first = false
			close(held)
			<-hold
		}
		for _, r := range batch {
			r.Answer(r.Fn(nil))
		}
	})
	go q.Do(context.Background(), func(store.Tx) error { return nil })
	<-held
	ran := make(chan struct{})
	queued := make(chan error, 1)
	go func() { queued <- q.Do(context.Background(), func(store.Tx) error { close(ran); return nil }) }()
	waitQueued(t, q, 1)
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	close(hold)
	<-closed
	select {
	case <-ran:
	default:
		t.Fatal("a request queued before Close did not run")
	}
	if err := <-queued; err != nil {
		t.Fatal(err)
	}
	if err := q.Do(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("a request after Close: %v, want ErrClosed", err)
	}
	q.Close()
}

// TestEndedContext: a request whose context has already ended is not
// queued.
func TestEndedContext(t *testing.T) {
	q := New(4, func(batch []Request) {
		for _, r := range batch {
			r.Answer(r.Fn(nil))
		}
	})
	defer q.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := q.Do(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("Do with an ended context: %v (ran: %v)", err, ran)
	}
}

// TestLanes: with two lanes, two batches run at once (each request here
// waits inside its batch until the other's has started, which one lane
// could never let happen); a lane calls Idle when it finds nothing
// queued; Close runs every request queued, on whichever lane is free;
// Stats counts both lanes' batches.
func TestLanes(t *testing.T) {
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var idles [2]atomic.Int32
	lane := func(i int) Lane {
		return Lane{
			Run: func(batch []Request) {
				for _, r := range batch {
					r.Answer(r.Fn(nil))
				}
			},
			Idle: func() { idles[i].Add(1) },
		}
	}
	q := NewLanes(64, lane(0), lane(1))
	if got := q.Stats().Lanes; got != 2 {
		t.Fatalf("Stats().Lanes = %d, want 2", got)
	}
	results := make(chan error, 2)
	for i := range 2 {
		go func() {
			results <- q.Do(context.Background(), func(store.Tx) error {
				close(started[i])
				select {
				case <-started[1-i]:
					return nil
				case <-time.After(10 * time.Second):
					return errors.New("the other batch did not start while this one ran")
				}
			})
		}()
		<-started[i] // the second is queued while the first runs, not in its batch
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	// Both lanes found the queue empty at least once (at the start).
	for i := range 2 {
		for deadline := time.Now().Add(10 * time.Second); idles[i].Load() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("lane %d never called Idle", i)
			}
		}
	}
	// Both lanes held: the requests queued behind them run at Close.
	hold := make(chan struct{})
	for range 2 {
		held := make(chan struct{})
		go q.Do(context.Background(), func(store.Tx) error { close(held); <-hold; return nil })
		<-held // one at a time, so each lane holds one
	}
	queued := make(chan error, 10)
	for i := range 10 {
		go func() { queued <- q.Do(context.Background(), func(store.Tx) error { return nil }) }()
		waitQueued(t, q, i+1)
	}
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	close(hold)
	<-closed
	for range 10 {
		if err := <-queued; err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.Requests != 14 {
		t.Fatalf("Stats %+v, want 14 requests", st)
	}
}
