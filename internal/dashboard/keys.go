package dashboard

import (
	"net/http"
	"sort"
	"strings"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Keys serves GET /dashboard/keys/{$}: the book's API keys, and a new
// secret key (the test keys after sign-up, the live keys after going
// live) shown this once.
func (p *Pages) Keys() http.Handler { return p.get("Keys", p.keys) }

// Rotate serves POST /dashboard/rotate: new keys for the form's book, the
// secret shown once, the old keys revoked.
func (p *Pages) Rotate() http.Handler { return p.post("Keys", p.rotate) }

// Saved serves POST /dashboard/saved, the "I have saved it" under a new
// secret: it sends the browser back to the page (back=keys or webhooks)
// without it, so the secret is on no page the browser keeps.
func (p *Pages) Saved() http.Handler { return p.post("Keys", p.saved) }

// keysView is the Keys page.
type keysView struct {
	dash
	// Secrets are new secret keys, each shown this once.
	Secrets []newSecret
	// Keys are the book's active keys; a secret key only by its start.
	Keys []keyRow
	// Live is whether the merchant has live keys.
	Live bool
}

// newSecret is a secret shown once: a secret key and its book's public
// key, or a webhook endpoint's signing secret (webhooks.go).
type newSecret struct {
	ID     string // the element ids' stem: "test", "live", "hook"
	Title  string
	Public string
	Secret string
}

type keyRow struct {
	Book  ledger.Book
	Kind  store.KeyKind
	Shown string
}

func (p *Pages) keys(w http.ResponseWriter, r *http.Request, q req) {
	p.renderKeys(w, r, q, &keysView{dash: p.view(q, "API keys", "Keys")})
}

func (p *Pages) rotate(w http.ResponseWriter, r *http.Request, q req) {
	book := q.Caller.Book
	v := &keysView{dash: p.view(q, "API keys", "Keys")}
	kp, err := p.id.RotateOwnKeys(r.Context(), q.User.Idx, book)
	if err != nil {
		if p.explain(w, r, err, v) {
			p.renderKeys(w, r, q, v)
		}
		return
	}
	v.Secrets = append(v.Secrets, newSecret{ID: string(book), Title: "New " + string(book) + " keys", Public: kp.Public, Secret: kp.Secret})
	v.Notice = "The " + string(book) + " keys were rotated; the old ones no longer work."
	p.renderKeys(w, r, q, v)
}

func (p *Pages) saved(w http.ResponseWriter, r *http.Request, q req) {
	to := "/dashboard/keys/"
	if r.PostFormValue("back") == "webhooks" {
		to = "/dashboard/webhooks/"
	}
	http.Redirect(w, r, to+"?book="+string(q.Caller.Book), http.StatusSeeOther)
}

// renderKeys fills v with the book's keys. A sealed secret (the test keys
// of a new account, live keys issued on going live) is revealed here, in
// any book, once.
func (p *Pages) renderKeys(w http.ResponseWriter, r *http.Request, q req, v *keysView) {
	info, err := p.svc.ShowOwnMerchant(r.Context(), q.User.Idx)
	if err != nil {
		p.fail(w, r, q, "Keys", err)
		return
	}
	v.Live = q.live()
	public := map[ledger.Book]string{}
	for _, k := range info.Keys {
		if k.Key.RevokedAt.IsZero() && k.Key.Kind == store.PublicKey {
			public[k.Key.Book] = k.Key.Lookup
		}
	}
	for _, k := range info.Keys {
		if k.Secret != "" {
			v.Secrets = append(v.Secrets, newSecret{ID: string(k.Key.Book), Title: "Your " + string(k.Key.Book) + " secret key",
				Public: public[k.Key.Book], Secret: k.Secret})
		}
		if !k.Key.RevokedAt.IsZero() || k.Key.Book != q.Caller.Book {
			continue
		}
		row := keyRow{Book: k.Key.Book, Kind: k.Key.Kind, Shown: k.Key.Lookup}
		if k.Key.Kind == store.SecretKey {
			row.Shown = k.Key.Prefix
			if !strings.HasSuffix(row.Shown, "…") {
				row.Shown += "…"
			}
		}
		v.Keys = append(v.Keys, row)
	}
	sort.SliceStable(v.Keys, func(i, j int) bool {
		return v.Keys[i].Kind == store.PublicKey && v.Keys[j].Kind != store.PublicKey
	})
	p.render(w, r, "keys", v)
}
