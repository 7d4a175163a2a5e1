package dashboard

import (
	"crypto/hmac"
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/store"
)

// KYC serves GET /dashboard/kyc/{$}: the merchant's KYC state, the
// operator's reason of a rejection, what was submitted, and the form
// while the state is none or rejected.
func (p *Pages) KYC() http.Handler { return http.HandlerFunc(p.kycPage) }

// SubmitKYC serves POST /dashboard/kyc/{$}, a multipart form.
func (p *Pages) SubmitKYC() http.Handler { return http.HandlerFunc(p.submitKYC) }

// kycForm is the KYC form's echoed values.
type kycForm struct {
	BusinessName, RegistrationNumber, TaxNumber, Address string
}

// kycBodyLimit bounds the whole multipart body: the documents' 6 MiB and
// room for the text fields and the multipart framing.
const kycBodyLimit = identity.MaxKYCUploadTotal + 64<<10

func (p *Pages) kycPage(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	p.renderKYC(w, r, id, m, view{})
}

func (p *Pages) submitKYC(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, kycBodyLimit)
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	err = r.ParseMultipartForm(kycBodyLimit)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		p.renderKYC(w, r, id, m, view{Status: http.StatusRequestEntityTooLarge,
			Error: "The upload is too large: the documents may be at most 6 MiB together, 2 MiB each. Nothing was stored."})
		return
	}
	if (err != nil && !errors.Is(err, http.ErrNotMultipart)) || !hmac.Equal([]byte(p.id.CSRFToken("session:"+id)), []byte(r.PostFormValue("csrf"))) {
		p.refuse(w, formpage.ErrForged)
		return
	}
	in := identity.KYCForm{BusinessName: r.PostFormValue("business_name"), RegistrationNumber: r.PostFormValue("registration_number"),
		TaxNumber: r.PostFormValue("tax_number"), Address: r.PostFormValue("address")}
	v := view{KYCForm: kycForm{in.BusinessName, in.RegistrationNumber, in.TaxNumber, in.Address}}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["documents"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue // the browser's empty file input
			}
			data, err := readUpload(fh)
			if err != nil {
				p.render(w, p.failure(r, err, view{}))
				return
			}
			in.Documents = append(in.Documents, data)
		}
	}
	if _, err := p.id.SubmitKYC(r.Context(), m.ID, in); err != nil {
		v = p.failure(r, err, v)
		if v.Status == http.StatusInternalServerError {
			p.render(w, v)
			return
		}
		p.renderKYC(w, r, id, m, v)
		return
	}
	p.renderKYC(w, r, id, m, view{Notice: "Your KYC details were submitted. An operator will review them."})
}

// readUpload reads an uploaded file, at most one byte past the document
// limit (the service refuses anything larger).
func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, identity.MaxKYCDocumentSize+1))
}

// renderKYC fills v with m's KYC state and submission.
func (p *Pages) renderKYC(w http.ResponseWriter, r *http.Request, id string, m store.Merchant, v view) {
	sub, err := p.id.MerchantKYC(r.Context(), m.ID)
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	v = p.signedIn(id, v)
	v.Title, v.Page, v.Merchant, v.KYC = "KYC", "kyc", sub.Merchant, string(sub.Merchant.KYC)
	v.KYCSub = sub
	v.KYCOpen = sub.Merchant.KYC == store.KYCNone || sub.Merchant.KYC == store.KYCRejected
	if v.KYCForm == (kycForm{}) && sub.Details != nil && v.KYCOpen {
		d := sub.Details
		v.KYCForm = kycForm{d.BusinessName, d.RegistrationNumber, d.TaxNumber, d.Address}
	}
	p.render(w, v)
}
