package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// ImportOptions say what a table is.
type ImportOptions struct {
	// Dept is the department (required here or in the mapping).
	Dept string
	// Kind is the records' kind (required here, in the mapping, or in a
	// kind column of every row).
	Kind string
	// Mapping says which columns hold what; nil recognises the headers.
	Mapping *Mapping
	// Writer is recorded in the change log; default "exchange:" + Dept.
	Writer string
	// DryRun matches and reports without writing.
	DryRun bool
	// Progress, when set, is called as rows are matched and written
	// (from the importing goroutine).
	Progress func(Progress)
	// Read overrides the format, charset and sheet of the exchange's
	// ReadOptions for this table (ReadAndImport, Start); the caps stay.
	Read ReadOptions
}

// Progress is how far an import is.
type Progress struct {
	// Phase is "match" or "write".
	Phase string `json:"phase"`
	// Done of Total rows.
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Outcome is what became of one data row.
type Outcome struct {
	// Row is the row's number in the file (1-based).
	Row int `json:"row"`
	Match
	// Code is the row's code after cleaning.
	Code string `json:"code,omitempty"`
	// EntityName is the matched entity's name.
	EntityName string `json:"entity_name,omitempty"`
	// RecordID is the record's ID (attached, unchanged and duplicate rows).
	RecordID string `json:"record_id,omitempty"`
}

// Reason counts the rows not attached for one reason.
type Reason struct {
	Reason string `json:"reason"`
	Rows   int    `json:"rows"`
}

// Report is the summary of an import.
type Report struct {
	Dept     string `json:"dept"`
	Kind     string `json:"kind,omitempty"`
	File     string `json:"file"`
	Sheet    string `json:"sheet,omitempty"`
	Encoding string `json:"encoding"`
	// HeaderRow is the 1-based row of the header.
	HeaderRow int `json:"header_row"`
	// Columns says which header each role was read from.
	Columns map[string]string `json:"columns"`
	// Rows counts the data rows (empty rows skipped).
	Rows int `json:"rows"`
	// Attached counts the rows stored as new or changed records.
	Attached int `json:"attached"`
	// Unchanged counts rows whose record was already stored as it is.
	Unchanged int `json:"unchanged"`
	// Duplicate counts rows repeating an earlier row of the table.
	Duplicate int `json:"duplicate"`
	// ByMethod counts attached, unchanged and duplicate rows by method.
	ByMethod   map[string]int `json:"by_method"`
	Unmatched  int            `json:"unmatched"`
	Ambiguous  int            `json:"ambiguous"`
	Rejected   int            `json:"rejected"`
	TopReasons []Reason       `json:"top_reasons,omitempty"`
	// FlagsChanged counts the entities whose derived flags changed.
	FlagsChanged int `json:"flags_changed"`
	// Seq is the store's sequence number after the import.
	Seq uint64 `json:"seq"`
	// Took is the import's duration.
	Took time.Duration `json:"took_ns"`
	// Outcomes holds one entry per data row (the feedback table).
	Outcomes []Outcome `json:"-"`
}

// ReadAndImport reads a table and imports it; the table is returned for
// the feedback.
func (x *Exchange) ReadAndImport(ctx context.Context, r io.Reader, name string, o ImportOptions) (*Report, *Table, error) {
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
	t, err := ReadTable(r, name, ro)
	if err != nil {
		return nil, nil, err
	}
	rep, err := x.Import(ctx, t, o)
	return rep, t, err
}

// prepared is a data row ready to match.
type prepared struct {
	row  Row
	q    Query
	rec  Record
	out  Outcome
	done bool // rejected before matching
}

// Import matches a table's rows to entities and stores the attached ones
// as records, with the entity flags they imply, in commits of
// Options.Chunk records. Importing the same table again changes nothing.
// On an error the report says what was written before it (every commit is
// whole).
func (x *Exchange) Import(ctx context.Context, t *Table, o ImportOptions) (*Report, error) {
	start := time.Now()
	st, srch, parser := x.engines()
	if st == nil && !o.DryRun {
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
	lo, err := resolve(t, m)
	if err != nil {
		return nil, err
	}
	if kind == "" && lo.col[roleKind] < 0 {
		return nil, &FieldError{Field: "kind", Err: fmt.Errorf("%w: no kind given and no kind column", ErrUnknownKind)}
	}
	rep := &Report{Dept: dept, Kind: string(kind), File: t.Name, Sheet: t.Sheet, Encoding: t.Encoding, HeaderRow: t.Rows[lo.headerIdx].N,
		Columns: map[string]string{}, ByMethod: map[string]int{}}
	for role := range nRoles {
		if c := lo.col[role]; c >= 0 {
			rep.Columns[roleNames[role]] = lo.header[c]
		}
	}
	headerNorm := strings.Join(t.Rows[lo.headerIdx].Cells, "\x00")
	var rows []*prepared
	for _, r := range t.Rows[lo.headerIdx+1:] {
		if emptyRow(r.Cells) || strings.Join(r.Cells, "\x00") == headerNorm {
			continue
		}
		rows = append(rows, x.prepare(t, r, lo, dept, kind))
	}
	rep.Rows = len(rows)
	var snap *geo.Snapshot
	if st != nil {
		snap = st.Index().Snapshot()
	} else {
		return nil, ErrNotAttached
	}
	matcher, err := NewMatcher(snap, srch, parser, x.nameParser(), x.opts.Match)
	if err != nil {
		return nil, err
	}
	if err := x.matchAll(ctx, matcher, rows, o.Progress); err != nil {
		return nil, err
	}
	// records of the attached rows; unchanged and duplicate ones told apart
	seen := map[string]int{}
	var pending []*prepared
	for _, p := range rows {
		if p.out.Status != StatusAttached {
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
		if e, ok := snap.Feature(geo.LayerEntities, p.out.EntityID); ok {
			p.out.EntityName = e.(*geo.Entity).Name
		}
		if first, dup := seen[p.rec.ID]; dup {
			p.out.Status, p.out.Reason = StatusDuplicate, fmt.Sprintf("the same record as row %d", first)
			continue
		}
		seen[p.rec.ID] = p.row.N
		if x.ix.same(p.rec.ID, p.rec.Hash) {
			p.out.Status = StatusUnchanged
			continue
		}
		pending = append(pending, p)
	}
	if !o.DryRun {
		writer := o.Writer
		if writer == "" {
			writer = "exchange:" + dept
		}
		if err := x.write(ctx, st, writer, pending, rep, o.Progress, len(rows)); err != nil {
			x.tally(rep, rows)
			rep.Seq, rep.Took = st.Seq(), time.Since(start)
			return rep, err
		}
	}
	x.tally(rep, rows)
	rep.Seq, rep.Took = st.Seq(), time.Since(start)
	return rep, nil
}

func (x *Exchange) tally(rep *Report, rows []*prepared) {
	reasons := map[string]int{}
	rep.Outcomes = make([]Outcome, len(rows))
	rep.Attached, rep.Unchanged, rep.Duplicate, rep.Unmatched, rep.Ambiguous, rep.Rejected = 0, 0, 0, 0, 0, 0
	clear(rep.ByMethod)
	for i, p := range rows {
		rep.Outcomes[i] = p.out
		switch p.out.Status {
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
		switch p.out.Status {
		case StatusAttached, StatusUnchanged, StatusDuplicate:
			rep.ByMethod[p.out.Method]++
		default:
			reasons[reasonClass(p.out)]++
		}
	}
	for r, n := range reasons {
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

// reasonClass groups reasons for the summary (without the row's codes
// and names).
func reasonClass(o Outcome) string {
	r := o.Reason
	switch {
	case o.Status == StatusAmbiguous:
		return "two entities match nearly equally"
	case strings.Contains(r, "no entity with USCC"):
		return "valid USCC of no registered entity"
	case strings.Contains(r, "is not a valid USCC"):
		return "invalid code, and name and address do not match well enough"
	case strings.HasPrefix(r, "best candidate"), strings.Contains(r, "below"):
		return "name and address do not match any entity well enough"
	case strings.Contains(r, "no entity with a similar name"):
		return "no entity with a similar name"
	}
	if i := strings.IndexAny(r, ":\""); i > 0 {
		return r[:i]
	}
	return r
}

// prepare reads a data row: the query, the date, the kind, the fields.
func (x *Exchange) prepare(t *Table, r Row, lo *layout, dept string, kind Kind) *prepared {
	p := &prepared{row: r, out: Outcome{Row: r.N}}
	p.q = Query{Code: lo.cell(r, roleUSCC), RegNo: lo.cell(r, roleRegNo), OrgCode: lo.cell(r, roleOrg), Name: lo.cell(r, roleName), Address: lo.cell(r, roleAddress)}
	if c, _ := CleanCode(p.q.Code); c != "" {
		p.out.Code = c
	}
	reject := func(reason string) *prepared {
		p.out.Status, p.out.Reason, p.done = StatusRejected, reason, true
		return p
	}
	k := kind
	if s := lo.cell(r, roleKind); s != "" {
		kk, err := ParseKind(s)
		if err != nil {
			return reject("kind: " + err.Error())
		}
		k = kk
	}
	date, err := ParseDate(lo.cell(r, roleDate), lo.dates)
	if err != nil {
		return reject("date: " + err.Error())
	}
	fields := make(map[string]string, len(lo.fields))
	for _, f := range lo.fields {
		if f.col < len(r.Cells) {
			if v := strings.TrimSpace(r.Cells[f.col]); v != "" {
				fields[f.name] = v
			}
		}
	}
	if len(fields) == 0 {
		fields = nil
	}
	key := strings.TrimSpace(normHeaderKeepCase(lo.cell(r, roleKey)))
	p.rec = Record{Dept: dept, Kind: k, Date: date, Fields: fields, Source: Source{File: t.Name, Sheet: t.Sheet, Row: r.N, Key: key}}
	if p.q.Code == "" && p.q.RegNo == "" && p.q.OrgCode == "" && p.q.Name == "" {
		return reject("no code and no name")
	}
	return p
}

// normHeaderKeepCase folds width only (a key keeps its case).
func normHeaderKeepCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (x *Exchange) matchAll(ctx context.Context, m *Matcher, rows []*prepared, progress func(Progress)) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next, done := 0, 0
	workers := max(1, x.opts.Workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(rows) || firstErr != nil {
					mu.Unlock()
					return
				}
				lo := next
				next = min(len(rows), next+64)
				hi := next
				mu.Unlock()
				for _, p := range rows[lo:hi] {
					if p.done {
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
				mu.Lock()
				done += hi - lo
				mu.Unlock()
			}
		}()
	}
	if progress != nil {
		t := time.NewTicker(200 * time.Millisecond)
		ch := make(chan struct{})
		go func() { wg.Wait(); close(ch) }()
	loop:
		for {
			select {
			case <-ch:
				break loop
			case <-t.C:
				mu.Lock()
				d := done
				mu.Unlock()
				progress(Progress{Phase: "match", Done: d, Total: len(rows)})
			}
		}
		t.Stop()
		progress(Progress{Phase: "match", Done: len(rows), Total: len(rows)})
	} else {
		wg.Wait()
	}
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// write stores the pending records in chunks, each commit with the flag
// changes of the entities it touches.
func (x *Exchange) write(ctx context.Context, st *store.Store, writer string, pending []*prepared, rep *Report, progress func(Progress), total int) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	chunk := x.opts.Chunk
	for lo := 0; lo < len(pending); lo += chunk {
		part := pending[lo:min(lo+chunk, len(pending))]
		var err error
		for try := 0; try < 5; try++ {
			var n int
			n, err = x.writeChunk(ctx, st, writer, part)
			if err == nil {
				rep.FlagsChanged += n
				break
			}
			if !errors.Is(err, store.ErrConflict) {
				break
			}
		}
		if err != nil {
			for _, p := range pending[lo:] {
				p.out.Status, p.out.Reason = StatusRejected, "not stored: "+err.Error()
			}
			return err
		}
		if progress != nil {
			progress(Progress{Phase: "write", Done: min(lo+chunk, len(pending)), Total: len(pending)})
		}
	}
	return nil
}

func (x *Exchange) writeChunk(ctx context.Context, st *store.Store, writer string, part []*prepared) (int, error) {
	ws := make([]store.Write, 0, len(part)+len(part)/4)
	byEnt := map[string][]recordRef{}
	for _, p := range part {
		ws = append(ws, store.Write{Layer: Collection, ID: p.rec.ID, Feature: &p.rec})
		byEnt[p.rec.EntityID] = append(byEnt[p.rec.EntityID], recordRef{id: p.rec.ID, dept: p.rec.Dept, kind: p.rec.Kind, date: DayNumber(p.rec.Date)})
	}
	snap := st.Index().Snapshot()
	now := x.opts.Now()
	ents := make([]string, 0, len(byEnt))
	for id := range byEnt {
		ents = append(ents, id)
	}
	sort.Strings(ents)
	flags := 0
	for _, id := range ents {
		v, ok := snap.Feature(geo.LayerEntities, id)
		if !ok {
			continue // deleted meanwhile: the record stays, about an entity that is gone
		}
		refs := x.ix.entityRecords(id)
		newRefs := byEnt[id]
		replaced := map[string]bool{}
		for _, r := range newRefs {
			replaced[r.id] = true
		}
		all := newRefs
		for _, r := range refs {
			if !replaced[r.id] {
				all = append(all, r)
			}
		}
		sortRefs(all)
		e := v.(*geo.Entity)
		if ne, changed := deriveFlags(all, now).apply(e); changed {
			ws = append(ws, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &ne, IfVersion: e.Version})
			flags++
		}
	}
	if _, err := st.Apply(ctx, writer, ws); err != nil {
		return 0, err
	}
	return flags, nil
}
