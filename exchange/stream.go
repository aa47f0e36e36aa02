package exchange

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// rowSource yields a table's rows in order; io.EOF after the last.
type rowSource interface {
	next() (Row, error)
}

// tableRows walks a table read whole.
type tableRows struct {
	t *Table
	i int
}

func (s *tableRows) next() (Row, error) {
	if s.i >= len(s.t.Rows) {
		return Row{}, io.EOF
	}
	s.i++
	return s.t.Rows[s.i-1], nil
}

// headRows is how many rows are read ahead to find the header.
const headRows = 20

// Import matches a table's rows to entities and stores the attached ones
// as records, with the entity flags they imply, in commits of
// Options.Chunk records. Importing the same table again changes nothing.
// On an error the report says what was written before it (every commit is
// whole). The report's Outcomes hold every data row's outcome unless
// o.OnRow is set.
func (x *Exchange) Import(ctx context.Context, t *Table, o ImportOptions) (*Report, error) {
	return x.importRows(ctx, &tableRows{t: t}, &Table{Name: t.Name, Sheet: t.Sheet, Encoding: t.Encoding}, len(t.Rows), o)
}

// ImportReader reads a table and imports it as it reads: a CSV is decoded,
// matched and stored a chunk (Options.Chunk rows) at a time, so memory
// stays bounded whatever the table's length (a workbook is opened whole,
// as its archive must be). With o.OnRow set the report keeps no Outcomes
// (use a [FeedbackWriter] there for the feedback table); without it the
// report holds one Outcome a data row.
func (x *Exchange) ImportReader(ctx context.Context, r io.Reader, name string, o ImportOptions) (*Report, error) {
	ro := x.readOptions(o)
	br := bufio.NewReaderSize(r, 64<<10)
	format := strings.ToLower(ro.Format)
	if format == "" {
		format = "csv"
		if head, _ := br.Peek(4); string(head) == "PK\x03\x04" {
			format = "xlsx"
		}
	}
	if format != "csv" {
		t, err := ReadTable(br, name, ro)
		if err != nil {
			return nil, err
		}
		return x.Import(ctx, t, o)
	}
	src, err := NewRowReader(br, ro)
	if err != nil {
		return nil, err
	}
	return x.importRows(ctx, src, &Table{Name: name, Encoding: src.Encoding()}, 0, o)
}

// readOptions are the exchange's read options with an import's overrides.
func (x *Exchange) readOptions(o ImportOptions) ReadOptions {
	ro := x.opts.Read
	if o.Read.Format != "" {
		ro.Format = o.Read.Format
	}
	if o.Read.Charset != "" {
		ro.Charset = o.Read.Charset
	}
	if o.Read.Sheet != "" {
		ro.Sheet = o.Read.Sheet
	}
	if o.Mapping != nil {
		if o.Mapping.Sheet != "" {
			ro.Sheet = o.Mapping.Sheet
		}
		if o.Mapping.Encoding != "" && ro.Charset == "" {
			ro.Charset = o.Mapping.Encoding
		}
	}
	return ro.withDefaults()
}

// batch is one chunk of rows on its way from matching to the store: the
// rows in file order (nil prepared for the rows that are no data).
type batch struct {
	rows []Row
	prep []*prepared // parallel to rows
}

// importRows is the import pipeline: rows are read and prepared, matched
// in parallel a chunk at a time, and each matched chunk is stored (in one
// commit) while the next is matched. Only two chunks, the within-table
// duplicate set (a 64-bit ID and a row number a stored row, ~40 B in the map) and the counts are held.
func (x *Exchange) importRows(ctx context.Context, src rowSource, meta *Table, total int, o ImportOptions) (*Report, error) {
	start := time.Now()
	st, srch, parser := x.engines()
	if st == nil {
		return nil, ErrNotAttached
	}
	m := o.Mapping
	if m == nil {
		m = &Mapping{}
	}
	dept := o.Dept
	if dept == "" {
		dept = m.Dept
	}
	if err := ValidateDept(dept); err != nil {
		return nil, err
	}
	kindText := o.Kind
	if kindText == "" {
		kindText = m.Kind
	}
	var kind Kind
	if kindText != "" {
		k, err := ParseKind(kindText)
		if err != nil {
			return nil, &FieldError{Field: "kind", Err: err}
		}
		kind = k
	}
	// the head: enough rows to find the header
	head := *meta
	want := max(headRows, m.HeaderRow)
	for len(head.Rows) < want {
		r, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		head.Rows = append(head.Rows, r)
	}
	if len(head.Rows) == 0 {
		return nil, fmt.Errorf("%w: the table is empty", ErrBadTable)
	}
	lo, err := resolve(&head, m)
	if err != nil {
		return nil, err
	}
	if kind == "" && lo.col[roleKind] < 0 {
		return nil, &FieldError{Field: "kind", Err: fmt.Errorf("%w: no kind given and no kind column", ErrUnknownKind)}
	}
	rep := &Report{Dept: dept, Kind: string(kind), File: meta.Name, Sheet: meta.Sheet, Encoding: meta.Encoding, HeaderRow: head.Rows[lo.headerIdx].N,
		Columns: map[string]string{}, ByMethod: map[string]int{}}
	for role := range nRoles {
		if c := lo.col[role]; c >= 0 {
			rep.Columns[roleNames[role]] = lo.header[c]
		}
	}
	headerNorm := strings.Join(head.Rows[lo.headerIdx].Cells, "\x00")
	snap := st.Index().Snapshot()
	matcher, err := NewMatcher(snap, srch, parser, x.nameParser(), x.opts.Match)
	if err != nil {
		return nil, err
	}
	writer := o.Writer
	if writer == "" {
		writer = "exchange:" + dept
	}
	keep := o.OnRow == nil
	sink := &sinkState{x: x, st: st, snap: snap, writer: writer, rep: rep, o: o, keep: keep,
		seen: map[uint64]int{}, reasons: map[string]int{}, headerN: rep.HeaderRow}

	// the writer: one goroutine stores the matched chunks in order
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	ch := make(chan *batch, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range ch {
			if !sink.failed() {
				sink.store(ctx, b) // (its error is kept in sink.err)
			}
		}
	}()
	stop := func() error {
		close(ch)
		wg.Wait()
		sink.finish()
		rep.Seq, rep.Took = st.Seq(), time.Since(start)
		return sink.err
	}

	chunk := x.opts.Chunk
	done := 0
	cur := &batch{}
	emit := func() error {
		if err := x.matchBatch(ctx, matcher, cur); err != nil {
			return err
		}
		done += len(cur.rows)
		ch <- cur
		if o.Progress != nil {
			o.Progress(Progress{Phase: "import", Done: done, Total: total})
		}
		cur = &batch{}
		return nil
	}
	add := func(r Row, i int) {
		var p *prepared
		if i > lo.headerIdx && !emptyRow(r.Cells) && strings.Join(r.Cells, "\x00") != headerNorm {
			p = x.prepare(&head, r, lo, dept, kind)
		}
		cur.rows = append(cur.rows, r)
		cur.prep = append(cur.prep, p)
	}
	for i, r := range head.Rows {
		add(r, i)
	}
	for i := len(head.Rows); ; i++ {
		if sink.failed() {
			break
		}
		if len(cur.rows) >= chunk {
			if err := emit(); err != nil {
				stop()
				return rep, err
			}
		}
		r, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			stop()
			return rep, err
		}
		add(r, i)
	}
	if len(cur.rows) > 0 && !sink.failed() {
		if err := emit(); err != nil {
			stop()
			return rep, err
		}
	}
	if err := stop(); err != nil {
		return rep, err
	}
	return rep, ctx.Err()
}

// matchBatch matches a chunk's data rows with the exchange's workers.
func (x *Exchange) matchBatch(ctx context.Context, m *Matcher, b *batch) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := 0
	for range max(1, x.opts.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(b.prep) || firstErr != nil {
					mu.Unlock()
					return
				}
				lo := next
				next = min(len(b.prep), next+64)
				hi := next
				mu.Unlock()
				for _, p := range b.prep[lo:hi] {
					if p == nil || p.done {
						continue
					}
					res, err := m.Match(ctx, p.q)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					p.out.Match = res
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// sinkState is the store side of an import: records of the attached rows,
// duplicates and unchanged ones told apart, one commit a chunk, the counts.
type sinkState struct {
	x       *Exchange
	st      *store.Store
	snap    *geo.Snapshot
	writer  string
	rep     *Report
	o       ImportOptions
	keep    bool
	headerN int
	seen    map[uint64]int // record ID (its 64-bit hash part) → first row
	reasons map[string]int
	empties []Row // empty rows not yet known not to be trailing

	mu  sync.Mutex
	err error
}

func (s *sinkState) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

func recordKey(id string) uint64 {
	_, h, _ := strings.Cut(id, ":")
	var b [8]byte
	hex.Decode(b[:], []byte(h))
	var k uint64
	for _, c := range b {
		k = k<<8 | uint64(c)
	}
	return k
}

func (s *sinkState) store(ctx context.Context, b *batch) error {
	var pending []*prepared
	for _, p := range b.prep {
		if p == nil || p.out.Status != StatusAttached {
			continue
		}
		p.rec.EntityID = p.out.EntityID
		p.rec.Match = MatchInfo{Method: p.out.Method, Confidence: p.out.Confidence}
		p.rec.Seal()
		if err := p.rec.Validate(); err != nil {
			p.out.Status, p.out.Reason = StatusRejected, err.Error()
			continue
		}
		p.out.RecordID = p.rec.ID
		if e, ok := s.snap.Feature(geo.LayerEntities, p.out.EntityID); ok {
			p.out.EntityName = e.(*geo.Entity).Name
		}
		k := recordKey(p.rec.ID)
		if first, dup := s.seen[k]; dup {
			p.out.Status, p.out.Reason = StatusDuplicate, fmt.Sprintf("the same record as row %d", first)
			continue
		}
		s.seen[k] = p.row.N
		if s.x.ix.same(p.rec.ID, p.rec.Hash) {
			p.out.Status = StatusUnchanged
			continue
		}
		pending = append(pending, p)
	}
	var err error
	if len(pending) > 0 && !s.o.DryRun {
		for try := 0; try < 5; try++ {
			var n int
			n, err = s.x.writeChunk(ctx, s.st, s.writer, pending)
			if err == nil {
				s.rep.FlagsChanged += n
				break
			}
			if !errors.Is(err, store.ErrConflict) {
				break
			}
		}
		if err != nil {
			for _, p := range pending {
				p.out.Status, p.out.Reason = StatusRejected, "not stored: "+err.Error()
			}
		}
	}
	for i, p := range b.prep {
		if p != nil {
			s.count(p.out)
		}
		if s.o.OnRow != nil && err == nil {
			err = s.row(b.rows[i], p)
		}
	}
	if err != nil {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}
	return err
}

// row hands one row to OnRow; empty rows wait until a row that is not
// empty follows (trailing empty rows are dropped, as ReadTable does).
func (s *sinkState) row(r Row, p *prepared) error {
	if p == nil && emptyRow(r.Cells) {
		s.empties = append(s.empties, r)
		return nil
	}
	for _, e := range s.empties {
		if err := s.o.OnRow(RowOutcome{Row: e}); err != nil {
			return err
		}
	}
	s.empties = s.empties[:0]
	ro := RowOutcome{Row: r, Header: r.N == s.headerN}
	if p != nil {
		ro.Outcome = &p.out
	}
	return s.o.OnRow(ro)
}

func (s *sinkState) count(o Outcome) {
	rep := s.rep
	rep.Rows++
	switch o.Status {
	case StatusAttached:
		rep.Attached++
	case StatusUnchanged:
		rep.Unchanged++
	case StatusDuplicate:
		rep.Duplicate++
	case StatusUnmatched:
		rep.Unmatched++
	case StatusAmbiguous:
		rep.Ambiguous++
	case StatusRejected:
		rep.Rejected++
	}
	switch o.Status {
	case StatusAttached, StatusUnchanged, StatusDuplicate:
		rep.ByMethod[o.Method]++
	default:
		s.reasons[reasonClass(o)]++
	}
	if s.keep {
		rep.Outcomes = append(rep.Outcomes, o)
	}
}

// finish writes the top reasons.
func (s *sinkState) finish() {
	rep := s.rep
	rep.TopReasons = rep.TopReasons[:0]
	for r, n := range s.reasons {
		rep.TopReasons = append(rep.TopReasons, Reason{r, n})
	}
	sort.Slice(rep.TopReasons, func(i, j int) bool {
		if rep.TopReasons[i].Rows != rep.TopReasons[j].Rows {
			return rep.TopReasons[i].Rows > rep.TopReasons[j].Rows
		}
		return rep.TopReasons[i].Reason < rep.TopReasons[j].Reason
	})
	if len(rep.TopReasons) > 5 {
		rep.TopReasons = rep.TopReasons[:5]
	}
}

// RowReader streams a CSV table: decoded (UTF-8, UTF-8 with a BOM,
// GB18030; the charset is detected from the first 64 KiB unless given)
// and split a row at a time as it is read, within the read options' caps
// (MaxBytes, MaxRows, MaxCols). It yields the rows ReadTable would,
// trailing empty rows included. Not safe for concurrent use.
type RowReader struct {
	cr        *csv.Reader
	opts      ReadOptions
	checkUTF8 bool
	rows      int
	cnt       *countingReader
	enc       string
}

// Encoding is what the bytes are: "utf-8", "utf-8-bom" or "gb18030".
func (s *RowReader) Encoding() string { return s.enc }

// Next returns the next row; io.EOF after the last. Errors wrap
// ErrBadTable (not CSV, not the charset, an empty table) or ErrTooLarge.
func (s *RowReader) Next() (Row, error) { return s.next() }

// countingReader fails once more than max bytes were read.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("%w: the table is larger than %d bytes", ErrTooLarge, c.max)
	}
	return n, err
}

// sniffBytes is how much of a CSV decides its charset and separator.
const sniffBytes = 64 << 10

// NewRowReader returns a reader of the CSV table r. Errors wrap
// ErrBadTable (an unknown charset).
func NewRowReader(r io.Reader, opts ReadOptions) (*RowReader, error) {
	opts = opts.withDefaults()
	cnt := &countingReader{r: r, max: opts.MaxBytes}
	br := bufio.NewReaderSize(cnt, sniffBytes)
	peek, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: reading: %v", ErrBadTable, err)
	}
	whole := err != nil // the peek holds the whole input
	var text io.Reader = br
	enc := ""
	check := false
	switch strings.ToLower(strings.ReplaceAll(opts.Charset, "-", "")) {
	case "":
		switch {
		case strings.HasPrefix(string(peek), "\xef\xbb\xbf"):
			br.Discard(3)
			enc, check = "utf-8-bom", true
		case validUTF8Prefix(peek, whole):
			enc, check = "utf-8", true
		default:
			enc = "gb18030"
		}
	case "utf8":
		if strings.HasPrefix(string(peek), "\xef\xbb\xbf") {
			br.Discard(3)
		}
		enc, check = "utf-8", true
	case "gbk", "gb2312", "gb18030", "cp936":
		enc = "gb18030"
	default:
		return nil, fmt.Errorf("%w: charset %q (want utf-8, gbk or gb18030)", ErrBadTable, opts.Charset)
	}
	first := peek
	if i := strings.IndexByte(string(first), '\n'); i >= 0 {
		first = first[:i]
	}
	if enc == "gb18030" {
		text = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
		if d, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), first); err == nil {
			first = d
		}
	}
	cr := csv.NewReader(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.Comma = sniffComma(string(first))
	return &RowReader{cr: cr, opts: opts, checkUTF8: check, cnt: cnt, enc: enc}, nil
}

// validUTF8Prefix says whether b is UTF-8, allowing a rune cut at its end
// unless b is the whole input.
func validUTF8Prefix(b []byte, whole bool) bool {
	if !whole {
		for k := 1; k <= utf8.UTFMax && k <= len(b); k++ {
			if utf8.RuneStart(b[len(b)-k]) {
				if !utf8.FullRune(b[len(b)-k:]) {
					b = b[:len(b)-k]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

func (s *RowReader) next() (Row, error) {
	rec, err := s.cr.Read()
	if errors.Is(err, io.EOF) {
		if s.rows == 0 {
			return Row{}, fmt.Errorf("%w: the CSV is empty", ErrBadTable)
		}
		return Row{}, io.EOF
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return Row{}, err
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, ErrTooLarge) {
			return Row{}, pe.Err
		}
		return Row{}, fmt.Errorf("%w: CSV: %v", ErrBadTable, err)
	}
	line, _ := s.cr.FieldPos(0)
	if len(rec) > s.opts.MaxCols {
		return Row{}, fmt.Errorf("%w: line %d has %d cells, at most %d", ErrTooLarge, line, len(rec), s.opts.MaxCols)
	}
	if s.rows >= s.opts.MaxRows {
		return Row{}, fmt.Errorf("%w: more than %d rows", ErrTooLarge, s.opts.MaxRows)
	}
	if s.checkUTF8 {
		for _, c := range rec {
			if !utf8.ValidString(c) {
				return Row{}, fmt.Errorf("%w: line %d is not valid UTF-8 (the table began as UTF-8; give its charset)", ErrBadTable, line)
			}
		}
	}
	s.rows++
	return Row{N: line, Cells: rec}, nil
}
