package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/thaili/thaili/internal/store"
)

// testKYC covers the KYC submissions: details replaced on resubmission,
// documents stored as bytes and only readable under their merchant.
func testKYC(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := newMerchant(t, s, 1), newMerchant(t, s, 2)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.KYCDetails(ctx, a.ID)
		wantErr(t, "no details yet", err, store.ErrNotFound)
		return nil
	})
	d := store.KYCDetails{MerchantID: a.ID, BusinessName: "A Pvt. Ltd.", RegistrationNumber: "1/2", TaxNumber: "601", Address: "Kathmandu", SubmittedAt: base}
	data := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	doc := store.KYCDocument{MerchantID: a.ID, ContentType: "image/png", Size: int64(len(data)), SHA256: "abc", Data: data, CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.PutKYCDetails(ctx, d); err != nil {
			return err
		}
		return tx.AddKYCDocument(ctx, &doc)
	})
	if doc.ID == 0 {
		t.Fatal("AddKYCDocument did not set ID")
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KYCDetails(ctx, a.ID)
		same(t, "details", got, d)
		if err != nil {
			return err
		}
		list, err := tx.KYCDocuments(ctx, a.ID)
		listed := doc
		listed.Data = nil
		same(t, "documents", list, []store.KYCDocument{listed})
		if err != nil {
			return err
		}
		full, err := tx.KYCDocument(ctx, a.ID, doc.ID)
		if err != nil || !bytes.Equal(full.Data, data) || full.ContentType != "image/png" {
			t.Errorf("document: %v %+v", err, full)
		}
		_, err = tx.KYCDocument(ctx, b.ID, doc.ID)
		wantErr(t, "another merchant's document", err, store.ErrNotFound)
		return nil
	})
	d.BusinessName = "A Renamed"
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.PutKYCDetails(ctx, d); err != nil {
			return err
		}
		return tx.DeleteKYCDocuments(ctx, a.ID)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.KYCDetails(ctx, a.ID)
		same(t, "replaced details", got, d)
		list, _ := tx.KYCDocuments(ctx, a.ID)
		if len(list) != 0 {
			t.Errorf("documents after delete: %d", len(list))
		}
		reason, rerr := tx.MerchantKYCReason(ctx, a.ID)
		if rerr != nil || reason != "" {
			t.Errorf("reason %q, %v", reason, rerr)
		}
		return err
	})
}
