package geo

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// wholeCSV reads in with one encoding/csv reader: the oracle.
func wholeCSV(in []byte) []string {
	cr := csv.NewReader(bytes.NewReader(in))
	cr.FieldsPerRecord = -1
	var out []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		out = append(out, renderRecord(rec, err))
	}
}

// chunkedCSV reads in as the loader does: the header, then batches cut by
// csvChunker reading step bytes at a time, each parsed on its own.
func chunkedCSV(t *testing.T, in []byte, step int) []string {
	t.Helper()
	r := bytes.NewReader(in)
	header, rest, err := readCSVHeader(r, step)
	if err == io.EOF {
		return nil
	}
	out := []string{renderRecord(header, err)}
	if err != nil {
		// the loader stops at a bad header; compare what it saw
		return out
	}
	ch := &csvChunker{in: r, carry: rest, size: step}
	for {
		var b csvBatch
		more, err := ch.next(&b)
		if err != nil {
			t.Fatalf("chunker: %v", err)
		}
		eachCSVRecord(b.data, nil, func(rec []string, err error) bool {
			out = append(out, renderRecord(rec, err))
			return true
		})
		if !more {
			return out
		}
	}
}

func renderRecord(rec []string, err error) string {
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return "error: " + pe.Err.Error()
		}
		return "error: " + err.Error()
	}
	return "[" + strings.Join(rec, "|") + "]"
}

var csvSplitCases = []string{
	"",
	"id,name\n",
	"id,name",
	"\n\nid,name\na,b\n",
	"id,name\na,b\nc,d\n",
	"id,name\r\na,b\r\nc,d\r\n",
	"id,name\na,b\r",
	"id,name\na,b\rc\n",
	"id,name\n\n\na,b\n\r\n\nc,d",
	"id,name\n\"a\nb\",c\nd,e\n",
	"id,name\n\"a\"\"b\",\"c,d\"\ne,f\n",
	"id,name\nx\"y,z\nnext,row\n",
	"id,name\n\"a\"x,b\nnext,row\n",
	"id,name\n\"a\",\"b\nnext,row\n",
	"id,name\n\"unterminated\n",
	"id,name\n\"a\"\r\nb,c\n",
	"id,name\n\"a\"\rb,c\nd,e\n",
	"id,name\n\"\",\"\"\n,\n,,\n",
	"\"i\nd\",name\na,b\n",
	"\"bad\"x,name\na,b\n",
	"id,name\na,\"b\n\nc\"\nd,e\n",
	"id,name\na,\"b\"\"\n\"\"c\"\n",
	"id,name\n a,\"b\"\n",
	"id,name\na, \"b\"\nc,d\n",
	"id,name\n\"a\"\"\",b\n\"\"\"\"\n",
	"id\n\"x\n\ny\n",
	"id,name\n\xff\xfe,\"\xff\"\n",
	"id,name\na\"b,\"c\nd,e\n",
}

func TestCSVChunksEqualOneReader(t *testing.T) {
	for _, in := range csvSplitCases {
		want := wholeCSV([]byte(in))
		for _, step := range []int{1, 2, 3, 5, 8, 64} {
			got := chunkedCSV(t, []byte(in), step)
			if !equalPrefix(got, want) {
				t.Errorf("%q read %d bytes at a time:\n got %q\nwant %q", in, step, got, want)
			}
		}
	}
}

// equalPrefix: the chunked read stops after a bad header, so it may be
// shorter, but otherwise equal.
func equalPrefix(got, want []string) bool {
	if len(got) > len(want) {
		return false
	}
	if len(got) < len(want) && (len(got) != 1 || !strings.HasPrefix(got[0], "error: ")) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func FuzzCSVChunks(f *testing.F) {
	for _, c := range csvSplitCases {
		f.Add(c, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in string, step uint8) {
		want := wholeCSV([]byte(in))
		got := chunkedCSV(t, []byte(in), int(step%64)+1)
		if !equalPrefix(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", in, got, want)
		}
	})
}

func TestTrimSpaceEqualsStrings(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a", "a ", "\ta\n", "重庆", " 重庆", "重庆\u3000", "\u3000重庆", "\u00a0x\u00a0",
		"\x01a", "a\x01", "\u2028", "\xff", "a\xff", "\xffa", "x\u205f", "\u0085y", "中 文"} {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzTrimSpace(f *testing.F) {
	f.Add(" 重庆\u3000")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Fatalf("trimSpace(%q) = %q, want %q", s, got, want)
		}
	})
}
