package exchange

import (
	"context"
	"io"
	"sort"
	"strings"
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
	// ReadOptions for this table (ReadAndImport, ImportReader, Start); the
	// caps stay.
	Read ReadOptions
	// OnRow, when set, receives every row of the table in order as soon as
	// its chunk is done (rows before the header and empty rows with a nil
	// outcome), e.g. for a [FeedbackWriter]; the report then keeps no
	// Outcomes, so that an import of any size runs in bounded memory. An
	// error from it stops the import.
	OnRow func(RowOutcome) error
}

// RowOutcome is one row of a table as an import left it.
type RowOutcome struct {
	// Row is the row as read.
	Row Row
	// Header is true for the header row.
	Header bool
	// Outcome is the data row's outcome; nil for the header, the rows
	// before it and empty rows.
	Outcome *Outcome
}

// Progress is how far an import is.
type Progress struct {
	// Phase is "import" (rows read, matched and stored).
	Phase string `json:"phase"`
	// Done of Total rows; Total is 0 while a streamed table's length is
	// unknown.
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
	t, err := ReadTable(r, name, x.readOptions(o))
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
