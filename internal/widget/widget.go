// Package widget serves Thaili's web checkout widget under /kpg/ (spec
// §10): the iframe page payment_gateway_widget.html with its script, style
// and loading icon, which speaks the postMessage protocol of Khalti's web
// widget, and khalti-checkout.js, a drop-in for Khalti's loader script.
//
// Khalti's own bundle works against Thaili when built with CDN_HOST set to
// <thaili>/kpg and KHALTI_SERVER to <thaili>; Thaili's loader needs no
// build: it opens the widget of the host it was loaded from.
package widget

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Prefix is the path the widget is served under.
const Prefix = "/kpg/"

// WidgetCSP is the iframe page's policy: its own scripts, styles, images
// and API calls only, and framing by any merchant site.
const WidgetCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"frame-ancestors *; base-uri 'none'; form-action 'none'"

// file is one served asset with its headers.
type file struct {
	body        []byte
	contentType string
	etag        string
	page        bool // the HTML page, which gets the CSP and is revalidated
}

// Handler serves the widget's files. It holds no mutable state.
type Handler struct {
	files map[string]file // by path below Prefix
}

// contentType is the Content-Type of an asset by its extension.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// New reads the embedded assets.
func New() (*Handler, error) {
	h := &Handler{files: map[string]file{}}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		ct := contentType(path.Ext(p))
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "assets/")
		h.files[name] = file{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, page: path.Ext(p) == ".html"}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ServeHTTP serves GET and HEAD requests for the files under Prefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	f, found := h.files[name]
	if !ok || !found {
		notFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte(`{"detail":"Method \"` + jsonSafe(r.Method) + `\" not allowed."}` + "\n"))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", f.etag)
	hd.Set("Referrer-Policy", "no-referrer")
	if f.page {
		// Merchants frame this page from any origin, so no X-Frame-Options.
		hd.Set("Content-Security-Policy", WidgetCSP)
		hd.Set("Cache-Control", "no-cache")
	} else {
		// Merchant pages load the loader and the icon cross-origin.
		hd.Set("Cache-Control", "public, max-age=300")
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}

// notFound answers like the API's catch-all.
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"detail":"Not found."}` + "\n"))
}

// jsonSafe keeps a method name printable inside a JSON string.
func jsonSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
