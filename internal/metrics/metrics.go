// Package metrics is a small, dependency-free Prometheus instrumentation
// library: counters and histograms with labels, gauges computed when
// scraped, and the text exposition format (version 0.0.4). Everything is
// safe for concurrent use.
package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContentType is the Content-Type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry holds metrics and writes them in registration order.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(ctx context.Context, w *bufio.Writer) error
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

func (r *Registry) add(m metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, m)
}

// WriteText writes every metric in the text exposition format. A gauge
// function's error stops the write and is returned.
func (r *Registry) WriteText(ctx context.Context, w io.Writer) error {
	r.mu.Lock()
	ms := slices.Clone(r.metrics)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, m := range ms {
		if err := m.write(ctx, bw); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func header(w *bufio.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// labelText renders {a="x",b="y"}; extra is appended as one more pair.
func labelText(names, values []string, extra ...string) string {
	if len(names) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + escapeValue(values[i]) + `"`)
	}
	if len(extra) == 2 {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extra[0] + `="` + escapeValue(extra[1]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// key joins label values into a map key.
func key(values []string) string { return strings.Join(values, "\xff") }

// series is a set of children keyed by label values, sorted when written.
type series[T any] struct {
	mu       sync.RWMutex
	labels   []string
	children map[string]*child[T]
	newT     func() *T
}

type child[T any] struct {
	values []string
	v      *T
}

func (s *series[T]) get(values []string) *T {
	if len(values) != len(s.labels) {
		panic(fmt.Sprintf("metrics: %d label values for %d labels", len(values), len(s.labels)))
	}
	k := key(values)
	s.mu.RLock()
	c, ok := s.children[k]
	s.mu.RUnlock()
	if ok {
		return c.v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok = s.children[k]; !ok {
		c = &child[T]{values: slices.Clone(values), v: s.newT()}
		s.children[k] = c
	}
	return c.v
}

// sorted returns the children ordered by label values.
func (s *series[T]) sorted() []*child[T] {
	s.mu.RLock()
	out := make([]*child[T], 0, len(s.children))
	for _, c := range s.children {
		out = append(out, c)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *child[T]) int { return slices.Compare(a.values, b.values) })
	return out
}

// CounterVec is a monotonically increasing count per label set.
type CounterVec struct {
	name, help string
	s          series[atomic.Uint64]
}

// NewCounterVec registers a counter with the given label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, s: series[atomic.Uint64]{labels: labels,
		children: map[string]*child[atomic.Uint64]{}, newT: func() *atomic.Uint64 { return new(atomic.Uint64) }}}
	r.add(c)
	return c
}

// Inc adds one to the counter of the label values.
func (c *CounterVec) Inc(values ...string) { c.s.get(values).Add(1) }

// Value returns the counter of the label values.
func (c *CounterVec) Value(values ...string) uint64 { return c.s.get(values).Load() }

func (c *CounterVec) write(_ context.Context, w *bufio.Writer) error {
	header(w, c.name, c.help, "counter")
	for _, ch := range c.s.sorted() {
		fmt.Fprintf(w, "%s%s %d\n", c.name, labelText(c.s.labels, ch.values), ch.v.Load())
	}
	return nil
}

// CounterFunc is a counter without labels kept by someone else (a
// store's group commit, say) and read at every scrape; fn must never
// decrease.
type CounterFunc struct {
	name, help string
	fn         func() float64
}

// NewCounterFunc registers a counter read from fn at scrape time.
func (r *Registry) NewCounterFunc(name, help string, fn func() float64) *CounterFunc {
	c := &CounterFunc{name: name, help: help, fn: fn}
	r.add(c)
	return c
}

func (c *CounterFunc) write(_ context.Context, w *bufio.Writer) error {
	header(w, c.name, c.help, "counter")
	fmt.Fprintf(w, "%s %s\n", c.name, formatFloat(c.fn()))
	return nil
}

// DefaultBuckets are latency bucket bounds in seconds.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// HistogramVec counts observations into buckets per label set.
type HistogramVec struct {
	name, help string
	bounds     []float64
	s          series[histogram]
}

type histogram struct {
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

// NewHistogramVec registers a histogram with the given upper bounds
// (ascending, +Inf implied) and label names.
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	bounds = slices.Clone(bounds)
	slices.Sort(bounds)
	h := &HistogramVec{name: name, help: help, bounds: bounds}
	h.s = series[histogram]{labels: labels, children: map[string]*child[histogram]{},
		newT: func() *histogram { return &histogram{counts: make([]uint64, len(bounds)+1)} }}
	r.add(h)
	return h
}

// Observe records v for the label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	i, _ := slices.BinarySearch(h.bounds, v) // first bound >= v: buckets are "le"
	c := h.s.get(values)
	c.mu.Lock()
	c.counts[i]++
	c.sum += v
	c.count++
	c.mu.Unlock()
}

func (h *HistogramVec) write(_ context.Context, w *bufio.Writer) error {
	header(w, h.name, h.help, "histogram")
	for _, ch := range h.s.sorted() {
		c := ch.v
		c.mu.Lock()
		counts, sum, count := slices.Clone(c.counts), c.sum, c.count
		c.mu.Unlock()
		var cum uint64
		for i, n := range counts {
			cum += n
			le := math.Inf(1)
			if i < len(h.bounds) {
				le = h.bounds[i]
			}
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, labelText(h.s.labels, ch.values, "le", formatFloat(le)), cum)
		}
		fmt.Fprintf(w, "%s_sum%s %s\n", h.name, labelText(h.s.labels, ch.values), formatFloat(sum))
		fmt.Fprintf(w, "%s_count%s %d\n", h.name, labelText(h.s.labels, ch.values), count)
	}
	return nil
}

// Sample is one value of a gauge function, with its label values.
type Sample struct {
	Labels []string
	Value  float64
}

// GaugeFunc is a gauge whose samples are computed at every scrape.
type GaugeFunc struct {
	name, help string
	labels     []string
	fn         func(ctx context.Context) ([]Sample, error)
}

// NewGaugeFunc registers a gauge computed by fn at scrape time.
func (r *Registry) NewGaugeFunc(name, help string, labels []string, fn func(ctx context.Context) ([]Sample, error)) *GaugeFunc {
	g := &GaugeFunc{name: name, help: help, labels: labels, fn: fn}
	r.add(g)
	return g
}

func (g *GaugeFunc) write(ctx context.Context, w *bufio.Writer) error {
	samples, err := g.fn(ctx)
	if err != nil {
		return fmt.Errorf("metrics: %s: %w", g.name, err)
	}
	header(w, g.name, g.help, "gauge")
	for _, s := range samples {
		if len(s.Labels) != len(g.labels) {
			return fmt.Errorf("metrics: %s: %d label values for %d labels", g.name, len(s.Labels), len(g.labels))
		}
		fmt.Fprintf(w, "%s%s %s\n", g.name, labelText(g.labels, s.Labels), formatFloat(s.Value))
	}
	return nil
}
