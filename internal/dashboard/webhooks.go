package dashboard

import (
	"net/http"
	"slices"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// Webhooks serves GET /dashboard/webhooks/{$}: the endpoints of a book
// (?book=test or live) and the form to register one.
func (p *Pages) Webhooks() http.Handler { return http.HandlerFunc(p.webhooks) }

// CreateWebhook serves POST /dashboard/webhooks/{$}.
func (p *Pages) CreateWebhook() http.Handler { return p.sessionPost(p.createWebhook) }

// DeleteWebhook serves POST /dashboard/webhooks/{idx}/delete.
func (p *Pages) DeleteWebhook() http.Handler { return p.sessionPost(p.deleteWebhook) }

// WebhookLog serves GET /dashboard/webhooks/{idx}/{$}: an endpoint's
// delivery log.
func (p *Pages) WebhookLog() http.Handler { return http.HandlerFunc(p.webhookLog) }

// ReplayWebhook serves POST /dashboard/webhooks/{idx}/replay (form field
// delivery).
func (p *Pages) ReplayWebhook() http.Handler { return p.sessionPost(p.replayWebhook) }

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
}

// hookCaller resolves the book a webhook page works on: book ("" is
// test) must be one of m's books. The caller is m in that book, with the
// secret key's rights, as the API's webhook calls are.
func (p *Pages) hookCaller(r *http.Request, m store.Merchant, book string) (identity.Caller, []ledger.Book, error) {
	books, err := p.id.MerchantBooks(r.Context(), m.ID)
	if err != nil {
		return identity.Caller{}, nil, err
	}
	b := ledger.Book(book)
	if book == "" {
		b = ledger.Test
	}
	if !slices.Contains(books, b) {
		msg := "Book must be test or live."
		if b == ledger.Live {
			msg = "You have no live keys yet: they are issued after your first completed test payment."
		}
		return identity.Caller{}, nil, fault.DetailError(msg)
	}
	return identity.Caller{Merchant: m, Book: b, Kind: store.SecretKey}, books, nil
}

func (p *Pages) webhooks(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	caller, books, err := p.hookCaller(r, m, r.URL.Query().Get("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
		return
	}
	p.renderWebhooks(w, r, id, caller, books, view{})
}

func (p *Pages) createWebhook(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	caller, books, err := p.hookCaller(r, m, r.PostFormValue("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
		return
	}
	u, events := r.PostFormValue("url"), r.PostForm["events"]
	e, secret, err := p.hooks.CreateEndpoint(r.Context(), caller.Scope(), u, events)
	if err != nil {
		v := p.failure(r, err, view{URL: u, Checked: events})
		if v.Status == http.StatusInternalServerError {
			p.render(w, v)
			return
		}
		p.renderWebhooks(w, r, id, caller, books, v)
		return
	}
	p.renderWebhooks(w, r, id, caller, books, view{NewHook: &newHook{Idx: e.Idx, URL: e.URL, Secret: secret},
		Notice: "The webhook endpoint was registered."})
}

func (p *Pages) deleteWebhook(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	caller, books, err := p.hookCaller(r, m, r.PostFormValue("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
		return
	}
	if err := p.hooks.DeleteEndpoint(r.Context(), caller.Scope(), r.PathValue("idx")); err != nil {
		p.hookFailure(w, r, id, err)
		return
	}
	p.renderWebhooks(w, r, id, caller, books, view{Notice: "The webhook endpoint was deleted; nothing more is sent to it."})
}

func (p *Pages) webhookLog(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	caller, books, err := p.hookCaller(r, m, r.URL.Query().Get("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
		return
	}
	p.renderLog(w, r, id, caller, books, r.PathValue("idx"), view{})
}

func (p *Pages) replayWebhook(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	caller, books, err := p.hookCaller(r, m, r.PostFormValue("book"))
	if err != nil {
		p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
		return
	}
	// The delivery must be in this endpoint's log (which also checks the
	// endpoint is the caller's); the service checks ownership again.
	idx, delivery := r.PathValue("idx"), r.PostFormValue("delivery")
	log, err := p.hooks.DeliveryLog(r.Context(), caller.Scope(), idx)
	if err == nil && !slices.ContainsFunc(log, func(d webhook.Delivery) bool { return d.Idx == delivery }) {
		err = fault.NotFound()
	}
	if err == nil {
		_, err = p.hooks.Replay(r.Context(), caller.Scope(), delivery)
	}
	if err != nil {
		p.hookFailure(w, r, id, err)
		return
	}
	p.renderLog(w, r, id, caller, books, idx, view{Notice: "The delivery will be sent again in a moment."})
}

// renderWebhooks fills v with the caller's endpoints and the form.
func (p *Pages) renderWebhooks(w http.ResponseWriter, r *http.Request, id string, caller identity.Caller, books []ledger.Book, v view) {
	list, err := p.hooks.Endpoints(r.Context(), caller.Scope())
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	v = p.signedIn(id, v)
	v.Title, v.Page, v.Book, v.Books, v.Endpoints = "Webhooks", "webhooks", caller.Book, books, list
	v.Merchant = caller.Merchant
	for _, e := range webhook.Events {
		v.Events = append(v.Events, eventBox{Name: e, Checked: slices.Contains(v.Checked, e)})
	}
	p.render(w, v)
}

// renderLog fills v with endpoint idx's delivery log; an endpoint the
// caller does not have (missing, deleted, another merchant's or book's)
// is the not-found page.
func (p *Pages) renderLog(w http.ResponseWriter, r *http.Request, id string, caller identity.Caller, books []ledger.Book, idx string, v view) {
	list, err := p.hooks.Endpoints(r.Context(), caller.Scope())
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	i := slices.IndexFunc(list, func(e webhook.Endpoint) bool { return e.Idx == idx })
	if i < 0 {
		p.hookFailure(w, r, id, fault.NotFound())
		return
	}
	log, err := p.hooks.DeliveryLog(r.Context(), caller.Scope(), idx)
	if err != nil {
		p.hookFailure(w, r, id, err)
		return
	}
	v = p.signedIn(id, v)
	v.Title, v.Page, v.Book, v.Books, v.Endpoint = "Webhook deliveries", "webhook-log", caller.Book, books, list[i]
	v.Merchant = caller.Merchant
	for _, d := range log {
		row := deliveryRow{Idx: d.Idx, EventIdx: d.EventIdx, EventType: d.EventType, Status: string(d.Status),
			Attempts: d.Attempt, Code: d.LastStatusCode, Error: d.LastError, Created: when(d.CreatedAt), Updated: when(d.UpdatedAt)}
		if d.Status == store.DeliveryPending {
			row.Next = when(d.NextAttemptAt)
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	p.render(w, v)
}

// hookFailure renders err; not found is a 404 page, the same for a
// missing endpoint and another merchant's.
func (p *Pages) hookFailure(w http.ResponseWriter, r *http.Request, id string, err error) {
	if fault.AsError(err).Kind == fault.KindNotFound {
		p.render(w, p.signedIn(id, view{Status: http.StatusNotFound, Title: "Not found",
			Message: "There is no such webhook endpoint or delivery."}))
		return
	}
	p.render(w, p.failure(r, err, p.signedIn(id, view{Title: "Webhooks"})))
}

// signedIn marks v as a page of session id.
func (p *Pages) signedIn(id string, v view) view {
	v.SignedIn, v.CSRF = true, p.id.CSRFToken("session:"+id)
	if v.Status == 0 {
		v.Status = http.StatusOK
	}
	return v
}

// when shows t in UTC, or "" when zero.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
