package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fixtureCSS is the stylesheet of every fixture page. The pages are served
// with the CSP of Thaili's own pages, which forbids inline styles, so
// the fixtures differ by class, as real pages do.
const fixtureCSS = `
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #222; background: #fff; }
main { padding: 16px; max-width: 60rem; margin: 0 auto; }
header { background: #12355b; color: #fff; padding: 8px 16px; }
header a { color: #fff; }
header a:focus-visible { outline-color: #fff; }
.banner { background: linear-gradient(90deg, #0b3d2e, #1d5c3a); color: #fff; padding: 8px; }
.muted { color: #767676; }
.big { font-size: 24px; color: #888; }
.scroll { overflow-x: auto; }
.scroll table { width: 900px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); color: #eee; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid #1a56db; outline-offset: 2px;
}
button { color: #fff; background: #1a56db; border: 0; padding: 8px 12px; }
.wide { width: 600px; height: 20px; }
.grey { color: #aaa; }
.bare:focus, .bare:focus-visible { outline: none; }
.faint::placeholder { color: #bbb; }
.ghost:focus-visible { outline: 2px solid #fff; outline-offset: 2px; }
.pale { background: linear-gradient(90deg, #0b3d2e, #cfe8da); color: #fff; }
`

// goodBody is a page that passes every check while using what the
// checks must not mistake for a problem: text on a dark header and on a
// dark gradient, large text at 3.5:1, 4.5:1 grey, a screen-reader-only
// span in pale grey, a wide table that scrolls inside its own box, every
// way of labelling a field, hidden and submit inputs without labels, an
// iframe, and an autofocused field.
const goodBody = `
<header><a href="/">Thaili</a> <span>Dashboard</span></header>
<div class="banner">Test mode: no real money moves</div>
<main>
<h1>Payments</h1>
<p class="muted">Fees are shown in rupees.</p>
<p class="big">Rs 10,00,000.00</p>
<span class="sr-only">only for screen readers</span>
<form action="/" method="post">
  <label for="name">Name</label> <input id="name" name="name" autofocus>
  <label><input type="checkbox" name="live"> Live</label>
  <select name="book" aria-label="Book"><option>Test</option><option>Live</option></select>
  <span id="note-label">Note</span> <textarea name="note" aria-labelledby="note-label"></textarea>
  <input type="hidden" name="csrf" value="x">
  <input type="submit" class="go" value="Save">
  <button type="button">Copy</button>
</form>
<details><summary>More</summary><p>Details.</p></details>
<iframe src="/framed" title="Checkout"></iframe>
<div class="scroll"><table><tr><th>idx</th><th>Amount</th><th>Status</th></tr>
<tr><td>a1b2c3</td><td>Rs 25.00</td><td>Completed</td></tr></table></div>
</main>`

// fixtures are the pages the test serves: the good one and one page per
// kind of problem, each otherwise like the good one. want lists one
// substring of each problem Check must report; it must report no other.
var fixtures = []struct {
	name string
	head string // replaces the meta viewport when set
	body string
	want []string
}{
	{name: "good", body: goodBody},
	{name: "wide", body: goodBody + `<div class="wide">600 px</div>`,
		want: []string{"at 390 px: scrolls sideways: content is 600px wide in a 390px window; widest: div.wide (right edge 600px, 600px wide)"}},
	{name: "grey", body: goodBody + `<p class="grey">Grey on white</p>`,
		want: []string{`at 1280 and 390 px: low contrast 2.32:1 (needs 4.5:1): p.grey "Grey on white": text #aaaaaa on #ffffff, 16px`}},
	{name: "unlabelled", body: goodBody + `<input id="q" name="q">`,
		want: []string{"at 1280 and 390 px: input without a label: input#q[name=q] (type text)"}},
	{name: "nofocus", body: goodBody + `<button class="bare">Pay</button>`,
		want: []string{`at 1280 and 390 px: no visible focus: button.bare "Pay": focused it has no outline and no box-shadow`}},
	{name: "nometa", head: " ", body: goodBody,
		want: []string{"at 390 px: the page is laid out 980px wide in a 390px window"}},
	{name: "placeholder", body: goodBody + `<label for="s">Search</label><input id="s" class="faint" placeholder="idx, pidx or mobile">`,
		want: []string{`at 1280 and 390 px: low contrast 1.91:1 (needs 4.5:1): input#s.faint::placeholder "idx, pidx or mobile": text #bbbbbb on #ffffff`}},
	{name: "ghost", body: goodBody + `<a class="ghost" href="/x">Settings</a>`,
		want: []string{`at 1280 and 390 px: focus outline hard to see: a.ghost "Settings": outline #ffffff on #ffffff has contrast 1.00:1 (needs 3:1)`}},
	{name: "gradient", body: goodBody + `<p class="pale">White on a pale gradient end</p>`,
		want: []string{`at 1280 and 390 px: low contrast 1.29:1 (needs 4.5:1): p.pale "White on a pale gradient end": text #ffffff on #cfe8da, 16px`}},
}

func fixtureServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-src 'self'; form-action 'self'")
		if r.URL.Path == "/framed" { // a frame is not entered: its page is checked on its own
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>framed</title><p>Pay</p><input id="unlabelled"><button>Pay</button>`)
			return
		}
		if r.URL.Path == "/style.css" {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			fmt.Fprint(w, fixtureCSS)
			return
		}
		for _, f := range fixtures {
			if r.URL.Path == "/"+f.name {
				head := `<meta name="viewport" content="width=device-width, initial-scale=1">`
				if f.head != "" {
					head = f.head
				}
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8">%s<title>%s</title>`+
					`<link rel="stylesheet" href="/style.css"></head><body>%s</body></html>`, head, f.name, f.body)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recorder is a testing.TB that keeps what Check reports with Errorf
// instead of failing the test, so the test can assert on it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

// TestCheckFindsEachProblem proves the checks can fail: each bad fixture
// is reported, with the words that tell the fix, and only for its
// problem; the good page passes.
func TestCheckFindsEachProblem(t *testing.T) {
	if os.Getenv("THAILI_ARTIFACTS") == "" {
		t.Setenv("THAILI_ARTIFACTS", t.TempDir())
	}
	srv := fixtureServer(t)
	ctx := New(t, 120*time.Second)
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			// Chromium focuses an autofocus field a moment after the load.
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"+f.name),
				chromedp.Poll[chromedp.Void](`document.activeElement.id === "name"`,
					chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
				t.Fatal(err)
			}
			state := `innerWidth + " " + (document.activeElement && document.activeElement.id) + " " + scrollY`
			before, err := chromedp.Run(ctx, chromedp.Evaluate[string](state))
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{TB: t}
			Check(rec, ctx, "check-"+f.name)
			if len(rec.errs) != len(f.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(rec.errs), len(f.want), strings.Join(rec.errs, "\n"))
			}
			for _, want := range f.want {
				found := false
				for _, e := range rec.errs {
					found = found || strings.Contains(e, want)
				}
				if !found {
					t.Errorf("no problem says %q; got:\n%s", want, strings.Join(rec.errs, "\n"))
				}
			}
			for _, e := range rec.errs {
				if !strings.HasPrefix(e, "page check-"+f.name+": at ") {
					t.Errorf("problem does not start with the page and width: %q", e)
				}
			}
			for _, w := range []string{"1280", "390"} {
				if _, err := os.Stat(filepath.Join(os.Getenv("THAILI_ARTIFACTS"), "check-"+f.name+"-"+w+".png")); err != nil {
					t.Errorf("screenshot at %s px: %v", w, err)
				}
			}
			// Check puts the page back: the browser's own window, the
			// autofocused field, the top of the page.
			after, err := chromedp.Run(ctx, chromedp.Evaluate[string](state))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(before, " name 0") || after != before {
				t.Errorf("width, focus, scroll before Check %q, after %q", before, after)
			}
		})
	}
}
