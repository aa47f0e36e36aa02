package postgres

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
)

// copyStream builds a binary COPY stream of tuples of fields (nil: NULL).
func copyStream(tuples [][][]byte) []byte {
	var b bytes.Buffer
	b.Write(copyMagic)
	b.Write(make([]byte, 8)) // flags, header extension length
	for _, t := range tuples {
		binary.Write(&b, binary.BigEndian, int16(len(t)))
		for _, f := range t {
			if f == nil {
				binary.Write(&b, binary.BigEndian, int32(-1))
				continue
			}
			binary.Write(&b, binary.BigEndian, int32(len(f)))
			b.Write(f)
		}
	}
	binary.Write(&b, binary.BigEndian, int16(-1))
	return b.Bytes()
}

func TestDecodeCopy(t *testing.T) {
	in := [][][]byte{{[]byte("a"), nil, []byte("ccc")}, {[]byte(""), []byte("bb"), nil}}
	var got [][]string
	err := decodeCopy(bufio.NewReader(bytes.NewReader(copyStream(in))), 3, func(f [][]byte) error {
		row := make([]string, len(f))
		for i, x := range f {
			if x == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(x)
			}
		}
		got = append(got, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "NULL", "ccc"}, {"", "bb", "NULL"}}
	if len(got) != 2 || got[0][0] != want[0][0] || got[0][1] != want[0][1] || got[0][2] != want[0][2] || got[1][0] != want[1][0] || got[1][1] != want[1][1] || got[1][2] != want[1][2] {
		t.Errorf("got %v, want %v", got, want)
	}
	// a tuple of the wrong width, a truncated stream, a huge length: errors
	for name, bad := range map[string][]byte{
		"width":     copyStream([][][]byte{{[]byte("a")}}),
		"truncated": copyStream(in)[:30],
		"huge":      append(append(append([]byte{}, copyMagic...), make([]byte, 8)...), 0, 3, 0x7f, 0xff, 0xff, 0xff),
	} {
		if err := decodeCopy(bufio.NewReader(bytes.NewReader(bad)), 3, func([][]byte) error { return nil }); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzDecodeCopy: any stream from the database decodes or fails with an
// error, without panicking or allocating past the caps.
func FuzzDecodeCopy(f *testing.F) {
	f.Add(copyStream([][][]byte{{[]byte("a"), nil, []byte("ccc")}}))
	f.Add(copyStream(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = decodeCopy(bufio.NewReader(bytes.NewReader(b)), 3, func(f [][]byte) error {
			if len(f) != 3 {
				t.Fatalf("%d fields", len(f))
			}
			return nil
		})
	})
}
