package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

func TestReturnURL(t *testing.T) {
	tx := payment.Transaction{
		Payment:  store.Payment{Token: "P", Idx: "T", Amount: 1300, PurchaseOrderID: "o 1", PurchaseOrderName: "Book & pen"},
		Consumer: store.Consumer{Mobile: "9800000904"},
	}
	tests := []struct {
		ret  string
		paid bool
		want string
	}{
		{"https://shop.example/return?order=7", true, "https://shop.example/return?order=7&pidx=P&txnId=T&amount=1300&total_amount=1300&status=Completed&mobile=98XXXXX904&tidx=T&purchase_order_id=o+1&purchase_order_name=Book+%26+pen&transaction_id=T"},
		{"http://example.com/", false, "http://example.com/?pidx=P&transaction_id=&tidx=&amount=1300&total_amount=1300&mobile=&status=User+canceled&purchase_order_id=o+1&purchase_order_name=Book+%26+pen"},
		{"https://x.example/r?status=old&a=1#top", false, "https://x.example/r?a=1&pidx=P&transaction_id=&tidx=&amount=1300&total_amount=1300&mobile=&status=User+canceled&purchase_order_id=o+1&purchase_order_name=Book+%26+pen#top"},
	}
	for _, tt := range tests {
		tx.Payment.ReturnURL = tt.ret
		if got := returnURL(tx, tt.paid); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.ret, got, tt.want)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	for d, want := range map[time.Duration]string{
		29*time.Minute + 30*time.Second: "expires in 30 min",
		29 * time.Minute:                "expires in 29 min",
		3*time.Hour + 5*time.Minute:     "expires in 3 h 5 min",
		7 * 24 * time.Hour:              "expires in 7 days",
		-time.Second:                    "expires now",
	} {
		if got := expiresIn(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestToken(t *testing.T) {
	p, err := New(Options{Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := New(Options{Key: []byte("other")})
	const c, d = "cookie-of-one-browser-0123456789", "cookie-of-another-one-0123456789"
	switch {
	case !p.validToken("P", c, p.token("P", c)):
		t.Fatal("the page's own token is refused")
	case p.validToken("Q", c, p.token("P", c)):
		t.Fatal("a token for another payment is accepted")
	case p.validToken("P", d, p.token("P", c)):
		t.Fatal("a token from another browser's page is accepted")
	case p.validToken("P", c, q.token("P", c)):
		t.Fatal("a token under another key is accepted")
	case p.validToken("P", c, ""):
		t.Fatal("an empty token is accepted")
	}
}

// TestHomeWithoutPidx: / without a pidx is the home page; any pidx, and
// /wallet/ without one, stay the hosted page's.
func TestHomeWithoutPidx(t *testing.T) {
	home := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home page") })
	p, err := New(Options{Key: []byte("k"), Home: home})
	if err != nil {
		t.Fatal(err)
	}
	for target, wantHome := range map[string]bool{"/": true, "/?mode=wallet": true, "/wallet/": false, "/wallet": false} {
		w := httptest.NewRecorder()
		p.Payment().ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if got := w.Body.String() == "home page"; got != wantHome {
			t.Errorf("GET %s: home %t, want %t (%d %.80q)", target, got, wantHome, w.Code, w.Body.String())
		}
	}
}
