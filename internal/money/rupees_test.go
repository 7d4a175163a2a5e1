package money

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRupees(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Paisa
		err  error
	}{
		{"1500", 150000, nil},
		{"1500.5", 150050, nil},
		{"1500.50", 150050, nil},
		{"1,500.50", 150050, nil},
		{" 1,500.5 ", 150050, nil},
		{"15,00,000", 150000000, nil},       // Nepali grouping
		{"1,500,000", 150000000, nil},       // international grouping
		{"Rs 10,00,000.00", 100000000, nil}, // as Paisa.String writes it
		{"Rs.25", 2500, nil},
		{"rs 0.01", 1, nil},
		{"0", 0, nil},
		{"0.5", 50, nil},
		{"007", 700, nil},
		{"100000000000", Max, nil}, // Rs 100 billion, the largest
		{"", 0, ErrRupeesEmpty},
		{"   ", 0, ErrRupeesEmpty},
		{"Rs", 0, ErrRupeesEmpty},
		{"-5", 0, ErrRupeesNegative},
		{"Rs -5", 0, ErrRupeesNegative},
		{"10.505", 0, ErrRupeesDecimals},
		{"1,500.555", 0, ErrRupeesDecimals},
		{"10.", 0, ErrRupeesFormat},
		{".5", 0, ErrRupeesFormat},
		{"1,50,0", 0, ErrRupeesFormat},
		{"1,5000", 0, ErrRupeesFormat},
		{",500", 0, ErrRupeesFormat},
		{"1 500", 0, ErrRupeesFormat},
		{"1e3", 0, ErrRupeesFormat},
		{"abc", 0, ErrRupeesFormat},
		{"<script>", 0, ErrRupeesFormat},
		{"१५००", 0, ErrRupeesFormat}, // Devanagari digits are not taken (yet)
		{"100000000000.01", 0, ErrRupeesTooLarge},
		{"999999999999999999999999", 0, ErrRupeesTooLarge},
	} {
		got, err := ParseRupees(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("ParseRupees(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// TestParseRupeesReadsString: every amount a page shows can be typed
// back as it is shown.
func TestParseRupeesReadsString(t *testing.T) {
	for _, p := range []Paisa{0, 1, 99, 100, 150050, 123456789, 100000000, Max} {
		got, err := ParseRupees(p.String())
		if err != nil || got != p {
			t.Errorf("ParseRupees(%q) = %d, %v; want %d", p.String(), got, err, p)
		}
	}
}

func TestParseRupeesMessages(t *testing.T) {
	if want := "The amount can be at most Rs 1,00,00,00,00,000.00."; ErrRupeesTooLarge.Error() != want {
		t.Errorf("too large: %q, want %q", ErrRupeesTooLarge, want)
	}
}

func TestParseRupeesLongInput(t *testing.T) {
	long := strings.Repeat("9", 10000)
	if _, err := ParseRupees(long); !errors.Is(err, ErrRupeesTooLarge) {
		t.Errorf("10,000 nines: %v, want ErrRupeesTooLarge", err)
	}
	if got, err := ParseRupees(strings.Repeat("0", 10000) + "1"); err != nil || got != 100 {
		t.Errorf("leading zeros: %d, %v; want Rs 1", got, err)
	}
}
