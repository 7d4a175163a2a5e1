package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/store"
)

// The merchant KYC form (issue 6): details and 1 to 3 documents (PDF,
// PNG or JPEG by their content, at most 2 MiB each), kept in the
// database; submitting puts the merchant in the console's KYC queue.

// KYC upload limits.
const (
	MaxKYCDocuments    = 3
	MaxKYCDocumentSize = 2 << 20 // bytes, each
	MaxKYCUploadTotal  = 6 << 20 // bytes, all documents together
	maxKYCFieldLen     = 200
)

// KYCContentTypes are the document types accepted, as http.DetectContentType names them.
var KYCContentTypes = []string{"application/pdf", "image/png", "image/jpeg"}

// KYCForm is a merchant's KYC submission.
type KYCForm struct {
	BusinessName, RegistrationNumber, TaxNumber, Address string
	Documents                                            [][]byte
}

// KYCSubmission is a merchant's KYC state with what it submitted.
type KYCSubmission struct {
	Merchant  store.Merchant
	Reason    string            // the operator's reason (of a rejection)
	Details   *store.KYCDetails // nil if nothing was submitted
	Documents []store.KYCDocument
}

// kycField trims v and checks it: required, at most 200 characters, no
// control characters.
func kycField(fields map[string][]string, name, label string, v *string) {
	*v = strings.TrimSpace(*v)
	switch {
	case *v == "":
		fields[name] = append(fields[name], label+" is required.")
	case !utf8.ValidString(*v):
		fields[name] = append(fields[name], label+" is not valid text.")
	case utf8.RuneCountInString(*v) > maxKYCFieldLen:
		fields[name] = append(fields[name], fmt.Sprintf("%s must be at most %d characters.", label, maxKYCFieldLen))
	case strings.ContainsFunc(*v, unicode.IsControl):
		fields[name] = append(fields[name], label+" must not contain control characters.")
	}
}

// SniffKYCDocument returns data's content type if it is an accepted
// document type, else "".
func SniffKYCDocument(data []byte) string {
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	for _, ok := range KYCContentTypes {
		if ct == ok {
			return ct
		}
	}
	return ""
}

// SubmitKYC stores merchant merchantID's KYC form and sets its KYC state
// to submitted. Only a merchant in state none or rejected may submit; a
// resubmission replaces the earlier details and documents.
func (s *Service) SubmitKYC(ctx context.Context, merchantID int64, in KYCForm) (store.Merchant, error) {
	fields := map[string][]string{}
	kycField(fields, "business_name", "Registered business name", &in.BusinessName)
	kycField(fields, "registration_number", "Registration number", &in.RegistrationNumber)
	kycField(fields, "tax_number", "PAN/VAT number", &in.TaxNumber)
	kycField(fields, "address", "Address", &in.Address)
	now := s.now()
	var docs []*store.KYCDocument
	total := 0
	switch n := len(in.Documents); {
	case n == 0:
		fields["documents"] = append(fields["documents"], "Upload at least one document (PDF, PNG or JPEG).")
	case n > MaxKYCDocuments:
		fields["documents"] = append(fields["documents"], fmt.Sprintf("Upload at most %d documents.", MaxKYCDocuments))
	}
	for i, data := range in.Documents {
		total += len(data)
		ct := SniffKYCDocument(data)
		switch {
		case len(data) == 0:
			fields["documents"] = append(fields["documents"], fmt.Sprintf("Document %d is empty.", i+1))
		case len(data) > MaxKYCDocumentSize:
			fields["documents"] = append(fields["documents"], fmt.Sprintf("Document %d is larger than 2 MiB; each document may be at most 2 MiB.", i+1))
		case ct == "":
			fields["documents"] = append(fields["documents"], fmt.Sprintf("Document %d is not a PDF, PNG or JPEG file (its content was checked, not its name).", i+1))
		default:
			sum := sha256.Sum256(data)
			docs = append(docs, &store.KYCDocument{MerchantID: merchantID, ContentType: ct, Size: int64(len(data)),
				SHA256: hex.EncodeToString(sum[:]), Data: data, CreatedAt: now})
		}
	}
	if total > MaxKYCUploadTotal {
		fields["documents"] = append(fields["documents"], "The documents together may be at most 6 MiB.")
	}
	if err := fault.FieldErrors(fields); err != nil {
		return store.Merchant{}, err
	}
	var m store.Merchant
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = tx.Merchant(ctx, merchantID); err != nil {
			return err
		}
		if m.KYC != store.KYCNone && m.KYC != store.KYCRejected {
			return fault.DetailError("Your KYC is " + string(m.KYC) + "; it cannot be submitted again now.")
		}
		if err := tx.PutKYCDetails(ctx, store.KYCDetails{MerchantID: m.ID, BusinessName: in.BusinessName,
			RegistrationNumber: in.RegistrationNumber, TaxNumber: in.TaxNumber, Address: in.Address, SubmittedAt: now}); err != nil {
			return err
		}
		if err := tx.DeleteKYCDocuments(ctx, m.ID); err != nil {
			return err
		}
		for _, d := range docs {
			if err := tx.AddKYCDocument(ctx, d); err != nil {
				return err
			}
		}
		if err := tx.SetMerchantKYC(ctx, m.ID, store.KYCSubmitted); err != nil {
			return err
		}
		m.KYC = store.KYCSubmitted
		return tx.SetMerchantKYCReason(ctx, m.ID, "")
	})
	s.forgetKeys()
	return m, fault.Wrap(err)
}

// MerchantKYC returns merchant merchantID's KYC state, the reason kept
// with it, and what it submitted (documents without their content).
func (s *Service) MerchantKYC(ctx context.Context, merchantID int64) (KYCSubmission, error) {
	var out KYCSubmission
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if out.Merchant, err = tx.Merchant(ctx, merchantID); err != nil {
			return err
		}
		if out.Reason, err = tx.MerchantKYCReason(ctx, merchantID); err != nil {
			return err
		}
		d, err := tx.KYCDetails(ctx, merchantID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		out.Details = &d
		out.Documents, err = tx.KYCDocuments(ctx, merchantID)
		return err
	})
	return out, fault.Wrap(err)
}

// KYCDocument returns document id of merchant merchantIdx, with its
// content, for actor; the download is audited (kyc.document). A missing
// document, or another merchant's, is KindNotFound.
func (s *Service) KYCDocument(ctx context.Context, actor Actor, merchantIdx string, id int64) (store.KYCDocument, error) {
	var d store.KYCDocument
	err := s.OperatorAction(ctx, actor, AuditKYCDocument, func(tx store.Tx) (AuditRecord, error) {
		m, err := tx.MerchantByIdx(ctx, merchantIdx)
		if err == nil {
			d, err = tx.KYCDocument(ctx, m.ID, id)
		}
		if errors.Is(err, store.ErrNotFound) {
			return AuditRecord{}, &fault.Error{Kind: fault.KindNotFound, Detail: "No such KYC document."}
		} else if err != nil {
			return AuditRecord{}, err
		}
		return AuditRecord{Subject: m.Idx, Detail: fmt.Sprintf("document %d, %s, %d bytes, sha256 %s", d.ID, d.ContentType, d.Size, d.SHA256)}, nil
	})
	return d, err
}

// SetKYC sets a merchant's KYC state (merchantRef is its idx or email) for
// actor, and keeps reason as the state's reason: a rejection needs one,
// an approval may carry a note, and any earlier reason is replaced. It is
// audited as kyc.approve, kyc.reject or, for another state, kyc.set.
func (s *Service) SetKYC(ctx context.Context, actor Actor, merchantRef string, kyc store.KYC, reason string) (store.Merchant, error) {
	if !kyc.Valid() {
		return store.Merchant{}, fault.FieldError("kyc", "Unknown KYC state.")
	}
	reason = strings.TrimSpace(reason)
	action := AuditKYCSet
	switch kyc {
	case store.KYCApproved:
		action = AuditKYCApprove
	case store.KYCRejected:
		action = AuditKYCReject
		if reason == "" {
			return store.Merchant{}, fault.FieldError("reason", "Give the reason for the rejection.")
		}
	}
	if utf8.RuneCountInString(reason) > maxReasonLen {
		return store.Merchant{}, fault.FieldError("reason", "Ensure this field has no more than 500 characters.")
	}
	if msg := textProblem("Reason", reason); msg != "" {
		return store.Merchant{}, fault.FieldError("reason", msg)
	}
	var m store.Merchant
	err := s.OperatorAction(ctx, actor, action, func(tx store.Tx) (AuditRecord, error) {
		var err error
		if m, err = s.MerchantByRef(ctx, tx, merchantRef); err != nil {
			return AuditRecord{}, err
		}
		was := m.KYC
		m.KYC = kyc
		if err := tx.SetMerchantKYC(ctx, m.ID, kyc); err != nil {
			return AuditRecord{}, err
		}
		if err := tx.SetMerchantKYCReason(ctx, m.ID, reason); err != nil {
			return AuditRecord{}, err
		}
		detail := fmt.Sprintf("%s: %s -> %s", m.Email, was, kyc)
		if reason != "" {
			detail += "; " + reason
		}
		return AuditRecord{Subject: m.Idx, Detail: detail}, nil
	})
	s.forgetKeys()
	return m, err
}

// MerchantByRef finds a merchant by idx or email. A reference that can
// name no merchant (not an idx or an email address, or not valid text)
// is not looked up, since PostgreSQL refuses NUL bytes and invalid UTF-8,
// and is "No such merchant."; a plausible one that names none is quoted.
func (s *Service) MerchantByRef(ctx context.Context, tx store.Tx, ref string) (store.Merchant, error) {
	if !ids.Valid(ref) {
		if a, err := mail.ParseAddress(ref); err != nil || a.Address != ref || len(ref) > 254 || textProblem("ref", ref) != "" {
			return store.Merchant{}, &fault.Error{Kind: fault.KindNotFound, Detail: "No such merchant."}
		}
	}
	m, err := tx.MerchantByIdx(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		m, err = tx.MerchantByEmail(ctx, strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return m, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No merchant %q.", ref)}
	}
	return m, err
}
