package site

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/thaili/thaili/internal/browsertest"
)

// TestLayoutPassesThePageChecks draws every part of site.css (header,
// Test/Live switch, test ribbon, navigation, flashes, cards, badges, a
// table that becomes cards, forms, a secret shown once, a long pre) in the
// shared layout and runs the page checks every page must pass: no sideways
// scroll at 390 px, labels, text contrast of the stylesheet's colours, and
// visible focus.
func TestLayoutPassesThePageChecks(t *testing.T) {
	rd, err := NewRenderer(Chrome{Brand: "Thaili for merchants", Home: "/t/", LogoutPath: "/t/logout"}, nil, os.DirFS("testdata"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/site.css", Stylesheet())
	mux.Handle("GET /static/site.js", Script())
	mux.HandleFunc("GET /t/", func(w http.ResponseWriter, r *http.Request) {
		v := &struct{ Frame }{Frame{
			Title: "Payments", User: "shop@example.com", CSRF: "token", TestMode: true,
			Notice: "Rs 500.00 was refunded to the payer.", Error: "Enter an amount in rupees.", Errors: []string{"Tries remaining: 2"},
			Nav:   []Link{{Label: "Overview", URL: "/t/"}, {Label: "Payments", URL: "/t/p", Current: true}, {Label: "Refunds", URL: "/t/r"}, {Label: "Webhooks", URL: "/t/w"}, {Label: "Keys", URL: "/t/k"}, {Label: "Settings", URL: "/t/s"}, {Label: "Go live", URL: "/t/g"}},
			Books: []Link{{Label: "Test", URL: "/t/?book=test", Current: true}, {Label: "Live", URL: "/t/?book=live"}},
		}}
		rd.Render(w, r, "sink", v)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t, 2*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/t/"), chromedp.WaitVisible(chromedp.CSS("#main"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Check(t, ctx, "site-layout")
}
