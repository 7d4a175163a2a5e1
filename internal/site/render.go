package site

import (
	"embed"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/nepal"
)

//go:embed assets/layout.html assets/site.css assets/site.js
var assets embed.FS

// Frame is what the layout draws around every page: the view type of
// each page embeds it and adds its own fields.
type Frame struct {
	Status  int    // the response's status; 0 is 200
	Title   string // the page's title and, on message pages, its heading
	Message string // the text of a message page (refusals, errors)
	// The flash: what just happened, or what went wrong.
	Notice, Error string
	Errors        []string
	RetryAfter    time.Duration // sets Retry-After on a throttled page
	// CSRF is the token of the page's forms, including the header's log-out.
	CSRF string
	// User is who is signed in; empty shows the signed-out links.
	User string
	// Nav is the signed-in navigation, Books the Test/Live switch; empty
	// hides them. Current marks where the page is.
	Nav, Books []Link
	// TestMode shows the test-mode ribbon (the page shows the test book).
	TestMode bool
	// Narrow centres a small form (sign-up, log-in) instead of using the
	// full width that tables need.
	Narrow bool
	// Chrome is the site's, filled in by Renderer.
	Chrome Chrome
}

// Base returns f; views that embed a Frame satisfy Page with it.
func (f *Frame) Base() *Frame { return f }

// Page is a page's view: any struct that embeds a Frame.
type Page interface{ Base() *Frame }

// Link is an entry of a navigation.
type Link struct {
	Label, URL string
	Current    bool
}

// Chrome is what is the same on every page of a site.
type Chrome struct {
	Brand      string // "Thaili for merchants"
	Home       string // where the brand links
	LogoutPath string // the header's log-out form posts here
	SignedOut  []Link // shown in the header to a signed-out visitor
}

// Renderer draws a site's pages: each template file of the site defines
// a "content" block, drawn inside the shared layout.
type Renderer struct {
	chrome Chrome
	log    *slog.Logger
	pages  map[string]*template.Template
}

// Funcs are the template functions every page has.
var funcs = template.FuncMap{
	"inc":    func(i int) int { return i + 1 },
	"rupees": func(p money.Paisa) string { return p.String() },
	"nepal":  NepalTime,
}

// NepalTime shows t in Nepal time to the minute, "" when zero: every
// page shows times this way (the footer says so).
func NepalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return nepal.Minute(t)
}

// NewRenderer parses the layout once and, on a copy of it, each *.html
// file at the root of pages; a page is named after its file ("login" for
// login.html). more adds template functions to the shared ones.
func NewRenderer(c Chrome, log *slog.Logger, pages fs.FS, more template.FuncMap) (*Renderer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, err := template.New("layout.html").Funcs(funcs).Funcs(more).ParseFS(assets, "assets/layout.html")
	if err != nil {
		return nil, err
	}
	rd := &Renderer{chrome: c, log: log, pages: map[string]*template.Template{}}
	msg, err := template.Must(base.Clone()).Parse(`{{define "content"}}<section class="card narrow-card"><h1>{{.Title}}</h1><p id="message">{{.Message}}</p><p><a href="{{.Chrome.Home}}">Back</a></p></section>{{end}}`)
	if err != nil {
		return nil, err
	}
	rd.pages["message"] = msg
	files, err := fs.Glob(pages, "*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(pages, f)
		if err != nil {
			return nil, err
		}
		rd.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return rd, nil
}

// Render draws page name with v, at v's status. A page that does not
// exist or fails to draw is a bug: logged, and a plain 500.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, name string, v Page) {
	f := v.Base()
	f.Chrome = rd.chrome
	if f.RetryAfter > 0 {
		formpage.SetRetryAfter(w.Header(), f.RetryAfter)
	}
	t, ok := rd.pages[name]
	if !ok {
		rd.log.ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(w, "A server error occurred.", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		rd.log.ErrorContext(r.Context(), "rendering page "+name, "err", err)
		http.Error(w, "A server error occurred.", http.StatusInternalServerError)
		return
	}
	formpage.SetHeaders(w.Header())
	// The pages' one script (copy buttons) is a file of this origin.
	w.Header().Set("Content-Security-Policy", CSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// CSP is the pages' policy: formpage's, plus scripts from this origin
// (site.js; never inline).
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Message draws a page that is only a title and a message (a refusal,
// an error).
func (rd *Renderer) Message(w http.ResponseWriter, r *http.Request, f Frame) {
	rd.Render(w, r, "message", &f)
}

// Stylesheet serves GET /static/site.css, the stylesheet of every page
// in the shared layout; Script serves GET /static/site.js.
func Stylesheet() http.Handler { return static("assets/site.css", "text/css; charset=utf-8") }

// Script serves GET /static/site.js: copy buttons, and nothing a page
// needs to work.
func Script() http.Handler { return static("assets/site.js", "text/javascript; charset=utf-8") }

func static(name, contentType string) http.Handler {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	})
}
