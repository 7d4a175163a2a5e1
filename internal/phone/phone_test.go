package phone

import "testing"

func TestMasks(t *testing.T) {
	for _, tc := range []struct{ in, mobile, payer string }{
		{"9800000001", "98XXXXX001", "98XXXXXXX1"},
		{"98", "98", "98"},
		{"", "", ""},
	} {
		if got := Mask(tc.in); got != tc.mobile {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.mobile)
		}
		if got := MaskPayer(tc.in); got != tc.payer {
			t.Errorf("MaskPayer(%q) = %q, want %q", tc.in, got, tc.payer)
		}
	}
}

func TestValid(t *testing.T) {
	for m, want := range map[string]bool{"9800000001": true, "9612345678": true, "9712345678": true,
		"9512345678": false, "980000000": false, "98000000012": false, "98000000a1": false, "": false} {
		if got := Valid(m); got != want {
			t.Errorf("Valid(%q) = %t, want %t", m, got, want)
		}
	}
}
