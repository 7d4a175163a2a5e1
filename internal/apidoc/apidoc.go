// Package apidoc holds Thaili's OpenAPI 3.1 document (openapi.json, written
// by hand and embedded), serves it at /openapi.json and renders it as a
// readable HTML reference at /docs/ (with a quick start, a curl example
// built from the document for every operation, and the checkout widget's
// guide), and validates JSON values against its schemas for the tests that
// keep the document and the handlers in step. redocly.yaml is its lint
// configuration (lint_test.go).
package apidoc

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

//go:embed openapi.json
var spec []byte

//go:embed assets/docs.css
var css []byte

// JSON returns the document as served.
func JSON() []byte { return bytes.Clone(spec) }

// Document returns the document decoded (numbers as json.Number).
func Document() (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return doc, nil
}

// Methods are the operation keys of a path item, in display order.
var Methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Resolve follows a "#/..." reference within doc.
func Resolve(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not in an object", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve (no %q)", ref, part)
		}
	}
	return cur, nil
}

// Deref follows v's $ref, if it has one, until an object without one.
func Deref(doc map[string]any, v any) (map[string]any, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if v, err = Resolve(doc, ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("$ref loop")
}

// ServeJSON serves the document (GET /openapi.json).
func ServeJSON(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(spec)
	return nil
}

// DocsCSP is the reference page's policy: its own stylesheet and nothing
// else (no script, no inline style, no framing).
const DocsCSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// ServeDocs serves the HTML reference (GET /docs/).
func ServeDocs(w http.ResponseWriter, r *http.Request) error {
	page, err := Render()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", DocsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(page)
	return nil
}

// CSSPath is where the reference page's stylesheet is served.
const CSSPath = "/docs/docs.css"

// cssURL is CSSPath with the stylesheet's hash, so a changed stylesheet
// is fetched anew although it may be cached for a day.
func cssURL() string {
	sum := sha256.Sum256(css)
	return CSSPath + "?v=" + hex.EncodeToString(sum[:6])
}

// ServeCSS serves the reference page's stylesheet (GET /docs/docs.css).
func ServeCSS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	w.Write(css)
}
