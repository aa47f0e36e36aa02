package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestImportReaderStreamsLikeImport: a department table streamed in
// chunks of 97 rows (ImportReader with a FeedbackWriter, UTF-8 and GBK)
// ends exactly as the same table read whole and imported in one pass (the
// oracle, on a second store): the same counts, the same feedback table
// byte for byte, the same records; a second streamed import changes
// nothing.
func TestImportReaderStreamsLikeImport(t *testing.T) {
	ctx := context.Background()
	n, size := 1500, 3000
	if raceOn {
		n, size = 600, 1500
	}
	whole := newWorld(t, filepath.Join(t.TempDir(), "a.gpkg"), size, exchange.Options{})
	rows := demo.DepartmentRows(whole.ds, n, 5)
	// dirt the generator has not: a duplicate row, a title, empty rows
	rows = append(rows, rows[7], []string{}, rows[9], []string{"", ""}, []string{})
	rows = append([][]string{{"税务数据交换表"}}, rows...)
	table := csvOf(rows)
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(table[3:])
	if err != nil {
		t.Fatal(err)
	}
	o := exchange.ImportOptions{Dept: "税务局", Kind: "tax"}
	repW, tbl, err := whole.ex.ReadAndImport(ctx, bytes.NewReader(table), "tax.csv", o)
	if err != nil {
		t.Fatal(err)
	}
	var fbWhole bytes.Buffer
	if err := exchange.WriteFeedback(&fbWhole, "csv", tbl, repW); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		enc  string
	}{{"utf-8", table, "utf-8-bom"}, {"gbk", gbk, "gb18030"}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newWorld(t, filepath.Join(t.TempDir(), "b.gpkg"), size, exchange.Options{Chunk: 97})
			var fb bytes.Buffer
			fw, err := exchange.NewFeedbackWriter(&fb, "csv")
			if err != nil {
				t.Fatal(err)
			}
			so := o
			so.OnRow = fw.Row
			calls := 0
			so.Progress = func(exchange.Progress) { calls++ }
			rep, err := s.ex.ImportReader(ctx, bytes.NewReader(tc.data), "tax.csv", so)
			if err != nil {
				t.Fatal(err)
			}
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			if rep.Encoding != tc.enc || rep.Outcomes != nil || calls < n/97 {
				t.Fatalf("encoding %q (want %q), %d outcomes kept (want none), %d progress calls", rep.Encoding, tc.enc, len(rep.Outcomes), calls)
			}
			a, b := *repW, *rep
			a.Outcomes, a.Took, a.Seq, a.Encoding, b.Took, b.Seq, b.Encoding = nil, 0, 0, "", 0, 0, ""
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("streamed report\n%+v\nwhole\n%+v", b, a)
			}
			if rep.Duplicate == 0 || rep.Attached == 0 {
				t.Fatalf("the table should have attached and duplicate rows: %+v", rep)
			}
			if !bytes.Equal(fb.Bytes(), fbWhole.Bytes()) {
				t.Fatalf("streamed feedback (%d bytes) differs from the whole table's (%d bytes)", fb.Len(), fbWhole.Len())
			}
			if s.ex.Len() != whole.ex.Len() {
				t.Fatalf("%d records stored streaming, %d whole", s.ex.Len(), whole.ex.Len())
			}
			for _, e := range whole.ds.Entities[:min(300, len(whole.ds.Entities))] {
				ra, _ := whole.ex.Records(ctx, e.ID, exchange.Filter{})
				rb, _ := s.ex.Records(ctx, e.ID, exchange.Filter{})
				if len(ra) != len(rb) {
					t.Fatalf("entity %s: %d records streamed, %d whole", e.ID, len(rb), len(ra))
				}
				for i := range ra {
					if ra[i].ID != rb[i].ID || ra[i].Hash != rb[i].Hash {
						t.Fatalf("entity %s record %d: %s/%s streamed, %s/%s whole", e.ID, i, rb[i].ID, rb[i].Hash, ra[i].ID, ra[i].Hash)
					}
				}
			}
			seq := s.st.Seq()
			rep2, err := s.ex.ImportReader(ctx, bytes.NewReader(tc.data), "tax.csv", o)
			if err != nil {
				t.Fatal(err)
			}
			if rep2.Attached != 0 || s.st.Seq() != seq || rep2.Unchanged != rep.Attached {
				t.Fatalf("the second import changed something: attached %d, unchanged %d (want %d), seq %d → %d", rep2.Attached, rep2.Unchanged, rep.Attached, seq, s.st.Seq())
			}
		})
	}
}

// readAll reads a RowReader to its end.
func readAll(r *exchange.RowReader) ([]exchange.Row, error) {
	var out []exchange.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, row)
	}
}

// FuzzRowReader: the streaming reader yields the rows ReadTable reads
// whole (the oracle; trailing empty rows aside), and errors where it
// errors, with ErrBadTable or ErrTooLarge; never a panic.
func FuzzRowReader(f *testing.F) {
	f.Add([]byte("统一社会信用代码,企业名称\n91500112MA5U7G4K3U,重庆\n"), "")
	f.Add([]byte("\xef\xbb\xbfa;b;c\n1;2;3\n\n\n"), "")
	f.Add([]byte("\xcd\xb3\xd2\xbb|\"a\"\"b\"\n\xcd|\xb3\n"), "")
	f.Add([]byte("\xcd\xb3\xd2\xbb,\"a\"\"b\"\n"), "gbk")
	f.Add([]byte("a\tb\n\"unterminated\n"), "utf-8")
	f.Add([]byte("a,b\n\xff\xfe,c\n"), "utf-8")
	f.Fuzz(func(t *testing.T, data []byte, charset string) {
		if len(charset) > 20 || len(data) > 32<<10 {
			return
		}
		ro := exchange.ReadOptions{Format: "csv", Charset: charset, MaxBytes: 16 << 10, MaxRows: 200, MaxCols: 50}
		want, werr := exchange.ReadTable(bytes.NewReader(data), "f", ro)
		r, err := exchange.NewRowReader(bytes.NewReader(data), ro)
		var got []exchange.Row
		if err == nil {
			got, err = readAll(r)
		}
		if (err != nil) != (werr != nil) {
			t.Fatalf("streamed error %v, whole error %v", err, werr)
		}
		if err != nil {
			if !errors.Is(err, exchange.ErrBadTable) && !errors.Is(err, exchange.ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrBadTable nor ErrTooLarge", err)
			}
			return
		}
		if r.Encoding() != want.Encoding {
			t.Fatalf("encoding %q streamed, %q whole", r.Encoding(), want.Encoding)
		}
		if len(got) < len(want.Rows) {
			t.Fatalf("%d rows streamed, %d whole", len(got), len(want.Rows))
		}
		for i, w := range want.Rows {
			if got[i].N != w.N || !reflect.DeepEqual(got[i].Cells, w.Cells) {
				t.Fatalf("row %d: %d %q streamed, %d %q whole", i, got[i].N, got[i].Cells, w.N, w.Cells)
			}
		}
		for _, g := range got[len(want.Rows):] {
			for _, c := range g.Cells {
				if strings.TrimSpace(c) != "" { // ReadTable's rule for a trailing empty row (emptyRow)
					t.Fatalf("a row past the whole table's end is not empty: %q", g.Cells)
				}
			}
		}
	})
}
