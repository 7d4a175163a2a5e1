package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// kycFile is one file of a KYC upload.
type kycFile struct {
	name string // what the browser calls it; never trusted
	data []byte
}

// kycFields are valid KYC form fields.
func kycFields() url.Values {
	return url.Values{"business_name": {"Himal Traders Pvt. Ltd."}, "registration_number": {"123456/078/079"},
		"tax_number": {"601234567"}, "address": {"Thamel, Kathmandu"}}
}

// postKYC submits the KYC form as multipart/form-data with b's last CSRF
// token (unless fields sets csrf).
func postKYC(t *testing.T, b *merchantBrowser, fields url.Values, files ...kycFile) mpage {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		mw.WriteField("csrf", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("documents", f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.URL+"/dashboard/kyc/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(t, req)
}

// testPNG is a small real PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	dashMerchantIdxRE = regexp.MustCompile(`· merchant <code>(\S+)</code></p>`)
	kycDocLinkRE      = regexp.MustCompile(`href="(/admin/kyc/[^/"]+/documents/(\d+))"`)
)

// submitKYC signs-up-time helper: b (signed in) submits a valid KYC form
// with one PNG; it returns the merchant's idx.
func submitKYC(t *testing.T, b *merchantBrowser) string {
	t.Helper()
	d := b.get(t, "/dashboard/")
	m := dashMerchantIdxRE.FindStringSubmatch(d.Body)
	if m == nil {
		t.Fatalf("dashboard shows no merchant idx:\n%s", d.Body)
	}
	wantPage(t, "KYC form", b.get(t, "/dashboard/go-live/"), 200, `enctype="multipart/form-data"`)
	wantPage(t, "KYC submit", postKYC(t, b, kycFields(), kycFile{"certificate.png", testPNG(t)}), 200, "were submitted")
	return m[1]
}

func TestKYCJourney(t *testing.T) {
	s := startServer(t)
	const opEmail, opPassword = "ops@kyc.example", "operator password 1"
	s.cliOK(t, "admin", "create", "--email", opEmail, "--password", opPassword)

	// A signed-up merchant has KYC none and cannot take more than Rs 200.
	mb := newMerchantBrowser(t, s)
	pk, sk := signUpMerchant(t, mb, "Himal Traders", "himal@kyc.example", "9812300001", "merchant password")
	d := mb.get(t, "/dashboard/")
	wantPage(t, "dashboard", d, 200, `id="kyc">none<`, `href="/dashboard/go-live/#kyc"`)
	idx := dashMerchantIdxRE.FindStringSubmatch(d.Body)[1]
	bigPayment := func() response {
		return s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{"public_key": pk, "mobile": "9800000001",
			"transaction_pin": "1111", "amount": 30000, "product_identity": "p1", "product_name": "Product"}))
	}
	if r := bigPayment(); r.Status != 400 || !strings.Contains(r.Raw, "Amount must be less than 200.") {
		t.Fatalf("big payment before KYC: %d %s", r.Status, r.Raw)
	}

	// The form; anonymous visitors are sent to log in.
	anon := newMerchantBrowser(t, s)
	wantRedirect(t, "anonymous KYC page", anon.get(t, "/dashboard/go-live/"), "/login/")
	wantRedirect(t, "anonymous old KYC page", anon.get(t, "/dashboard/kyc/"), "/login/")
	wantRedirect(t, "old KYC page", mb.get(t, "/dashboard/kyc/"), "/dashboard/go-live/#kyc")
	wantRedirect(t, "anonymous KYC post", postKYC(t, anon, kycFields(), kycFile{"a.png", testPNG(t)}), "/login/")
	wantPage(t, "KYC form", mb.get(t, "/dashboard/go-live/"), 200, `<strong id="kyc-state">none</strong>`, `enctype="multipart/form-data"`, `name="documents"`)
	token := mb.csrf

	// Refusals store nothing and leave the state at none.
	fields := kycFields()
	fields.Set("csrf", "")
	wantPage(t, "KYC without CSRF", postKYC(t, mb, fields, kycFile{"a.png", testPNG(t)}), 403)
	p := postKYC(t, mb, kycFields(), kycFile{"passport.png", []byte("just some text, not an image\n")})
	wantPage(t, "text named .png", p, 400, "not a PDF, PNG or JPEG file")
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 3<<20)...)
	wantPage(t, "3 MiB file", postKYC(t, mb, kycFields(), kycFile{"big.pdf", big}), 400, "at most 2 MiB")
	wantPage(t, "no file", postKYC(t, mb, kycFields()), 400, "Upload at least one document")
	four := []kycFile{{"1.png", testPNG(t)}, {"2.png", testPNG(t)}, {"3.png", testPNG(t)}, {"4.png", testPNG(t)}}
	wantPage(t, "four files", postKYC(t, mb, kycFields(), four...), 400, "at most 3 documents")
	tooMuch := []kycFile{{"1.pdf", big[:2<<20]}, {"2.pdf", big[:2<<20]}, {"3.pdf", big[:2<<20]}, {"4.pdf", big[:1<<20]}}
	wantPage(t, "over 6 MiB in all", postKYC(t, mb, kycFields(), tooMuch...), 413, "at most 6 MiB")
	bad := kycFields()
	bad.Set("business_name", "   ")
	bad.Set("address", strings.Repeat("a", 201))
	bad.Set("tax_number", "601\x07234")
	p = postKYC(t, mb, bad, kycFile{"a.png", testPNG(t)})
	wantPage(t, "bad fields", p, 400, "Registered business name is required.", "Address must be at most 200 characters.", "PAN/VAT number must not contain control characters.")
	wantPage(t, "still none", mb.get(t, "/dashboard/go-live/"), 200, `<strong id="kyc-state">none</strong>`)
	if strings.Contains(mb.get(t, "/dashboard/go-live/").Body, `id="kyc-details"`) {
		t.Fatal("a refused submission was stored")
	}

	// The real submission: a PNG and a PDF-looking file; HTML is escaped.
	pngData, pdfData := testPNG(t), []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	fields = kycFields()
	fields.Set("business_name", "  <b>Himal</b> Traders Pvt. Ltd.  ")
	fields.Set("csrf", token)
	p = postKYC(t, mb, fields, kycFile{"../../etc/passwd.png", pngData}, kycFile{"pan.pdf", pdfData})
	wantPage(t, "KYC submitted", p, 200, "were submitted", `<strong id="kyc-state">submitted</strong>`,
		"&lt;b&gt;Himal&lt;/b&gt; Traders Pvt. Ltd.", "image/png", "application/pdf")
	if strings.Contains(p.Body, "<b>Himal</b>") || strings.Contains(p.Body, `id="kyc-form"`) || strings.Contains(p.Body, "passwd") {
		t.Fatalf("submitted page: raw HTML, a form or a file name:\n%s", p.Body)
	}
	wantPage(t, "submit twice", postKYC(t, mb, kycFields(), kycFile{"a.png", pngData}), 400, "cannot be submitted again")
	wantPage(t, "dashboard after submit", mb.get(t, "/dashboard/"), 200, `id="kyc">submitted<`)

	// The console lists it; the operator downloads the documents.
	op := newMerchantBrowser(t, s)
	operatorLogin(t, op, opEmail, opPassword)
	wantPage(t, "KYC queue", op.get(t, "/admin/"), 200, "Himal Traders")
	p = op.get(t, "/admin/merchants/?q=himal")
	wantPage(t, "console merchant", p, 200, "&lt;b&gt;Himal&lt;/b&gt; Traders Pvt. Ltd.", "123456/078/079", "601234567", "Thamel, Kathmandu")
	links := kycDocLinkRE.FindAllStringSubmatch(p.Body, -1)
	if len(links) != 2 {
		t.Fatalf("console shows %d document links, want 2:\n%s", len(links), p.Body)
	}
	for i, want := range []struct {
		ct   string
		data []byte
	}{{"image/png", pngData}, {"application/pdf", pdfData}} {
		doc := op.get(t, links[i][1])
		if doc.Status != 200 || doc.Body != string(want.data) {
			t.Fatalf("download %s: %d, %d bytes, want %d", links[i][1], doc.Status, len(doc.Body), len(want.data))
		}
		if ct := doc.Header.Get("Content-Type"); ct != want.ct {
			t.Errorf("download content type %q, want %q", ct, want.ct)
		}
		if cd := doc.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || strings.Contains(cd, "passwd") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if doc.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("download without nosniff")
		}
	}
	// Nobody else downloads them; a document under another merchant's idx is not found.
	wantRedirect(t, "merchant downloads", mb.get(t, links[0][1]), "/admin/login/")
	wantRedirect(t, "anonymous downloads", anon.get(t, links[0][1]), "/admin/login/")
	otherIdx, _, _ := cliMerchant(t, s, "Other Shop", "other@kyc.example")
	wantPage(t, "document under another idx", op.get(t, "/admin/kyc/"+otherIdx+"/documents/"+links[0][2]), 404)
	wantPage(t, "document not a number", op.get(t, "/admin/kyc/"+idx+"/documents/x"), 404)
	wantPage(t, "audit of the download", op.get(t, "/admin/audit/"), 200, "kyc.document")

	// Reject with a reason: shown (escaped) on the dashboard; resubmission is allowed.
	wantPage(t, "reject", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx}, "decision": {"reject"}, "reason": {"PAN <i>certificate</i> is blurry"}, "q": {"himal"}}),
		200, "is now rejected")
	p = mb.get(t, "/dashboard/go-live/")
	wantPage(t, "rejected KYC page", p, 200, `<strong id="kyc-state">rejected</strong>`, "PAN &lt;i&gt;certificate&lt;/i&gt; is blurry", `id="kyc-form"`)
	if r := bigPayment(); r.Status != 400 {
		t.Fatalf("big payment after rejection: %d %s", r.Status, r.Raw)
	}
	p = postKYC(t, mb, kycFields(), kycFile{"pan.pdf", pdfData})
	wantPage(t, "resubmitted", p, 200, "were submitted", `<strong id="kyc-state">submitted</strong>`)
	if strings.Contains(p.Body, "blurry") {
		t.Fatal("the old rejection reason is still shown after resubmission")
	}
	p = op.get(t, "/admin/merchants/?q=himal")
	if links = kycDocLinkRE.FindAllStringSubmatch(p.Body, -1); len(links) != 1 {
		t.Fatalf("after resubmission the console shows %d documents, want 1", len(links))
	}
	if doc := op.get(t, links[0][1]); doc.Body != string(pdfData) {
		t.Fatal("resubmitted document differs")
	}

	// Approve: the big payment now goes through.
	wantPage(t, "approve", op.post(t, "/admin/merchants/kyc", url.Values{"merchant": {idx}, "decision": {"approve"}, "q": {"himal"}}), 200, "is now approved")
	wantPage(t, "approved KYC page", mb.get(t, "/dashboard/go-live/"), 200, `<strong id="kyc-state">approved</strong>`)
	if strings.Contains(mb.get(t, "/dashboard/go-live/").Body, `id="kyc-form"`) {
		t.Fatal("the form is offered after approval")
	}
	s.pay(t, pk, sk, "9800000001", 30000)
	s.ledgerOK(t)
}
