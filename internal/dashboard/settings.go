package dashboard

import (
	"net/http"

	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

// Settings serves GET /dashboard/settings/{$}: the account, the password
// and the sessions.
func (p *Pages) Settings() http.Handler { return p.get("Settings", p.settings) }

// Password serves POST /dashboard/password: a new password, which ends
// the merchant's other sessions.
func (p *Pages) Password() http.Handler { return p.post("Settings", p.password) }

// LogoutEverywhere serves POST /dashboard/logout-everywhere.
func (p *Pages) LogoutEverywhere() http.Handler { return p.post("Settings", p.logoutEverywhere) }

// settingsView is the Settings page.
type settingsView struct {
	dash
	Merchant store.Merchant
	Mobile   string // masked
}

func (p *Pages) settingsView(q req) *settingsView {
	return &settingsView{dash: p.view(q, "Settings", "Settings"), Merchant: q.User, Mobile: phone.Mask(q.User.Mobile)}
}

func (p *Pages) settings(w http.ResponseWriter, r *http.Request, q req) {
	p.render(w, r, "settings", p.settingsView(q))
}

func (p *Pages) password(w http.ResponseWriter, r *http.Request, q req) {
	v := p.settingsView(q)
	err := p.id.ChangePassword(r.Context(), q.User.ID, r.PostFormValue("current_password"), r.PostFormValue("new_password"), q.ID)
	if err != nil {
		if p.explain(w, r, err, v) {
			p.render(w, r, "settings", v)
		}
		return
	}
	v.Notice = "Your password was changed; your other sessions were logged out."
	p.render(w, r, "settings", v)
}

func (p *Pages) logoutEverywhere(w http.ResponseWriter, r *http.Request, q req) {
	if err := p.id.LogoutEverywhere(r.Context(), q.User.ID); err != nil {
		p.fail(w, r, q, "Settings", err)
		return
	}
	p.site.SignOut(w, r, "/login/")
}
