package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/apidoc"
	"github.com/thaili/thaili/internal/console"
	"github.com/thaili/thaili/internal/dashboard"
	"github.com/thaili/thaili/internal/demo"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/wallet"
	"github.com/thaili/thaili/internal/web"
	"github.com/thaili/thaili/internal/widget"
)

// notAPI are registered patterns the OpenAPI document does not describe,
// with the reason: they serve HTML pages to people, not an API.
var notAPI = []struct{ prefix, reason string }{
	{"GET /", "server-rendered pages: hosted payment page, dashboard, wallet, console (HTML; method-qualified patterns are only pages)"},
	{"POST /", "the pages' form posts (HTML)"},
	{"/kpg/", "web checkout widget files (HTML, JS, CSS)"},
	{"/demo/", "sandbox demo shop (HTML)"},
}

// catchAll is the JSON 404 for every other path, described in info.description.
const catchAll = "/"

func excluded(pattern string) bool {
	if pattern == catchAll {
		return true
	}
	for _, x := range notAPI {
		if strings.HasPrefix(pattern, x.prefix) {
			return true
		}
	}
	return false
}

var probeMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// canonical maps a registered pattern to the document's path: without
// "{$}", with its trailing slash, and for the v2-less aliases, with v2.
func canonical(paths map[string]any, pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	if _, ok := paths[p]; ok {
		return p
	}
	if !strings.HasSuffix(p, "/") {
		if _, ok := paths[p+"/"]; ok {
			return p + "/"
		}
		p += "/"
	}
	if rest, ok := strings.CutPrefix(p, "/api/"); ok && !strings.HasPrefix(rest, "v") {
		if _, ok := paths["/api/v2/"+rest]; ok {
			return "/api/v2/" + rest
		}
	}
	return ""
}

// coverageProblems lists what the document gets wrong about the routes:
// a pattern with no path item, a method the route accepts but the path
// item lacks (or the reverse), an alias the description does not name,
// and a documented path no route serves. accepts says whether the route
// at a concrete path answers a method with anything but 405.
func coverageProblems(doc map[string]any, patterns []string, accepts func(method, path string) bool) []string {
	var problems []string
	paths, _ := doc["paths"].(map[string]any)
	served := map[string]bool{}
	for _, pat := range patterns {
		if excluded(pat) {
			continue
		}
		c := canonical(paths, pat)
		if c == "" {
			problems = append(problems, fmt.Sprintf("route %q has no path item", pat))
			continue
		}
		served[c] = true
		item, _ := paths[c].(map[string]any)
		form := strings.TrimSuffix(pat, "{$}")
		if form != c && !mentions(item, form) {
			problems = append(problems, fmt.Sprintf("path item %q does not mention the alias %q", c, form))
		}
		concrete := strings.ReplaceAll(form, "{idx}", "6B4qXVyZ5o4GFRqJbEchTT")
		for _, m := range probeMethods {
			_, documented := item[strings.ToLower(m)]
			if ok := accepts(m, concrete); ok != documented {
				problems = append(problems, fmt.Sprintf("%s %s (route %q): server accepts=%v, documented=%v", m, c, pat, ok, documented))
			}
		}
	}
	for p := range paths {
		if !served[p] {
			problems = append(problems, fmt.Sprintf("documented path %q is served by no route", p))
		}
	}
	return problems
}

// mentions reports whether the path item's description names form as a word.
func mentions(item map[string]any, form string) bool {
	desc, _ := item["description"].(string)
	for _, w := range strings.Fields(desc) {
		if strings.TrimRight(w, ",.;") == form {
			return true
		}
	}
	return false
}

// testServer is the whole composition: the API, every page package, the
// widget and the demo shop, on no service (registering needs none).
func testServer(t *testing.T) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := web.New(web.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	merchants, err := dashboard.New(dashboard.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	consumers, err := wallet.New(wallet.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	operators, err := console.New(console.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	kpg, err := widget.New()
	if err != nil {
		t.Fatal(err)
	}
	shop, err := demo.New(demo.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{API: api.New(api.Options{Log: log}), Log: log, IDs: ids.Generator{Rand: rand.Reader},
		Pages: pages, Dashboard: merchants, Wallet: consumers, Console: operators, Widget: kpg, Demo: shop})
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := testServer(t)
	doc, err := apidoc.Document()
	if err != nil {
		t.Fatal(err)
	}
	patterns := s.registered()
	if len(patterns) < 40 {
		t.Fatalf("only %d patterns recorded: %q", len(patterns), patterns)
	}
	accepts := func(method, path string) bool {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code != http.StatusMethodNotAllowed
	}
	for _, p := range coverageProblems(doc, patterns, accepts) {
		t.Error(p)
	}
	for _, want := range []string{"GET /{$}", "POST /pay/{pidx}/signin", "/kpg/", "/demo/", catchAll} {
		found := false
		for _, p := range patterns {
			found = found || p == want
		}
		if !found {
			t.Errorf("pattern %q not recorded; the exclusions are stale", want)
		}
	}
}

// The coverage check fails on a document that misses a path, documents a
// wrong method, drops an alias's mention or describes a path no route serves.
func TestOpenAPICoverageCheckCanFail(t *testing.T) {
	s := testServer(t)
	accepts := func(method, path string) bool {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code != http.StatusMethodNotAllowed
	}
	for name, spoil := range map[string]func(paths map[string]any){
		"missing path": func(p map[string]any) { delete(p, "/api/v2/payment/verify/") },
		"wrong method": func(p map[string]any) {
			item := p["/healthz"].(map[string]any)
			item["post"] = item["get"]
		},
		"missing method": func(p map[string]any) { delete(p["/api/v2/bank/"].(map[string]any), "get") },
		"alias unmentioned": func(p map[string]any) {
			p["/api/v2/merchant-transaction/"].(map[string]any)["description"] = "Also served without the slash."
		},
		"stale path": func(p map[string]any) { p["/api/v2/nothing/"] = map[string]any{"get": map[string]any{}} },
	} {
		doc, err := apidoc.Document()
		if err != nil {
			t.Fatal(err)
		}
		spoil(doc["paths"].(map[string]any))
		if problems := coverageProblems(doc, s.registered(), accepts); len(problems) == 0 {
			t.Errorf("%s: no problem found", name)
		}
	}
}

func TestDocsAndOpenAPIServed(t *testing.T) {
	s := testServer(t)
	for _, path := range []string{"/openapi.json", "/docs/", "/docs"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" || string(rec.Body.Bytes()) != string(apidoc.JSON()) {
		t.Fatalf("openapi.json: %q", ct)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("docs headers: %v", rec.Header())
	}
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'self'") {
		t.Errorf("docs CSP allows inline style or not its stylesheet: %q", csp)
	}
	body := rec.Body.String()
	for _, want := range []string{"POST</span> <span class=\"path\">/api/v2/payment/verify/", "GET</span> <span class=\"path\">/api/v2/merchant-transaction/{idx}/",
		"<code>transaction_pin</code> <strong>(required)</strong>", "Idempotency-Key", "IdempotencyError"} {
		if !strings.Contains(body, want) {
			t.Errorf("docs page lacks %q", want)
		}
	}
	// No script, no inline style, no resource but its own stylesheet.
	if tag := regexp.MustCompile(`<(script|style|img|iframe|object|embed)\b|\sstyle=|<[a-z]+[^>]*\ssrc=`).FindString(body); tag != "" {
		t.Errorf("docs page has %q", tag)
	}
	links := regexp.MustCompile(`<link[^>]*>`).FindAllString(body, -1)
	if len(links) != 1 || !regexp.MustCompile(`^<link rel="stylesheet" href="/docs/docs\.css\?v=[0-9a-f]+">$`).MatchString(links[0]) {
		t.Errorf("docs page links %q; want only its stylesheet", links)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/docs.css", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(rec.Body.String(), "overflow-x:auto") {
		t.Errorf("docs stylesheet: %d %v", rec.Code, rec.Header())
	}
}

// The 503 of /readyz, which the end-to-end conformance test cannot
// provoke, matches the document.
func TestReadyzNotReadyMatchesDocument(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(Options{API: api.New(api.Options{Log: log}), Log: log, IDs: ids.Generator{Rand: rand.Reader},
		Ready: func(context.Context) error { return errors.New("schema version 4, this build needs 5") }})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d", rec.Code)
	}
	doc, err := apidoc.Document()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := apidoc.Resolve(doc, "#/paths/~1readyz/get/responses/503/content/application~1json/schema")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if err := apidoc.Validate(doc, schema, v); err != nil {
		t.Fatalf("503 body %s: %v", rec.Body, err)
	}
}
