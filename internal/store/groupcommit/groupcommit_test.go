package groupcommit

import (
	"context"
	"errors"
	"sync"
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
