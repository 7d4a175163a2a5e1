// Package phone is Nepali mobile numbers: which ones are valid, and how
// Khalti shows them masked.
package phone

import (
	"regexp"
	"strings"
)

var pattern = regexp.MustCompile(`^9[678][0-9]{8}$`)

// Valid reports whether m is a Nepali mobile number: ten digits starting
// with 96, 97 or 98.
func Valid(m string) bool { return pattern.MatchString(m) }

// Mask shows the first 2 and last 3 digits of a mobile number, as
// Khalti's confirm responses and return_url do: 98XXXXX001.
func Mask(m string) string {
	if len(m) < 5 {
		return m
	}
	return m[:2] + strings.Repeat("X", len(m)-5) + m[len(m)-3:]
}

// MaskPayer shows the first 2 and the last digit of a payer's mobile
// number, as Khalti's transaction records do: 98XXXXXXX1.
func MaskPayer(m string) string {
	if len(m) != 10 {
		return m
	}
	return m[:2] + "XXXXXXX" + m[9:]
}
