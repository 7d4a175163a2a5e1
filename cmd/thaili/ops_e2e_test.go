package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sample is one line of a Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseExposition parses the text format strictly enough for the tests:
// HELP and TYPE comments by metric name, and every sample.
func parseExposition(t *testing.T, body string) (help, types map[string]string, samples []sample) {
	t.Helper()
	help, types = map[string]string{}, map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, text, _ := strings.Cut(rest, " ")
			help[name] = text
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			types[name] = typ
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad exposition line %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			s.labels[l[1]] = l[2]
		}
		samples = append(samples, s)
	}
	return help, types, samples
}

func find(samples []sample, name string, labels map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}

func TestMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.pay(t, testPK, testSK, "9800000001", 1000)
	mustStatus(t, s.do(t, "GET", "/no/such/path/123", "", ""), 404)

	r := s.do(t, "GET", "/readyz", "", "")
	mustStatus(t, r, 200)
	if r.Raw != "{\"status\":\"ready\"}\n" {
		t.Fatalf("readyz: %s", r.Raw)
	}
	mustStatus(t, s.do(t, "GET", "/healthz", "", ""), 200)

	r = s.do(t, "GET", "/metrics", "", "")
	mustStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	help, types, samples := parseExposition(t, r.Raw)
	for name, typ := range map[string]string{"thaili_http_requests_total": "counter", "thaili_http_request_duration_seconds": "histogram",
		"thaili_payments": "gauge", "thaili_ledger_transactions": "gauge", "thaili_store_commit_batches_total": "counter",
		"thaili_store_commit_requests_total": "counter", "thaili_store_commit_busy_seconds_total": "counter",
		"thaili_store_commit_lanes": "gauge"} {
		if types[name] != typ || help[name] == "" {
			t.Errorf("%s: TYPE %q HELP %q", name, types[name], help[name])
		}
	}
	initiate := map[string]string{"route": "/api/v2/payment/initiate/{$}", "code": "200"}
	if n, _ := find(samples, "thaili_http_requests_total", initiate); n < 1 {
		t.Errorf("initiate 200 counter %v\n%s", n, r.Raw)
	}
	// Unknown paths count under the catch-all pattern, never their own path.
	if n, _ := find(samples, "thaili_http_requests_total", map[string]string{"route": "/", "code": "404"}); n < 1 {
		t.Errorf("catch-all 404 counter %v", n)
	}
	if strings.Contains(r.Raw, "/no/such/path") {
		t.Error("a raw path became a label value")
	}
	if n, _ := find(samples, "thaili_payments", map[string]string{"book": "test", "state": "Completed"}); n < 1 {
		t.Errorf("Completed payments gauge %v", n)
	}
	if n, _ := find(samples, "thaili_ledger_transactions", map[string]string{"book": "test"}); n < 1 {
		t.Errorf("ledger transactions gauge %v", n)
	}
	// The payment's initiate, confirm and verify each went through the
	// store's group commit.
	batches, _ := find(samples, "thaili_store_commit_batches_total", nil)
	requests, _ := find(samples, "thaili_store_commit_requests_total", nil)
	busy, _ := find(samples, "thaili_store_commit_busy_seconds_total", nil)
	if batches < 1 || requests < 3 || requests < batches || busy <= 0 {
		t.Errorf("group commit: %v batches, %v requests, %v s busy; want at least 1, 3 (and the batches), and some", batches, requests, busy)
	}
	if lanes, _ := find(samples, "thaili_store_commit_lanes", nil); lanes < 1 {
		t.Errorf("group commit lanes %v, want at least 1", lanes)
	}

	// Every histogram series: cumulative buckets ending in +Inf = _count.
	type key struct{ route, code string }
	buckets := map[key][]sample{}
	for _, smp := range samples {
		if smp.name == "thaili_http_request_duration_seconds_bucket" {
			k := key{smp.labels["route"], smp.labels["code"]}
			buckets[k] = append(buckets[k], smp)
		}
	}
	if len(buckets[key{initiate["route"], "200"}]) == 0 {
		t.Fatal("no latency histogram for initiate")
	}
	for k, bs := range buckets {
		prev := -1.0
		for i, b := range bs {
			if b.value < prev {
				t.Errorf("%v: bucket le=%s not cumulative", k, b.labels["le"])
			}
			prev = b.value
			if last := i == len(bs)-1; last != (b.labels["le"] == "+Inf") {
				t.Errorf("%v: le=%s at %d of %d", k, b.labels["le"], i, len(bs))
			}
		}
		count, ok := find(samples, "thaili_http_request_duration_seconds_count", map[string]string{"route": k.route, "code": k.code})
		if !ok || count != prev {
			t.Errorf("%v: +Inf bucket %v, _count %v", k, prev, count)
		}
		if _, ok := find(samples, "thaili_http_request_duration_seconds_sum", map[string]string{"route": k.route, "code": k.code}); !ok {
			t.Errorf("%v: no _sum", k)
		}
	}
}
