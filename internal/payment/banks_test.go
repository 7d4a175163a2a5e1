package payment_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// newBankService is a service on a fresh SQLite database with a fixed clock.
func newBankService(t *testing.T, now time.Time) *payment.Service {
	t.Helper()
	svc, _ := servicetest.New(t, servicetest.SQLite(t), func() time.Time { return now }, nil)
	return svc
}

func TestAddBankValidation(t *testing.T) {
	svc := newBankService(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ctx := context.Background()
	valid := payment.NewBank{Name: "Nabil Bank Limited", ShortName: "NABIL"}
	for _, tc := range []struct {
		what string
		edit func(b *payment.NewBank)
		want map[string][]string
	}{
		{"no name", func(b *payment.NewBank) { b.Name = "  " }, map[string][]string{"name": {"This field is required."}}},
		{"no names", func(b *payment.NewBank) { b.Name, b.ShortName = "", "" },
			map[string][]string{"name": {"This field is required."}, "short_name": {"This field is required."}}},
		{"long name", func(b *payment.NewBank) { b.Name = strings.Repeat("x", 201) },
			map[string][]string{"name": {"Ensure this field has no more than 200 characters."}}},
		{"control character", func(b *payment.NewBank) { b.Address = "Kathmandu\x00" },
			map[string][]string{"address": {"Control characters are not allowed."}}},
		{"bad swift", func(b *payment.NewBank) { b.SwiftCode = "NAB1" },
			map[string][]string{"swift_code": {"Enter a valid SWIFT code (8 or 11 letters and digits)."}}},
		{"bad urls", func(b *payment.NewBank) {
			b.Logo, b.EbankingURL, b.PlayStore, b.AppStore = "javascript:alert(1)", "ftp://x.example/", "/relative.png", "https://"
		}, map[string][]string{
			"logo": {"Enter a valid http or https URL."}, "ebanking_url": {"Enter a valid http or https URL."},
			"play_store": {"Enter a valid http or https URL."}, "app_store": {"Enter a valid http or https URL."}}},
	} {
		in := valid
		tc.edit(&in)
		_, err := svc.AddBank(ctx, testActor, in)
		e := fault.AsError(err)
		if err == nil || e.Kind != fault.KindValidation || !reflect.DeepEqual(e.Fields, tc.want) {
			t.Errorf("%s: got %v (fields %v), want fields %v", tc.what, err, e.Fields, tc.want)
		}
	}
	banks, total, err := svc.ListBanks(ctx, payment.BankQuery{Page: 1, PageSize: 10})
	if err != nil || total != 0 || len(banks) != 0 {
		t.Fatalf("after refused banks: %v %d %v", banks, total, err)
	}
}

func TestAddAndListBanks(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := newBankService(t, now)
	ctx := context.Background()
	sanima, err := svc.AddBank(ctx, testActor, payment.NewBank{Name: " Sanima Bank Limited ", ShortName: "SANIMA", SwiftCode: "snmanpka",
		Logo: "https://cdn.example/sanima.png", HasMobileCheckout: true, HasMobileBanking: true})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Bank{ID: sanima.ID, Idx: sanima.Idx, Name: "Sanima Bank Limited", ShortName: "SANIMA", SwiftCode: "SNMANPKA",
		Logo: "https://cdn.example/sanima.png", HasMobileCheckout: true, HasMobileBanking: true, CreatedAt: now}
	if !reflect.DeepEqual(sanima, want) || !ids.Valid(sanima.Idx) {
		t.Fatalf("AddBank returned\n %+v\nwant\n %+v", sanima, want)
	}
	adbl, err := svc.AddBank(ctx, testActor, payment.NewBank{Name: "Agricultural Development Bank Limited", ShortName: "ADBL",
		HasEbanking: true, HasNCHL: true, HasDirectWithdraw: true})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	for _, tc := range []struct {
		q     payment.BankQuery
		want  []store.Bank
		total int
	}{
		{payment.BankQuery{Page: 1, PageSize: 10}, []store.Bank{adbl, sanima}, 2},
		{payment.BankQuery{Page: 2, PageSize: 1}, []store.Bank{sanima}, 2},
		{payment.BankQuery{Page: 1, PageSize: 10, HasNCHL: &yes}, []store.Bank{adbl}, 1},
		{payment.BankQuery{Page: 1, PageSize: 10, HasMobileBanking: &yes}, []store.Bank{sanima}, 1},
		{payment.BankQuery{Page: 1, PageSize: 10, HasCardpayment: &yes}, []store.Bank{}, 0},
	} {
		got, total, err := svc.ListBanks(ctx, tc.q)
		if err != nil || total != tc.total || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListBanks(%+v) = %+v, %d, %v; want %+v, %d", tc.q, got, total, err, tc.want, tc.total)
		}
	}
	if _, _, err := svc.ListBanks(ctx, payment.BankQuery{Page: 0, PageSize: 10}); fault.AsError(err).Kind != fault.KindNotFound {
		t.Errorf("page 0: %v", err)
	}
}
