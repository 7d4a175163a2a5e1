package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// gcPercent reads the garbage collector's current target.
func gcPercent(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("/gc/gogc:percent is not available")
	}
	return s[0].Value.Uint64()
}

// TestTuneGC: a node runs with serveGCPercent unless GOGC is set, in
// which case the operator's value, which the runtime applied at start,
// stays.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	tuneGC(func(string) string { return "" })
	if got := gcPercent(t); got != serveGCPercent {
		t.Errorf("without GOGC: target %d %%, want %d", got, serveGCPercent)
	}

	debug.SetGCPercent(150) // as GOGC=150 would have set it at start
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	})
	if got := gcPercent(t); got != 150 {
		t.Errorf("with GOGC=150: target %d %%, want 150", got)
	}
}
