package addressmatch

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"reflect"
)

// ErrBadParsed means a file of parsed addresses (DB.SaveParsed) cannot be
// used: truncated, corrupt, of another format, written by another build or
// configuration (its fingerprint differs), or its parses are not what the
// parser gives today.
var ErrBadParsed = errors.New("addressmatch: unusable parsed-address file")

// parsedMagic starts a parsed-address file; its last digit is the format
// version.
const parsedMagic = "MGADDRPARSED1\n"

// parsedLayout describes the fields struct the codec below writes: a file
// written for another layout is refused rather than misread.
func parsedLayout() string {
	t := reflect.TypeOf(fields{})
	s := ""
	for i := range t.NumField() {
		s += t.Field(i).Name + ":" + t.Field(i).Type.String() + ";"
	}
	return s
}

// ParsedCache holds the parsed forms of normalised addresses read from a
// file written by DB.SaveParsed. A DB given one (DB.UseParsed) takes an
// address's parse from it instead of parsing the address again: at a
// million addresses the parse is most of a fill's time. The cache is keyed
// by the address's normalised text, so a hit is the parse of the same text
// by the same build (the fingerprint). Read-only once read; safe for
// concurrent use.
type ParsedCache struct {
	byText map[string]int32 // keys: the entries' display texts
	e      []entry          // compact, as the database's (display: the normalised text)
}

// Len returns the number of parsed addresses in the cache.
func (c *ParsedCache) Len() int { return len(c.e) }

// lookup returns the entry of the normalised text n, if cached.
func (c *ParsedCache) lookup(n string) (*entry, bool) {
	if c == nil {
		return nil, false
	}
	i, ok := c.byText[n]
	if !ok {
		return nil, false
	}
	return &c.e[i], true
}

// parseNormalized returns the comparable form of the normalised address
// n: from the parsed cache when it holds n (with the cache's entry), else
// parsed.
func (db *DB) parseNormalized(n string) (fields, *entry) {
	if e, ok := db.parsed.Load().lookup(n); ok {
		return e.fields(), e
	}
	c := db.p.ruleParse(n)
	return db.p.fields(&c), nil
}

// UseParsed makes the database take the parses of addresses from c (nil:
// parse every address again). Before it is used, a sample of c's entries
// (up to 256, spread over the file) is parsed again and compared: when one
// differs, c was written with other rules or dictionaries than the
// parser's, and UseParsed refuses it with ErrBadParsed. Safe for concurrent
// use; typically called before the first fill and with nil after it, to
// free the cache.
func (db *DB) UseParsed(c *ParsedCache) error {
	if c != nil && len(c.e) > 0 {
		step := max(1, len(c.e)/256)
		for i := 0; i < len(c.e); i += step {
			text := c.e[i].display()
			pc := db.p.ruleParse(text)
			if db.p.fields(&pc) != c.e[i].fields() {
				return fmt.Errorf("%w: the parse of %q differs from today's parser's", ErrBadParsed, text)
			}
		}
	}
	if c != nil {
		// An empty database about to be filled with c's addresses: its
		// largest maps are made at their size at once (growing them a
		// doubling at a time was a tenth of a fill's time).
		db.mu.Lock()
		if len(db.entries) == 0 && db.recs.len() == 0 {
			n := len(c.e)
			db.byKey = newKeyIndex(n)
			db.recs = newRecTable(n)
			db.byLocal = newPostings(n)
		}
		db.mu.Unlock()
	}
	db.parsed.Store(c)
	return nil
}

// SaveParsed writes the parsed form of every distinct address in the
// database to w, with fingerprint, for ReadParsed at the next start. The
// fingerprint must change whenever the parse could (another build of the
// program, other parser options or region): ReadParsed refuses a file of
// another fingerprint. It holds the database's read lock only to list the
// addresses (writers are not held up while it encodes). It returns the
// number of addresses written; ctx stops it early.
func (db *DB) SaveParsed(ctx context.Context, w io.Writer, fingerprint string) (int, error) {
	db.mu.RLock()
	entries := make([]*entry, 0, len(db.entries))
	for _, e := range db.entries { // an entry's display and f never change once inserted
		if e != nil { // nil: an address no longer registered (removed)
			entries = append(entries, e)
		}
	}
	db.mu.RUnlock()
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	var enc parsedEncoder
	enc.str(parsedMagic)
	enc.str(parsedLayout())
	enc.str(fingerprint)
	enc.uvarint(uint64(len(entries)))
	for i, e := range entries {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("addressmatch: saving parsed addresses: %w", err)
			}
			if _, err := bw.Write(enc.b); err != nil {
				return 0, fmt.Errorf("addressmatch: saving parsed addresses: %w", err)
			}
			enc.b = enc.b[:0]
		}
		enc.str(e.display())
		ef := e.fields()
		enc.fields(&ef)
	}
	if _, err := bw.Write(enc.b); err != nil {
		return 0, fmt.Errorf("addressmatch: saving parsed addresses: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("addressmatch: saving parsed addresses: %w", err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := w.Write(sum[:]); err != nil {
		return 0, fmt.Errorf("addressmatch: saving parsed addresses: %w", err)
	}
	return len(entries), nil
}

// ReadParsed reads a file written by DB.SaveParsed. Its errors wrap
// ErrBadParsed: a file of another format, layout or fingerprint, or one
// that is truncated or fails its checksum, is refused whole.
func ReadParsed(r io.Reader, fingerprint string) (*ParsedCache, error) {
	var data []byte
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		// a file: read at its size (io.ReadAll doubles its buffer, copying
		// a few hundred MB at a million addresses)
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() < math.MaxInt32 {
			data = make([]byte, 0, fi.Size()+1)
		}
	}
	data, err := readAll(r, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadParsed, err)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadParsed, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or corrupt)", ErrBadParsed)
	}
	d := parsedDecoder[[]byte]{b: body}
	if m := d.str(); m != parsedMagic {
		return nil, fmt.Errorf("%w: not a parsed-address file of this version", ErrBadParsed)
	}
	if l := d.str(); l != parsedLayout() {
		return nil, fmt.Errorf("%w: written for another layout of the parsed form", ErrBadParsed)
	}
	if fp := d.str(); fp != fingerprint {
		return nil, fmt.Errorf("%w: fingerprint %q, want %q (another build or configuration)", ErrBadParsed, fp, fingerprint)
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(body)) || n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: bad count", ErrBadParsed)
	}
	c := &ParsedCache{byText: make(map[string]int32, n), e: make([]entry, 0, n)}
	var buf []byte
	for range n {
		t := d.raw()
		// Each parse becomes a compact entry, as the database keeps it:
		// the text and the field texts not in it in one string, which
		// also holds the map's key (one allocation an address; a million
		// addresses of fields structs held 300 MB at a restart's fill).
		rest := d.b
		d.skipFields()
		if d.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadParsed, d.err)
		}
		if _, dup := c.byText[string(t)]; dup {
			continue
		}
		fd := parsedDecoder[string]{b: string(rest[:len(rest)-len(d.b)])} // its strings are substrings: one allocation (garbage once copied below)
		var f fields
		fd.fields(&f)
		if fd.err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadParsed, fd.err)
		}
		c.e = append(c.e, entry{})
		e := &c.e[len(c.e)-1]
		buf = makeEntry(e, t, &f, buf)
		c.byText[e.display()] = int32(len(c.e) - 1)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last address", ErrBadParsed, len(d.b))
	}
	return c, nil
}

// readAll appends what r holds to b (io.ReadAll into a given buffer).
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}

type parsedEncoder struct{ b []byte }

func (e *parsedEncoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *parsedEncoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// fields writes f; parsedDecoder.fields reads the same order, and
// TestParsedRoundTrip fails when a field is added to fields and not here.
func (e *parsedEncoder) fields(f *fields) {
	for _, u := range f.unit {
		e.b = binary.AppendVarint(e.b, int64(u))
	}
	for _, p := range f.strs() {
		e.str(*p)
	}
	var flags byte
	if f.gate {
		flags |= 1
	}
	if f.devzone {
		flags |= 2
	}
	e.b = append(e.b, flags)
}

// strs lists f's strings in the order the codec writes them (and a
// database entry keeps them: entry.spans). TestEntryCompactRoundTrip
// fails when fields has a text field that is not here.
func (f *fields) strs() [nEntryStrs]*string {
	return [...]*string{&f.district, &f.town, &f.community, &f.vgroup, &f.road, &f.roadno, &f.sub, &f.poi,
		&f.subpoi, &f.houseno, &f.cellno, &f.floorno, &f.roomno, &f.extra, &f.local, &f.province, &f.city}
}

// parsedDecoder reads what parsedEncoder writes, from bytes (its strings
// are copies) or from a string (its strings are substrings of it).
type parsedDecoder[S ~string | ~[]byte] struct {
	b   S
	err error
}

// uvarint is binary.Uvarint over S.
func (d *parsedDecoder[S]) uvarint() uint64 {
	var x uint64
	var s uint
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflow
			}
			d.b = d.b[i+1:]
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.fail()
	return 0
}

// varint is binary.Varint over S.
func (d *parsedDecoder[S]) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *parsedDecoder[S]) fail() {
	if d.err == nil {
		d.err = errors.New("truncated")
	}
	d.b = d.b[:0]
}

// raw returns the next string's bytes as S, without a copy.
func (d *parsedDecoder[S]) raw() S {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return d.b[:0]
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *parsedDecoder[S]) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// skipFields moves past what fields reads, allocating nothing.
func (d *parsedDecoder[S]) skipFields() {
	var f fields
	for range f.unit {
		d.varint()
	}
	for range f.strs() {
		if n := d.uvarint(); n > uint64(len(d.b)) {
			d.fail()
		} else {
			d.b = d.b[n:]
		}
	}
	if len(d.b) < 1 {
		d.fail()
		return
	}
	d.b = d.b[1:]
}

func (d *parsedDecoder[S]) fields(f *fields) {
	for i := range f.unit {
		v := d.varint()
		if d.err != nil || v < math.MinInt32 || v > math.MaxInt32 {
			d.fail()
			return
		}
		f.unit[i] = int32(v)
	}
	for _, p := range f.strs() {
		*p = d.str()
	}
	if len(d.b) < 1 {
		d.fail()
		return
	}
	f.gate, f.devzone = d.b[0]&1 != 0, d.b[0]&2 != 0
	d.b = d.b[1:]
}
