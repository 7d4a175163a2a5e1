package main

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchConnServer is a test server that counts the connections it
// accepts and answers /echo with the request's method, path and body.
type benchConnServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newBenchConnServer(t *testing.T, tls bool, handler http.HandlerFunc) *benchConnServer {
	t.Helper()
	s := &benchConnServer{}
	s.Server = httptest.NewUnstartedServer(handler)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body))
}

func benchPost(t *testing.T, ctx context.Context, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Key k")
	return req
}

// TestBenchConnKeepsAlive: one payer's requests share one connection,
// over http and https, and each answer is the one to its request.
func TestBenchConnKeepsAlive(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := newBenchConnServer(t, useTLS, echo)
		r := &benchRun{ctx: context.Background()}
		if useTLS {
			r.roots = x509.NewCertPool()
			r.roots.AddCert(s.Certificate())
		}
		var w benchWorker
		for i, body := range []string{"a", "bb", strings.Repeat("c", 100_000)} {
			status, answer, err := r.roundTrip(&w, benchPost(t, r.ctx, s.URL+"/echo", body))
			if err != nil || status != 200 || string(answer) != "POST /echo Key k "+body {
				t.Fatalf("tls %v, request %d: %d %.40q %v", useTLS, i, status, answer, err)
			}
		}
		if n := s.conns.Load(); n != 1 {
			t.Errorf("tls %v: %d connections for 3 requests, want 1", useTLS, n)
		}
		w.conn.close()
	}
}

// TestBenchConnRedials: a connection the server closes, after an answer
// or instead of one, is replaced on the next request.
func TestBenchConnRedials(t *testing.T) {
	var n atomic.Int64
	s := newBenchConnServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 2: // answers, then closes
			w.Header().Set("Connection", "close")
		case 3: // closes without answering
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		echo(w, r)
	})
	r := &benchRun{ctx: context.Background()}
	var w benchWorker
	want := []bool{true, true, false, true}
	for i, ok := range want {
		status, answer, err := r.roundTrip(&w, benchPost(t, r.ctx, s.URL+"/echo", "x"))
		if got := err == nil && status == 200 && string(answer) == "POST /echo Key k x"; got != ok {
			t.Fatalf("request %d: %d %q %v, want success %v", i, status, answer, err, ok)
		}
	}
	if got := s.conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3 (a first, a second after Connection: close, a third after the hang-up)", got)
	}
	w.conn.close()
}

// TestBenchConnLongAnswer: an answer longer than bench reads is an error
// and ends the connection, whose rest would otherwise be read as the next
// answer.
func TestBenchConnLongAnswer(t *testing.T) {
	s := newBenchConnServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/long" {
			io.WriteString(w, strings.Repeat("x", benchMaxAnswer+10))
			return
		}
		echo(w, r)
	})
	r := &benchRun{ctx: context.Background()}
	var w benchWorker
	if _, _, err := r.roundTrip(&w, benchPost(t, r.ctx, s.URL+"/long", "")); err == nil || w.conn != nil {
		t.Fatalf("long answer: error %v, connection kept %v; want an error and no connection", err, w.conn != nil)
	}
	status, answer, err := r.roundTrip(&w, benchPost(t, r.ctx, s.URL+"/echo", "y"))
	if err != nil || status != 200 || string(answer) != "POST /echo Key k y" {
		t.Fatalf("after the long answer: %d %.40q %v", status, answer, err)
	}
	w.conn.close()
}

// TestBenchConnCancel: cancelling the run aborts a request the server
// never answers, and no request starts after it.
func TestBenchConnCancel(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	s := newBenchConnServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	r := &benchRun{ctx: ctx}
	var w benchWorker
	go func() {
		<-arrived
		cancel()
	}()
	if _, _, err := r.roundTrip(&w, benchPost(t, ctx, s.URL+"/hang", "")); err == nil {
		t.Fatal("a request the server never answered returned no error after the cancel")
	}
	if _, _, err := r.roundTrip(&w, benchPost(t, ctx, s.URL+"/echo", "")); !errors.Is(err, context.Canceled) {
		t.Fatalf("a request after the cancel: %v, want context.Canceled", err)
	}
}

// TestBenchCommitLine: the committer line from two scrapes of /metrics,
// and none when the server serves no commit counters.
func TestBenchCommitLine(t *testing.T) {
	scrape := func(batches, requests int, busy string) benchCommit {
		return parseBenchCommit(strings.NewReader("# HELP thaili_store_commit_batches_total Batches.\n" +
			"# TYPE thaili_store_commit_batches_total counter\n" +
			"thaili_store_commit_batches_total " + strconv.Itoa(batches) + "\n" +
			"thaili_http_requests_total{route=\"/\",code=\"200\"} 7\n" +
			"thaili_store_commit_requests_total " + strconv.Itoa(requests) + "\n" +
			"thaili_store_commit_busy_seconds_total " + busy + "\n"))
	}
	var out strings.Builder
	writeBenchCommit(&out, scrape(10, 20, "1.5"), scrape(1010, 3020, "10.5"), 10*time.Second)
	if want := "committer: busy 90.0 % of the run, 3.00 requests per batch, 3.000 ms per request, 1 lane\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	// Two lanes busy 18 s of a 10 s run between them: 90 % each.
	out.Reset()
	lanes := "# TYPE thaili_store_commit_lanes gauge\nthaili_store_commit_lanes 2\n"
	before := parseBenchCommit(strings.NewReader(lanes + "thaili_store_commit_batches_total 0\nthaili_store_commit_requests_total 0\n" +
		"thaili_store_commit_busy_seconds_total 0\n"))
	after := parseBenchCommit(strings.NewReader("thaili_store_commit_batches_total 1000\nthaili_store_commit_requests_total 2000\n" +
		"thaili_store_commit_busy_seconds_total 18\n" + lanes))
	writeBenchCommit(&out, before, after, 10*time.Second)
	if want := "committer: busy 90.0 % of the run, 2.00 requests per batch, 9.000 ms per request, 2 lanes\n"; out.String() != want {
		t.Errorf("two lanes: got %q, want %q", out.String(), want)
	}
	out.Reset()
	none := parseBenchCommit(strings.NewReader("thaili_http_requests_total{route=\"/\",code=\"200\"} 7\n"))
	writeBenchCommit(&out, none, scrape(1, 1, "1"), 10*time.Second)
	if out.String() != "" || none.ok {
		t.Errorf("without counters: %q (ok %v), want nothing", out.String(), none.ok)
	}
}
