package main

// The server's group commit over a bench run (docs/storage.md, "Group
// commit"): bench reads the store's commit counters from the server's
// /metrics just before the payers start and just after they stop, and
// prints how busy the committer was and how many writes shared a commit.
// Every write of a node waits behind its committer's lanes (one on
// SQLite), so lanes busy all the run are what limits the rate.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// benchCommitNames are the metrics read, in benchCommit's order; the
// last, the lanes, is optional (1 when absent: a server from before
// lanes).
var benchCommitNames = [...]string{"thaili_store_commit_batches_total", "thaili_store_commit_requests_total",
	"thaili_store_commit_busy_seconds_total", "thaili_store_commit_lanes"}

// benchCommit is one reading of the counters; ok is false when the
// server did not serve them (an older server, a store without group
// commit, /metrics not reachable).
type benchCommit struct {
	batches, requests, busy, lanes float64
	ok                             bool
}

// readBenchCommit scrapes base's /metrics for the commit counters.
func readBenchCommit(ctx context.Context, client *http.Client, base string) benchCommit {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return benchCommit{}
	}
	res, err := client.Do(req)
	if err != nil {
		return benchCommit{}
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return benchCommit{}
	}
	return parseBenchCommit(io.LimitReader(res.Body, 16<<20))
}

// parseBenchCommit reads the counters from a text exposition.
func parseBenchCommit(r io.Reader) benchCommit {
	var values [len(benchCommitNames)]float64
	var seen [len(benchCommitNames)]bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for i, want := range benchCommitNames {
			if name == want {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return benchCommit{}
				}
				values[i], seen[i] = v, true
			}
		}
	}
	if sc.Err() != nil || !seen[0] || !seen[1] || !seen[2] {
		return benchCommit{}
	}
	lanes := 1.0
	if seen[3] && values[3] >= 1 {
		lanes = values[3]
	}
	return benchCommit{batches: values[0], requests: values[1], busy: values[2], lanes: lanes, ok: true}
}

// writeBenchCommit prints the committer's share of the run's elapsed
// time (on average over its lanes), its requests per batch and the lane
// time per request, or nothing without both readings.
func writeBenchCommit(out io.Writer, before, after benchCommit, elapsed time.Duration) {
	if !before.ok || !after.ok || elapsed <= 0 {
		return
	}
	batches, requests := after.batches-before.batches, after.requests-before.requests
	if batches <= 0 {
		fmt.Fprintln(out, "committer: no batches")
		return
	}
	busy, lanes := after.busy-before.busy, after.lanes
	fmt.Fprintf(out, "committer: busy %.1f %% of the run, %.2f requests per batch, %.3f ms per request, %s\n",
		100*busy/lanes/elapsed.Seconds(), requests/batches, 1000*busy/requests, lanesText(lanes))
}

// lanesText is "1 lane" or "N lanes".
func lanesText(n float64) string {
	if n == 1 {
		return "1 lane"
	}
	return fmt.Sprintf("%.0f lanes", n)
}

// storeBenchCommit reads the counters from a store bench opened itself
// (--in-process), where there is no /metrics to scrape.
func storeBenchCommit(st store.Store) benchCommit {
	cc, ok := st.(store.CommitCounter)
	if !ok {
		return benchCommit{}
	}
	s := cc.CommitStats()
	return benchCommit{batches: float64(s.Batches), requests: float64(s.Requests), busy: s.Busy.Seconds(),
		lanes: float64(max(s.Lanes, 1)), ok: true}
}
