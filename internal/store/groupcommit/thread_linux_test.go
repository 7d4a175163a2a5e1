package groupcommit

import (
	"context"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// TestLaneKeepsItsThread: every batch of a lane runs on the same OS
// thread, however the Go scheduler moves other goroutines between
// threads meanwhile (docs/storage.md, "Group commit": why a lane keeps
// its thread). Other goroutines block in system calls all along, which
// makes the runtime start threads and hand a parked goroutine to
// whichever of them is free when it wakes.
func TestLaneKeepsItsThread(t *testing.T) {
	threads := map[[2]int]bool{} // (lane, thread id) pairs; only the lanes write, one at a time
	var mu sync.Mutex
	lane := func(n int) Lane {
		return Lane{Run: func(batch []Request) {
			mu.Lock()
			threads[[2]int{n, syscall.Gettid()}] = true
			mu.Unlock()
			for _, r := range batch {
				r.Answer(r.Fn(nil))
			}
		}}
	}
	q := NewLanes(4, lane(0), lane(1))

	stop := make(chan struct{})
	var busy sync.WaitGroup
	for range 4 {
		busy.Add(1)
		go func() {
			defer busy.Done()
			f, err := os.CreateTemp(t.TempDir(), "sync")
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				f.Write([]byte("x"))
				f.Sync() // a blocking system call: its thread leaves the scheduler meanwhile
			}
		}()
	}
	for range 300 {
		if err := q.Do(context.Background(), func(store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond) // let the lanes park between requests
	}
	close(stop)
	busy.Wait()
	q.Close()

	perLane := map[int]int{}
	for k := range threads {
		perLane[k[0]]++
	}
	for n, count := range perLane {
		if count != 1 {
			t.Errorf("lane %d ran its batches on %d OS threads, want 1", n, count)
		}
	}
	if len(perLane) == 0 {
		t.Fatal("no batch ran")
	}
}
