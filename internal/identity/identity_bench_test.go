package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
)

// BenchmarkIdentityTiming prints how long initiate, sign-up and the MPIN
// reset take for an account that exists and for one that does not, at
// the default (live) hash costs, on SQLite: the pairs should be alike, as
// both do the same slow hashing (TestUnknownNumbersCostTheSame checks
// that structurally; this measures it).
//
//	go test ./internal/identity -run '^$' -bench IdentityTiming -benchtime 50x -count 3
func BenchmarkIdentityTiming(b *testing.B) {
	db := servicetest.SQLite(b)
	// The default (live) hash costs, which servicetest lowers.
	pay, svc := servicetest.New(b, db, time.Now, servicetest.NewPhone(), func(d *servicetest.Deps) { d.Identity.Config = identity.DefaultConfig() })
	ctx := context.Background()
	if _, err := pay.Seed(ctx); err != nil {
		b.Fatal(err)
	}
	// Wallets that exist, one per iteration, so no per-number limit (codes
	// per hour, the MPIN lock) changes the path taken.
	const wallets = 200
	for i := range wallets {
		if _, err := svc.CreateConsumer(ctx, identity.CommandLine("bench"), fmt.Sprintf("98128%05d", i), "Payer", "1111"); err != nil {
			b.Fatal(err)
		}
		if _, err := pay.Topup(ctx, identity.CommandLine("bench"), fmt.Sprintf("98128%05d", i), ledger.Test, 100000); err != nil {
			b.Fatal(err)
		}
	}
	wallet := func(i int) string { return fmt.Sprintf("98128%05d", i%wallets) }
	initiate := func(mobile string) {
		pay.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: mobile, MPIN: "0000", Amount: 1000,
			ProductIdentity: "p", ProductName: "P"})
	}
	cases := []struct {
		name string
		run  func(i int)
	}{
		{"initiate/wallet-wrong-mpin", func(i int) { initiate(wallet(i)) }},
		{"initiate/no-wallet", func(i int) { initiate(fmt.Sprintf("98123%05d", i)) }},
		{"merchant-signup/taken-email", func(i int) {
			svc.SignUpMerchant(ctx, identity.SignUp{Name: "X", Email: payment.DemoMerchantEmail, Phone: fmt.Sprintf("98124%05d", i), Password: "a long password"})
		}},
		{"merchant-signup/new-email", func(i int) {
			svc.SignUpMerchant(ctx, identity.SignUp{Name: "X", Email: fmt.Sprintf("new%d@example.com", i), Phone: fmt.Sprintf("98125%05d", i), Password: "a long password"})
		}},
		{"wallet-signup/taken-mobile", func(i int) { svc.SignUpConsumer(ctx, wallet(i), "X", "1234", "1234") }},
		{"wallet-signup/new-mobile", func(i int) { svc.SignUpConsumer(ctx, fmt.Sprintf("98126%05d", i), "X", "1234", "1234") }},
		{"mpin-reset/wallet", func(i int) { svc.SendMPINResetCode(ctx, wallet(i+wallets/2)) }},
		{"mpin-reset/no-wallet", func(i int) { svc.SendMPINResetCode(ctx, fmt.Sprintf("98127%05d", i)) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if b.N > wallets {
				b.Skipf("at most %d iterations (-benchtime %dx)", wallets, wallets)
			}
			for i := 0; i < b.N; i++ {
				c.run(i)
			}
		})
	}
}
