package httpserver

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/metrics"
)

// opsMetrics are the Prometheus metrics served at /metrics.
type opsMetrics struct {
	reg      *metrics.Registry
	requests *metrics.CounterVec
	latency  *metrics.HistogramVec
}

// newOpsMetrics registers the request metrics and the gauges read from
// the store at scrape time.
func (s *Server) newOpsMetrics() *opsMetrics {
	reg := metrics.NewRegistry()
	m := &opsMetrics{reg: reg,
		requests: reg.NewCounterVec("thaili_http_requests_total",
			"HTTP requests served, by route pattern and status code.", "route", "code"),
		latency: reg.NewHistogramVec("thaili_http_request_duration_seconds",
			"Time to serve HTTP requests, by route pattern and status code.", metrics.DefaultBuckets, "route", "code"),
	}
	if s.commits != nil {
		reg.NewCounterFunc("thaili_store_commit_batches_total",
			"Batches of write transactions the store's committer ran, each in one database transaction (docs/storage.md, \"Group commit\").",
			func() float64 { return float64(s.commits().Batches) })
		reg.NewCounterFunc("thaili_store_commit_requests_total",
			"Write transactions the store's committer ran, in all its batches.",
			func() float64 { return float64(s.commits().Requests) })
		reg.NewCounterFunc("thaili_store_commit_busy_seconds_total",
			"Time the store's committer lanes spent running batches, added up: every write of this node waits behind them, so its rate near thaili_store_commit_lanes means the committer is the limit.",
			func() float64 { return s.commits().Busy.Seconds() })
		reg.NewGaugeFunc("thaili_store_commit_lanes",
			"Batches the store's committer can run at once (1 on SQLite).", nil,
			func(context.Context) ([]metrics.Sample, error) {
				return []metrics.Sample{{Value: float64(s.commits().Lanes)}}, nil
			})
	}
	if s.svc != nil {
		reg.NewGaugeFunc("thaili_payments", "Payments (wallet and ePayment) by book and state.", []string{"book", "state"},
			func(ctx context.Context) ([]metrics.Sample, error) {
				st, err := s.svc.Stats(ctx)
				if err != nil {
					return nil, err
				}
				var out []metrics.Sample
				for _, c := range st.Payments {
					out = append(out, metrics.Sample{Labels: []string{string(c.Book), string(c.State)}, Value: float64(c.Count)})
				}
				return out, nil
			})
		reg.NewGaugeFunc("thaili_ledger_transactions", "Ledger transactions (balanced entries) by book.", []string{"book"},
			func(ctx context.Context) ([]metrics.Sample, error) {
				st, err := s.svc.Stats(ctx)
				if err != nil {
					return nil, err
				}
				var out []metrics.Sample
				for _, c := range st.LedgerTransactions {
					out = append(out, metrics.Sample{Labels: []string{string(c.Book)}, Value: float64(c.Count)})
				}
				return out, nil
			})
	}
	return m
}

// instrument counts and times requests by the ServeMux pattern that
// served them (r.Pattern, set by the mux on the request it is given, so
// this must wrap the mux directly) and status code. Label values are thus
// bounded by the route table, whatever paths clients send; requests no
// pattern matched (the mux's own 405s) are "unmatched".
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			p := recover()
			if p != nil && status == 0 {
				status = http.StatusInternalServerError // logRequests answers the panic
			}
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			code := strconv.Itoa(status)
			s.metrics.requests.Inc(route, code)
			s.metrics.latency.Observe(time.Since(start).Seconds(), route, code)
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// handleMetrics serves the metrics in Prometheus's text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	var b bytes.Buffer
	if err := s.metrics.reg.WriteText(r.Context(), &b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

// handleHealth answers liveness probes.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	api.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	return nil
}

// handleReady is the readiness probe: 200 when the database answers and
// its schema is exactly this build's, else 503 with the reason. /healthz
// stays the liveness probe.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			api.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "detail": err.Error()})
			return nil
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready"})
	return nil
}
