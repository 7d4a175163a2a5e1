package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// testOperators covers the operator console's part of the store:
// operators, their sessions, merchant and wallet search, the KYC reason
// and the audit log.
func testOperators(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := store.Operator{Email: "ops@example.com", PasswordHash: "h", CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateOperator(ctx, &o) })
	if o.ID == 0 {
		t.Fatal("CreateOperator did not set ID")
	}
	wantErr(t, "duplicate operator", s.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateOperator(ctx, &store.Operator{Email: "ops@example.com", PasswordHash: "x", CreatedAt: base})
	}), store.ErrDuplicate)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OperatorByEmail(ctx, "ops@example.com")
		same(t, "operator by email", got, o)
		if err != nil {
			return err
		}
		got, err = tx.Operator(ctx, o.ID)
		same(t, "operator by id", got, o)
		_, nf := tx.OperatorByEmail(ctx, "nobody@example.com")
		wantErr(t, "unknown operator", nf, store.ErrNotFound)
		return err
	})

	// Sessions.
	sess := store.OperatorSession{IDHash: "hash-1", OperatorID: o.ID, CreatedAt: base, LastSeenAt: base}
	old := store.OperatorSession{IDHash: "hash-old", OperatorID: o.ID, CreatedAt: base.Add(-time.Hour), LastSeenAt: base.Add(-time.Hour)}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateOperatorSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateOperatorSession(ctx, old); err != nil {
			return err
		}
		return tx.TouchOperatorSession(ctx, "hash-1", base.Add(time.Minute))
	})
	inTx(t, s, func(tx store.Tx) error {
		n, err := tx.PurgeOperatorSessions(ctx, base.Add(-time.Minute), base.Add(-24*time.Hour))
		same(t, "purged sessions", n, 1)
		return err
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.OperatorSession(ctx, "hash-1")
		sess.LastSeenAt = base.Add(time.Minute)
		same(t, "operator session", got, sess)
		_, nf := tx.OperatorSession(ctx, "hash-old")
		wantErr(t, "purged session", nf, store.ErrNotFound)
		return err
	})
	inTx(t, s, func(tx store.Tx) error { return tx.DeleteOperatorSession(ctx, "hash-1") })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.OperatorSession(ctx, "hash-1")
		wantErr(t, "deleted session", err, store.ErrNotFound)
		return nil
	})

	// Merchant search: name or email, case-insensitive, LIKE characters literal, KYC filter.
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.SetMerchantKYC(ctx, m2.ID, store.KYCRejected); err != nil {
			return err
		}
		return tx.SetMerchantKYCReason(ctx, m2.ID, "blurry")
	})
	names := func(q string, kyc store.KYC) []string {
		var out []string
		view(t, s, func(tx store.Tx) error {
			list, err := tx.SearchMerchants(ctx, q, kyc, 10)
			for _, m := range list {
				out = append(out, m.Name+"/"+string(m.KYC)+"/"+m.KYCReason)
			}
			return err
		})
		return out
	}
	same(t, "all merchants", names("", ""), []string{"Shop 2/rejected/blurry", "Shop 1/none/"})
	same(t, "by name", names("SHOP 1", ""), []string{"Shop 1/none/"})
	same(t, "by email", names("owner2@", ""), []string{"Shop 2/rejected/blurry"})
	same(t, "by KYC", names("", store.KYCRejected), []string{"Shop 2/rejected/blurry"})
	same(t, "LIKE characters", names("%", ""), []string(nil))
	same(t, "underscore", names("shop_1", ""), []string(nil))
	_ = m1

	// Wallet search by mobile.
	c1, c2 := newConsumer(t, s, 1), newConsumer(t, s, 2)
	view(t, s, func(tx store.Tx) error {
		list, err := tx.SearchConsumers(ctx, "0000", 10)
		same(t, "wallets", len(list), 2)
		if len(list) == 2 {
			same(t, "newest first", list[0].Mobile, c2.Mobile)
		}
		list, _ = tx.SearchConsumers(ctx, c1.Mobile, 10)
		same(t, "one wallet", len(list), 1)
		return err
	})

	// Audit log, newest first.
	inTx(t, s, func(tx store.Tx) error {
		for i, action := range []string{"login", "wallet.topup"} {
			e := store.AuditEntry{OperatorID: o.ID, Operator: o.Email, Action: action, Subject: "9841000001", Detail: "d", At: base.Add(time.Duration(i) * time.Second)}
			if err := tx.AddAudit(ctx, &e); err != nil {
				return err
			}
			if e.ID == 0 {
				t.Error("AddAudit did not set ID")
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		list, err := tx.AuditLog(ctx, 10)
		if len(list) != 2 {
			t.Fatalf("audit log has %d entries, want 2", len(list))
		}
		same(t, "newest audit entry", list[0].Action, "wallet.topup")
		same(t, "audit entry", list[1], store.AuditEntry{ID: list[1].ID, OperatorID: o.ID, Operator: o.Email, Action: "login", Subject: "9841000001", Detail: "d", At: base})
		return err
	})
}

// testAuditActors covers audit entries of actors that are not console
// operators (the command line, issue 11): OperatorID 0 is stored as no
// operator and read back as 0, beside an operator's entry; an unknown
// operator id is still refused, since the column references operators.
func testAuditActors(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := store.Operator{Email: "ops@example.com", PasswordHash: "h", CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.CreateOperator(ctx, &o) })
	entries := []store.AuditEntry{
		{Operator: "command line (alice)", Action: "wallet.topup", Subject: "9841000001", Detail: "2500 paisa, test book; balance 2500 paisa", At: base},
		{OperatorID: o.ID, Operator: o.Email, Action: "wallet.unlock", Subject: "9841000001", Detail: "was locked: true, wrong MPINs: 3", At: base.Add(time.Second)},
		{Operator: "command line", Action: "keys.rotate", Subject: "idx", Detail: "", At: base.Add(2 * time.Second)},
	}
	inTx(t, s, func(tx store.Tx) error {
		for i := range entries {
			if err := tx.AddAudit(ctx, &entries[i]); err != nil {
				return err
			}
			if entries[i].ID == 0 {
				t.Error("AddAudit did not set ID")
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		list, err := tx.AuditLog(ctx, 10)
		same(t, "audit log, newest first", list, []store.AuditEntry{entries[2], entries[1], entries[0]})
		return err
	})
	err := s.InTx(ctx, func(tx store.Tx) error {
		return tx.AddAudit(ctx, &store.AuditEntry{OperatorID: o.ID + 1000, Operator: "ghost@example.com", Action: "login", At: base})
	})
	if err == nil {
		t.Error("AddAudit accepted an operator id that names no operator")
	}
	view(t, s, func(tx store.Tx) error {
		list, err := tx.AuditLog(ctx, 10)
		same(t, "entries after the refused one", len(list), 3)
		return err
	})
}
