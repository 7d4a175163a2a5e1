package money

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   any
		want Paisa
		err  error
	}{
		{json.Number("1000"), 1000, nil},
		{"1000", 1000, nil},
		{" 1000 ", 1000, nil},
		{"1000.0", 1000, nil},
		{"1000.", 1000, nil},
		{json.Number("1000.00"), 1000, nil},
		{float64(1000), 1000, nil},
		{"-5", -5, nil},
		{"+7", 7, nil},
		{"0", 0, nil},
		{"10.5", 0, ErrNotInteger},
		{json.Number("1e3"), 0, ErrNotInteger},
		{"abc", 0, ErrNotInteger},
		{"", 0, ErrNotInteger},
		{"-", 0, ErrNotInteger},
		{".0", 0, ErrNotInteger},
		{"1 000", 0, ErrNotInteger},
		{"1000; DROP TABLE payments", 0, ErrNotInteger},
		{true, 0, ErrNotInteger},
		{nil, 0, ErrNotInteger},
		{map[string]any{}, 0, ErrNotInteger},
		{[]any{"1"}, 0, ErrNotInteger},
		{float64(10.25), 0, ErrNotInteger},
		{"99999999999999999999999", 0, ErrTooLarge},
		{"10000000000001", 0, ErrTooLarge},
		{"10000000000000", Max, nil},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("Parse(%#v) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFee(t *testing.T) {
	tests := []struct {
		amount Paisa
		bps    int64
		flat   Paisa
		want   Paisa
	}{
		{1000, 300, 0, 30},
		{3000, 300, 0, 90},
		{1050, 300, 0, 32}, // 31.5 rounds half up
		{1000, 0, 500, 500},
		{Max, 10000, 0, Max},
	}
	for _, tt := range tests {
		if got := Fee(tt.amount, tt.bps, tt.flat); got != tt.want {
			t.Errorf("Fee(%d, %d, %d) = %d, want %d", tt.amount, tt.bps, tt.flat, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		in   Paisa
		want string
	}{
		{1050, "Rs 10.50"},
		{-5, "-Rs 0.05"},
		{0, "Rs 0.00"},
		{99_999, "Rs 999.99"},
		{100_000, "Rs 1,000.00"},
		{1_234_567, "Rs 12,345.67"},
		{12_345_678, "Rs 1,23,456.78"},
		{100_000_000, "Rs 10,00,000.00"},
		{1_000_000_000, "Rs 1,00,00,000.00"},
		{Max, "Rs 1,00,00,00,00,000.00"},
		{-100_000_000, "-Rs 10,00,000.00"},
		{math.MinInt64, "-Rs 92,23,37,20,36,85,47,758.08"},
	} {
		if got := c.in.String(); got != c.want {
			t.Errorf("Paisa(%d).String() = %q, want %q", int64(c.in), got, c.want)
		}
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts is
// within range and round-trips through its decimal form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1000", "1000.0", "-1", "abc", "1e3", "99999999999999999999", " 5 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		if p > Max || p < -Max {
			t.Fatalf("Parse(%q) = %d out of range", s, p)
		}
		again, err := Parse(json.Number(strconv.FormatInt(int64(p), 10)))
		if err != nil || again != p {
			t.Fatalf("round trip of %q: %d, %v", s, again, err)
		}
	})
}
