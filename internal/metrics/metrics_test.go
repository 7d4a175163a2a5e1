package metrics

import (
	"context"
	"strings"
	"sync"
	"testing"
)

func TestExposition(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("x_total", "Things.\nCounted.", "route", "code")
	h := r.NewHistogramVec("x_seconds", "Latency.", []float64{0.1, 1}, "route")
	r.NewGaugeFunc("x_items", "Items.", []string{"state"}, func(context.Context) ([]Sample, error) {
		return []Sample{{Labels: []string{`a"b`}, Value: 3}}, nil
	})
	r.NewCounterFunc("x_busy_seconds_total", "Busy.", func() float64 { return 1.25 })
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Inc("/a", "200")
			h.Observe(0.05, "/a")
			h.Observe(0.1, "/a")
			h.Observe(5, "/a")
		}()
	}
	wg.Wait()
	c.Inc("/b", "404")
	var b strings.Builder
	if err := r.WriteText(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_total Things.\nCounted.
# TYPE x_total counter
x_total{route="/a",code="200"} 50
x_total{route="/b",code="404"} 1
# HELP x_seconds Latency.
# TYPE x_seconds histogram
x_seconds_bucket{route="/a",le="0.1"} 100
x_seconds_bucket{route="/a",le="1"} 100
x_seconds_bucket{route="/a",le="+Inf"} 150
x_seconds_sum{route="/a"} 257.5
x_seconds_count{route="/a"} 150
# HELP x_items Items.
# TYPE x_items gauge
x_items{state="a\"b"} 3
# HELP x_busy_seconds_total Busy.
# TYPE x_busy_seconds_total counter
x_busy_seconds_total 1.25
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
