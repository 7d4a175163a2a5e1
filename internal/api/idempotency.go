package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/store"
)

// keySource says where an endpoint's credential is, which decides whose
// namespace its Idempotency-Keys are in.
type keySource int

const (
	secretKeyHeader keySource = iota // Authorization: Key <secret key>
	publicKeyInBody                  // public_key in the body (legacy initiate, confirm)
)

// idempotent makes a POST that creates or moves something honour an
// Idempotency-Key header. Without the header h runs as always. With it,
// the first request runs and its response (unless a 5xx) is kept;
// the same request again replays that response byte for byte with
// Idempotent-Replayed: true; the key with another request is 422, and
// while the first still runs, 409. Requests whose credential is invalid
// run h unrecorded, so they get h's own answer.
func (s *Server) idempotent(src keySource, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		values, present := r.Header["Idempotency-Key"]
		if !present {
			return h(w, r)
		}
		if msg := checkIdempotencyKey(values); msg != "" {
			return fault.FieldErrors(map[string][]string{"Idempotency-Key": {msg}})
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			// Let the handler give its own answer to an unreadable or
			// oversized body.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			return h(w, r)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		caller, err := s.idempotencyCaller(r, src, body)
		if err != nil {
			return h(w, r)
		}
		req := &idempotency.Request{Scope: idempotency.ScopeOf(caller.Kind, caller.Scope()), Key: values[0],
			Hash: s.idem.Hash(r.Method, r.URL.Path, body)}
		// The key's bookkeeping outlives a client that hangs up: the work
		// is done. Each step gets its own bound, so a request that runs
		// long can still store its response.
		bookkeeping := func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		}
		ctx, cancel := bookkeeping()
		replay, err := s.idem.Begin(ctx, req)
		cancel()
		switch {
		case errors.Is(err, idempotency.ErrMismatch):
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
				"detail": "Idempotency-Key was used with a different request.", "error_key": "idempotency_error"})
			return nil
		case errors.Is(err, idempotency.ErrBusy):
			writeJSON(w, http.StatusConflict, map[string]any{
				"detail": "A request with this Idempotency-Key is still in progress.", "error_key": "idempotency_error"})
			return nil
		case errors.Is(err, idempotency.ErrLost):
			writeJSON(w, http.StatusConflict, map[string]any{
				"detail":    "The request with this Idempotency-Key was carried out, but its response was lost. Look the payment up instead of retrying.",
				"error_key": "idempotency_error"})
			return nil
		case err != nil:
			return err
		case replay != nil:
			var hdr http.Header
			if json.Unmarshal([]byte(replay.ResponseHeaders), &hdr) == nil {
				for k, v := range hdr {
					w.Header()[k] = v
				}
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(replay.ResponseStatus)
			w.Write(replay.ResponseBody)
			return nil
		}

		// The key is held while h runs and until its response is stored.
		defer s.holdIdempotencyKey(r, req)()
		rec := &captureWriter{header: http.Header{}}
		finished := false
		defer func() {
			if !finished { // h panicked: release the key for a retry
				ctx, cancel := bookkeeping()
				defer cancel()
				if err := s.idem.Finish(ctx, req, http.StatusInternalServerError, "", nil); err != nil {
					s.log.ErrorContext(ctx, "releasing idempotency key", "request_id", requestID(r), "err", err)
				}
			}
		}()
		if err := h(rec, r.WithContext(idempotency.WithRequest(r.Context(), req))); err != nil {
			s.writeError(rec, r, err)
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		finished = true
		hdr, _ := json.Marshal(rec.header)
		ctx, cancel = bookkeeping()
		defer cancel()
		if err := s.idem.Finish(ctx, req, rec.status, string(hdr), rec.body.Bytes()); err != nil {
			// If this was a release (a 5xx), the key is free anyway once
			// its lease runs out, a few seconds after the renewals stop.
			s.log.ErrorContext(ctx, "storing idempotent response", "request_id", requestID(r), "err", err)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
		return nil
	}
}

// holdIdempotencyKey renews the lease of req's key every s.renewEvery until
// the returned stop is called, so no retry takes the key over while its
// request runs. A renewal that fails (the database is unreachable) is
// tried again at the next tick; if every one fails for a lease, a retry
// may take the key over, and the fence in payment then stops this request
// from committing anything.
func (s *Server) holdIdempotencyKey(r *http.Request, req *idempotency.Request) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.renewEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, idempotency.Lease)
			err := s.idem.Renew(rctx, req)
			rcancel()
			switch {
			case errors.Is(err, idempotency.ErrNotHeld):
				s.log.WarnContext(ctx, "idempotency key taken over while its request runs", "request_id", requestID(r))
				return
			case err != nil && ctx.Err() == nil:
				s.log.ErrorContext(ctx, "renewing idempotency key", "request_id", requestID(r), "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// idempotencyCaller authenticates the request's credential without
// consuming the body.
func (s *Server) idempotencyCaller(r *http.Request, src keySource, body []byte) (identity.Caller, error) {
	if src == secretKeyHeader {
		return s.secretCaller(r)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	f, err := readForm(r2)
	if err != nil {
		return identity.Caller{}, err
	}
	pk := f.str("public_key", true)
	if err := f.err(); err != nil {
		return identity.Caller{}, err
	}
	return s.id.Authenticate(r.Context(), pk, store.PublicKey)
}

// checkIdempotencyKey returns why the Idempotency-Key header values are
// unusable, or "".
func checkIdempotencyKey(values []string) string {
	if len(values) != 1 {
		return "Send exactly one Idempotency-Key header."
	}
	k := values[0]
	if k == "" {
		return "This field may not be blank."
	}
	if len(k) > 255 {
		return "Ensure this field has no more than 255 characters."
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "Only printable ASCII characters are allowed."
		}
	}
	return ""
}

// captureWriter holds a handler's response so it can be stored before
// it is sent.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
