package store

import (
	"context"
	"time"
)

// KYCDetails is what a merchant submitted on the KYC form (issue 6).
type KYCDetails struct {
	MerchantID         int64
	BusinessName       string // the registered business name
	RegistrationNumber string
	TaxNumber          string // PAN or VAT number
	Address            string
	SubmittedAt        time.Time
}

// KYCDocument is one uploaded KYC document, kept in the database so every
// node serves it. Its uploaded file name is never stored.
type KYCDocument struct {
	ID          int64
	MerchantID  int64
	ContentType string // sniffed from the content: application/pdf, image/png or image/jpeg
	Size        int64
	SHA256      string // hex
	Data        []byte // empty when listed
	CreatedAt   time.Time
}

// KYCTx is the KYC-submission part of Tx.
type KYCTx interface {
	// PutKYCDetails stores d, replacing the merchant's earlier submission.
	PutKYCDetails(ctx context.Context, d KYCDetails) error
	// KYCDetails returns the merchant's submission, or ErrNotFound.
	KYCDetails(ctx context.Context, merchantID int64) (KYCDetails, error)
	// DeleteKYCDocuments removes all the merchant's documents.
	DeleteKYCDocuments(ctx context.Context, merchantID int64) error
	// AddKYCDocument stores d and sets its ID.
	AddKYCDocument(ctx context.Context, d *KYCDocument) error
	// KYCDocuments lists the merchant's documents, oldest first, without Data.
	KYCDocuments(ctx context.Context, merchantID int64) ([]KYCDocument, error)
	// KYCDocument returns document id of the merchant with its Data, or
	// ErrNotFound (also when it is another merchant's).
	KYCDocument(ctx context.Context, merchantID, id int64) (KYCDocument, error)
	// MerchantKYCReason returns the reason kept with the merchant's KYC state.
	MerchantKYCReason(ctx context.Context, merchantID int64) (string, error)
}
