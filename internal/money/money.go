// Package money holds Thaili's amount type and the wire rules for reading
// amounts. Amounts are whole paisa in an int64; floats never appear.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Paisa is an amount of Nepali money in paisa (Rs 1 = 100 paisa).
type Paisa int64

// Max is the largest amount Thaili accepts on the wire: Rs 100 billion.
// Keeping amounts far below the int64 limit means fee arithmetic
// (amount * basis points) can never overflow.
const Max Paisa = 10_000_000_000_000

// ErrNotInteger is returned when a value is not a whole number.
// Its text is the exact message Khalti clients expect.
var ErrNotInteger = errors.New("A valid integer is required.")

// ErrTooLarge is returned for amounts above Max.
var ErrTooLarge = fmt.Errorf("Ensure this value is less than or equal to %d.", int64(Max))

// String formats the amount as rupees with two decimals and Nepali digit
// grouping (the last three digits, then pairs), as people in Nepal write
// money: 1000000000 paisa is "Rs 1,00,00,000.00", 1050 is "Rs 10.50".
// Pages and messages show amounts this way; the API carries paisa.
func (p Paisa) String() string {
	sign := ""
	v := uint64(p)
	if p < 0 {
		sign = "-"
		v = -v // two's complement: also right for math.MinInt64
	}
	return fmt.Sprintf("%sRs %s.%02d", sign, groupNepali(strconv.FormatUint(v/100, 10)), v%100)
}

// groupNepali puts commas in a run of digits the Nepali (and Indian) way:
// "1234567" becomes "12,34,567".
func groupNepali(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	head, tail := digits[:len(digits)-3], digits[len(digits)-3:]
	var b strings.Builder
	for i, d := range head {
		if i > 0 && (len(head)-i)%2 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String() + "," + tail
}

// Parse reads an amount the way Khalti's servers do (Django REST
// framework's IntegerField): a JSON integer, a numeric string, or a number
// whose fraction is only zeros ("1000.0"). Surrounding spaces are allowed
// in strings. Anything else, including booleans, objects, fractions and
// exponents, is ErrNotInteger. Values beyond Max are ErrTooLarge, and the
// sign is kept so callers can apply their own minimum.
func Parse(v any) (Paisa, error) {
	switch t := v.(type) {
	case json.Number:
		return parseText(string(t))
	case string:
		return parseText(strings.TrimSpace(t))
	case float64:
		if t != math.Trunc(t) || math.IsInf(t, 0) || math.IsNaN(t) {
			return 0, ErrNotInteger
		}
		if math.Abs(t) > float64(Max) {
			return 0, ErrTooLarge
		}
		return Paisa(t), nil
	case int:
		return checkRange(int64(t))
	case int64:
		return checkRange(t)
	default:
		return 0, ErrNotInteger
	}
}

func parseText(s string) (Paisa, error) {
	if s == "" {
		return 0, ErrNotInteger
	}
	digits := s
	if digits[0] == '-' || digits[0] == '+' {
		digits = digits[1:]
	}
	if whole, frac, ok := strings.Cut(digits, "."); ok {
		if strings.Trim(frac, "0") != "" {
			return 0, ErrNotInteger
		}
		digits = whole
		s = s[:len(s)-len(frac)-1]
	}
	if digits == "" {
		return 0, ErrNotInteger
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, ErrNotInteger
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Only a range error is possible here: the digits were checked.
		return 0, ErrTooLarge
	}
	return checkRange(n)
}

func checkRange(n int64) (Paisa, error) {
	if n > int64(Max) || n < -int64(Max) {
		return 0, ErrTooLarge
	}
	return Paisa(n), nil
}

// Fee is the fee for amount at percentBps basis points plus flat, rounded
// half up to the paisa. Inputs are bounded by Max, so it cannot overflow.
func Fee(amount Paisa, percentBps int64, flat Paisa) Paisa {
	return Paisa((int64(amount)*percentBps+5000)/10000) + flat
}
