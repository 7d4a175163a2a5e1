package sdk_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/web"
)

// The examples and tests run against a real Thaili server, built
// in-process as `thaili serve` builds it (SQLite sandbox, hosted page with
// signed redirects) on an httptest server.
var (
	baseURL string           // the server's URL
	svc     *payment.Service // its service, which plays the payer
)

// secretKey is the sandbox merchant's test secret key.
const secretKey = payment.DemoSecretKey

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk test server:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "thaili-sdk-test")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "thaili.db"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return 0, err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	log := slog.New(slog.DiscardHandler)
	rules := payment.DefaultConfig()
	rules.MPINIterations = 1000 // a cheap MPIN hash keeps the tests fast
	svc, err = payment.New(payment.Deps{Store: db, Config: rules, Now: time.Now, Rand: rand.Reader, Secret: secret, Log: log})
	if err != nil {
		return 0, err
	}
	if _, err := svc.Seed(ctx); err != nil {
		return 0, err
	}
	pages, err := web.New(web.Options{Service: svc, Log: log, Key: secret, SignRedirects: true})
	if err != nil {
		return 0, err
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	handler = api.New(api.Options{Service: svc, Log: log, PublicURL: srv.URL, IDs: ids.Generator{Rand: rand.Reader}, Pages: pages})
	baseURL = srv.URL
	return m.Run(), nil
}

// payEPayment pays the ePayment pidx as a sandbox payer would on the
// hosted page: sign in with mobile and MPIN, then the confirmation code.
func payEPayment(pidx string) {
	ctx := context.Background()
	if _, err := svc.StartEPayment(ctx, pidx, "9800000001", payment.SandboxMPIN, "browser-1"); err != nil {
		panic(err)
	}
	if _, err := svc.CompleteEPayment(ctx, pidx, svc.Config().TestOTP, payment.SandboxMPIN, "browser-1"); err != nil {
		panic(err)
	}
}

// cancelEPayment cancels pidx as the payer's Cancel button does.
func cancelEPayment(pidx string) {
	if _, err := svc.CancelEPayment(context.Background(), pidx, "browser-1"); err != nil {
		panic(err)
	}
}

// confirmedLegacyPayment makes a legacy (KPG-1) payment of amount paisa up
// to confirm, as Khalti's widget does in the payer's browser, and returns
// its token for the merchant's server to verify.
func confirmedLegacyPayment(amount int64) string {
	ctx := context.Background()
	res, err := svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: "9800000002",
		MPIN: payment.SandboxMPIN, Amount: money.Paisa(amount), ProductIdentity: "book-1", ProductName: "A book"})
	if err != nil {
		panic(err)
	}
	if _, err := svc.Confirm(ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token,
		ConfirmationCode: svc.Config().TestOTP, MPIN: payment.SandboxMPIN}); err != nil {
		panic(err)
	}
	return res.Token
}
