// Package demo is the sandbox's demo shop at /demo/: one product that can
// be paid through the hosted ePayment page (docs/khalti.md §3.1, §3.3) or through the
// web checkout widget (docs/khalti.md §7), with the merchant's server side done
// in-process through the payment service under the demo merchant's test
// keys. It is served only beside a seeded sandbox.
package demo

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets
var assets embed.FS

// The product on sale.
const (
	ProductIdentity = "thaili-demo-tshirt"
	ProductName     = "Thaili demo T-shirt"
	// Price is what the product costs: Rs 100.
	Price money.Paisa = 10000
)

// Options configure the Shop.
type Options struct {
	Service *payment.Service
	// Identity resolves keys, sessions and sign-ins.
	Identity *identity.Service
	Log      *slog.Logger
	// PublicURL is the server's base URL, without a trailing slash; the
	// return_url and website_url sent at initiate are built on it.
	PublicURL string
}

// Shop serves the demo shop's pages under /demo/.
type Shop struct {
	svc       *payment.Service
	id        *identity.Service
	log       *slog.Logger
	publicURL string
	tmpl      *template.Template
	mux       *http.ServeMux
	static    map[string][]byte
}

// New builds the shop from its embedded templates and assets.
func New(o Options) (*Shop, error) {
	tmpl, err := template.ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, err
	}
	s := &Shop{svc: o.Service, id: o.Identity, log: o.Log, publicURL: strings.TrimRight(o.PublicURL, "/"), tmpl: tmpl,
		mux: http.NewServeMux(), static: map[string][]byte{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, name := range []string{"shop.js", "shop.css"} {
		if s.static[name], err = assets.ReadFile("assets/" + name); err != nil {
			return nil, err
		}
	}
	s.mux.HandleFunc("/demo/{$}", only(http.MethodGet, s.handleProduct))
	s.mux.HandleFunc("/demo/pay", only(http.MethodPost, s.handlePay))
	s.mux.HandleFunc("/demo/return", only(http.MethodGet, s.handleReturn))
	s.mux.HandleFunc("/demo/verify", only(http.MethodPost, s.handleVerify))
	s.mux.HandleFunc("/demo/shop.js", only(http.MethodGet, s.handleStatic("shop.js", "text/javascript; charset=utf-8")))
	s.mux.HandleFunc("/demo/shop.css", only(http.MethodGet, s.handleStatic("shop.css", "text/css; charset=utf-8")))
	s.mux.HandleFunc("/demo/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
	})
	return s, nil
}

// ServeHTTP serves the shop's paths.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// only answers any method but method (and HEAD for GET) with a JSON 405,
// which a method pattern would leave to the shop's catch-all 404.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method not allowed."})
			return
		}
		h(w, r)
	}
}

// caller authenticates as the demo merchant with its test secret key, as
// the shop's server would with the API.
func (s *Shop) caller(r *http.Request) (identity.Caller, error) {
	return s.id.Authenticate(r.Context(), payment.DemoSecretKey, store.SecretKey)
}

// pageCSP allows the shop's own scripts, styles and calls, the widget's
// iframe from this host, and form posts that redirect to the payment page.
func (s *Shop) pageCSP() string {
	formAction := "'self'"
	if u, err := url.Parse(s.publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"frame-src 'self'; form-action " + formAction + "; base-uri 'none'; frame-ancestors 'none'"
}

// render writes a page from the templates with the shop's headers.
func (s *Shop) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("demo template", "template", name, "err", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", s.pageCSP())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Shop) handleStatic(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		w.Write(s.static[name])
	}
}

// productPage is the data of the product page.
type productPage struct {
	Name, Identity, URL, PublicKey string
	Amount                         int64
	Price                          string
	FirstPayer, LastPayer          string
	MPIN, OTP                      string
	Error                          string
}

func (s *Shop) product(errMsg string) productPage {
	return productPage{
		Name: ProductName, Identity: ProductIdentity, URL: s.publicURL + "/demo/", PublicKey: payment.DemoPublicKey,
		Amount: int64(Price), Price: rupees(Price),
		FirstPayer: payment.SandboxPayers[0], LastPayer: payment.SandboxPayers[len(payment.SandboxPayers)-1], MPIN: payment.SandboxMPIN, OTP: s.svc.Config().TestOTP, Error: errMsg,
	}
}

// handleProduct is GET /demo/: the product and both ways to pay.
func (s *Shop) handleProduct(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "product.html", s.product(""))
}

// handlePay is POST /demo/pay: the shop's server initiates an ePayment
// and sends the buyer to its payment_url.
func (s *Shop) handlePay(w http.ResponseWriter, r *http.Request) {
	caller, err := s.caller(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	order := "demo-" + strings.ToLower(rand.Text()[:12])
	p, err := s.svc.InitiateEPayment(r.Context(), caller, payment.EPaymentInput{
		ReturnURL: s.publicURL + "/demo/return", WebsiteURL: s.publicURL + "/demo/",
		Amount: Price, PurchaseOrderID: order, PurchaseOrderName: ProductName,
		Details: map[string]any{}, Extra: map[string]any{},
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.PaymentURL(p), http.StatusSeeOther)
}

// PaymentURL is the payment_url the initiate API answers for p.
func (s *Shop) PaymentURL(p store.Payment) string { return payment.PaymentURL(s.publicURL, p) }

// fail shows the product page with the service's error.
func (s *Shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := fault.AsError(err)
	if e.Kind == fault.KindInternal {
		s.log.ErrorContext(r.Context(), "demo shop", "err", err)
	}
	s.render(w, httpStatus(e.Kind), "product.html", s.product(errorText(e)))
}

// param is one query parameter of the return URL, in the order received.
type param struct{ Key, Value string }

// returnPage is the data of the return page.
type returnPage struct {
	Params                                        []param
	Pidx, Status, TransactionID, Amount, Fee, Err string
	Paid                                          bool
}

// handleReturn is GET /demo/return: the return_url. Like a real shop it
// trusts only its own lookup, and shows the parameters it was sent.
func (s *Shop) handleReturn(w http.ResponseWriter, r *http.Request) {
	data := returnPage{Params: orderedQuery(r.URL.RawQuery), Pidx: r.URL.Query().Get("pidx")}
	status := http.StatusOK
	caller, err := s.caller(r)
	if err == nil {
		if data.Pidx == "" {
			err = fault.FieldError("pidx", "This field is required.")
		} else {
			var t payment.Transaction
			if t, err = s.svc.LookupEPayment(r.Context(), caller, data.Pidx); err == nil {
				p := t.Payment
				data.Status = lookupStatus(p.State)
				data.Paid = p.State == store.Completed
				data.Amount = rupees(p.Amount)
				data.Fee = rupees(p.FeeAmount)
				if data.Paid || p.State == store.Refunded || p.State == store.PartiallyRefunded {
					data.TransactionID = p.Idx
				}
			}
		}
	}
	if err != nil {
		e := fault.AsError(err)
		status, data.Err = httpStatus(e.Kind), errorText(e)
	}
	s.render(w, status, "return.html", data)
}

// lookupStatus is the status word the lookup API reports for a state.
func lookupStatus(st store.State) string {
	if st == store.Disabled || st == store.Failed {
		return "Failed"
	}
	return string(st)
}

// verifyRequest is what the product page's onSuccess handler posts.
type verifyRequest struct {
	Token  string `json:"token"`
	Amount any    `json:"amount"`
}

// handleVerify is POST /demo/verify: the shop's server verifies the token
// the widget's onSuccess received, with its secret key (docs/khalti.md §5.3).
func (s *Shop) handleVerify(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]any{"detail": "Send the body as application/json."})
		return
	}
	var req verifyRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error."})
		return
	}
	amount, err := money.Parse(req.Amount)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"amount": []string{err.Error()}})
		return
	}
	caller, err := s.caller(r)
	if err != nil {
		s.verifyError(w, r, err)
		return
	}
	t, err := s.svc.Verify(r.Context(), caller, req.Token, amount)
	if err != nil {
		s.verifyError(w, r, err)
		return
	}
	p := t.Payment
	writeJSON(w, http.StatusOK, map[string]any{
		"idx": p.Idx, "token": p.Token, "state": string(p.State), "amount": int64(p.Amount),
		"fee_amount": int64(p.FeeAmount), "product_identity": p.ProductIdentity, "product_name": p.ProductName,
		"mobile": phone.MaskPayer(t.Consumer.Mobile), // a merchant sees the payer masked, as in verify's record
	})
}

func (s *Shop) verifyError(w http.ResponseWriter, r *http.Request, err error) {
	e := fault.AsError(err)
	if e.Kind == fault.KindInternal {
		s.log.ErrorContext(r.Context(), "demo verify", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "A server error occurred."})
		return
	}
	body := map[string]any{}
	for f, msgs := range e.Fields {
		body[f] = msgs
	}
	if e.Detail != "" {
		body["detail"] = e.Detail
	}
	writeJSON(w, httpStatus(e.Kind), body)
}

// httpStatus maps a service error kind to an HTTP status.
func httpStatus(k fault.Kind) int {
	switch k {
	case fault.KindValidation, fault.KindLocked:
		return http.StatusBadRequest
	case fault.KindNotFound:
		return http.StatusNotFound
	case fault.KindUnauthorized:
		return http.StatusUnauthorized
	case fault.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// errorText is a one-line description of a service error.
func errorText(e *fault.Error) string {
	if e.Kind == fault.KindInternal {
		return "A server error occurred."
	}
	var parts []string
	for f, msgs := range e.Fields {
		parts = append(parts, f+": "+strings.Join(msgs, " "))
	}
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	if len(parts) == 0 {
		return "The request failed."
	}
	return strings.Join(parts, "; ")
}

// orderedQuery splits a raw query into its parameters, keeping their order.
func orderedQuery(raw string) []param {
	var out []param
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		ku, err1 := url.QueryUnescape(k)
		vu, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			ku, vu = k, v
		}
		out = append(out, param{ku, vu})
	}
	return out
}

// rupees formats paisa as "Rs 100.00".
func rupees(p money.Paisa) string { return p.String() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"A server error occurred."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
