package apidoc

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/payment"
)

// TestExamplesMatchSchemas: every example in the document is valid for
// the schema or parameter it sits in, so the page shows nothing the
// server would refuse or never send.
func TestExamplesMatchSchemas(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	walk(doc, "#", func(m map[string]any, at string) {
		if ex, ok := m["example"]; ok && m["in"] != nil { // a parameter
			n++
			if err := Validate(doc, m["schema"], jsonValue(t, ex)); err != nil {
				t.Errorf("%s: example %v: %v", at, ex, err)
			}
		}
		if strings.HasSuffix(at, "/schema") || strings.HasPrefix(at, "#/components/schemas/") && strings.Count(at, "/") == 3 {
			walkSchema(m, at, func(s map[string]any, at string) {
				for _, ex := range list(s["examples"]) {
					n++
					if err := Validate(doc, s, jsonValue(t, ex)); err != nil {
						t.Errorf("%s: example %s: %v", at, show(ex), err)
					}
				}
			})
		}
	})
	if n < 150 {
		t.Fatalf("only %d examples found", n)
	}
}

// jsonValue round-trips v through JSON with numbers as json.Number, as
// Validate sees request bodies.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

// section returns the HTML of the page's section for an operation id.
func section(page, id string) string {
	start := strings.Index(page, `<section class="op" id="`+id+`">`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</section>")
	if end < 0 {
		return ""
	}
	return page[start : start+end]
}

var (
	examplePre = regexp.MustCompile(`(?s)<pre class="example"[^>]*><code>(.*?)</code></pre>`)
	answerPre  = regexp.MustCompile(`(?s)<summary>Example answer \((\d+)\)</summary>\s*<pre[^>]*><code>(.*?)</code></pre>`)
)

// shellWords splits a command as a POSIX shell would for the page's
// curl examples: single and double quotes, backslash-newline between
// lines. $ variables are left as written.
func shellWords(cmd string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(cmd[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' at %d", i)
			}
			cur.WriteString(cmd[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			j := strings.IndexByte(cmd[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf(`unclosed " at %d`, i)
			}
			cur.WriteString(cmd[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '\\' && i+1 < len(cmd) && cmd[i+1] == '\n':
			i++
		case c == '\\' && i+1 < len(cmd):
			cur.WriteByte(cmd[i+1])
			i++
			in = true
		case c == ' ' || c == '\n' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// curlRequest is what a curl example asks for.
type curlRequest struct {
	Method, URL string
	Headers     map[string]string
	Body        string
	HasBody     bool
}

// parseCurl reads a page's curl example: curl [-X M] URL [-H h]... [-d body].
func parseCurl(cmd string) (curlRequest, error) {
	words, err := shellWords(cmd)
	if err != nil {
		return curlRequest{}, err
	}
	r := curlRequest{Method: "GET", Headers: map[string]string{}}
	if len(words) == 0 || words[0] != "curl" {
		return r, fmt.Errorf("not a curl command: %q", cmd)
	}
	explicit := false
	for i := 1; i < len(words); i++ {
		w := words[i]
		if (w == "-X" || w == "-H" || w == "-d") && i+1 >= len(words) {
			return r, fmt.Errorf("%s without a value", w)
		}
		switch w {
		case "-X":
			r.Method, explicit = words[i+1], true
			i++
		case "-H":
			k, v, ok := strings.Cut(words[i+1], ": ")
			if !ok {
				return r, fmt.Errorf("header %q", words[i+1])
			}
			r.Headers[k] = v
			i++
		case "-d":
			r.Body, r.HasBody = words[i+1], true
			if !explicit {
				r.Method = "POST"
			}
			i++
		default:
			if r.URL != "" {
				return r, fmt.Errorf("two URLs: %q and %q", r.URL, w)
			}
			r.URL = w
		}
	}
	return r, nil
}

// exampleProblems checks a rendered page against the document, reading
// the document directly (not through Operations): every operation under
// paths has a curl example with its method, its path (path parameters
// filled in), every required query parameter, the secret key header when
// it is secured, and a JSON body that is valid for its request schema;
// every webhook has an example delivery whose headers and body are
// valid; every example answer is valid for its response's schema.
func exampleProblems(doc map[string]any, page string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, sectionName := range []string{"paths", "webhooks"} {
		items, _ := doc[sectionName].(map[string]any)
		for p, rawItem := range items {
			item, _ := rawItem.(map[string]any)
			for _, m := range Methods {
				op, ok := item[m].(map[string]any)
				if !ok {
					continue
				}
				id := str(op["operationId"])
				sec := section(page, id)
				ex := examplePre.FindStringSubmatch(sec)
				if ex == nil {
					bad("%s %s (%s): no example on the page", m, p, id)
					continue
				}
				text := html.UnescapeString(ex[1])
				var params []map[string]any
				for _, pv := range list(op["parameters"]) {
					prm, err := Deref(doc, pv)
					if err != nil {
						bad("%s: %v", id, err)
						continue
					}
					params = append(params, prm)
				}
				var body string
				hasBody := false
				if sectionName == "webhooks" {
					head, b, ok := strings.Cut(text, "\n\n")
					if !ok || !strings.HasPrefix(head, "POST ") {
						bad("%s: the delivery example is not an HTTP POST with a body: %q", id, text)
						continue
					}
					body, hasBody = b, true
					for _, prm := range params {
						if prm["in"] == "header" && !strings.Contains(head, "\n"+str(prm["name"])+": ") {
							bad("%s: the delivery lacks the header %s", id, str(prm["name"]))
						}
					}
				} else {
					r, err := parseCurl(text)
					if err != nil {
						bad("%s: %v", id, err)
						continue
					}
					if r.Method != strings.ToUpper(m) {
						bad("%s: curl sends %s, the operation is %s", id, r.Method, strings.ToUpper(m))
					}
					u, err := url.Parse(strings.Replace(r.URL, "$B", "http://thaili.test", 1))
					if err != nil || !strings.HasPrefix(r.URL, "$B/") {
						bad("%s: URL %q is not on $B", id, r.URL)
						continue
					}
					want := p
					for _, prm := range params {
						switch prm["in"] {
						case "path":
							want = strings.ReplaceAll(want, "{"+str(prm["name"])+"}", fmt.Sprint(prm["example"]))
						case "query":
							if prm["required"] == true && !u.Query().Has(str(prm["name"])) {
								bad("%s: the required query parameter %s is missing", id, str(prm["name"]))
							}
						}
					}
					if u.Path != want || strings.Contains(u.Path, "{") {
						bad("%s: curl's path is %q, want %q", id, u.Path, want)
					}
					secured := len(list(op["security"])) > 0
					if got := r.Headers["Authorization"]; secured && got != "Key $SK" || !secured && got != "" {
						bad("%s: Authorization %q, secured %v", id, got, secured)
					}
					body, hasBody = r.Body, r.HasBody
					if hasBody && r.Headers["Content-Type"] != "application/json" {
						bad("%s: a body sent as %q", id, r.Headers["Content-Type"])
					}
				}
				rb, _ := op["requestBody"].(map[string]any)
				switch {
				case rb == nil && hasBody:
					bad("%s: the example sends a body the operation does not take", id)
				case rb != nil && rb["required"] == true && !hasBody:
					bad("%s: the example lacks the required body", id)
				case hasBody:
					content, _ := rb["content"].(map[string]any)
					mo, _ := content["application/json"].(map[string]any)
					var v any
					dec := json.NewDecoder(strings.NewReader(body))
					dec.UseNumber()
					if err := dec.Decode(&v); err != nil {
						bad("%s: the body is not JSON: %v\n%s", id, err, body)
					} else if err := Validate(doc, mo["schema"], v); err != nil {
						bad("%s: the body does not match the schema: %v", id, err)
					}
				}
				if ans := answerPre.FindStringSubmatch(sec); ans != nil {
					resps, _ := op["responses"].(map[string]any)
					resp, err := Deref(doc, resps[ans[1]])
					if err != nil {
						bad("%s: answer %s: %v", id, ans[1], err)
						continue
					}
					content, _ := resp["content"].(map[string]any)
					if mo, ok := content["application/json"].(map[string]any); ok {
						var v any
						dec := json.NewDecoder(strings.NewReader(html.UnescapeString(ans[2])))
						dec.UseNumber()
						if err := dec.Decode(&v); err != nil {
							bad("%s: the answer is not JSON: %v", id, err)
						} else if err := Validate(doc, mo["schema"], v); err != nil {
							bad("%s: the example answer does not match the schema: %v", id, err)
						}
					}
				}
			}
		}
	}
	return problems
}

// TestEveryOperationHasAnExample: the page has a working example for
// every operation of the document, and the check finds a missing
// example, a body that does not match, and a field without an example.
func TestEveryOperationHasAnExample(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	page, err := render(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range exampleProblems(doc, string(page)) {
		t.Error(p)
	}
	ops, err := Operations(doc)
	if err != nil {
		t.Fatal(err)
	}
	answers := 0
	for _, op := range ops {
		if len(op.guessed) > 0 {
			t.Errorf("%s: no example in the document for %q", op.ID, op.guessed)
		}
		if op.Answer != "" {
			answers++
		}
	}
	if len(ops) < 25 || answers < len(ops)-2 {
		t.Errorf("%d operations, %d with an example answer", len(ops), answers)
	}

	// The check can fail.
	without := examplePre.ReplaceAllStringFunc(string(page), func(s string) string {
		if strings.Contains(s, "/api/v2/payment/verify/") {
			return ""
		}
		return s
	})
	if ps := exampleProblems(doc, without); len(ps) != 1 || !strings.Contains(ps[0], "legacyVerify") {
		t.Errorf("a page without verify's example: %q", ps)
	}
	at := strings.Index(string(page), `<section class="op" id="epaymentInitiate">`)
	wrongBody := string(page[:at]) + strings.Replace(string(page[at:]), "&#34;amount&#34;: 1300", "&#34;amount&#34;: true", 1)
	if ps := exampleProblems(doc, wrongBody); len(ps) == 0 {
		t.Error("an example body with a boolean amount passed")
	}
	spoiled, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	props := spoiled["components"].(map[string]any)["schemas"].(map[string]any)["LegacyVerifyRequest"].(map[string]any)["properties"].(map[string]any)
	delete(props["token"].(map[string]any), "examples")
	ops, err = Operations(spoiled)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ops, func(op Operation) bool { return op.ID == "legacyVerify" })
	if i < 0 || !slices.Contains(ops[i].guessed, "legacyVerify body.token") {
		t.Errorf("a body field without an example was not noticed: %v", ops[i].guessed)
	}
}

func TestShellWordsAndQuote(t *testing.T) {
	for _, s := range []string{"plain", "it's", `say "hi"`, "$SK", "a\\b", "x!"} {
		words, err := shellWords("echo " + shellQuote(s))
		if err != nil || len(words) != 2 || words[1] != s {
			t.Errorf("%q quoted as %s reads back as %q (%v)", s, shellQuote(s), words, err)
		}
	}
	if q := shellQuote("Idempotency-Key: k1"); q != `"Idempotency-Key: k1"` {
		t.Errorf("a plain header is quoted as %s", q)
	}
	if q := shellQuote(`{"a": "it's"}`); q != `'{"a": "it'\''s"}'` {
		t.Errorf("JSON is quoted as %s", q)
	}
}

// TestKeyOrder: the page follows the document's order of paths.
func TestKeyOrder(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	paths := keyOrder("paths")
	if len(paths) != len(doc["paths"].(map[string]any)) || paths[0] != "/api/v2/epayment/initiate/" || paths[len(paths)-1] != "/docs/" {
		t.Errorf("paths in order: %q", paths)
	}
	if hooks := keyOrder("webhooks"); !slices.Equal(hooks, []string{"payment-event"}) {
		t.Errorf("webhooks in order: %q", hooks)
	}
	if none := keyOrder("nothing"); none != nil {
		t.Errorf("a missing section: %q", none)
	}
}

// TestRender: the page has the quick start with the sandbox's keys, the
// navigation (sidebar and phone list) to every operation, the widget
// guide, its stylesheet and no licence it was not given.
func TestRender(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := render(doc)
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	ops, err := Operations(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if !strings.Contains(page, `id="`+op.ID+`"`) || strings.Count(page, `href="#`+op.ID+`"`) < 2 {
			t.Errorf("page lacks %s or its two navigation links", op.ID)
		}
	}
	quick := page[strings.Index(page, `id="quick-start"`):strings.Index(page, `id="authentication"`)]
	for _, want := range []string{payment.DemoPublicKey, payment.DemoSecretKey, "SK=" + payment.DemoSecretKey, "9800000001", "MPIN <code>1111</code>",
		"<code>987654</code>", `curl &#34;$B/api/v2/epayment/initiate/&#34;`, "PIDX=bZQLD9wRVWo4CdESSfuSsB", `-d &#34;pidx=$PIDX&#34;`, "&#34;status&#34;: &#34;Completed&#34;"} {
		if !strings.Contains(quick, want) {
			t.Errorf("the quick start lacks %q", want)
		}
	}
	widget := page[strings.Index(page, `id="widget"`):strings.Index(page, `id="tag-`)]
	for _, want := range []string{"/kpg/khalti-checkout.js", "new KhaltiCheckout({", "publicKey", "productIdentity", "eventHandler", "onSuccess", "onError", "onClose",
		"checkout.show({amount: 1000})", "hide()", "CDN_HOST", "KHALTI_SERVER", "payment_gateway_widget.html", "walletPaymentVerification", "widgetError",
		`href="#legacyVerify"`} {
		if !strings.Contains(widget, want) {
			t.Errorf("the widget guide lacks %q", want)
		}
	}
	if !strings.Contains(page, `<link rel="stylesheet" href="`+cssURL()+`">`) || !strings.HasPrefix(cssURL(), CSSPath+"?v=") {
		t.Errorf("page does not link its stylesheet %s", cssURL())
	}
	if !strings.Contains(page, "Licence: MIT") {
		t.Error("the page does not name the document's licence (MIT, as LICENSE)")
	}
	delete(doc["info"].(map[string]any), "license")
	if raw, err = render(doc); err != nil {
		t.Fatal(err)
	} else if strings.Contains(string(raw), "Licence") {
		t.Error("the page names a licence the document does not have")
	}
	doc["info"].(map[string]any)["license"] = map[string]any{"name": "Example Licence 1.0", "url": "https://licence.example/1.0"}
	raw, err = render(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `Licence: <a href="https://licence.example/1.0">Example Licence 1.0</a>`) {
		t.Error("the page does not show info.license")
	}
}
