package geo

import "fmt"

// usccAlphabet is the 31-character set of GB 32100-2015 (no I, O, Z, S, V).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

func usccValue(c byte) int { return int(usccValues[c]) }

// usccValues maps a byte to its value in usccAlphabet, -1 if absent (a
// constant table).
var usccValues = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		t[usccAlphabet[i]] = int8(i)
	}
	return t
}()

// USCCCheckChar computes the GB 32100-2015 check character for the first 17
// characters of a unified social credit code (统一社会信用代码).
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 characters before the check digit, got %d", ErrInvalidUSCC, len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue(first17[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: character %q at position %d is not allowed (GB 32100 uses 0-9 and A-Y without I, O, S, V, Z)", ErrInvalidUSCC, first17[i], i+1)
		}
		sum += v * usccWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return usccAlphabet[c], nil
}

// ValidateUSCC checks an 18-character unified social credit code: its
// length, alphabet, the six-digit administrative division code in positions
// 3–8, and the GB 32100-2015 check character. Lower-case letters are
// rejected: codes are printed in upper case.
func ValidateUSCC(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("%w: %q has %d characters, want 18", ErrInvalidUSCC, code, len([]rune(code)))
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("%w: %q: positions 3-8 must be the six-digit division code", ErrInvalidUSCC, code)
		}
	}
	want, err := USCCCheckChar(code[:17])
	if err != nil {
		return fmt.Errorf("%q: %w", code, err)
	}
	if usccValue(code[17]) < 0 {
		return fmt.Errorf("%w: %q: check character %q is not allowed", ErrInvalidUSCC, code, code[17])
	}
	if code[17] != want {
		return fmt.Errorf("%w: %q: check character is %q, want %q", ErrInvalidUSCC, code, code[17], want)
	}
	return nil
}
