package exchange_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/xuri/excelize/v2"
)

// FuzzCleanCode: cleaning never panics, is idempotent, and a code it calls
// a USCC passes geo's validator.
func FuzzCleanCode(f *testing.F) {
	for _, s := range []string{"91500112MA5U7G4K3U", "９１５００１１２ma5u7g4k3u", " 915001-12MA5U7G4K3U ", "MA5U7G4K3", "500112000012345", "", "'91500112MA5U7G4K3U", "\u200b9150"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, kind := exchange.CleanCode(s)
		c2, kind2 := exchange.CleanCode(c)
		if c2 != c || kind2 != kind {
			t.Fatalf("not idempotent: %q → %q (%v) → %q (%v)", s, c, kind, c2, kind2)
		}
		if kind == exchange.CodeUSCC && geo.ValidateUSCC(c) != nil {
			t.Fatalf("%q cleaned to %q, called a USCC but invalid", s, c)
		}
		if len(c) > 4*256 {
			t.Fatalf("cleaned code of %d bytes", len(c))
		}
	})
}

// FuzzReadTable: any bytes as a CSV (any charset) or a workbook are read
// or refused with ErrBadTable/ErrTooLarge, never a panic; every cell read
// is valid UTF-8.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte("统一社会信用代码,企业名称\n91500112MA5U7G4K3U,重庆\n"), "")
	f.Add([]byte("\xef\xbb\xbfa;b;c\n1;2;3\n\n\n"), "")
	f.Add([]byte("\xcd\xb3\xd2\xbb,\"a\"\"b\"\n"), "gbk")
	f.Add([]byte("a\tb\n\"unterminated\n"), "utf-8")
	x := excelize.NewFile()
	x.SetCellValue("Sheet1", "A1", "统一社会信用代码")
	x.MergeCell("Sheet1", "A1", "B2")
	x.SetCellValue("Sheet1", "A3", 45292)
	var buf bytes.Buffer
	_, _ = x.WriteTo(&buf)
	f.Add(buf.Bytes(), "")
	f.Fuzz(func(t *testing.T, data []byte, charset string) {
		if len(charset) > 20 {
			return
		}
		tb, err := exchange.ReadTable(bytes.NewReader(data), "f", exchange.ReadOptions{Charset: charset, MaxBytes: 1 << 20, MaxRows: 1000, MaxCols: 50})
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if len(r.Cells) > 50 {
				t.Fatalf("row %d has %d cells past the cap", r.N, len(r.Cells))
			}
			for _, c := range r.Cells {
				if !utf8.ValidString(c) && tb.Encoding != "xlsx" {
					t.Fatalf("cell %q is not UTF-8", c)
				}
			}
		}
	})
}

// FuzzParseDate: never a panic; an accepted date is YYYY-MM-DD and reads
// back as itself.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-01", "45292", "2026年3月1日", "20260301", "2026/3/1 10:00", "４５２９２", "1e9", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := exchange.ParseDate(s, nil)
		if err != nil || d == "" {
			return
		}
		if d2, err := exchange.ParseDate(d, nil); err != nil || d2 != d || len(d) != 10 {
			t.Fatalf("%q → %q → %q %v", s, d, d2, err)
		}
	})
}

// FuzzParseMapping: a mapping file is read or refused with
// ErrBadMapping, never a panic.
func FuzzParseMapping(f *testing.F) {
	f.Add("dept: 税务局\nkind: tax\ncolumns:\n  uscc: 纳税人识别号\n  fields:\n    amount: 金额\n")
	f.Add("columns: [1, 2]\n")
	f.Add("&a [*a]")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := exchange.ParseMapping(strings.NewReader(s)); err != nil && !errors.Is(err, exchange.ErrBadMapping) {
			t.Fatalf("%q: %v does not wrap ErrBadMapping", s, err)
		}
	})
}
