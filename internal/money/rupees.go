package money

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// Why ParseRupees refused what was typed. Each is a whole sentence a
// form can show as it is.
var (
	ErrRupeesEmpty    = errors.New("Enter an amount in rupees, such as 1,500.50.")
	ErrRupeesFormat   = errors.New("Enter the amount in rupees as digits, such as 1,500.50 or 1500.5.")
	ErrRupeesNegative = errors.New("The amount cannot be negative.")
	ErrRupeesDecimals = errors.New("Enter at most two decimals: the smallest amount is 1 paisa, Rs 0.01.")
	ErrRupeesTooLarge = errors.New("The amount can be at most " + Max.String() + ".")
)

var (
	// rupeesRE is an amount as people type it: digits, grouped with
	// commas or not, and a fraction of any length (too many decimals get
	// their own message).
	rupeesRE = regexp.MustCompile(`^([0-9][0-9,]*)(\.[0-9]*)?$`)
	// Commas must group the Nepali way (12,34,567) or the international
	// way (1,234,567); anything else is more likely a typing mistake.
	nepaliGroupsRE = regexp.MustCompile(`^[0-9]{1,2}(,[0-9]{2})*,[0-9]{3}$`)
	westGroupsRE   = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+$`)
)

// ParseRupees reads an amount typed into a page's form in rupees, as
// Paisa.String writes it or as people type it: "1,500.50", "1500.5",
// "Rs 15,00,000" and "1500" are accepted (commas grouping the Nepali or
// the international way, an optional "Rs" in front, at most two
// decimals). Zero is accepted: callers apply their own minimum. The
// errors are the Err* sentences above, for the form to show. The API
// never takes rupees; it carries paisa (Parse).
func ParseRupees(s string) (Paisa, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && strings.EqualFold(s[:2], "Rs") {
		s = strings.TrimSpace(strings.TrimPrefix(s[2:], "."))
	}
	switch {
	case s == "":
		return 0, ErrRupeesEmpty
	case strings.HasPrefix(s, "-"):
		return 0, ErrRupeesNegative
	}
	m := rupeesRE.FindStringSubmatch(s)
	if m == nil {
		return 0, ErrRupeesFormat
	}
	whole, frac := m[1], strings.TrimPrefix(m[2], ".")
	if strings.Contains(whole, ",") {
		if !nepaliGroupsRE.MatchString(whole) && !westGroupsRE.MatchString(whole) {
			return 0, ErrRupeesFormat
		}
		whole = strings.ReplaceAll(whole, ",", "")
	}
	if m[2] == "." {
		return 0, ErrRupeesFormat // a point with nothing after it
	}
	if len(frac) > 2 {
		return 0, ErrRupeesDecimals
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 12 { // Max is Rs 100 billion: 12 digits
		return 0, ErrRupeesTooLarge
	}
	n, err := strconv.ParseInt(whole+(frac + "00")[:2], 10, 64)
	if err != nil || n > int64(Max) {
		return 0, ErrRupeesTooLarge
	}
	return Paisa(n), nil
}
