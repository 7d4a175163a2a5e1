package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// Webhooks serves GET /dashboard/webhooks/{$}: the endpoints of a book
// (?book=test or live) and the form to register one.
func (p *Pages) Webhooks() http.Handler { return p.get("Webhooks", p.webhooks) }

// CreateWebhook serves POST /dashboard/webhooks/{$}.
func (p *Pages) CreateWebhook() http.Handler { return p.post("Webhooks", p.createWebhook) }

// DeleteWebhook serves POST /dashboard/webhooks/{idx}/delete.
func (p *Pages) DeleteWebhook() http.Handler { return p.post("Webhooks", p.deleteWebhook) }

// WebhookLog serves GET /dashboard/webhooks/{idx}/{$}: an endpoint's
// delivery log.
func (p *Pages) WebhookLog() http.Handler { return p.get("Webhooks", p.webhookLog) }

// ReplayWebhook serves POST /dashboard/webhooks/{idx}/replay (form field
// delivery).
func (p *Pages) ReplayWebhook() http.Handler { return p.post("Webhooks", p.replayWebhook) }

// TestWebhook serves POST /dashboard/webhooks/{idx}/test: a test event
// sent to the endpoint now, answered with its delivery log, which shows
// how it went.
func (p *Pages) TestWebhook() http.Handler { return p.post("Webhooks", p.testWebhook) }

type eventBox struct {
	Name    string
	Checked bool
}

type newHook struct {
	Idx, URL, Secret string
}

type deliveryRow struct {
	Idx, EventIdx, EventType, Status string
	Attempts, Code                   int
	Error, Created, Updated, Next    string
	// Payload is the body sent, indented for reading; Response the head
	// of the last answer's body, Truncated when the body was longer.
	Payload, Response string
	Truncated         bool
}

// indented is a delivery's JSON payload laid out for reading; anything
// that is not JSON is shown as it is.
func indented(payload []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, payload, "", "  ") != nil {
		return string(payload)
	}
	return b.String()
}

// hooksView is the webhooks page's view: the book's endpoints, the
// form's event boxes and echoed values, and a new endpoint's secret
// (shown once).
type hooksView struct {
	dash
	Endpoints []webhook.Endpoint
	Events    []eventBox
	URL       string
	Checked   []string
	NewHook   *newHook
}

// hookLogView is one endpoint's delivery log.
type hookLogView struct {
	dash
	Endpoint   webhook.Endpoint
	Deliveries []deliveryRow
}

// The webhook pages' caller is the merchant in the page's book, with the
// secret key's rights, as the API's webhook calls are (req.Caller).

func (p *Pages) webhooks(w http.ResponseWriter, r *http.Request, q req) {
	p.renderWebhooks(w, r, q, p.hooksView(q))
}

func (p *Pages) hooksView(q req) *hooksView {
	return &hooksView{dash: p.view(q, "Webhooks", "Webhooks")}
}

func (p *Pages) createWebhook(w http.ResponseWriter, r *http.Request, q req) {
	u, events := r.PostFormValue("url"), r.PostForm["events"]
	v := p.hooksView(q)
	e, secret, err := p.hooks.CreateEndpoint(r.Context(), q.Caller.Scope(), u, events)
	if err != nil {
		v.URL, v.Checked = u, events
		if p.explain(w, r, err, v) {
			p.renderWebhooks(w, r, q, v)
		}
		return
	}
	v.NewHook, v.Notice = &newHook{Idx: e.Idx, URL: e.URL, Secret: secret}, "The webhook endpoint was registered."
	p.renderWebhooks(w, r, q, v)
}

func (p *Pages) deleteWebhook(w http.ResponseWriter, r *http.Request, q req) {
	if err := p.hooks.DeleteEndpoint(r.Context(), q.Caller.Scope(), r.PathValue("idx")); err != nil {
		p.fail(w, r, q, "Webhooks", notFound(err, msgNoHook))
		return
	}
	v := p.hooksView(q)
	v.Notice = "The webhook endpoint was deleted; nothing more is sent to it."
	p.renderWebhooks(w, r, q, v)
}

func (p *Pages) webhookLog(w http.ResponseWriter, r *http.Request, q req) {
	p.renderLog(w, r, q, r.PathValue("idx"), p.hookLogView(q))
}

func (p *Pages) hookLogView(q req) *hookLogView {
	return &hookLogView{dash: p.view(q, "Webhook deliveries", "Webhooks")}
}

func (p *Pages) replayWebhook(w http.ResponseWriter, r *http.Request, q req) {
	// The delivery must be in this endpoint's log (which also checks the
	// endpoint is the caller's); the service checks ownership again.
	idx, delivery := r.PathValue("idx"), r.PostFormValue("delivery")
	log, err := p.hooks.DeliveryLog(r.Context(), q.Caller.Scope(), idx)
	if err == nil && !slices.ContainsFunc(log, func(d webhook.Delivery) bool { return d.Idx == delivery }) {
		err = fault.NotFound()
	}
	if err == nil {
		_, err = p.hooks.Replay(r.Context(), q.Caller.Scope(), delivery)
	}
	if err != nil {
		p.fail(w, r, q, "Webhooks", notFound(err, msgNoHook))
		return
	}
	v := p.hookLogView(q)
	v.Notice = "The delivery will be sent again in a moment."
	p.renderLog(w, r, q, idx, v)
}

func (p *Pages) testWebhook(w http.ResponseWriter, r *http.Request, q req) {
	idx, v := r.PathValue("idx"), p.hookLogView(q)
	d, err := p.hooks.SendTestEvent(r.Context(), q.Caller.Scope(), idx)
	switch {
	case fault.AsError(err).Kind == fault.KindNotFound:
		p.fail(w, r, q, "Webhooks", notFound(err, msgNoHook))
		return
	case err != nil: // too many test events: the log, with the wait
		if !p.explain(w, r, err, v) {
			return
		}
	case d.Status == store.DeliverySucceeded:
		v.Notice = fmt.Sprintf("The test event was delivered: the endpoint answered HTTP %d.", d.LastStatusCode)
	default:
		v.Error = "The test event was not delivered (" + d.LastError + "). It is not retried: fix the endpoint and send another."
	}
	p.renderLog(w, r, q, idx, v)
}

// renderWebhooks fills v with the caller's endpoints and the form.
func (p *Pages) renderWebhooks(w http.ResponseWriter, r *http.Request, q req, v *hooksView) {
	list, err := p.hooks.Endpoints(r.Context(), q.Caller.Scope())
	if err != nil {
		p.fail(w, r, q, "Webhooks", err)
		return
	}
	v.Endpoints = list
	for _, e := range webhook.Events {
		v.Events = append(v.Events, eventBox{Name: e, Checked: slices.Contains(v.Checked, e)})
	}
	p.render(w, r, "webhooks", v)
}

// renderLog fills v with endpoint idx's delivery log; an endpoint the
// caller does not have (missing, deleted, another merchant's or book's)
// is the not-found page.
func (p *Pages) renderLog(w http.ResponseWriter, r *http.Request, q req, idx string, v *hookLogView) {
	list, err := p.hooks.Endpoints(r.Context(), q.Caller.Scope())
	if err != nil {
		p.fail(w, r, q, "Webhooks", err)
		return
	}
	i := slices.IndexFunc(list, func(e webhook.Endpoint) bool { return e.Idx == idx })
	if i < 0 {
		p.fail(w, r, q, "Webhooks", notFound(fault.NotFound(), msgNoHook))
		return
	}
	log, err := p.hooks.DeliveryLog(r.Context(), q.Caller.Scope(), idx)
	if err != nil {
		p.fail(w, r, q, "Webhooks", notFound(err, msgNoHook))
		return
	}
	v.Endpoint = list[i]
	for _, d := range log {
		row := deliveryRow{Idx: d.Idx, EventIdx: d.EventIdx, EventType: d.EventType, Status: string(d.Status),
			Attempts: d.Attempt, Code: d.LastStatusCode, Error: d.LastError, Created: site.NepalTime(d.CreatedAt), Updated: site.NepalTime(d.UpdatedAt),
			Payload: indented(d.Payload), Response: d.ResponseBody, Truncated: d.ResponseTruncated}
		if d.Status == store.DeliveryPending {
			row.Next = site.NepalTime(d.NextAttemptAt)
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	p.render(w, r, "webhook-log", v)
}

// msgNoHook is the not-found page of the webhook pages: the same for a
// missing endpoint or delivery and another merchant's.
const msgNoHook = "There is no such webhook endpoint or delivery."
