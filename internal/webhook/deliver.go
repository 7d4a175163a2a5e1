package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/store"
)

// Deliver claims due deliveries, a batch at a time, posts them and
// records the answers; it returns how many it attempted. Several nodes
// may run it at once: a claimed delivery is leased to one of them.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	done := 0
	for {
		now := s.now()
		var batch []store.WebhookDelivery
		err := s.store.InTx(ctx, func(tx store.Tx) error {
			var err error
			batch, err = tx.ClaimWebhookDeliveries(ctx, now, s.leaseUntil(now), batchSize)
			return err
		})
		if err != nil {
			return done, err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(batch))
		for i, d := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.deliver(ctx, d)
			}()
		}
		wg.Wait()
		done += len(batch)
		if err := errors.Join(errs...); err != nil {
			return done, err
		}
		if len(batch) < batchSize || ctx.Err() != nil {
			return done, ctx.Err()
		}
	}
}

// leaseUntil is when a delivery claimed at now may be claimed again:
// long after its attempt must have ended.
func (s *Service) leaseUntil(now time.Time) time.Time {
	return now.Add(s.cfg.Timeout + 50*time.Second)
}

// deliver makes one attempt at a claimed delivery and returns it as
// recorded.
func (s *Service) deliver(ctx context.Context, d store.WebhookDelivery) (store.WebhookDelivery, error) {
	held := d.LockedUntil
	var ev store.WebhookEvent
	var ep store.WebhookEndpoint
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if ev, err = tx.WebhookEvent(ctx, d.EventID); err != nil {
			return err
		}
		ep, err = tx.WebhookEndpointByID(ctx, d.EndpointID)
		return err
	})
	if err != nil {
		return d, err
	}
	var a answer
	if !ep.DisabledAt.IsZero() {
		a.failure = failDeleted
	} else if secret, err := s.ring.Open(ep.Secret, nil); err != nil {
		a.failure, a.cause = failSecret, err
	} else {
		a = s.post(ctx, ep.URL, string(secret), ev)
	}
	code, failure, cause := a.code, a.failure, a.cause
	now := s.now()
	d.Attempt++
	d.UpdatedAt, d.LastStatusCode, d.LastError = now, code, failure
	d.ResponseBody, d.ResponseTruncated = a.body, a.truncated
	if failure != "" {
		// The merchant sees only the category; the operator gets the
		// cause. The URL is reduced to its host, since paths and queries
		// often carry the receiver's own credentials.
		attrs := []any{"delivery", d.Idx, "event", ev.Idx, "endpoint", ep.Idx, "attempt", d.Attempt, "category", failure, "status", code}
		if u, err := url.Parse(ep.URL); err == nil {
			attrs = append(attrs, "host", u.Host)
		}
		if cause != nil {
			attrs = append(attrs, "cause", cause.Error())
		}
		s.log.WarnContext(ctx, "webhook delivery failed", attrs...)
	}
	switch {
	case failure == "":
		d.Status = store.DeliverySucceeded
	case !ep.DisabledAt.IsZero(), ev.Type == EventTest:
		// A test event is tried once (and again on each replay): the
		// merchant who sent it is looking at the answer.
		d.Status = store.DeliveryFailed
	default:
		d.NextAttemptAt = now.Add(s.backoff(d.Attempt))
		d.Status = store.DeliveryPending
		if d.NextAttemptAt.After(ev.CreatedAt.Add(s.cfg.RetryFor)) {
			d.Status = store.DeliveryFailed
		}
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d, held) })
	if errors.Is(err, store.ErrNotFound) {
		return d, nil // the lease lapsed and another worker took the delivery over
	}
	return d, err
}

// backoff is how long a delivery waits after its attempt'th failure:
// Backoff doubled per attempt, at most MaxBackoff.
func (s *Service) backoff(attempt int) time.Duration {
	if attempt >= 40 { // the shift would overflow
		return s.cfg.MaxBackoff
	}
	return min(s.cfg.Backoff<<attempt, s.cfg.MaxBackoff)
}

// answer is what one attempt got: the HTTP status (0 without an
// answer), unless it was 2xx the failure's category (see
// failureCategory) and its cause, and the head of the answer's body
// (responseHead).
type answer struct {
	code      int
	failure   string
	cause     error
	body      string
	truncated bool
}

// post sends ev to target, signed with secret.
func (s *Service) post(ctx context.Context, target, secret string, ev store.WebhookEvent) answer {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var handshakeFailed atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
		if err != nil {
			handshakeFailed.Store(true)
		}
	}})
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(ev.Payload))
	if err != nil {
		return answer{failure: failConnection, cause: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Thaili-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(secret, s.now(), ev.Payload))
	req.Header.Set("Thaili-Event-Id", ev.Idx)
	req.Header.Set("Thaili-Event-Type", ev.Type)
	resp, err := s.http.Do(req)
	if err != nil {
		// The client's *url.Error repeats the whole URL; keep only what
		// went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return answer{failure: failureCategory(err, handshakeFailed.Load()), cause: err}
	}
	a := answer{code: resp.StatusCode}
	a.body, a.truncated = responseHead(resp.Body, secret)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		a.failure = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return a
}

// responseHead reads the head of an answer's body for the delivery log:
// at most ResponseBodyMax bytes, cut between characters, as valid UTF-8
// without NUL bytes (which PostgreSQL's text refuses), and with the
// endpoint's secret blanked should the receiver echo it. truncated says
// the body was longer. It reads on (up to 64 KB) so the connection can be
// reused; a body that stops early (a timeout) keeps what came.
func responseHead(body io.Reader, secret string) (head string, truncated bool) {
	buf, _ := io.ReadAll(io.LimitReader(body, ResponseBodyMax+int64(len(secret))))
	rest, _ := io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	head = string(buf)
	if secret != "" {
		head = strings.ReplaceAll(head, secret, "[secret]")
	}
	head = strings.ReplaceAll(strings.ToValidUTF8(head, "\uFFFD"), "\x00", "\uFFFD")
	truncated = rest > 0
	if len(head) > ResponseBodyMax {
		head, truncated = head[:ResponseBodyMax], true
		for !utf8.ValidString(head) { // a character was cut: drop its start
			head = head[:len(head)-1]
		}
	}
	return head, truncated
}

// Run delivers due webhooks every interval until ctx is done,
// logging failures.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "delivering webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
