package geo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// csvChunkBytes is about how much of the file a converter gets at once.
const csvChunkBytes = 1 << 20

// csvBatch is a run of whole records (cut by csvSplitter) and its place
// in the file.
type csvBatch struct {
	seq  int
	data []byte
}

// csvResult is a converted batch: entities in one block, and the rejected
// records (CSV and field errors) in order. Rows count from 1 within the
// batch until the merge adds the rows before it.
type csvResult struct {
	seq    int
	nrec   int // records in the batch
	ents   []Entity
	rows   []int
	errors []*FieldError
}

// csvCols locates the known columns of a header.
type csvCols struct {
	idx   [16]int // by position in EntityCSVColumns, -1 when absent
	extra []string
	xidx  []int
}

func (c *csvCols) get(rec []string, name string) string {
	i := colPos(name)
	if i < 0 {
		return ""
	}
	if j := c.idx[i]; j >= 0 && j < len(rec) {
		return trimSpace(rec[j])
	}
	return ""
}

// trimSpace is strings.TrimSpace with a fast way out when neither end is a
// space; strings.TrimSpace decodes both ends of any non-ASCII field, which
// is most fields of Chinese records.
func trimSpace(s string) string {
	if s == "" {
		return s
	}
	if f, l := s[0], s[len(s)-1]; f > ' ' && f < utf8.RuneSelf && l > ' ' && l < utf8.RuneSelf {
		return s
	}
	r0, _ := utf8.DecodeRuneInString(s)
	r1, _ := utf8.DecodeLastRuneInString(s)
	if !unicode.IsSpace(r0) && !unicode.IsSpace(r1) {
		return s
	}
	return strings.TrimSpace(s)
}

// colPos returns the position of a column name in EntityCSVColumns.
func colPos(name string) int {
	switch name {
	case "id":
		return 0
	case "name":
		return 1
	case "short_name":
		return 2
	case "former_names":
		return 3
	case "address":
		return 4
	case "lon":
		return 5
	case "lat":
		return 6
	case "industry":
		return 7
	case "status":
		return 8
	case "risk":
		return 9
	case "building_id":
		return 10
	case "grid_id":
		return 11
	case "registered_at":
		return 12
	case "annual_report":
		return 13
	case "abnormal":
		return 14
	case "blacklisted":
		return 15
	}
	return -1
}

// readEntityRows is the core of ReadEntitiesCSV: one goroutine cuts the
// input into chunks of whole records (csvChunker), converters parse and
// validate the chunks in parallel, and the results are merged in row
// order, so the output and the report are the same as a sequential read. Entities are allocated in blocks; duplicates
// are found by sorting hashed IDs, not in a map of every ID.
func readEntityRows(ctx context.Context, r io.Reader, source string, o LoadOptions) ([]*Entity, *LoadReport, error) {
	rep := &LoadReport{Source: source, Layer: LayerEntities}
	in := &limitedReader{r: r, max: o.MaxBytes}
	header, rest, err := readCSVHeader(in, 64<<10)
	if err != nil {
		return nil, rep, fmt.Errorf("%s: reading the header: %w", source, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			return nil, rep, fmt.Errorf("%s: %w: column %q appears twice", source, ErrInvalidFeature, h)
		}
		col[h] = i
	}
	for _, req := range []string{"id", "name", "lon", "lat"} {
		if _, ok := col[req]; !ok {
			return nil, rep, fmt.Errorf("%s: %w: required column %q missing (have %s)", source, ErrInvalidFeature, req, strings.Join(header, ","))
		}
	}
	var cols csvCols
	for i, name := range EntityCSVColumns {
		cols.idx[i] = -1
		if j, ok := col[name]; ok {
			cols.idx[i] = j
		}
	}
	for h := range col {
		if !slices.Contains(EntityCSVColumns, h) {
			cols.extra = append(cols.extra, h)
		}
	}
	sort.Strings(cols.extra)
	for _, h := range cols.extra {
		cols.xidx = append(cols.xidx, col[h])
	}

	var stop atomic.Bool // set on a strict-mode error: stop reading
	batches := make(chan *csvBatch, 4)
	free := make(chan *csvBatch, 8) // converted batches, for reuse
	results := make(chan *csvResult, 4)
	var readErr error
	go func() { // the splitter: cuts the input at record ends
		defer close(batches)
		ch := &csvChunker{in: in, carry: rest, size: csvChunkBytes}
		for seq := 0; !stop.Load() && ctx.Err() == nil; seq++ {
			var b *csvBatch
			select {
			case b = <-free:
			default:
				b = &csvBatch{data: make([]byte, 0, 2*csvChunkBytes)}
			}
			b.seq = seq
			more, err := ch.next(b)
			if err != nil {
				readErr = err
				return
			}
			if len(b.data) > 0 {
				batches <- b
			}
			if !more {
				return
			}
		}
	}()
	workers := min(runtime.GOMAXPROCS(0), 4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fields []string
			for b := range batches {
				var res *csvResult
				res, fields = convertBatch(b, &cols, o, fields)
				results <- res
				select {
				case free <- b:
				default:
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// merge in order; keep the first MaxErrors errors, count them all
	pending := map[int]*csvResult{}
	next := 0
	row := 1 // rows merged so far, the header's included
	var blocks []*csvResult
	var errs []*FieldError
	nerr := 0
	for res := range results {
		pending[res.seq] = res
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			for i := range r.rows {
				r.rows[i] += row
			}
			for _, fe := range r.errors {
				fe.Index += row
			}
			row += r.nrec
			if len(r.errors) > 0 && o.Strict {
				stop.Store(true)
			}
			nerr += len(r.errors)
			if room := o.MaxErrors - len(errs); room > 0 {
				errs = append(errs, r.errors[:min(room, len(r.errors))]...)
			}
			blocks = append(blocks, r)
		}
	}
	if readErr != nil {
		return nil, rep, fmt.Errorf("%s: after row %d: %w", source, row, readErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, rep, fmt.Errorf("%s: %w", source, err)
	}
	n := 0
	for _, b := range blocks {
		n += len(b.ents)
	}
	out := make([]*Entity, 0, n)
	rows := make([]int, 0, n)
	for _, b := range blocks {
		for i := range b.ents {
			out = append(out, &b.ents[i])
		}
		rows = append(rows, b.rows...)
	}
	// duplicate IDs: the first row wins, later ones are rejected
	if dups := duplicateIDs(out); len(dups) > 0 {
		keep := out[:0]
		di := 0
		for i, e := range out {
			if di < len(dups) && dups[di].later == i {
				nerr++
				if di < o.MaxErrors {
					errs = append(errs, &FieldError{Index: rows[i], ID: e.ID, Field: "id", Reason: fmt.Sprintf("duplicate id, first at row %d", rows[dups[di].first]), Err: ErrInvalidFeature})
				}
				di++
				continue
			}
			keep = append(keep, e)
		}
		out = keep
		slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(a.Index, b.Index) })
	}
	for _, fe := range errs {
		if e := rep.reject(o, fe); e != nil {
			return nil, rep, e
		}
	}
	rep.Rejected = nerr
	rep.Loaded = len(out)
	return out, rep, nil
}

// convertBatch parses and validates the records of b into entities.
func convertBatch(b *csvBatch, cols *csvCols, o LoadOptions, fields []string) (*csvResult, []string) {
	// the entities stay in this block: size it by the lines (at least
	// the records), not by a guess
	n := bytes.Count(b.data, []byte{'\n'}) + 1
	res := &csvResult{seq: b.seq, ents: make([]Entity, 0, n), rows: make([]int, 0, n)}
	fields = eachCSVRecord(b.data, fields, func(rec []string, err error) bool {
		res.nrec++
		row := res.nrec
		if err != nil {
			reason := err.Error()
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				reason = pe.Err.Error()
			}
			res.errors = append(res.errors, &FieldError{Index: row, Field: "csv", Reason: reason, Err: ErrInvalidFeature})
			return true
		}
		e, ferr := entityFromFields(func(name string) string { return cols.get(rec, name) }, o, nil)
		if ferr != nil {
			ferr.Index = row
			res.errors = append(res.errors, ferr)
			return true
		}
		for k, h := range cols.extra {
			if j := cols.xidx[k]; j < len(rec) {
				if v := strings.TrimSpace(rec[j]); v != "" {
					if e.Attrs == nil {
						e.Attrs = map[string]string{}
					}
					e.Attrs[h] = v
				}
			}
		}
		res.ents = append(res.ents, e)
		res.rows = append(res.rows, row)
		return true
	})
	return res, fields
}

// csvChunker cuts a CSV stream into batches of whole records.
type csvChunker struct {
	in      io.Reader
	sp      csvSplitter
	carry   []byte // read, not yet in a batch
	scanned bool   // carry went through sp
	size    int    // bytes to read at a time
}

// next puts into b.data the next whole records, at least one unless the
// stream ends, reading about c.size bytes. It reports whether more may
// follow.
func (c *csvChunker) next(b *csvBatch) (bool, error) {
	b.data = append(b.data[:0], c.carry...)
	cut := 0
	if !c.scanned {
		cut = c.sp.scan(b.data)
		c.scanned = true
	}
	for cut == 0 {
		m := len(b.data)
		b.data = slices.Grow(b.data, c.size)[:m+c.size]
		n, err := io.ReadFull(c.in, b.data[m:])
		b.data = b.data[:m+n]
		if e := c.sp.scan(b.data[m:]); e > 0 {
			cut = m + e
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			c.carry = c.carry[:0]
			return false, nil
		case err != nil:
			return false, err
		}
	}
	c.carry = append(c.carry[:0], b.data[cut:]...)
	b.data = b.data[:cut]
	return true, nil
}

// readCSVHeader reads the first record of a CSV stream, skipping empty
// lines as encoding/csv does, and returns it with the bytes read past it.
func readCSVHeader(r io.Reader, readSize int) ([]string, []byte, error) {
	var sp csvSplitter
	buf := make([]byte, 0, readSize)
	start, scanned := 0, 0 // the record being read starts at buf[start:]
	for {
		if scanned == len(buf) {
			m := len(buf)
			buf = slices.Grow(buf, readSize)[:m+readSize]
			n, err := io.ReadFull(r, buf[m:])
			buf = buf[:m+n]
			if n == 0 && err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				if err != io.EOF || start == len(buf) {
					return nil, nil, err
				}
				// the last record has no line end
				rec, perr := firstCSVRecord(buf[start:])
				return rec, nil, perr
			}
		}
		e := sp.first(buf[scanned:])
		if e == 0 {
			scanned = len(buf)
			continue
		}
		end := scanned + e
		scanned = end
		rec, err := firstCSVRecord(buf[start:end])
		if err == io.EOF { // an empty line
			start = end
			continue
		}
		return rec, buf[end:], err
	}
}

func firstCSVRecord(b []byte) ([]string, error) {
	return newCSVReader(b).Read()
}

type dupPair struct{ first, later int }

// duplicateIDs returns, in order of the later index, each entity whose ID
// an earlier one already has, with the index of the first.
func duplicateIDs(ents []*Entity) []dupPair {
	type hi struct {
		h uint64
		i int32
	}
	seed := maphash.MakeSeed()
	hs := make([]hi, len(ents))
	for i, e := range ents {
		hs[i] = hi{maphash.String(seed, e.ID), int32(i)}
	}
	slices.SortFunc(hs, func(a, b hi) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	var out []dupPair
	for s := 0; s < len(hs); {
		e := s + 1
		for e < len(hs) && hs[e].h == hs[s].h {
			e++
		}
		if e-s > 1 {
			// equal hashes: compare the IDs themselves (in index order)
			for a := s; a < e; a++ {
				if hs[a].i < 0 {
					continue
				}
				for b := a + 1; b < e; b++ {
					if hs[b].i >= 0 && ents[hs[a].i].ID == ents[hs[b].i].ID {
						out = append(out, dupPair{int(hs[a].i), int(hs[b].i)})
						hs[b].i = -1
					}
				}
			}
		}
		s = e
	}
	slices.SortFunc(out, func(a, b dupPair) int { return cmp.Compare(a.later, b.later) })
	return out
}
