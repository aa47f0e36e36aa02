package geo

import (
	"bufio"
	"cmp"
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
)

// csvBatchRows is the number of CSV records handed to a converter at once.
const csvBatchRows = 4096

// csvBatch is a run of records: its place in the file (seq), their fields
// flattened with their row numbers, and the CSV errors met among them.
type csvBatch struct {
	seq    int
	fields []string
	starts []int32 // record i is fields[starts[i]:starts[i+1]]
	rows   []int   // row number of each record
	bad    []*FieldError
}

// csvResult is a converted batch: entities in one block, and the rejected
// rows (CSV and field errors) in row order.
type csvResult struct {
	seq    int
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
		return strings.TrimSpace(rec[j])
	}
	return ""
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

// readEntityRows is the core of ReadEntitiesCSV: one goroutine splits the
// input into records, converters validate them in parallel, and the
// results are merged in row order, so the output and the report are the
// same as a sequential read. Entities are allocated in blocks; duplicates
// are found by sorting hashed IDs, not in a map of every ID.
func readEntityRows(r io.Reader, source string, o LoadOptions) ([]*Entity, *LoadReport, error) {
	rep := &LoadReport{Source: source, Layer: LayerEntities}
	cr := csv.NewReader(bufio.NewReaderSize(&limitedReader{r: r, max: o.MaxBytes}, 1<<16))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
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
	newBatch := func(seq int) *csvBatch {
		select {
		case b := <-free:
			*b = csvBatch{seq: seq, fields: b.fields[:0], starts: b.starts[:0], rows: b.rows[:0]}
			return b
		default:
			return &csvBatch{seq: seq, fields: make([]string, 0, csvBatchRows*len(header)),
				starts: make([]int32, 0, csvBatchRows+1), rows: make([]int, 0, csvBatchRows)}
		}
	}
	results := make(chan *csvResult, 4)
	var readErr error
	go func() { // the splitter
		defer close(batches)
		row, seq := 1, 0
		b := newBatch(seq)
		flush := func() {
			b.starts = append(b.starts, int32(len(b.fields)))
			batches <- b
			seq++
			b = newBatch(seq)
		}
		for !stop.Load() {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			row++
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					readErr = fmt.Errorf("%s: row %d: %w", source, row, err)
					break
				}
				b.bad = append(b.bad, &FieldError{Index: row, Field: "csv", Reason: pe.Err.Error(), Err: ErrInvalidFeature})
				continue
			}
			b.starts = append(b.starts, int32(len(b.fields)))
			b.rows = append(b.rows, row)
			b.fields = append(b.fields, rec...)
			if len(b.rows) == csvBatchRows {
				flush()
			}
		}
		flush()
	}()
	workers := min(runtime.GOMAXPROCS(0), 4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// no interner: a record's fields are substrings of one string
			// (encoding/csv allocates a record at once), which the entity
			// keeps anyway, so sharing repeated values would save nothing
			for b := range batches {
				results <- convertBatch(b, &cols, o, nil)
				clear(b.fields) // drop the records' strings before reuse
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
		return nil, rep, readErr
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

// convertBatch validates the records of b into entities.
func convertBatch(b *csvBatch, cols *csvCols, o LoadOptions, in interner) *csvResult {
	res := &csvResult{seq: b.seq, ents: make([]Entity, 0, len(b.rows)), rows: make([]int, 0, len(b.rows))}
	bad := b.bad
	for i, row := range b.rows {
		for len(bad) > 0 && bad[0].Index < row {
			res.errors = append(res.errors, bad[0])
			bad = bad[1:]
		}
		rec := b.fields[b.starts[i]:b.starts[i+1]]
		e, ferr := entityFromFields(func(name string) string { return cols.get(rec, name) }, o, in)
		if ferr != nil {
			ferr.Index = row
			res.errors = append(res.errors, ferr)
			continue
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
	}
	res.errors = append(res.errors, bad...)
	return res
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
