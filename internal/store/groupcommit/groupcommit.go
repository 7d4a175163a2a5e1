// Package groupcommit is the queue both stores commit write transactions
// through (docs/storage.md, "Group commit"): callers queue their
// transaction's function, and a committer goroutine hands every request
// queued at that moment, as a batch, to the store, which runs the batch
// in one database transaction and answers each request once it has
// committed. A queue may have several lanes, each a committer goroutine
// that takes the next batch whenever it is free, so that several batches
// run at once (PostgreSQL); SQLite, with one writer, has one. The store
// decides how a batch runs; this package only queues, batches and shuts
// down without leaving a request unanswered.
package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// Request is one write transaction waiting for its batch.
type Request struct {
	// Ctx is the caller's context: a request whose context has ended
	// before its turn is answered with its error and not run.
	Ctx context.Context
	// Fn is the transaction's function.
	Fn   func(store.Tx) error
	done chan error
}

// Answer gives the request its result; the batch's runner calls it
// exactly once per request.
func (r Request) Answer(err error) { r.done <- err }

// ErrClosed answers a request made after Close.
var ErrClosed = errors.New("the database is closed")

// Lane is one committer of a queue: the store's way of running a batch
// on a session of its own.
type Lane struct {
	// Run runs a batch and answers every one of its requests.
	Run func(batch []Request)
	// Idle, if set, is called when the lane finds nothing queued, before
	// it waits for the next request: a lane that keeps a session open
	// between batches lets it go here, since with several lanes the
	// requests it kept the session for may have gone to another.
	Idle func()
}

// Queue batches requests for its lanes.
type Queue struct {
	requests chan Request
	maxBatch int
	lanes    int

	// batches, requested (requests in them) and busy (nanoseconds running
	// them) are Stats.
	batches, requested, busy atomic.Uint64

	mu       sync.RWMutex // held (read) while queueing, (write) by Close
	isClosed bool
	closing  chan struct{} // closed by Close: the loop drains and stops
	stopped  chan struct{} // closed when the loop has stopped
}

// New starts a committer that calls run with batches of at most
// maxBatch requests, one batch at a time; run must answer every request
// of its batch.
func New(maxBatch int, run func(batch []Request)) *Queue {
	return NewLanes(maxBatch, Lane{Run: run})
}

// NewLanes starts a committer goroutine for each lane: each takes the
// requests queued when it is free, at most maxBatch of them, as its next
// batch, so up to len(lanes) batches run at once.
func NewLanes(maxBatch int, lanes ...Lane) *Queue {
	if len(lanes) == 0 {
		panic("groupcommit: a queue needs a lane")
	}
	// Room for a few batches, so a caller rarely waits to queue.
	q := &Queue{requests: make(chan Request, 4*maxBatch), maxBatch: maxBatch, lanes: len(lanes),
		closing: make(chan struct{}), stopped: make(chan struct{})}
	var running sync.WaitGroup
	for _, l := range lanes {
		running.Add(1)
		go func() {
			defer running.Done()
			// A lane keeps one OS thread for its life. Every write of a
			// node waits behind its lanes, and a lane's goroutine parks
			// between batches and at each request it waits for; woken, it
			// would otherwise run on whichever thread is free, beside the
			// request goroutines, and its database session's other end
			// (PostgreSQL's backend, SQLite's files) is woken from another
			// CPU each time. On a thread of its own, SQLite's lane ran
			// about a fifth more payments a second, and PostgreSQL's
			// database spent less CPU per payment (docs/storage.md,
			// "Group commit", has the paired runs).
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			q.loop(l)
		}()
	}
	go func() {
		running.Wait()
		close(q.stopped)
	}()
	return q
}

// Do queues fn and returns its result once its batch is decided.
func (q *Queue) Do(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := Request{Ctx: ctx, Fn: fn, done: make(chan error, 1)}
	// The read lock keeps Close from finishing while a request is being
	// queued, so no request is left in the queue unanswered.
	q.mu.RLock()
	if q.isClosed {
		q.mu.RUnlock()
		return ErrClosed
	}
	select {
	case q.requests <- r:
		q.mu.RUnlock()
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the request is answered only after its batch is
	// decided, even if ctx ends: the caller must learn whether its
	// writes were committed.
	return <-r.done
}

// Stats are the committer's counters since New; Busy is the sum over
// its lanes.
func (q *Queue) Stats() store.CommitStats {
	return store.CommitStats{Lanes: q.lanes, Batches: q.batches.Load(), Requests: q.requested.Load(), Busy: time.Duration(q.busy.Load())}
}

// Queued is how many requests wait for a batch (tests).
func (q *Queue) Queued() int { return len(q.requests) }

// Close refuses new requests, runs those already queued and returns once
// every lane has stopped. It may be called more than once.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.isClosed {
		q.isClosed = true
		close(q.closing)
	}
	q.mu.Unlock()
	<-q.stopped
}

// loop is one lane: it runs batches until the queue is closed and empty.
func (q *Queue) loop(l Lane) {
	for {
		var first Request
		select {
		case first = <-q.requests:
		default:
			if l.Idle != nil {
				l.Idle()
			}
			select {
			case first = <-q.requests:
			case <-q.closing:
				// Nothing can be queued any more: run what is left
				// (other lanes may be taking some of it too).
				for {
					select {
					case r := <-q.requests:
						q.runCounted(l, q.take(r))
					default:
						return
					}
				}
			}
		}
		q.runCounted(l, q.take(first))
	}
}

// runCounted runs a batch on l, counting it in Stats.
func (q *Queue) runCounted(l Lane, batch []Request) {
	start := time.Now()
	l.Run(batch)
	q.busy.Add(uint64(time.Since(start)))
	q.batches.Add(1)
	q.requested.Add(uint64(len(batch)))
}

// take makes a batch of first and whatever else is queued.
func (q *Queue) take(first Request) []Request {
	batch := []Request{first}
	for len(batch) < q.maxBatch {
		select {
		case r := <-q.requests:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}
