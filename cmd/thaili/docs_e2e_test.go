package main

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/apidoc"
)

// docsCurl is a curl example of the reference page as a request.
type docsCurl struct {
	method, url, body string
	header            http.Header
}

// parseDocsCurl reads the page's curl examples, which it writes one
// option a line: curl [-X M] "URL", -H "K: V" or -H 'K: V', -d '...'.
func parseDocsCurl(t *testing.T, cmd string) docsCurl {
	t.Helper()
	unquote := func(s string) string {
		switch {
		case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
			return s[1 : len(s)-1]
		case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
			return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'")
		}
		t.Fatalf("unquoted argument %q in %s", s, cmd)
		return ""
	}
	c := docsCurl{method: "GET", header: http.Header{}}
	for i, line := range strings.Split(cmd, " \\\n  ") {
		opt, arg, _ := strings.Cut(line, " ")
		switch {
		case i == 0 && opt == "curl":
			if m, rest, ok := strings.Cut(arg, " "); ok && m == "-X" {
				c.method, arg = strings.Fields(rest)[0], strings.TrimPrefix(rest, strings.Fields(rest)[0]+" ")
			}
			c.url = unquote(arg)
		case opt == "-H":
			k, v, _ := strings.Cut(unquote(arg), ": ")
			c.header.Set(k, v)
		case opt == "-d":
			c.body = unquote(arg)
			if c.method == "GET" {
				c.method = "POST"
			}
		default:
			t.Fatalf("line %q of %s", line, cmd)
		}
	}
	return c
}

// TestDocsExamplesWork: every curl example on /docs/ (and the quick
// start's) works against a sandbox, run in an order where each uses the
// objects the ones before it made: the examples' ids are replaced by the
// real ones, nothing else changes.
func TestDocsExamplesWork(t *testing.T) {
	s := startServer(t)
	page := s.do(t, "GET", "/docs/", "", "")
	mustStatus(t, page, 200)
	doc, err := apidoc.Document()
	if err != nil {
		t.Fatal(err)
	}
	ops, err := apidoc.Operations(doc)
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{}
	pre := regexp.MustCompile(`(?s)<section class="op" id="([^"]+)">.*?<pre class="example"[^>]*><code>(.*?)</code></pre>`)
	for _, m := range pre.FindAllStringSubmatch(page.Raw, -1) {
		examples[m[1]] = html.UnescapeString(m[2])
	}
	// The example ids and what replaces them, as the run makes them.
	ids := map[string]string{}
	run := func(id string, want int) response {
		t.Helper()
		cmd, ok := examples[id]
		if !ok {
			t.Fatalf("the page has no example for %s", id)
		}
		delete(examples, id)
		for example, real := range ids {
			cmd = strings.ReplaceAll(cmd, example, real)
		}
		c := parseDocsCurl(t, cmd)
		req, err := http.NewRequest(c.method, strings.Replace(c.url, "$B", s.URL, 1), strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			req.Header[k] = []string{strings.ReplaceAll(v[0], "$SK", testSK)}
		}
		r := s.send(t, req)
		if r.Status != want {
			t.Fatalf("%s: %d, want %d: %s\n%s", id, r.Status, want, r.Raw, cmd)
		}
		return r
	}
	field := func(r response, k string) string {
		v, _ := r.Body[k].(string)
		if v == "" {
			t.Fatalf("no %s in %s", k, r.Raw)
		}
		return v
	}

	ids["9DwV69XuFRmEGWiUyg22ki"] = field(run("webhookCreate", 201), "idx")
	ids["VGMyaKVDQQyorBiQ3W99WL"] = field(run("legacyInitiate", 200), "token")
	ids["8xmeJnNXfoVjCvGcZiiGe7"] = field(run("legacyConfirm", 200), "idx")
	if r := run("legacyVerify", 200); r.Body["state"].(map[string]any)["name"] != "Completed" {
		t.Fatalf("verify: %s", r.Raw)
	}
	run("legacyStatus", 200)
	ids["bZQLD9wRVWo4CdESSfuSsB"] = field(run("epaymentInitiate", 200), "pidx")
	run("epaymentLookup", 200)
	run("epaymentLookupSDK", 200)
	run("epaymentDetail", 200)
	run("transactionList", 200)
	run("transactionDetail", 200)
	run("refund", 200)
	// The ePayment refund path refunds a second captured payment (the
	// first is partly refunded already).
	_, ids["GFq9PFS7b2iYvL8Lir9oXe"] = s.pay(t, testPK, testSK, "9800000002", 2000)
	run("epaymentRefund", 200)
	run("webhookList", 200)
	deliveries := run("webhookDeliveries", 200)
	list, _ := deliveries.Body["deliveries"].([]any)
	if len(list) == 0 {
		t.Fatalf("no delivery for the verified payment: %s", deliveries.Raw)
	}
	ids["Q4ghgcdf7hgutfXnT5CtsZ"] = list[len(list)-1].(map[string]any)["idx"].(string)
	run("webhookReplay", 200)
	if r := run("webhookTest", 200); r.Body["event_type"] != "webhook.test" {
		t.Fatalf("test event: %s", r.Raw)
	}
	run("webhookDelete", 200)
	for _, id := range []string{"bankListV5", "bankListV2", "health", "ready", "metrics", "openapi", "docs"} {
		run(id, 200)
	}
	for _, op := range ops {
		if _, left := examples[op.ID]; left && !op.Webhook {
			t.Errorf("the example of %s was not run", op.ID)
		}
	}

	// The quick start: initiate, then look up with the form body.
	quick := regexp.MustCompile(`(?s)id="quick-start".*?<pre[^>]*><code>B=[^\n]*\nSK=([^<]*)</code></pre>.*?<pre[^>]*><code>(curl .*?)</code></pre>.*?<pre[^>]*><code>PIDX=\S+[^\n]*\n(curl .*?)</code></pre>`).FindStringSubmatch(page.Raw)
	if quick == nil || quick[1] != testSK {
		t.Fatalf("the quick start's steps are not on the page")
	}
	examples["quick-initiate"], examples["quick-lookup"] = html.UnescapeString(quick[2]), html.UnescapeString(quick[3])
	pidx := field(run("quick-initiate", 200), "pidx")
	ids["$PIDX"] = pidx
	if r := run("quick-lookup", 200); r.Body["status"] != "Initiated" || r.Body["pidx"] != pidx {
		t.Fatalf("quick start lookup: %s", r.Raw)
	}
	s.ledgerOK(t)
}
