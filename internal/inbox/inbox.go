// Package inbox is the sandbox inbox: a sandbox has no SMS gateway, so
// the codes it "sends" to phones are shown at /sandbox/inbox/ instead of
// only in the server's log. A public sandbox is shared by strangers, so
// the inbox is not a phone number's: a browser sees only the codes sent
// in answer to its own requests (tied to a cookie of its own), and only
// codes whose request proved the right to them. docs/identity.md
// (The sandbox inbox) gives the reasons; a server that is not a sandbox
// has no inbox at all.
package inbox

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/notify"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/site"
)

//go:embed assets/inbox.html
var assets embed.FS

// Cookie names the browser's inbox. It is set on the browser's first
// form post (a sign-up, a log-in, a payment), the kind of request that
// sends a code.
const Cookie = "thaili_sandbox_inbox"

// The inbox's bounds: it lives in the server's memory, and a stranger may
// post as many forms as the sign-in limit allows.
const (
	// MaxAge is how long a message is kept; account codes are good for
	// identity.CodeTTL, so an hour shows every code that can still work.
	MaxAge = time.Hour
	// MaxMessages is how many messages the inbox keeps for all browsers
	// together; the oldest go first.
	MaxMessages = 1000
	// MaxPerBrowser is how many messages one browser's inbox keeps.
	MaxPerBrowser = 20
)

// Options configure an Inbox.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	Log *slog.Logger
	// PublicURL decides whether the cookie is Secure (an https URL).
	PublicURL string
}

// Inbox keeps the messages of a sandbox's phones, each for the browser
// whose request sent it, and serves the page that shows them.
type Inbox struct {
	now     func() time.Time
	pages   *site.Renderer
	cookies formpage.Cookies

	mu   sync.Mutex
	msgs []Message // oldest first, for every browser
}

// Message is a message the sandbox sent to a phone.
type Message struct {
	browser string
	At      time.Time
	To      string // the mobile number, masked as the pages show it
	What    string // "Phone confirmation code", "Payment confirmation code"
	Code    string
	Detail  string // what the code is for, when there is more to say
}

// New builds an inbox. Only a sandbox server makes one.
func New(o Options) (*Inbox, error) {
	pages, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	rd, err := site.NewRenderer(site.Chrome{Brand: "Thaili sandbox", Home: "/", SignedOut: []site.Link{
		{Label: "Merchant log-in", URL: "/login/"}, {Label: "Wallet log-in", URL: "/me/login/"}, {Label: "API docs", URL: "/docs/"},
	}}, o.Log, pages, template.FuncMap{"minutes": func(d time.Duration) int { return int(d.Minutes()) }})
	if err != nil {
		return nil, err
	}
	b := &Inbox{now: o.Now, pages: rd,
		cookies: formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: site.SecureURL(o.PublicURL)}}
	if b.now == nil {
		b.now = time.Now
	}
	return b, nil
}

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// Routes registers the inbox page, GET /sandbox/inbox/.
func (b *Inbox) Routes(mux Registrar) {
	mux.Handle("GET /sandbox/inbox/{$}", b.Page())
}

type browserKey struct{}

// Tag names the browser of every request that carries the inbox cookie,
// so that the codes sent while serving it land in that browser's inbox
// (Notifier reads the name from the request's context). A form post of
// a browser that has no cookie yet gets one. The JSON API never sets it:
// its callers are merchants' servers, whose codes belong in no browser.
func (b *Inbox) Tag(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := browserOf(r)
		if id == "" && formPost(r) && !strings.HasPrefix(r.URL.Path, "/api/") {
			var raw [32]byte
			rand.Read(raw[:])
			id = base64.RawURLEncoding.EncodeToString(raw[:])
			http.SetCookie(w, b.cookies.Cookie(Cookie, id, 0))
		}
		if id != "" {
			r = r.WithContext(context.WithValue(r.Context(), browserKey{}, id))
		}
		next.ServeHTTP(w, r)
	})
}

// formPost reports whether r is what a browser's form sends.
func formPost(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// browserOf is r's inbox cookie, or "" when it has none that this server
// could have set (32 random bytes, base64url).
func browserOf(r *http.Request) string {
	c, err := r.Cookie(Cookie)
	if err != nil || len(c.Value) != 43 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return ""
	}
	return c.Value
}

// Notifier returns next, also putting into the inbox the codes it sends
// while serving a tagged request. Which codes, and why only those:
//
//   - a phone confirmation code (identity.PurposeConfirm) is sent only in
//     answer to the sign-up that just made the account it confirms, or
//     to a log-in with the account's password or MPIN;
//   - a payment's confirmation code is sent only once the payer gave the
//     wallet's MPIN;
//   - an MPIN reset code is asked for with nothing but a mobile number,
//     so it is never shown: showing it to whoever asked would let anyone
//     reset any sandbox wallet, the shared test payers included;
//   - notices are for the wallet's owner, who reads them on the wallet's
//     page, not for whoever caused them.
//
// A nil Inbox returns next unchanged.
func (b *Inbox) Notifier(next notify.Notifier) notify.Notifier {
	if b == nil {
		return next
	}
	return notifier{next: next, box: b}
}

type notifier struct {
	next notify.Notifier
	box  *Inbox
}

func (n notifier) SendOTP(ctx context.Context, mobile, code string, amount money.Paisa, merchant string) error {
	if err := n.next.SendOTP(ctx, mobile, code, amount, merchant); err != nil {
		return err
	}
	n.box.add(ctx, Message{To: mobile, What: "Payment confirmation code", Code: code, Detail: amount.String() + " to " + merchant})
	return nil
}

func (n notifier) SendCode(ctx context.Context, mobile, code, purpose string) error {
	if err := n.next.SendCode(ctx, mobile, code, purpose); err != nil {
		return err
	}
	if purpose == identity.PurposeConfirm {
		n.box.add(ctx, Message{To: mobile, What: "Phone confirmation code", Code: code, Detail: "Enter it on the page that asked for it to confirm the phone."})
	}
	return nil
}

func (n notifier) SendNotice(ctx context.Context, mobile, text string) error {
	return n.next.SendNotice(ctx, mobile, text)
}

// add keeps m for the browser of ctx's request; a message sent for no
// browser (a merchant's server calling the API, the command line) is
// only in the log.
func (b *Inbox) add(ctx context.Context, m Message) {
	id, _ := ctx.Value(browserKey{}).(string)
	if id == "" {
		return
	}
	m.browser, m.At, m.To = id, b.now(), phone.Mask(m.To)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune()
	mine := 0
	for _, o := range b.msgs {
		if o.browser == id {
			mine++
		}
	}
	if mine >= MaxPerBrowser {
		i := slices.IndexFunc(b.msgs, func(o Message) bool { return o.browser == id })
		b.msgs = slices.Delete(b.msgs, i, i+1)
	}
	if len(b.msgs) >= MaxMessages {
		b.msgs = slices.Delete(b.msgs, 0, len(b.msgs)-MaxMessages+1)
	}
	b.msgs = append(b.msgs, m)
}

// prune drops the messages older than MaxAge; b.mu is held.
func (b *Inbox) prune() {
	cut := b.now().Add(-MaxAge)
	i := 0
	for i < len(b.msgs) && !b.msgs[i].At.After(cut) {
		i++
	}
	b.msgs = slices.Delete(b.msgs, 0, i)
}

// Messages returns the messages kept for the browser of r, newest first.
func (b *Inbox) Messages(r *http.Request) []Message {
	id := browserOf(r)
	if id == "" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune()
	var out []Message
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if b.msgs[i].browser == id {
			out = append(out, b.msgs[i])
		}
	}
	return out
}

// page is the inbox page's view.
type page struct {
	site.Frame
	Messages []Message
	// The bounds, as the page explains them.
	MaxAge, CodeTTL time.Duration
	Max             int
}

// Page serves GET /sandbox/inbox/: this browser's messages.
func (b *Inbox) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.pages.Render(w, r, "inbox", &page{Frame: site.Frame{Title: "Sandbox inbox"},
			Messages: b.Messages(r), MaxAge: MaxAge, Max: MaxPerBrowser, CodeTTL: identity.CodeTTL})
	})
}
