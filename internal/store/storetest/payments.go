package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

// newPayment returns an unsaved payment; name makes its idx and token unique.
func newPayment(merchantID, consumerID int64, book ledger.Book, name string, state store.State, created, confirmed time.Time) store.Payment {
	return store.Payment{
		Idx:             "idx-" + name,
		Token:           "token-" + name,
		FeeIdx:          "fee-" + name,
		Book:            book,
		MerchantID:      merchantID,
		ConsumerID:      consumerID,
		State:           state,
		Amount:          12345,
		FeeAmount:       370,
		ProductIdentity: "order-" + name,
		ProductName:     "Product " + name,
		ProductURL:      "https://shop.example.com/" + name,
		Extra:           []byte(`{"merchant_order":"` + name + `","merchant_note":"x"}`),
		OTPHash:         "otp-" + name,
		OTPExpiresAt:    created.Add(5 * time.Minute),
		OTPTries:        1,
		CreatedAt:       created,
		ConfirmedAt:     confirmed,
		UpdatedAt:       created,
	}
}

// samePayment compares payments, Extra as JSON (a store may reformat it).
func samePayment(t *testing.T, what string, got, want store.Payment) {
	t.Helper()
	var gotExtra, wantExtra any
	if err := json.Unmarshal(got.Extra, &gotExtra); err != nil {
		t.Errorf("%s: stored Extra %q is not JSON: %v", what, got.Extra, err)
	}
	if err := json.Unmarshal(want.Extra, &wantExtra); err != nil {
		t.Fatalf("%s: test Extra %q is not JSON: %v", what, want.Extra, err)
	}
	same(t, what+" Extra", gotExtra, wantExtra)
	got.Extra, want.Extra = nil, nil
	same(t, what, got, want)
}

// create saves payments in one transaction, setting their IDs.
func create(t *testing.T, s store.Store, ps ...*store.Payment) {
	t.Helper()
	inTx(t, s, func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.CreatePayment(context.Background(), p); err != nil {
				return fmt.Errorf("CreatePayment(%s): %w", p.Idx, err)
			}
		}
		return nil
	})
}

func testPaymentsCreateAndScope(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	p := newPayment(m1.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	q := newPayment(m1.ID, c.ID, ledger.Live, "two", store.Initiated, base, time.Time{})
	create(t, s, &p, &q)
	if p.ID == 0 || q.ID == 0 || p.ID == q.ID {
		t.Fatalf("CreatePayment IDs %d and %d, want distinct non-zero", p.ID, q.ID)
	}
	if p.Version != 1 || q.Version != 1 {
		t.Errorf("CreatePayment versions %d and %d, want 1", p.Version, q.Version)
	}

	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByID", got, p)
		got, err = tx.PaymentByID(ctx, q.ID)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByID(live)", got, q)
		_, err = tx.PaymentByID(ctx, p.ID+q.ID+100)
		wantErr(t, "PaymentByID(missing)", err, store.ErrNotFound)

		got, err = tx.PaymentByIdx(ctx, own, p.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByIdx", got, p)
		got, err = tx.PaymentByToken(ctx, own, p.Token)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByToken", got, p)
		got, err = tx.PaymentByIdx(ctx, store.Scope{MerchantID: m1.ID, Book: ledger.Live}, q.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "PaymentByIdx(live)", got, q)

		for _, sc := range []struct {
			name  string
			scope store.Scope
		}{
			{"other merchant", store.Scope{MerchantID: m2.ID, Book: ledger.Test}},
			{"other book", store.Scope{MerchantID: m1.ID, Book: ledger.Live}},
			{"empty scope", store.Scope{}},
		} {
			_, err := tx.PaymentByIdx(ctx, sc.scope, p.Idx)
			wantErr(t, "PaymentByIdx("+sc.name+")", err, store.ErrNotFound)
			_, err = tx.PaymentByToken(ctx, sc.scope, p.Token)
			wantErr(t, "PaymentByToken("+sc.name+")", err, store.ErrNotFound)
		}
		_, err = tx.PaymentByIdx(ctx, own, "idx-missing")
		wantErr(t, "PaymentByIdx(missing)", err, store.ErrNotFound)
		_, err = tx.PaymentByToken(ctx, own, "token-missing")
		wantErr(t, "PaymentByToken(missing)", err, store.ErrNotFound)
		// An idx is not a token, nor the other way round.
		_, err = tx.PaymentByToken(ctx, own, p.Idx)
		wantErr(t, "PaymentByToken(an idx)", err, store.ErrNotFound)
		return nil
	})
}

func testPaymentWithParties(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	p := newPayment(m1.ID, c.ID, ledger.Test, "one", store.Initiated, base, time.Time{})
	q := newPayment(m1.ID, 0, ledger.Test, "two", store.Initiated, base, time.Time{}) // no payer yet
	create(t, s, &p, &q)
	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	for _, read := range []func(func(store.Tx) error){
		func(fn func(store.Tx) error) { view(t, s, fn) },
		func(fn func(store.Tx) error) { inTx(t, s, fn) },
	} {
		read(func(tx store.Tx) error {
			for _, byIdx := range []bool{false, true} {
				key := p.Token
				if byIdx {
					key = p.Idx
				}
				gp, gc, gm, err := tx.PaymentWithParties(ctx, own, key, byIdx)
				if err != nil {
					return err
				}
				samePayment(t, "PaymentWithParties payment", gp, p)
				same(t, "PaymentWithParties consumer", gc, c)
				same(t, "PaymentWithParties merchant", gm, m1)
				// The key is looked up in the column asked for only.
				_, _, _, err = tx.PaymentWithParties(ctx, own, key, !byIdx)
				wantErr(t, "PaymentWithParties(other column)", err, store.ErrNotFound)
				for _, sc := range []store.Scope{{MerchantID: m2.ID, Book: ledger.Test}, {MerchantID: m1.ID, Book: ledger.Live}, {}} {
					_, _, _, err = tx.PaymentWithParties(ctx, sc, key, byIdx)
					wantErr(t, "PaymentWithParties(other scope)", err, store.ErrNotFound)
				}
			}
			gp, gc, gm, err := tx.PaymentWithParties(ctx, own, q.Token, false)
			if err != nil {
				return err
			}
			samePayment(t, "PaymentWithParties(no payer) payment", gp, q)
			same(t, "PaymentWithParties(no payer) consumer", gc, store.Consumer{})
			same(t, "PaymentWithParties(no payer) merchant", gm, m1)
			_, _, _, err = tx.PaymentWithParties(ctx, own, "token-missing", false)
			wantErr(t, "PaymentWithParties(missing)", err, store.ErrNotFound)
			return nil
		})
	}
}

func testPaymentsUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	p := newPayment(m.ID, c.ID, ledger.Test, "upd", store.Initiated, base, time.Time{})
	other := newPayment(m.ID, c.ID, ledger.Test, "other", store.Initiated, base, time.Time{})
	create(t, s, &p, &other)

	stale := p
	next := p
	next.State = store.Confirmed
	next.FeeAmount = 400
	next.OTPHash = ""
	next.OTPExpiresAt = time.Time{}
	next.OTPTries = 2
	next.ConfirmedAt = base.Add(time.Minute)
	next.UpdatedAt = base.Add(time.Minute)
	next.Browser = "browser-hash"
	inTx(t, s, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &next) })
	if next.Version != 2 {
		t.Errorf("Version after UpdatePayment = %d, want 2", next.Version)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "payment after UpdatePayment", got, next)
		got, err = tx.PaymentByID(ctx, other.ID)
		if err != nil {
			return err
		}
		samePayment(t, "untouched payment after UpdatePayment", got, other)
		return nil
	})

	stale.State = store.Failed
	stale.UpdatedAt = base.Add(time.Hour)
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &stale) })
	wantErr(t, "UpdatePayment(stale version)", err, store.ErrConflict)

	final := next
	final.State = store.Completed
	final.Refunded = 1000
	final.CompletedAt = base.Add(2 * time.Minute)
	final.UpdatedAt = base.Add(2 * time.Minute)
	inTx(t, s, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &final) })
	if final.Version != 3 {
		t.Errorf("Version after second UpdatePayment = %d, want 3", final.Version)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByIdx(ctx, store.Scope{MerchantID: m.ID, Book: ledger.Test}, p.Idx)
		if err != nil {
			return err
		}
		samePayment(t, "payment after second UpdatePayment", got, final)
		return nil
	})

	// The previous version is now stale too.
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &next) })
	wantErr(t, "UpdatePayment(previous version)", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.PaymentByID(ctx, p.ID)
		if err != nil {
			return err
		}
		samePayment(t, "payment after conflicting updates", got, final)
		return nil
	})
}

// idxs lists the payments' idx values.
func idxs(ps []store.Payment) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Idx)
	}
	return out
}

func testPaymentsList(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	c := newConsumer(t, s, 1)
	states := []store.State{store.Initiated, store.Completed, store.Initiated, store.Completed, store.Failed}
	var ps []*store.Payment
	for i, st := range states {
		p := newPayment(m1.ID, c.ID, ledger.Test, fmt.Sprintf("p%d", i), st, base.Add(time.Duration(i)*time.Hour), time.Time{})
		p.Amount = money.Paisa(1000 * (i + 1))
		ps = append(ps, &p)
	}
	// p2 is an ePayment, whose token is its pidx; p4's payer is c2.
	ps[2].Kind = store.EPayment
	c2 := newConsumer(t, s, 2)
	ps[4].ConsumerID = c2.ID
	live := newPayment(m1.ID, c.ID, ledger.Live, "live", store.Completed, base.Add(time.Hour), time.Time{})
	foreign := newPayment(m2.ID, c2.ID, ledger.Test, "foreign", store.Completed, base.Add(time.Hour), time.Time{})
	// Created out of time order, so newest-first cannot come from insertion order.
	create(t, s, ps[3], ps[0], &live, ps[4], ps[1], &foreign, ps[2])

	own := store.Scope{MerchantID: m1.ID, Book: ledger.Test}
	cases := []struct {
		name  string
		f     store.PaymentFilter
		want  []string
		total int
	}{
		{"all", store.PaymentFilter{Scope: own, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2", "idx-p1", "idx-p0"}, 5},
		{"completed", store.PaymentFilter{Scope: own, States: []store.State{store.Completed}, Limit: 100}, []string{"idx-p3", "idx-p1"}, 2},
		{"completed or failed", store.PaymentFilter{Scope: own, States: []store.State{store.Completed, store.Failed}, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p1"}, 3},
		{"refunded", store.PaymentFilter{Scope: own, States: []store.State{store.Refunded}, Limit: 100}, []string{}, 0},
		{"from", store.PaymentFilter{Scope: own, From: base.Add(2 * time.Hour), Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2"}, 3},
		{"to", store.PaymentFilter{Scope: own, To: base.Add(2 * time.Hour), Limit: 100}, []string{"idx-p1", "idx-p0"}, 2},
		{"from to", store.PaymentFilter{Scope: own, From: base.Add(time.Hour), To: base.Add(3 * time.Hour), Limit: 100}, []string{"idx-p2", "idx-p1"}, 2},
		{"from to initiated", store.PaymentFilter{Scope: own, States: []store.State{store.Initiated}, From: base.Add(time.Hour), To: base.Add(3 * time.Hour), Limit: 100}, []string{"idx-p2"}, 1},
		{"first page", store.PaymentFilter{Scope: own, Offset: 0, Limit: 2}, []string{"idx-p4", "idx-p3"}, 5},
		{"second page", store.PaymentFilter{Scope: own, Offset: 2, Limit: 2}, []string{"idx-p2", "idx-p1"}, 5},
		{"last page", store.PaymentFilter{Scope: own, Offset: 4, Limit: 2}, []string{"idx-p0"}, 5},
		{"past the end", store.PaymentFilter{Scope: own, Offset: 10, Limit: 2}, []string{}, 5},
		{"completed page", store.PaymentFilter{Scope: own, States: []store.State{store.Completed}, Offset: 1, Limit: 1}, []string{"idx-p1"}, 2},
		{"live book", store.PaymentFilter{Scope: store.Scope{MerchantID: m1.ID, Book: ledger.Live}, Limit: 100}, []string{"idx-live"}, 1},
		{"other merchant", store.PaymentFilter{Scope: store.Scope{MerchantID: m2.ID, Book: ledger.Test}, Limit: 100}, []string{"idx-foreign"}, 1},
		{"other merchant live", store.PaymentFilter{Scope: store.Scope{MerchantID: m2.ID, Book: ledger.Live}, Limit: 100}, []string{}, 0},
		{"min amount", store.PaymentFilter{Scope: own, MinAmount: 3000, Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2"}, 3},
		{"max amount", store.PaymentFilter{Scope: own, MaxAmount: 2000, Limit: 100}, []string{"idx-p1", "idx-p0"}, 2},
		{"amount range", store.PaymentFilter{Scope: own, MinAmount: 2000, MaxAmount: 4000, Limit: 100}, []string{"idx-p3", "idx-p2", "idx-p1"}, 3},
		{"amount range paged", store.PaymentFilter{Scope: own, MinAmount: 2000, MaxAmount: 4000, Offset: 2, Limit: 2}, []string{"idx-p1"}, 3},
		{"query identity any case", store.PaymentFilter{Scope: own, Query: "ORDER-P3", Limit: 100}, []string{"idx-p3"}, 1},
		{"query name", store.PaymentFilter{Scope: own, Query: "product p1", Limit: 100}, []string{"idx-p1"}, 1},
		{"query substring", store.PaymentFilter{Scope: own, Query: "order-p", Limit: 100}, []string{"idx-p4", "idx-p3", "idx-p2", "idx-p1", "idx-p0"}, 5},
		{"query idx", store.PaymentFilter{Scope: own, Query: "idx-p2", Limit: 100}, []string{"idx-p2"}, 1},
		{"query wildcard is literal", store.PaymentFilter{Scope: own, Query: "order%p", Limit: 100}, []string{}, 0},
		{"query underscore is literal", store.PaymentFilter{Scope: own, Query: "order_p", Limit: 100}, []string{}, 0},
		{"query other merchant's", store.PaymentFilter{Scope: own, Query: "order-foreign", Limit: 100}, []string{}, 0},
		{"query pidx", store.PaymentFilter{Scope: own, Query: "token-p2", Limit: 100}, []string{"idx-p2"}, 1},
		{"query legacy token is not a pidx", store.PaymentFilter{Scope: own, Query: "token-p1", Limit: 100}, []string{}, 0},
		{"query payer mobile", store.PaymentFilter{Scope: own, Query: c2.Mobile, Limit: 100}, []string{"idx-p4"}, 1},
		{"query other payer's mobile", store.PaymentFilter{Scope: own, Query: c.Mobile, Limit: 100}, []string{"idx-p3", "idx-p2", "idx-p1", "idx-p0"}, 4},
		{"query payer mobile is exact", store.PaymentFilter{Scope: own, Query: c2.Mobile[:8], Limit: 100}, []string{}, 0},
		{"query payer's other merchant", store.PaymentFilter{Scope: store.Scope{MerchantID: m2.ID, Book: ledger.Test}, Query: c2.Mobile, Limit: 100}, []string{"idx-foreign"}, 1},
		{"query and state and amount", store.PaymentFilter{Scope: own, Query: "order-p", States: []store.State{store.Completed}, MinAmount: 3000, Limit: 100}, []string{"idx-p3"}, 1},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tc := range cases {
			got, total, err := tx.ListPayments(ctx, tc.f)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			same(t, "ListPayments("+tc.name+")", idxs(got), tc.want)
			if total != tc.total {
				t.Errorf("ListPayments(%s) total = %d, want %d", tc.name, total, tc.total)
			}
		}
		got, _, err := tx.ListPayments(ctx, store.PaymentFilter{Scope: own, States: []store.State{store.Failed}, Limit: 1})
		if err != nil {
			return err
		}
		if len(got) == 1 {
			samePayment(t, "listed payment", got[0], *ps[4])
		}
		return nil
	})
}

func testPaymentsDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	iCut := base.Add(24 * time.Hour)
	cCut := base.Add(30 * time.Hour)
	mk := func(name string, book ledger.Book, st store.State, created, confirmed time.Time) *store.Payment {
		p := newPayment(m.ID, c.ID, book, name, st, created, confirmed)
		return &p
	}
	ps := []*store.Payment{
		mk("init-old", ledger.Test, store.Initiated, iCut.Add(-time.Hour), time.Time{}),
		mk("init-new", ledger.Test, store.Initiated, iCut.Add(time.Hour), time.Time{}),
		mk("init-at-cutoff", ledger.Test, store.Initiated, iCut, time.Time{}),
		mk("init-live-old", ledger.Live, store.Initiated, iCut.Add(-2*time.Hour), time.Time{}),
		mk("conf-old", ledger.Test, store.Confirmed, iCut.Add(-5*time.Hour), cCut.Add(-time.Minute)),
		mk("conf-new", ledger.Test, store.Confirmed, iCut.Add(-6*time.Hour), cCut.Add(time.Minute)),
		mk("conf-at-cutoff", ledger.Test, store.Confirmed, iCut.Add(-7*time.Hour), cCut),
		mk("completed-old", ledger.Test, store.Completed, iCut.Add(-10*time.Hour), cCut.Add(-2*time.Hour)),
		mk("failed-old", ledger.Test, store.Failed, iCut.Add(-9*time.Hour), time.Time{}),
		mk("disabled-old", ledger.Test, store.Disabled, iCut.Add(-8*time.Hour), time.Time{}),
	}
	create(t, s, ps...)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.DuePayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments", idxs(got), []string{"idx-conf-old", "idx-init-live-old", "idx-init-old"})
		for _, p := range got {
			if p.Idx == "idx-conf-old" {
				samePayment(t, "due payment", p, *ps[4])
			}
		}
		got, err = tx.DuePayments(ctx, iCut, cCut, 2)
		if err != nil {
			return err
		}
		same(t, "DuePayments(limit 2)", idxs(got), []string{"idx-conf-old", "idx-init-live-old"})
		// With the cutoffs far back nothing is due.
		got, err = tx.DuePayments(ctx, base.Add(-time.Hour), base.Add(-time.Hour), 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments(early cutoffs)", idxs(got), []string{})
		return nil
	})

	// ePayments: Initiated ones by link expiry, Pending ones by hold time.
	ep := func(name string, st store.State, expires, held time.Time) *store.Payment {
		p := mk(name, ledger.Test, st, iCut.Add(-20*time.Hour), held)
		p.Kind, p.ExpiresAt = store.EPayment, expires
		return p
	}
	create(t, s,
		ep("ep-init-expired", store.Initiated, iCut.Add(-time.Minute), time.Time{}),
		ep("ep-init-live", store.Initiated, iCut.Add(time.Minute), time.Time{}),
		ep("ep-pending-at-cutoff", store.Pending, iCut.Add(time.Hour), cCut),
		ep("ep-pending-old", store.Pending, iCut.Add(time.Hour), cCut.Add(-time.Minute)),
		ep("ep-pending-new", store.Pending, iCut.Add(time.Hour), cCut.Add(time.Minute)),
		ep("ep-completed", store.Completed, iCut.Add(-time.Hour), cCut.Add(-time.Hour)),
	)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.DueEPayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DueEPayments", idxs(got), []string{"idx-ep-init-expired", "idx-ep-pending-old", "idx-ep-pending-at-cutoff"})
		got, err = tx.DuePayments(ctx, iCut, cCut, 100)
		if err != nil {
			return err
		}
		same(t, "DuePayments (no ePayments)", idxs(got), []string{"idx-conf-old", "idx-init-live-old", "idx-init-old"})
		return nil
	})
}

// testPaymentMoves tries every update from one state to another: the
// store allows exactly the moves in the state machine's table, and a
// refused move changes neither the payment nor, with PostAndUpdate, any
// balance.
func testPaymentMoves(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := newMerchant(t, s, 1)
	c := newConsumer(t, s, 1)
	type pair struct{ from, to store.State }
	var pairs []pair
	var ps []*store.Payment
	for i, from := range store.States {
		for j, to := range store.States {
			p := newPayment(m.ID, c.ID, ledger.Test, fmt.Sprintf("move-%d-%d", i, j), from, base, time.Time{})
			pairs, ps = append(pairs, pair{from, to}), append(ps, &p)
		}
	}
	create(t, s, ps...)
	allowed := 0
	for i, mv := range pairs {
		before := *ps[i]
		next := before
		next.State, next.UpdatedAt = mv.to, base.Add(time.Minute)
		err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &next) })
		var got store.Payment
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.PaymentByID(ctx, before.ID)
			return err
		})
		what := fmt.Sprintf("UpdatePayment from %q to %q", mv.from, mv.to)
		if store.CanMove(mv.from, mv.to) {
			allowed++
			if err != nil {
				t.Errorf("%s: %v, want it allowed", what, err)
				continue
			}
			samePayment(t, what, got, next)
			continue
		}
		wantErr(t, what, err, store.ErrIllegalMove)
		samePayment(t, what+" (refused)", got, before)
	}
	if want := 15; allowed != want { // docs/payments.md's table, and an Initiated payment updated in place
		t.Errorf("%d moves allowed, want %d", allowed, want)
	}

	// A lost compare-and-set is a conflict whatever the move.
	p := newPayment(m.ID, c.ID, ledger.Test, "move-stale", store.Completed, base, base)
	create(t, s, &p)
	stale := p
	stale.Version, stale.State = p.Version+1, store.Initiated
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdatePayment(ctx, &stale) })
	wantErr(t, "UpdatePayment(stale version, illegal move)", err, store.ErrConflict)

	// PostAndUpdate refuses the move before any money moves, also on the
	// one-statement path.
	inTx(t, s, func(tx store.Tx) error { return tx.Post(ctx, topUp(ledger.Test, c.ID, 1000), base) })
	wallet := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Wallet, Owner: c.ID}
	holds := ledger.AccountRef{Book: ledger.Test, Kind: ledger.Holds}.WithShard(ledger.ShardOf(p.ID))
	again := p
	again.State = store.Confirmed // a captured payment authorised again
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.PostAndUpdate(ctx, ledger.Transfer(ledger.Test, "authorise", p.ID, wallet, holds, 1000), base, &again)
	})
	wantErr(t, "PostAndUpdate(Completed to Confirmed)", err, store.ErrIllegalMove)
	same(t, "balances after a refused move", balances(t, s, wallet, holds), []money.Paisa{1000, 0})
	checkLedger(t, s)
}
