package sqlstore

import (
	"context"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) PutKYCDetails(ctx context.Context, d store.KYCDetails) error {
	if _, err := t.exec(ctx, `DELETE FROM kyc_details WHERE merchant_id = ?`, d.MerchantID); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO kyc_details (merchant_id, business_name, registration_number, tax_number, address, submitted_at)
		VALUES (?, ?, ?, ?, ?, ?)`, d.MerchantID, d.BusinessName, d.RegistrationNumber, d.TaxNumber, d.Address, micros(d.SubmittedAt))
	return err
}

func (t *txn) KYCDetails(ctx context.Context, merchantID int64) (store.KYCDetails, error) {
	d := store.KYCDetails{MerchantID: merchantID}
	var at int64
	err := t.queryRow(ctx, `SELECT business_name, registration_number, tax_number, address, submitted_at FROM kyc_details WHERE merchant_id = ?`,
		merchantID).Scan(&d.BusinessName, &d.RegistrationNumber, &d.TaxNumber, &d.Address, &at)
	if err != nil {
		return store.KYCDetails{}, noRows(t.d.MapErr(err))
	}
	d.SubmittedAt = fromMicros(at)
	return d, nil
}

func (t *txn) DeleteKYCDocuments(ctx context.Context, merchantID int64) error {
	_, err := t.exec(ctx, `DELETE FROM kyc_documents WHERE merchant_id = ?`, merchantID)
	return err
}

func (t *txn) AddKYCDocument(ctx context.Context, d *store.KYCDocument) error {
	var err error
	d.ID, err = t.insert(ctx, `INSERT INTO kyc_documents (merchant_id, content_type, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		d.MerchantID, d.ContentType, d.Size, d.SHA256, d.Data, micros(d.CreatedAt))
	return err
}

func (t *txn) KYCDocuments(ctx context.Context, merchantID int64) ([]store.KYCDocument, error) {
	rows, err := t.query(ctx, `SELECT id, content_type, size, sha256, created_at FROM kyc_documents WHERE merchant_id = ? ORDER BY id`, merchantID)
	return collect(rows, err, func(row scanner) (store.KYCDocument, error) {
		d := store.KYCDocument{MerchantID: merchantID}
		var at int64
		if err := row.Scan(&d.ID, &d.ContentType, &d.Size, &d.SHA256, &at); err != nil {
			return store.KYCDocument{}, t.d.MapErr(err)
		}
		d.CreatedAt = fromMicros(at)
		return d, nil
	})
}

func (t *txn) KYCDocument(ctx context.Context, merchantID, id int64) (store.KYCDocument, error) {
	d := store.KYCDocument{ID: id, MerchantID: merchantID}
	var at int64
	err := t.queryRow(ctx, `SELECT content_type, size, sha256, data, created_at FROM kyc_documents WHERE id = ? AND merchant_id = ?`,
		id, merchantID).Scan(&d.ContentType, &d.Size, &d.SHA256, &d.Data, &at)
	if err != nil {
		return store.KYCDocument{}, noRows(t.d.MapErr(err))
	}
	d.CreatedAt = fromMicros(at)
	return d, nil
}

func (t *txn) MerchantKYCReason(ctx context.Context, merchantID int64) (string, error) {
	var reason string
	err := t.queryRow(ctx, `SELECT kyc_reason FROM merchants WHERE id = ?`, merchantID).Scan(&reason)
	if err != nil {
		return "", noRows(t.d.MapErr(err))
	}
	return reason, nil
}
