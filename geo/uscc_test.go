package geo

import (
	"errors"
	"testing"
)

func TestValidateUSCC(t *testing.T) {
	// Published codes of well-known companies (business licences shown on their websites).
	valid := []struct{ name, code string }{
		{"阿里巴巴（中国）有限公司", "91330100716105852F"},
		{"深圳市腾讯计算机系统有限公司", "91440300708461136T"},
		{"华为技术有限公司", "914403001922038216"},
		{"GB 32100-2015 specimen", "91350100M000100Y43"},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			if err := ValidateUSCC(c.code); err != nil {
				t.Fatalf("ValidateUSCC(%s) = %v", c.code, err)
			}
			// Every single-character corruption of a valid code is caught.
			for i := 0; i < 18; i++ {
				for _, r := range []byte(usccAlphabet) {
					if r == c.code[i] {
						continue
					}
					bad := c.code[:i] + string(r) + c.code[i+1:]
					if err := ValidateUSCC(bad); err == nil {
						t.Fatalf("corrupted code %s (position %d) accepted", bad, i+1)
					} else if !errors.Is(err, ErrInvalidUSCC) {
						t.Fatalf("error %v does not wrap ErrInvalidUSCC", err)
					}
				}
			}
		})
	}
	invalid := []struct{ name, code string }{
		{"empty", ""},
		{"too short", "91330100716105852"},
		{"too long", "91330100716105852FF"},
		{"letter O", "9133010071610585OF"},
		{"lower case", "91330100716105852f"},
		{"division not digits", "91A30100716105852F"},
		{"chinese", "统一社会信用代码统一社会"},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			if err := ValidateUSCC(c.code); !errors.Is(err, ErrInvalidUSCC) {
				t.Fatalf("ValidateUSCC(%q) = %v, want ErrInvalidUSCC", c.code, err)
			}
		})
	}
}
