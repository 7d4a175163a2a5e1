package widget

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestFiles checks every file's content type, caching and security headers.
func TestFiles(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		path, contentType string
		page              bool
	}{
		{"/kpg/payment_gateway_widget.html", "text/html; charset=utf-8", true},
		{"/kpg/widget.js", "text/javascript; charset=utf-8", false},
		{"/kpg/main.css", "text/css; charset=utf-8", false},
		{"/kpg/khalti-checkout.js", "text/javascript; charset=utf-8", false},
		{"/kpg/icons/infinity-loader.svg", "image/svg+xml", false},
	} {
		w := get(h, "GET", tc.path, nil)
		if w.Code != 200 {
			t.Fatalf("%s: status %d", tc.path, w.Code)
		}
		hd := w.Header()
		if got := hd.Get("Content-Type"); got != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("ETag") == "" || hd.Get("Cache-Control") == "" {
			t.Errorf("%s: headers %v", tc.path, hd)
		}
		if hd.Get("X-Frame-Options") != "" {
			t.Errorf("%s: X-Frame-Options %q; merchants must be able to frame the widget", tc.path, hd.Get("X-Frame-Options"))
		}
		if w.Body.Len() == 0 {
			t.Errorf("%s: empty body", tc.path)
		}
		csp := hd.Get("Content-Security-Policy")
		if tc.page {
			for _, want := range []string{"frame-ancestors *", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "default-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", tc.path, csp, want)
				}
			}
			if hd.Get("Cache-Control") != "no-cache" {
				t.Errorf("%s: Cache-Control %q", tc.path, hd.Get("Cache-Control"))
			}
		} else if hd.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: not loadable cross-origin: %v", tc.path, hd)
		}
		// A revalidation with the ETag is answered 304.
		if w2 := get(h, "GET", tc.path, map[string]string{"If-None-Match": hd.Get("ETag")}); w2.Code != http.StatusNotModified {
			t.Errorf("%s: revalidation status %d", tc.path, w2.Code)
		}
		if w3 := get(h, "HEAD", tc.path, nil); w3.Code != 200 || w3.Header().Get("Content-Type") != tc.contentType {
			t.Errorf("%s: HEAD %d %v", tc.path, w3.Code, w3.Header())
		}
	}
}

// TestContents checks what other parts rely on: the loader's API name
// and its widget path, and the page's script and style.
func TestContents(t *testing.T) {
	h := newHandler(t)
	loader := get(h, "GET", "/kpg/khalti-checkout.js", nil).Body.String()
	for _, want := range []string{"window.KhaltiCheckout", "payment_gateway_widget.html", "document.currentScript",
		`"checkout_v2.1"`, `"khalti-widget-"`, "walletPaymentVerification", "widgetError", "widgetLoad", `"paymentInfo"`} {
		if !strings.Contains(loader, want) {
			t.Errorf("khalti-checkout.js lacks %q", want)
		}
	}
	page := get(h, "GET", "/kpg/payment_gateway_widget.html", nil).Body.String()
	for _, want := range []string{`src="widget.js"`, `href="main.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("widget page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") {
		t.Error("widget page has inline script or style, which its CSP forbids")
	}
	script := get(h, "GET", "/kpg/widget.js", nil).Body.String()
	for _, want := range []string{"/api/v2/payment/initiate/", "/api/v2/payment/confirm/", `"widgetLoad"`,
		`"walletPaymentVerification"`, `"widgetError"`, `"hide"`, "widget_id"} {
		if !strings.Contains(script, want) {
			t.Errorf("widget.js lacks %q", want)
		}
	}
}

// TestNotFoundAndMethods checks unknown paths and methods.
func TestNotFoundAndMethods(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"/kpg/", "/kpg/nope.js", "/kpg/../go.mod", "/kpg/icons/", "/kpgx/widget.js"} {
		if w := get(h, "GET", p, nil); w.Code != 404 {
			t.Errorf("%s: status %d", p, w.Code)
		}
	}
	w := get(h, "POST", "/kpg/widget.js", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", w.Code, w.Header())
	}
}

// TestJavaScriptSyntax runs node --check on the scripts when node exists.
func TestJavaScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	for _, f := range []string{"khalti-checkout.js", "widget.js"} {
		if out, err := exec.Command(node, "--check", filepath.Join("assets", f)).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
}

// TestLoaderProtocol drives khalti-checkout.js in node, when node exists,
// with a fake DOM (testdata/loader_check.js).
func TestLoaderProtocol(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	out, err := exec.Command(node, filepath.Join("testdata", "loader_check.js"), filepath.Join("assets", "khalti-checkout.js")).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestWording: one brand and one wording (Thaili, "Mobile number",
// "MPIN"), the TEST MODE marker, and no greyed-out methods; the field
// names on the wire stay Khalti's.
func TestWording(t *testing.T) {
	h := newHandler(t)
	page := get(h, "GET", "/kpg/payment_gateway_widget.html", nil).Body.String()
	for _, want := range []string{`<h1 id="title">Pay with Thaili</h1>`, `<label for="mobile">Mobile number</label>`, `<label for="pin">MPIN</label>`,
		`id="test-mode" class="test-mode" hidden>TEST MODE<`, "Secured by Thaili", `name="transaction_pin"`, `name="confirmation_code"`,
		`src="/static/favicon.svg"`} {
		if !strings.Contains(page, want) {
			t.Errorf("widget page lacks %q", want)
		}
	}
	for _, bad := range []string{"Khalti ID", "Khalti PIN", "Khalti wallet"} {
		if strings.Contains(page, bad) {
			t.Errorf("widget page says %q", bad)
		}
	}
	script := get(h, "GET", "/kpg/widget.js", nil).Body.String()
	for _, bad := range []string{"Khalti PIN must", `"Khalti wallet"`, `className = "unavailable"`, "Tries remaining"} {
		if strings.Contains(script, bad) {
			t.Errorf("widget.js says %q", bad)
		}
	}
	for _, want := range []string{`"test_public_key_"`, "maskMobile(body.mobile)", "AVAILABLE[k]", "nav.hidden"} {
		if !strings.Contains(script, want) {
			t.Errorf("widget.js lacks %q", want)
		}
	}
	if css := get(h, "GET", "/kpg/main.css", nil).Body.String(); strings.Contains(css, "#999") || strings.Contains(css, ".unavailable") {
		t.Error("main.css still greys out unavailable methods")
	}
}
