package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/store"
)

// Webhook event types.
const (
	EventCompleted         = "payment.completed"
	EventRefunded          = "payment.refunded"
	EventPartiallyRefunded = "payment.partially_refunded"
	EventExpired           = "payment.expired"
	EventCanceled          = "payment.canceled"
	EventFailed            = "payment.failed"
)

// WebhookEvents lists every event type, in the order listings use.
var WebhookEvents = []string{EventCompleted, EventRefunded, EventPartiallyRefunded, EventExpired, EventCanceled, EventFailed}

// Webhook defaults (Config fields left zero take these).
const (
	DefaultWebhookBackoff    = 30 * time.Second
	DefaultWebhookMaxBackoff = 6 * time.Hour
	DefaultWebhookRetryFor   = 72 * time.Hour
	DefaultWebhookTimeout    = 10 * time.Second
	MaxWebhookEndpoints      = 16 // per merchant and book
	webhookBatch             = 16
	webhookLogSize           = 100
)

// Webhook messages.
const (
	MsgWebhookURL        = "Enter a valid http or https URL."
	MsgWebhookPrivateURL = "Private, loopback, link-local and metadata addresses are not allowed."
	MsgWebhookEvents     = "Choose one or more of: " + EventCompleted + ", " + EventRefunded + ", " + EventPartiallyRefunded + ", " + EventExpired + ", " + EventCanceled + ", " + EventFailed + "."
)

func (s *Service) webhookCfg() (backoff, maxBackoff, retryFor, timeout time.Duration) {
	backoff, maxBackoff, retryFor, timeout = s.cfg.WebhookBackoff, s.cfg.WebhookMaxBackoff, s.cfg.WebhookRetryFor, s.cfg.WebhookTimeout
	if backoff <= 0 {
		backoff = DefaultWebhookBackoff
	}
	if maxBackoff <= 0 {
		maxBackoff = DefaultWebhookMaxBackoff
	}
	if retryFor <= 0 {
		retryFor = DefaultWebhookRetryFor
	}
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	return
}

// The SSRF guard: a webhook may only reach a public host. blockedIP is
// the one test, used both when an endpoint is registered and by the
// dialer at every connection.

// blockedPrefixes are the ranges no webhook may reach: the
// special-purpose ranges of IANA's registries (RFC 6890 and its
// updates), less the few globally reachable anycast services, which host
// no webhooks anyway. IPv6 outside global unicast is refused whole (see
// blockedIP), so only the ranges inside 2000::/3 are listed.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", with the unspecified address
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, with the metadata address 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (NAT64 discovery, DS-Lite, ...)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, with the broadcast address
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo 2001::/32, whose IPv4 address is obfuscated, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
}

// globalUnicast is the only IPv6 space assigned to hosts. Outside it lie
// loopback, unspecified, IPv4-compatible ::/96 (deprecated), SIIT
// ::ffff:0:0:0/96, discard 100::/64, NAT64 local-use 64:ff9b:1::/48 (its
// IPv4 address sits where the local translator decides), unique-local
// fc00::/7 (with AWS's fd00:ec2::254), site-local fec0::/10, link-local
// fe80::/10, multicast and unassigned space: all refused.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// ipv4Carriers are the IPv6 prefixes whose addresses lead to the IPv4
// address they embed, at byte offset at: for these the IPv4 address is
// judged. NAT64 of a public address reaches that public host and is
// allowed.
var ipv4Carriers = []struct {
	prefix netip.Prefix
	at     int
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12}, // NAT64 well-known prefix (RFC 6052)
	{netip.MustParsePrefix("2002::/16"), 2},     // 6to4 (RFC 3056), IPv4 in bits 16..47
}

// blockedIP reports whether a webhook may not be sent to ip.
func blockedIP(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return true // a zone scopes an address to one link: never a public host
	}
	ip = ip.Unmap()
	for _, c := range ipv4Carriers {
		if c.prefix.Contains(ip) {
			b := ip.As16()
			ip = netip.AddrFrom4([4]byte(b[c.at : c.at+4]))
			break
		}
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return true
	}
	return slices.ContainsFunc(blockedPrefixes, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// blockedAddressError is the dialer's refusal to connect to a blocked
// address.
type blockedAddressError struct{ addr string }

func (e *blockedAddressError) Error() string {
	return "webhook: refusing to connect to " + e.addr + " (private targets are not allowed)"
}

// refuseBlocked is the dialer's Control: it runs after the name is
// resolved and before each connect, so a name that resolves to a blocked
// address later (DNS rebinding) is refused too.
func refuseBlocked(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &blockedAddressError{addr: address}
	}
	if ip, err := netip.ParseAddr(host); err != nil || blockedIP(ip) {
		return &blockedAddressError{addr: host}
	}
	return nil
}

// webhookClient is the default client: no proxy, no redirects, and a
// dialer that refuses blocked addresses at connect time unless private
// targets are allowed.
func webhookClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: DefaultWebhookTimeout}
	if !allowPrivate {
		d.Control = refuseBlocked
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConns: 64,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: DefaultWebhookTimeout, ResponseHeaderTimeout: DefaultWebhookTimeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// What the delivery log shows as a delivery's last error: one of these
// plain categories, or "HTTP nnn" for an answer that was not 2xx. Never
// the Go error, whose text can hold the resolver's address and the
// private address a name resolved to; that goes to the server log.
const (
	failRefused    = "connection refused"
	failBlocked    = "blocked address" // the SSRF guard refused the address
	failTimeout    = "timeout"
	failDNS        = "DNS lookup failed"
	failTLS        = "TLS handshake failed"
	failConnection = "connection failed" // anything else without an answer
	failDeleted    = "endpoint deleted"
	failSecret     = "endpoint secret unreadable" // the server secret changed
)

// failureCategory names what went wrong with a request that got no
// answer; inHandshake says the client saw its TLS handshake fail.
func failureCategory(err error, inHandshake bool) string {
	var blocked *blockedAddressError
	var dns *net.DNSError
	var timeout net.Error
	var certificate *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &blocked):
		return failBlocked
	case errors.As(err, &dns): // before timeouts: a lookup that timed out is a DNS failure
		return failDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return failRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return failTimeout
	case inHandshake, errors.As(err, &certificate), errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		return failTLS
	default:
		return failConnection
	}
}

// shownFailure is what the delivery log shows for a stored last_error.
// Rows written before last_error held categories (or by an older node
// during an upgrade) hold raw Go errors, which can name private
// addresses: anything that is not a category shows as "connection
// failed".
func shownFailure(stored string) string {
	switch stored {
	case "", failRefused, failBlocked, failTimeout, failDNS, failTLS, failConnection, failDeleted, failSecret:
		return stored
	}
	if code, ok := strings.CutPrefix(stored, "HTTP "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '9' &&
		strings.Trim(code, "0123456789") == "" {
		return stored
	}
	return failConnection
}

// checkWebhookURL refuses anything but an absolute http(s) URL and, unless
// private targets are allowed, a host that is or resolves to a blocked
// address. A name that does not resolve now is accepted: the dialer
// checks every connection anyway.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || len(raw) > 2048 {
		return "", fault.FieldError("url", MsgWebhookURL)
	}
	if s.cfg.WebhooksAllowPrivate {
		return u.String(), nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		if blockedIP(ip) {
			return "", fault.FieldError("url", MsgWebhookPrivateURL)
		}
		return u.String(), nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "metadata.google.internal" {
		return "", fault.FieldError("url", MsgWebhookPrivateURL)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err == nil {
		for _, a := range addrs {
			if blockedIP(a) {
				return "", fault.FieldError("url", MsgWebhookPrivateURL)
			}
		}
	}
	return u.String(), nil
}

// WebhookEndpoint is a registered endpoint as the API shows it.
type WebhookEndpoint struct {
	Idx       string
	URL       string
	Events    []string
	CreatedAt time.Time
}

func endpointView(e store.WebhookEndpoint) WebhookEndpoint {
	return WebhookEndpoint{Idx: e.Idx, URL: e.URL, Events: e.Events, CreatedAt: e.CreatedAt}
}

// CreateWebhookEndpoint registers url for the caller's book and the given
// event types, and returns the endpoint and its signing secret, which is
// shown this once and kept only sealed.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, caller Caller, rawURL string, events []string) (WebhookEndpoint, string, error) {
	fields := map[string][]string{}
	u, err := s.checkWebhookURL(ctx, rawURL)
	if err != nil {
		fields["url"] = fault.AsError(err).Fields["url"]
	}
	var chosen []string
	for _, want := range WebhookEvents {
		if slices.Contains(events, want) {
			chosen = append(chosen, want)
		}
	}
	if len(events) == 0 || slices.ContainsFunc(events, func(e string) bool { return !slices.Contains(WebhookEvents, e) }) {
		fields["events"] = []string{MsgWebhookEvents}
	}
	if len(fields) > 0 {
		return WebhookEndpoint{}, "", fault.FieldErrors(fields)
	}
	secret := "whsec_" + s.ids.Hex(24)
	sealed, err := s.ring.Seal([]byte(secret), nil)
	if err != nil {
		return WebhookEndpoint{}, "", fault.Internal(err)
	}
	e := store.WebhookEndpoint{Idx: s.ids.New(), MerchantID: caller.Merchant.ID, Book: caller.Book, URL: u,
		Secret: sealed, Events: chosen, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		have, err := tx.WebhookEndpoints(ctx, caller.Scope())
		if err != nil {
			return err
		}
		if len(have) >= MaxWebhookEndpoints {
			return fault.DetailError(fmt.Sprintf("A book may have at most %d webhook endpoints.", MaxWebhookEndpoints))
		}
		return tx.CreateWebhookEndpoint(ctx, &e)
	})
	if err != nil {
		return WebhookEndpoint{}, "", fault.Wrap(err)
	}
	return endpointView(e), secret, nil
}

// WebhookEndpoints lists the caller's active endpoints.
func (s *Service) WebhookEndpoints(ctx context.Context, caller Caller) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	err := s.store.View(ctx, func(tx store.Tx) error {
		list, err := tx.WebhookEndpoints(ctx, caller.Scope())
		for _, e := range list {
			out = append(out, endpointView(e))
		}
		return err
	})
	return out, fault.Wrap(err)
}

// activeEndpoint finds one of the caller's active endpoints by idx.
func activeEndpoint(ctx context.Context, tx store.Tx, caller Caller, idx string) (store.WebhookEndpoint, error) {
	if !ids.Valid(idx) {
		return store.WebhookEndpoint{}, fault.NotFound()
	}
	e, err := tx.WebhookEndpointByIdx(ctx, caller.Scope(), idx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !e.DisabledAt.IsZero()) {
		return store.WebhookEndpoint{}, fault.NotFound()
	}
	return e, err
}

// DeleteWebhookEndpoint disables an endpoint: nothing more is sent to it,
// and its pending deliveries fail. Its delivery log is kept.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, caller Caller, idx string) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		e, err := activeEndpoint(ctx, tx, caller, idx)
		if err != nil {
			return err
		}
		return tx.DisableWebhookEndpoint(ctx, e.ID, s.now())
	}))
}

// WebhookDelivery is one delivery as the delivery log shows it.
type WebhookDelivery struct {
	store.WebhookDelivery
	EventIdx  string
	EventType string
}

// WebhookDeliveryLog lists an endpoint's latest deliveries, newest first.
func (s *Service) WebhookDeliveryLog(ctx context.Context, caller Caller, idx string) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := s.store.View(ctx, func(tx store.Tx) error {
		e, err := activeEndpoint(ctx, tx, caller, idx)
		if err != nil {
			return err
		}
		list, err := tx.WebhookDeliveries(ctx, e.ID, webhookLogSize)
		if err != nil {
			return err
		}
		events := map[int64]store.WebhookEvent{}
		for _, d := range list {
			ev, ok := events[d.EventID]
			if !ok {
				if ev, err = tx.WebhookEvent(ctx, d.EventID); err != nil {
					return err
				}
				events[d.EventID] = ev
			}
			d.LastError = shownFailure(d.LastError)
			out = append(out, WebhookDelivery{WebhookDelivery: d, EventIdx: ev.Idx, EventType: ev.Type})
		}
		return nil
	})
	return out, fault.Wrap(err)
}

// ReplayWebhookDelivery sends a delivery of one of the caller's active
// endpoints again, now, whatever its status. The attempt count goes on.
func (s *Service) ReplayWebhookDelivery(ctx context.Context, caller Caller, idx string) (WebhookDelivery, error) {
	if !ids.Valid(idx) {
		return WebhookDelivery{}, fault.NotFound()
	}
	var out WebhookDelivery
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		d, err := tx.WebhookDeliveryByIdx(ctx, idx)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound()
		}
		if err != nil {
			return err
		}
		e, err := tx.WebhookEndpointByID(ctx, d.EndpointID)
		if err != nil {
			return err
		}
		if e.MerchantID != caller.Merchant.ID || e.Book != caller.Book || !e.DisabledAt.IsZero() {
			return fault.NotFound()
		}
		now := s.now()
		if err := tx.ReplayWebhookDelivery(ctx, d.ID, now); err != nil {
			return err
		}
		ev, err := tx.WebhookEvent(ctx, d.EventID)
		if err != nil {
			return err
		}
		d.Status, d.NextAttemptAt, d.UpdatedAt, d.LockedUntil = store.DeliveryPending, now, now, time.Time{}
		d.LastError = shownFailure(d.LastError)
		out = WebhookDelivery{WebhookDelivery: d, EventIdx: ev.Idx, EventType: ev.Type}
		return nil
	})
	return out, fault.Wrap(err)
}

// emit writes a webhook event for p's state change to the outbox, with a
// pending delivery per active endpoint of p's merchant and book that
// subscribed to eventType. It must run in the transaction that changes
// p, so the event exists exactly when the change does. Without any
// subscribed endpoint nothing is written.
func (s *Service) emit(ctx context.Context, tx store.Tx, p store.Payment, eventType string) error {
	eps, err := tx.WebhookEndpoints(ctx, store.Scope{MerchantID: p.MerchantID, Book: p.Book})
	if err != nil {
		return err
	}
	eps = slices.DeleteFunc(eps, func(e store.WebhookEndpoint) bool { return !slices.Contains(e.Events, eventType) })
	if len(eps) == 0 {
		return nil
	}
	now := s.now()
	ev := store.WebhookEvent{Idx: s.ids.New(), MerchantID: p.MerchantID, Book: p.Book, Type: eventType, PaymentID: p.ID, CreatedAt: now}
	data := map[string]any{"idx": p.Idx, "transaction_id": p.Idx, "amount": p.Amount, "refunded_amount": p.Refunded,
		"state": string(p.State), "fee_amount": 0}
	if captured(p.State) {
		data["fee_amount"] = p.FeeAmount
	}
	if p.Kind == store.EPayment {
		data["pidx"], data["purchase_order_id"] = p.Token, p.PurchaseOrderID
	} else {
		data["token"], data["product_identity"] = p.Token, p.ProductIdentity
	}
	ev.Payload, err = json.Marshal(map[string]any{"id": ev.Idx, "type": eventType, "created": now.Unix(), "book": string(p.Book), "data": data})
	if err != nil {
		return err
	}
	if err := tx.CreateWebhookEvent(ctx, &ev); err != nil {
		return err
	}
	for _, e := range eps {
		d := store.WebhookDelivery{Idx: s.ids.New(), EventID: ev.ID, EndpointID: e.ID, Status: store.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateWebhookDelivery(ctx, &d); err != nil {
			return err
		}
	}
	return nil
}

// eventFor is the event type of a payment entering state st.
func eventFor(st store.State) string {
	switch st {
	case store.Completed:
		return EventCompleted
	case store.Refunded:
		return EventRefunded
	case store.PartiallyRefunded:
		return EventPartiallyRefunded
	case store.Expired:
		return EventExpired
	case store.UserCanceled:
		return EventCanceled
	default:
		return EventFailed
	}
}

// SignWebhook returns the Thaili-Signature header value for body sent at
// t: "t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>".
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// DeliverWebhooks claims due deliveries, a batch at a time, posts them
// and records the answers; it returns how many it attempted. Several
// nodes may run it at once: a claimed delivery is leased to one of them.
func (s *Service) DeliverWebhooks(ctx context.Context) (int, error) {
	_, _, _, timeout := s.webhookCfg()
	done := 0
	for {
		now := s.now()
		var batch []store.WebhookDelivery
		err := s.store.InTx(ctx, func(tx store.Tx) error {
			var err error
			batch, err = tx.ClaimWebhookDeliveries(ctx, now, now.Add(timeout+50*time.Second), webhookBatch)
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
				errs[i] = s.deliver(ctx, d)
			}()
		}
		wg.Wait()
		done += len(batch)
		if err := errors.Join(errs...); err != nil {
			return done, err
		}
		if len(batch) < webhookBatch || ctx.Err() != nil {
			return done, ctx.Err()
		}
	}
}

// deliver makes one attempt at a claimed delivery.
func (s *Service) deliver(ctx context.Context, d store.WebhookDelivery) error {
	backoff, maxBackoff, retryFor, timeout := s.webhookCfg()
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
		return err
	}
	code, failure, cause := 0, "", error(nil)
	if !ep.DisabledAt.IsZero() {
		failure = failDeleted
	} else if secret, err := s.ring.Open(ep.Secret, nil); err != nil {
		failure, cause = failSecret, err
	} else {
		code, failure, cause = s.post(ctx, ep.URL, string(secret), ev, timeout)
	}
	now := s.now()
	d.Attempt++
	d.UpdatedAt, d.LastStatusCode, d.LastError = now, code, failure
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
	case !ep.DisabledAt.IsZero():
		d.Status = store.DeliveryFailed
	default:
		wait := maxBackoff
		if d.Attempt < 40 {
			wait = min(backoff<<d.Attempt, maxBackoff)
		}
		d.NextAttemptAt = now.Add(wait)
		d.Status = store.DeliveryPending
		if d.NextAttemptAt.After(ev.CreatedAt.Add(retryFor)) {
			d.Status = store.DeliveryFailed
		}
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d, held) })
	if errors.Is(err, store.ErrNotFound) {
		return nil // the lease lapsed and another worker took the delivery over
	}
	return err
}

// post sends ev to target and returns the HTTP status and, unless the answer
// was 2xx, the failure's category (see failureCategory) and its cause.
func (s *Service) post(ctx context.Context, target, secret string, ev store.WebhookEvent, timeout time.Duration) (int, string, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var handshakeFailed atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
		if err != nil {
			handshakeFailed.Store(true)
		}
	}})
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(ev.Payload))
	if err != nil {
		return 0, failConnection, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Thaili-Webhooks/1")
	req.Header.Set("Thaili-Signature", SignWebhook(secret, s.now(), ev.Payload))
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
		return 0, failureCategory(err, handshakeFailed.Load()), err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, "", nil
	}
	return resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode), nil
}

// RunWebhooks delivers due webhooks every interval until ctx is done,
// logging failures.
func (s *Service) RunWebhooks(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.DeliverWebhooks(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "delivering webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
