package dashboard

import (
	"crypto/hmac"
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// KYC serves GET /dashboard/kyc/{$}: the merchant's KYC state, the
// operator's reason of a rejection, what was submitted, and the form
// while the state is none or rejected.
func (p *Pages) KYC() http.Handler { return p.site.Get(p.kycPage) }

// SubmitKYC serves POST /dashboard/kyc/{$}, a multipart form, which
// site.Post (urlencoded forms of formpage.MaxForm) does not read.
func (p *Pages) SubmitKYC() http.Handler { return p.site.Get(p.submitKYC) }

// kycForm is the KYC form's echoed values.
type kycForm struct {
	BusinessName, RegistrationNumber, TaxNumber, Address string
}

// kycView is the KYC page's view: the submission, whether the form is
// open (state none or rejected), and the form's values.
type kycView struct {
	site.Frame
	KYC     string
	KYCSub  identity.KYCSubmission
	KYCOpen bool
	KYCForm kycForm
}

// kycBodyLimit bounds the whole multipart body: the documents' 6 MiB and
// room for the text fields and the multipart framing.
const kycBodyLimit = identity.MaxKYCUploadTotal + 64<<10

func (p *Pages) kycPage(w http.ResponseWriter, r *http.Request, s session) {
	p.renderKYC(w, r, s, p.kycView(s))
}

func (p *Pages) kycView(s session) *kycView {
	return &kycView{Frame: p.frame(s, "KYC", "KYC")}
}

func (p *Pages) submitKYC(w http.ResponseWriter, r *http.Request, s session) {
	r.Body = http.MaxBytesReader(w, r.Body, kycBodyLimit)
	err := r.ParseMultipartForm(kycBodyLimit)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	v := p.kycView(s)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		v.Status, v.Error = http.StatusRequestEntityTooLarge,
			"The upload is too large: the documents may be at most 6 MiB together, 2 MiB each. Nothing was stored."
		p.renderKYC(w, r, s, v)
		return
	}
	if (err != nil && !errors.Is(err, http.ErrNotMultipart)) || !hmac.Equal([]byte(s.CSRF), []byte(r.PostFormValue("csrf"))) {
		p.site.Refuse(w, r, formpage.ErrForged)
		return
	}
	in := identity.KYCForm{BusinessName: r.PostFormValue("business_name"), RegistrationNumber: r.PostFormValue("registration_number"),
		TaxNumber: r.PostFormValue("tax_number"), Address: r.PostFormValue("address")}
	v.KYCForm = kycForm{in.BusinessName, in.RegistrationNumber, in.TaxNumber, in.Address}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["documents"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue // the browser's empty file input
			}
			data, err := readUpload(fh)
			if err != nil {
				p.fail(w, r, s, "KYC", err)
				return
			}
			in.Documents = append(in.Documents, data)
		}
	}
	if _, err := p.id.SubmitKYC(r.Context(), s.User.ID, in); err != nil {
		if p.explain(w, r, err, v) {
			p.renderKYC(w, r, s, v)
		}
		return
	}
	v = p.kycView(s)
	v.Notice = "Your KYC details were submitted. An operator will review them."
	p.renderKYC(w, r, s, v)
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

// renderKYC fills v with the merchant's KYC state and submission.
func (p *Pages) renderKYC(w http.ResponseWriter, r *http.Request, s session, v *kycView) {
	sub, err := p.id.MerchantKYC(r.Context(), s.User.ID)
	if err != nil {
		p.fail(w, r, s, "KYC", err)
		return
	}
	v.KYC, v.KYCSub = string(sub.Merchant.KYC), sub
	v.KYCOpen = sub.Merchant.KYC == store.KYCNone || sub.Merchant.KYC == store.KYCRejected
	if v.KYCForm == (kycForm{}) && sub.Details != nil && v.KYCOpen {
		d := sub.Details
		v.KYCForm = kycForm{d.BusinessName, d.RegistrationNumber, d.TaxNumber, d.Address}
	}
	p.render(w, r, "kyc", v)
}
