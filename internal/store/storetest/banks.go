package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func testBanks(t *testing.T, s store.Store) {
	ctx := context.Background()
	list := func(f store.BankFilter) ([]store.Bank, int) {
		t.Helper()
		var got []store.Bank
		var total int
		view(t, s, func(tx store.Tx) error {
			var err error
			got, total, err = tx.ListBanks(ctx, f)
			return err
		})
		return got, total
	}
	idxsOf := func(bs []store.Bank) []string {
		out := []string{}
		for _, b := range bs {
			out = append(out, b.Idx)
		}
		return out
	}

	got, total := list(store.BankFilter{})
	same(t, "empty list", idxsOf(got), []string{})
	same(t, "empty total", total, 0)

	// Created out of name order, so the listing order is the store's doing.
	banks := []store.Bank{
		{Idx: "bank-idx-nabil", Name: "Nabil Bank Limited", ShortName: "NABIL", Logo: "https://cdn.example/nabil.png",
			SwiftCode: "NARBNPKA", Address: "Kamaladi, Kathmandu", EbankingURL: "https://ebank.example/nabil",
			HasEbanking: true, HasMobileCheckout: true, HasCardpayment: true, PlayStore: "https://play.example/nabil",
			AppStore: "https://apps.example/nabil", CreatedAt: base},
		{Idx: "bank-idx-adbl", Name: "Agricultural Development Bank Limited", ShortName: "ADBL",
			HasEbanking: true, HasDirectWithdraw: true, HasNCHL: true, CreatedAt: base.Add(time.Second)},
		{Idx: "bank-idx-sanima", Name: "Sanima Bank Limited", ShortName: "SANIMA",
			HasMobileCheckout: true, HasMobileBanking: true, CreatedAt: base.Add(2 * time.Second)},
	}
	inTx(t, s, func(tx store.Tx) error {
		for i := range banks {
			if err := tx.CreateBank(ctx, &banks[i]); err != nil {
				return err
			}
			if banks[i].ID == 0 {
				t.Errorf("CreateBank(%s) did not set ID", banks[i].Idx)
			}
		}
		return nil
	})
	nabil, adbl, sanima := banks[0], banks[1], banks[2]
	if nabil.ID == adbl.ID || adbl.ID == sanima.ID || nabil.ID == sanima.ID {
		t.Fatalf("banks share ids: %d %d %d", nabil.ID, adbl.ID, sanima.ID)
	}

	dup := store.Bank{Idx: nabil.Idx, Name: "Copy", ShortName: "COPY", CreatedAt: base}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateBank(ctx, &dup) })
	wantErr(t, "CreateBank(duplicate idx)", err, store.ErrDuplicate)

	// Every field round-trips, and the list is ordered by name.
	got, total = list(store.BankFilter{})
	same(t, "all banks", got, []store.Bank{adbl, nabil, sanima})
	same(t, "all total", total, 3)

	yes, no := true, false
	for _, tc := range []struct {
		what   string
		filter store.BankFilter
		want   []string
	}{
		{"has_ebanking", store.BankFilter{HasEbanking: &yes}, []string{adbl.Idx, nabil.Idx}},
		{"not has_ebanking", store.BankFilter{HasEbanking: &no}, []string{sanima.Idx}},
		{"has_mobile_checkout", store.BankFilter{HasMobileCheckout: &yes}, []string{nabil.Idx, sanima.Idx}},
		{"has_nchl", store.BankFilter{HasNCHL: &yes}, []string{adbl.Idx}},
		{"has_cardpayment", store.BankFilter{HasCardpayment: &yes}, []string{nabil.Idx}},
		{"not has_cardpayment", store.BankFilter{HasCardpayment: &no}, []string{adbl.Idx, sanima.Idx}},
		{"has_mobile_banking", store.BankFilter{HasMobileBanking: &yes}, []string{sanima.Idx}},
		{"ebanking and mobile checkout", store.BankFilter{HasEbanking: &yes, HasMobileCheckout: &yes}, []string{nabil.Idx}},
		{"ebanking without cards", store.BankFilter{HasEbanking: &yes, HasCardpayment: &no}, []string{adbl.Idx}},
		{"nothing matches", store.BankFilter{HasNCHL: &yes, HasMobileBanking: &yes}, []string{}},
	} {
		got, total := list(tc.filter)
		same(t, tc.what, idxsOf(got), tc.want)
		same(t, tc.what+" total", total, len(tc.want))
	}

	// Pages: the total is always the whole selection.
	for _, tc := range []struct {
		offset, limit int
		filter        store.BankFilter
		want          []string
		total         int
	}{
		{0, 1, store.BankFilter{}, []string{adbl.Idx}, 3},
		{1, 1, store.BankFilter{}, []string{nabil.Idx}, 3},
		{2, 1, store.BankFilter{}, []string{sanima.Idx}, 3},
		{3, 1, store.BankFilter{}, []string{}, 3},
		{1, 5, store.BankFilter{}, []string{nabil.Idx, sanima.Idx}, 3},
		{1, 0, store.BankFilter{}, []string{nabil.Idx, sanima.Idx}, 3}, // no limit
		{1, 1, store.BankFilter{HasMobileCheckout: &yes}, []string{sanima.Idx}, 2},
	} {
		tc.filter.Offset, tc.filter.Limit = tc.offset, tc.limit
		got, total := list(tc.filter)
		what := fmt.Sprintf("offset %d limit %d", tc.offset, tc.limit)
		same(t, what, idxsOf(got), tc.want)
		same(t, what+" total", total, tc.total)
	}

	// A failed transaction leaves no bank behind.
	err = s.InTx(ctx, func(tx store.Tx) error {
		b := store.Bank{Idx: "bank-idx-rolled-back", Name: "Gone", ShortName: "GONE", CreatedAt: base}
		if err := tx.CreateBank(ctx, &b); err != nil {
			return err
		}
		return store.ErrConflict
	})
	wantErr(t, "InTx returning an error", err, store.ErrConflict)
	_, total = list(store.BankFilter{})
	same(t, "total after rollback", total, 3)
}
