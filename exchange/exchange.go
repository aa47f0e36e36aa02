package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
)

// Options configure an [Exchange]. Zero values mean the defaults.
type Options struct {
	// Match are the thresholds of matching by name and address.
	Match MatchOptions
	// Read caps the tables read.
	Read ReadOptions
	// Chunk is how many records one store commit holds. Default 5,000.
	Chunk int
	// Workers match rows in parallel. Default 2.
	Workers int
	// Now is the clock of the derived annual-report flag. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Chunk == 0 {
		o.Chunk = 5000
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Match = o.Match.withDefaults()
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.Chunk < 0 || o.Workers < 0 || o.Chunk > 100_000 {
		return fmt.Errorf("%w: chunk and workers must not be negative (chunk ≤ 100,000)", ErrBadMapping)
	}
	return o.Match.Validate()
}

// Exchange is the department data exchange: it imports departments'
// tables as records of the entities they are about, keeps a compact index
// of the stored records, and answers an entity's records and summary.
// Register [Exchange.Collection] with the store's options before opening
// it, then [Exchange.Attach] the store. Safe for concurrent use; imports
// write one at a time.
type Exchange struct {
	opts Options
	ix   *index

	mu     sync.RWMutex
	st     *store.Store
	search *search.Index
	parser *addressmatch.Parser
	names  *search.NameParser

	writeMu sync.Mutex // one import writes at a time (flags are derived from the index)

	jobsMu   sync.Mutex
	jobs     map[string]*Job
	jobOrder []string
}

// New returns an exchange not yet attached to a store.
func New(opts Options) (*Exchange, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Exchange{opts: opts.withDefaults(), ix: newIndex()}, nil
}

// Collection is the records collection to register in
// store.Options.Collections: its documents are validated by
// [Record.Validate] and handed to the exchange's index.
func (x *Exchange) Collection() store.Collection {
	return store.Collection{Name: Collection, Consumer: x.ix, Validate: func(id string, body json.RawMessage) error {
		r, err := decodeRecord(body)
		if err != nil {
			return err
		}
		if r.ID != id {
			return &FieldError{Field: "id", Err: fmt.Errorf("%w: document %q holds record %q", ErrInvalidRecord, id, r.ID)}
		}
		return r.Validate()
	}}
}

// Attach gives the exchange its store (the one opened with
// [Exchange.Collection]).
func (x *Exchange) Attach(st *store.Store) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.st = st
}

// SetEngines gives the exchange what it matches names and addresses with:
// the search index, the address parser, and the region's name parser
// (search.NewNameParser(region): a name matches without its region prefix
// or legal form). Any may be nil (then names are compared whole and
// exactly, addresses by their text), and they may be set once built in the
// background.
func (x *Exchange) SetEngines(s *search.Index, p *addressmatch.Parser, names *search.NameParser) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.search, x.parser, x.names = s, p, names
}

func (x *Exchange) engines() (*store.Store, *search.Index, *addressmatch.Parser) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.st, x.search, x.parser
}

func (x *Exchange) nameParser() *search.NameParser {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.names
}

// Len returns the number of stored records.
func (x *Exchange) Len() int { return x.ix.Len() }

// Filter selects an entity's records.
type Filter struct {
	// Dept keeps one department's ("" all).
	Dept string
	// Kind keeps one kind ("" all).
	Kind Kind
	// From and To keep records dated in [From, To] (YYYY-MM-DD, "" open);
	// a record without a date is kept only when both are open.
	From, To string
	// Limit caps the records (default 1,000).
	Limit int
}

// Records returns an entity's records, newest first (by date, then ID).
func (x *Exchange) Records(ctx context.Context, entityID string, f Filter) ([]Record, error) {
	st, _, _ := x.engines()
	if st == nil {
		return nil, ErrNotAttached
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	from, to := int32(noDate), int32(noDate)
	for _, p := range []struct {
		s string
		d *int32
		n string
	}{{f.From, &from, "from"}, {f.To, &to, "to"}} {
		if p.s == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, p.s); err != nil {
			return nil, &FieldError{Field: p.n, Err: fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidRecord, p.s)}
		}
		*p.d = DayNumber(p.s)
	}
	refs := x.ix.entityRecords(entityID)
	sortRefs(refs)
	var ids []string
	for _, r := range refs {
		if (f.Dept != "" && r.dept != f.Dept) || (f.Kind != "" && r.kind != f.Kind) {
			continue
		}
		if from != noDate || to != noDate {
			if r.date == noDate || (from != noDate && r.date < from) || (to != noDate && r.date > to) {
				continue
			}
		}
		ids = append(ids, r.id)
		if len(ids) >= f.Limit {
			break
		}
	}
	return x.load(ctx, st, ids)
}

func sortRefs(refs []recordRef) {
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].date != refs[j].date {
			return refs[i].date > refs[j].date
		}
		return refs[i].id < refs[j].id
	})
}

func (x *Exchange) load(ctx context.Context, st *store.Store, ids []string) ([]Record, error) {
	if len(ids) == 0 {
		return []Record{}, nil
	}
	docs, err := st.Docs(ctx, Collection, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(docs))
	for _, d := range docs {
		r, err := decodeRecord(d.Body)
		if err != nil {
			return nil, err
		}
		r.Version = d.Version
		out = append(out, *r)
	}
	return out, nil
}

// Summary is an entity's records in brief, for its profile and popup.
type Summary struct {
	// Total counts the records.
	Total int `json:"total"`
	// ByKind and ByDept count them.
	ByKind map[Kind]int   `json:"by_kind"`
	ByDept map[string]int `json:"by_dept"`
	// Latest is the newest record of each kind.
	Latest map[Kind]Record `json:"latest"`
	// LicenceExpiry is the latest licence's expiry date, when it says.
	LicenceExpiry string `json:"licence_expiry,omitempty"`
	// Flags are the entity flags the records imply (nil where no record
	// says).
	Flags DerivedFlags `json:"flags"`
}

// Summarize returns an entity's record summary.
func (x *Exchange) Summarize(ctx context.Context, entityID string) (Summary, error) {
	st, _, _ := x.engines()
	if st == nil {
		return Summary{}, ErrNotAttached
	}
	refs := x.ix.entityRecords(entityID)
	sortRefs(refs)
	s := Summary{Total: len(refs), ByKind: map[Kind]int{}, ByDept: map[string]int{}, Latest: map[Kind]Record{}}
	var latest []string
	for _, r := range refs {
		s.ByKind[r.kind]++
		s.ByDept[r.dept]++
		if s.ByKind[r.kind] == 1 {
			latest = append(latest, r.id)
		}
	}
	recs, err := x.load(ctx, st, latest)
	if err != nil {
		return Summary{}, err
	}
	for _, r := range recs {
		s.Latest[r.Kind] = r
	}
	if l, ok := s.Latest[KindLicence]; ok {
		s.LicenceExpiry = licenceExpiry(l.Fields)
	}
	s.Flags = deriveFlags(refs, x.opts.Now())
	return s, nil
}

// expiryFields are the field names of a licence's expiry date.
var expiryFields = []string{"有效期至", "有效期截止日期", "有效期限至", "到期日期", "valid_until", "expiry", "expires"}

func licenceExpiry(f map[string]string) string {
	for _, k := range expiryFields {
		if v := f[k]; v != "" {
			if d, err := ParseDate(v, nil); err == nil {
				return d
			}
		}
	}
	return ""
}

// DerivedFlags are the entity flags the records imply; nil where the
// entity has no record of the kind that decides the flag.
type DerivedFlags struct {
	// AnnualReport: the last annual report due (30 June) is on record.
	AnnualReport *bool `json:"annual_report,omitempty"`
	// Abnormal: the latest abnormal-list record is an entry.
	Abnormal *bool `json:"abnormal,omitempty"`
	// Blacklisted: the latest blacklist record is an entry.
	Blacklisted *bool `json:"blacklisted,omitempty"`
}

// Flags returns the entity flags its records imply now (nil where no
// record of the kind says): the values a write of the entity must keep,
// so that the flags and the records never disagree.
func (x *Exchange) Flags(entityID string) DerivedFlags {
	refs := x.ix.entityRecords(entityID)
	sortRefs(refs)
	return deriveFlags(refs, x.opts.Now())
}

// Disagree returns the JSON names of the flags of e that differ from what
// the records imply (none when they agree or no record says).
func (f DerivedFlags) Disagree(e *geo.Entity) []string {
	var out []string
	if f.AnnualReport != nil && *f.AnnualReport != e.AnnualReport {
		out = append(out, "annual_report")
	}
	if f.Abnormal != nil && *f.Abnormal != e.Abnormal {
		out = append(out, "abnormal")
	}
	if f.Blacklisted != nil && *f.Blacklisted != e.Blacklisted {
		out = append(out, "blacklisted")
	}
	return out
}

// deriveFlags is the one rule from records to flags. refs must be sorted
// newest first.
func deriveFlags(refs []recordRef, now time.Time) DerivedFlags {
	var f DerivedFlags
	due := time.Date(now.Year()-1, 1, 1, 0, 0, 0, 0, time.UTC) // reports filed since 1 January of last year…
	if now.Month() >= time.July {
		due = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC) // …or of this year once 30 June has passed
	}
	dueDay := int32(due.Unix() / 86400)
	b := func(v bool) *bool { return &v }
	for _, r := range refs {
		switch r.kind {
		case KindAnnualReport:
			if f.AnnualReport == nil || !*f.AnnualReport {
				f.AnnualReport = b(r.date != noDate && r.date >= dueDay)
			}
		case KindAbnormalEntry, KindAbnormalRemoval:
			if f.Abnormal == nil { // newest first: the first decides
				f.Abnormal = b(r.kind == KindAbnormalEntry)
			}
		case KindBlacklistEntry, KindBlacklistRemoval:
			if f.Blacklisted == nil {
				f.Blacklisted = b(r.kind == KindBlacklistEntry)
			}
		}
	}
	return f
}

// apply sets the derived flags on a copy of e; it reports whether anything
// changed.
func (f DerivedFlags) apply(e *geo.Entity) (geo.Entity, bool) {
	c := *e
	if f.AnnualReport != nil {
		c.AnnualReport = *f.AnnualReport
	}
	if f.Abnormal != nil {
		c.Abnormal = *f.Abnormal
	}
	if f.Blacklisted != nil {
		c.Blacklisted = *f.Blacklisted
	}
	return c, c.AnnualReport != e.AnnualReport || c.Abnormal != e.Abnormal || c.Blacklisted != e.Blacklisted
}

// errRetry: the entity changed between deriving its flags and the commit.
var errRetry = errors.New("exchange: retry")
