package dashboard

import (
	"crypto/hmac"
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// KYC serves GET /dashboard/kyc/{$}, where the KYC page was before it
// joined Go live: it sends old links there.
func (p *Pages) KYC() http.Handler {
	return p.get("Go live", func(w http.ResponseWriter, r *http.Request, q req) {
		to := "/dashboard/go-live/"
		if q.Caller.Book == ledger.Live {
			to += "?book=live"
		}
		http.Redirect(w, r, to+"#kyc", http.StatusSeeOther)
	})
}

// SubmitKYC serves POST /dashboard/kyc/{$}, a multipart form, which
// site.Post (urlencoded forms of formpage.MaxForm) does not read; the
// book is the action's ?book=, so that nothing reads the body before its
// limit is set.
func (p *Pages) SubmitKYC() http.Handler {
	return p.site.Get(func(w http.ResponseWriter, r *http.Request, s session) {
		p.in(w, r, s, "Go live", r.URL.Query().Get("book"), p.submitKYC)
	})
}

// kycForm is the KYC form's echoed values.
type kycForm struct {
	BusinessName, RegistrationNumber, TaxNumber, Address string
}

// kycView is the KYC part of Go live: the state, the submission, whether
// the form is open (state none or rejected), and the form's values.
type kycView struct {
	dash
	KYC     string
	KYCSub  identity.KYCSubmission
	KYCOpen bool
	KYCForm kycForm
}

// fill puts sub on v; the form starts from what was submitted.
func (v *kycView) fill(sub identity.KYCSubmission) {
	v.KYC, v.KYCSub = string(sub.Merchant.KYC), sub
	v.KYCOpen = sub.Merchant.KYC == store.KYCNone || sub.Merchant.KYC == store.KYCRejected
	if v.KYCForm == (kycForm{}) && sub.Details != nil && v.KYCOpen {
		d := sub.Details
		v.KYCForm = kycForm{d.BusinessName, d.RegistrationNumber, d.TaxNumber, d.Address}
	}
}

// kycBodyLimit bounds the whole multipart body: the documents' 6 MiB and
// room for the text fields and the multipart framing.
const kycBodyLimit = identity.MaxKYCUploadTotal + 64<<10

func (p *Pages) submitKYC(w http.ResponseWriter, r *http.Request, q req) {
	r.Body = http.MaxBytesReader(w, r.Body, kycBodyLimit)
	err := r.ParseMultipartForm(kycBodyLimit)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	v := &goLiveView{kycView: kycView{dash: p.view(q, "Go live", "Go live")}}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		v.Status, v.Error = http.StatusRequestEntityTooLarge,
			"The upload is too large: the documents may be at most 6 MiB together, 2 MiB each. Nothing was stored."
		p.renderGoLive(w, r, q, v)
		return
	}
	if (err != nil && !errors.Is(err, http.ErrNotMultipart)) || !hmac.Equal([]byte(q.CSRF), []byte(r.PostFormValue("csrf"))) {
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
				p.fail(w, r, q, "Go live", err)
				return
			}
			in.Documents = append(in.Documents, data)
		}
	}
	if _, err := p.id.SubmitKYC(r.Context(), q.User.ID, in); err != nil {
		if p.explain(w, r, err, v) {
			p.renderGoLive(w, r, q, v)
		}
		return
	}
	v = &goLiveView{kycView: kycView{dash: p.view(q, "Go live", "Go live")}}
	v.Notice = "Your KYC details were submitted. An operator will review them."
	p.renderGoLive(w, r, q, v)
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
