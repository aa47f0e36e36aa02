package addressmatch

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/paulmach/orb"
)

// Kind says where an address record comes from.
type Kind string

// Record kinds.
const (
	KindEntity   Kind = "entity"   // a registered market entity's address
	KindBuilding Kind = "building" // a building of the geo store
	KindStandard Kind = "standard" // a line of the standard-address list
)

// Record is one address fed into the [DB]. Records whose addresses normalise
// to the same key aggregate into one address whose EntityCount is the sum.
type Record struct {
	// ID identifies the record (entity ID, building ID, standard-address ID).
	ID string `json:"id"`
	// Address is the address as written.
	Address string `json:"address"`
	// Location is WGS-84 [lon, lat]; the zero point means unknown.
	Location orb.Point `json:"location"`
	// Kind is the record source. Zero means KindEntity.
	Kind Kind `json:"kind"`
	// EntityCount is the number of market entities registered at this record.
	// Zero for a KindEntity record means 1; at most [math.MaxInt32].
	EntityCount int `json:"entity_count"`

	// key is, for a record of a geo feature (Follow), the feature's own ID
	// string: the database keys the record by it (recTable) instead of
	// keeping ID, a concatenation made for the record.
	key string
}

// Verdict is the outcome of an address check.
type Verdict string

// Verdicts.
const (
	Matched  Verdict = "matched"  // in the database, and entities are/were registered there
	Doubtful Verdict = "doubtful" // not found, or found without any entity: verify on site
	Invalid  Verdict = "invalid"  // not an address
	// Outside: an address in another province or city than the database's
	// own region (derived from the registered addresses): outside the
	// platform's jurisdiction.
	Outside Verdict = "outside"
)

// Candidate is one database address proposed for a query.
type Candidate struct {
	Address     string    `json:"address"`
	Score       float64   `json:"score"`
	Level       Level     `json:"level"`
	EntityCount int       `json:"entity_count"`
	Location    orb.Point `json:"location"`
}

// CheckResult is the answer of [DB.Check].
type CheckResult struct {
	Verdict    Verdict     `json:"verdict"`
	Normalized string      `json:"normalized"`
	Components Components  `json:"components"`
	Candidates []Candidate `json:"candidates"`
	// Location of the best candidate when matched (zero otherwise).
	Location orb.Point `json:"location"`
	// Message is a short Chinese sentence for the registration clerk.
	Message string `json:"message"`
	// Reason explains an Invalid or Outside verdict, and a Doubtful one
	// whose best candidate was held back (a name not registered at the
	// number, look-alikes in several districts or on several roads).
	Reason string `json:"reason,omitempty"`
}

// entry is one distinct address of the database, compact: its display
// text and the texts of its fields live in one string (the display first,
// then the field texts not already in it), the fields as 8-bit offsets
// and lengths into it, most of them empty (an address whose text is longer
// than 255 bytes keeps its fields as they are, in big). At a million
// addresses this is 128 bytes an entry and one string instead of 384 bytes
// and the fields' own strings (docs/memory.md); the
// fields are materialised by [entry.fields] when compared, which slices
// and allocates nothing. The parsed cache (persist.go) keeps its parses
// as entries too, and an entry made from it shares its text.
type entry struct {
	text           string               // display, then field texts not found in it
	spans          [nEntryStrs][2]uint8 // offset and length in text of each field text
	big            *fields              // the fields when text is too long for the offsets (then text is display)
	unit           [6]int32             // fields.unit
	nDisp          uint16               // len(display) when big is nil
	gate           bool                 // fields.gate
	devz           bool                 // fields.devzone
	nLoc           int32                // records with a location
	nRec           int32                // records
	count          int                  // entities registered
	sumLon, sumLat float64
}

// nEntryStrs is the number of text fields of fields ([fields.strs]).
const nEntryStrs = 17

// makeEntry makes e the compact entry of an address's display text and
// fields, keeping its counts. buf is scratch space, returned grown for the
// next call.
func makeEntry[S ~string | ~[]byte](e *entry, display S, f *fields, buf []byte) []byte {
	e.unit, e.gate, e.devz, e.big, e.spans = f.unit, f.gate, f.devzone, nil, [nEntryStrs][2]uint8{}
	buf = append(buf[:0], display...)
	for i, p := range f.strs() {
		t := *p
		if t == "" {
			continue
		}
		off := strings.Index(string(buf), t) // no copy: the conversion only reads
		if off < 0 {
			off = len(buf)
			buf = append(buf, t...)
		}
		e.spans[i] = [2]uint8{uint8(min(off, math.MaxUint8)), uint8(min(len(t), math.MaxUint8))}
	}
	if len(buf) > math.MaxUint8 {
		// an address of more than 255 bytes with its field texts (85
		// Chinese characters; rare): the fields as they are
		big := *f
		e.text, e.big, e.spans, e.nDisp = string(display), &big, [nEntryStrs][2]uint8{}, 0
		return buf
	}
	e.text, e.nDisp = string(buf), uint16(len(display))
	return buf
}

// display returns the address as the database shows it.
func (e *entry) display() string {
	if e.big != nil {
		return e.text
	}
	return e.text[:e.nDisp]
}

// fields returns the entry's comparable form (substrings of e.text).
func (e *entry) fields() fields {
	if e.big != nil {
		return *e.big
	}
	f := fields{unit: e.unit, gate: e.gate, devzone: e.devz}
	for i, p := range f.strs() {
		if sp := e.spans[i]; sp[1] > 0 {
			*p = e.text[sp[0] : int(sp[0])+int(sp[1])]
		}
	}
	return f
}

// entryView is an entry with its fields materialised, for the rules that
// read a candidate's fields more than once (checkrules.go).
type entryView struct {
	display string
	f       fields
}

func (e *entry) location() orb.Point {
	if e.nLoc == 0 {
		return orb.Point{}
	}
	return orb.Point{e.sumLon / float64(e.nLoc), e.sumLat / float64(e.nLoc)}
}

// poiRef is a place name registered at a road number, with the number of
// entries registering it there.
type poiRef struct {
	name string
	n    int32
}

// postings maps a key to the entries indexed under it, in the order they
// were added, compact: most keys have one entry, kept in the map's value
// itself (no list, no allocation: at a million addresses nearly every
// locality key is of one address); the others' lists are in more, the
// value then -1-i. Lists are only appended to (a removed entry stays
// listed, nil in DB.entries).
type postings struct {
	one  map[string]int32
	more [][]int32
}

// newPostings returns postings sized for n keys.
func newPostings(n int) postings { return postings{one: make(map[string]int32, n)} }

// add appends idx to the entries of k.
func (p *postings) add(k string, idx int32) {
	v, ok := p.one[k]
	switch {
	case !ok:
		p.one[k] = idx
	case v >= 0:
		p.more = append(p.more, []int32{v, idx})
		p.one[k] = -int32(len(p.more))
	default:
		p.more[-v-1] = append(p.more[-v-1], idx)
	}
}

// get returns the entries of k (nil: none). A single entry is returned
// in buf, valid until the next get with the same buf.
func (p *postings) get(k string, buf *[1]int32) []int32 {
	v, ok := p.one[k]
	switch {
	case !ok:
		return nil
	case v >= 0:
		buf[0] = v
		return buf[:]
	}
	return p.more[-v-1]
}

// has reports whether any entry was indexed under k.
func (p *postings) has(k string) bool {
	_, ok := p.one[k]
	return ok
}

// recRef is one record: its entry, entity count and location (the zero
// point: none; 24 bytes a record).
type recRef struct {
	entry int32
	count int32
	loc   orb.Point
}

// recTable maps record IDs to records. The records of the geo index's
// features, "entity:"+ID and "building:"+ID, are kept in maps of their
// own keyed by the feature's ID alone, and a record made by Follow is
// keyed by the string its feature holds (Record.key): at a million records
// no concatenated ID is kept (docs/memory.md). An ID is looked up without
// allocating. Not safe for concurrent use (DB.mu guards it).
type recTable struct {
	ent, bld, other map[string]recRef
}

func newRecTable(n int) recTable {
	return recTable{ent: make(map[string]recRef, n), bld: map[string]recRef{}, other: map[string]recRef{}}
}

// part returns the map holding id and id's key in it.
func (t *recTable) part(id string) (map[string]recRef, string) {
	if k, ok := strings.CutPrefix(id, entityPrefix); ok {
		return t.ent, k
	}
	if k, ok := strings.CutPrefix(id, buildingPrefix); ok {
		return t.bld, k
	}
	return t.other, id
}

func (t *recTable) get(id string) (recRef, bool) {
	m, k := t.part(id)
	r, ok := m[k]
	return r, ok
}

// set records id; key, when not empty, is a string equal to id's key in
// its map (the feature's ID, shared) to key it by.
func (t *recTable) set(id, key string, r recRef) {
	m, k := t.part(id)
	if key != "" && key == k {
		k = key
	}
	m[k] = r
}

func (t *recTable) del(id string) {
	m, k := t.part(id)
	delete(m, k)
}

func (t *recTable) len() int { return len(t.ent) + len(t.bld) + len(t.other) }

// all yields every record with its full ID (made for the call: tests and
// rare listings only).
func (t *recTable) all(yield func(string, recRef) bool) {
	for _, p := range []struct {
		prefix string
		m      map[string]recRef
	}{{entityPrefix, t.ent}, {buildingPrefix, t.bld}, {"", t.other}} {
		for k, r := range p.m {
			if !yield(p.prefix+k, r) {
				return
			}
		}
	}
}

type agg struct {
	lon, lat float64
	n        int
}

// DB is an in-memory address database for the clerk's address check.
// All methods are safe for concurrent use: writers take an exclusive lock for
// the whole update, so readers never observe a half-applied Add or Remove.
type DB struct {
	p        *Parser
	maxCand  int
	minScore float64

	mu        sync.RWMutex
	entries   []*entry
	byKey     keyIndex
	byLocal   postings       // locality key → entries
	byRoadNo  postings       // road|roadno → entries
	byPoi     postings       // poi|houseno → entries
	names     map[string]int // road and POI names → refcount
	nameGrams map[string][]string
	grams     map[string][]int32
	recs      recTable
	scratch   []byte // newEntry's buffer (writers hold mu)
	aggs      map[string]*agg
	poisAt    map[string][]poiRef // road|roadno → distinct place names registered there, with their entries
	provs     map[int32]int       // province unit → entries
	cities    map[int32]int       // city unit → entries

	parsed atomic.Pointer[ParsedCache] // parses read from a file (persist.go), or nil
}

// NewDB returns an empty database.
func NewDB(opts DBOptions) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := opts.Parser
	if p == nil {
		var err error
		if p, err = NewParser(DefaultOptions()); err != nil {
			return nil, err
		}
	}
	def := DefaultDBOptions()
	if opts.MaxCandidates == 0 {
		opts.MaxCandidates = def.MaxCandidates
	}
	if opts.MatchScore == 0 {
		opts.MatchScore = def.MatchScore
	}
	return &DB{p: p, maxCand: opts.MaxCandidates, minScore: opts.MatchScore,
		byKey: newKeyIndex(0), byLocal: newPostings(0), byRoadNo: newPostings(0),
		byPoi: newPostings(0), names: map[string]int{}, nameGrams: map[string][]string{},
		grams: map[string][]int32{}, recs: newRecTable(0), aggs: map[string]*agg{},
		poisAt: map[string][]poiRef{}, provs: map[int32]int{}, cities: map[int32]int{}}, nil
}

// Parser returns the parser used by the database.
func (db *DB) Parser() *Parser { return db.p }

// Len returns the number of distinct addresses. Safe for concurrent use.
func (db *DB) Len() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.byKey.len()
}

// RecordCount returns the number of records. Safe for concurrent use.
func (db *DB) RecordCount() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.recs.len()
}

type prepared struct {
	r      Record
	key    string
	f      fields
	n      string
	cached *entry // the parsed cache's entry of n, or nil
}

func (db *DB) prepare(r Record) (prepared, error) {
	if r.ID == "" {
		return prepared{}, fmt.Errorf("addressmatch: record without id")
	}
	n, err := db.p.normalizeValid(r.Address) // normalised once: the parse below reads it
	if err != nil {
		return prepared{}, fmt.Errorf("record %q: %w", r.ID, err)
	}
	if !validPoint(r.Location) {
		return prepared{}, fmt.Errorf("addressmatch: record %q: location %v out of range", r.ID, r.Location)
	}
	if r.Kind == "" {
		r.Kind = KindEntity
	}
	if r.EntityCount < 0 {
		return prepared{}, fmt.Errorf("addressmatch: record %q: negative entity count", r.ID)
	}
	if r.EntityCount > math.MaxInt32 {
		return prepared{}, fmt.Errorf("addressmatch: record %q: entity count %d over %d", r.ID, r.EntityCount, math.MaxInt32)
	}
	if r.Kind == KindEntity && r.EntityCount == 0 {
		r.EntityCount = 1
	}
	f, cached := db.parseNormalized(n) // persist.go: from the parsed cache when it has n
	return prepared{r: r, key: entryKey(&f), f: f, n: n, cached: cached}, nil
}

// prepareAll parses the records' addresses, on every core for a large
// batch (the first fill of a million addresses), and returns the first
// error in record order.
func (db *DB) prepareAll(records []Record) ([]prepared, error) {
	ps := make([]prepared, len(records))
	workers := runtime.GOMAXPROCS(0)
	if len(records) < 4096 || workers < 2 {
		for i, r := range records {
			p, err := db.prepare(r)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		return ps, nil
	}
	errs := make([]error, len(records))
	var wg sync.WaitGroup
	chunk := (len(records) + workers - 1) / workers
	for lo := 0; lo < len(records); lo += chunk {
		hi := min(lo+chunk, len(records))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ps[i], errs[i] = db.prepare(records[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func validPoint(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// keyIs reports whether key is entryKey(f), without making it.
func keyIs(f *fields, key string) bool {
	var nb [24]byte
	d := f.district
	if u := f.unit[AdminDistrict]; u >= 0 {
		d = string(strconv.AppendInt(nb[:0], int64(u), 10)) // does not escape: no allocation
	}
	return len(key) == len(d)+1+len(f.local) && key[:len(d)] == d && key[len(d)] == '|' && key[len(d)+1:] == f.local
}

// keyIndex maps an address's key (entryKey: its district and locality) to
// its entry. It keys by a 64-bit hash of the key and compares the entry's
// key on a hit, so no key string is kept (a million of them, 30 bytes each,
// at 1M, besides 8 bytes more a map slot: docs/memory.md); a key whose
// hash another key already has is kept whole in more. Not safe for
// concurrent use (DB.mu guards it).
type keyIndex struct {
	seed maphash.Seed
	mask uint64 // of the hash; all ones but in the collision test
	h    map[uint64]int32
	more map[string]int32
}

func newKeyIndex(n int) keyIndex {
	return keyIndex{seed: maphash.MakeSeed(), mask: ^uint64(0), h: make(map[uint64]int32, n), more: map[string]int32{}}
}

func (k *keyIndex) hash(key string) uint64 { return maphash.String(k.seed, key) & k.mask }

// get returns the entry of key; entries are the database's.
func (k *keyIndex) get(key string, entries []*entry) (int32, bool) {
	if i, ok := k.h[k.hash(key)]; ok {
		if f := entries[i].fields(); keyIs(&f, key) {
			return i, true
		}
	}
	i, ok := k.more[key]
	return i, ok
}

// set records idx as the entry of key, which get does not find.
func (k *keyIndex) set(key string, idx int32, entries []*entry) {
	h := k.hash(key)
	if _, taken := k.h[h]; taken {
		k.more[key] = idx
		return
	}
	k.h[h] = idx
}

// del forgets key, whose entry is still in entries.
func (k *keyIndex) del(key string, entries []*entry) {
	if _, ok := k.more[key]; ok {
		delete(k.more, key)
		return
	}
	h := k.hash(key)
	if i, ok := k.h[h]; ok {
		if f := entries[i].fields(); keyIs(&f, key) {
			delete(k.h, h)
		}
	}
}

func (k *keyIndex) len() int { return len(k.h) + len(k.more) }

func entryKey(f *fields) string {
	d := ""
	if u := f.unit[AdminDistrict]; u >= 0 {
		d = strconv.Itoa(int(u))
	} else if f.district != "" {
		d = f.district
	}
	return d + "|" + f.local
}

// Add inserts records atomically: either all are added or, on error, none.
// The error wraps ErrDuplicateID, ErrEmpty or ErrTooLong. Safe for
// concurrent use.
func (db *DB) Add(records ...Record) error {
	ps, err := db.prepareAll(records)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(records))
	for _, r := range records {
		if seen[r.ID] {
			return fmt.Errorf("%w: %q", ErrDuplicateID, r.ID)
		}
		seen[r.ID] = true
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, p := range ps {
		if _, ok := db.recs.get(p.r.ID); ok {
			return fmt.Errorf("%w: %q", ErrDuplicateID, p.r.ID)
		}
	}
	for i := range ps {
		db.insertLocked(&ps[i])
	}
	return nil
}

func (db *DB) insertLocked(p *prepared) {
	idx, ok := db.byKey.get(p.key, db.entries)
	if !ok {
		idx = int32(len(db.entries))
		e := &entry{}
		if c := p.cached; c != nil && c.display() == p.n {
			*e = *c // the parsed cache's entry: its text is shared, not copied
		} else {
			db.scratch = makeEntry(e, p.n, &p.f, db.scratch)
			if (e.big != nil || len(e.text) == int(e.nDisp)) && p.r.Address == e.text {
				// the address as written is its normalised form and the
				// fields are all in it (most addresses): the entry keeps
				// the record's string (a followed feature's) rather than
				// a copy
				e.text = p.r.Address
			}
		}
		db.entries = append(db.entries, e)
		db.byKey.set(p.key, idx, db.entries)
		db.indexLocked(idx, e)
	}
	e := db.entries[idx]
	e.count += p.r.EntityCount
	e.nRec++
	if p.r.Location != (orb.Point{}) {
		e.sumLon += p.r.Location[0]
		e.sumLat += p.r.Location[1]
		e.nLoc++
		f := e.fields()
		db.aggAddLocked(&f, p.r.Location, 1)
	}
	db.recs.set(p.r.ID, p.r.key, recRef{entry: idx, count: int32(p.r.EntityCount), loc: p.r.Location})
}

func (db *DB) indexLocked(idx int32, e *entry) {
	ef := e.fields()
	f := &ef
	if f.local != "" {
		db.byLocal.add(f.local, idx)
	}
	if f.road != "" && f.roadno != "" {
		k := f.road + "|" + f.roadno
		db.byRoadNo.add(k, idx)
		if f.poi != "" {
			ps := db.poisAt[k]
			i := slices.IndexFunc(ps, func(r poiRef) bool { return r.name == f.poi })
			if i < 0 {
				db.poisAt[k] = append(ps, poiRef{name: f.poi, n: 1})
			} else {
				ps[i].n++
			}
		}
	}
	db.regionAddLocked(f, 1)
	if f.poi != "" {
		k := f.poi + "|" + f.houseno
		db.byPoi.add(k, idx)
	}
	for _, name := range []string{f.road, f.poi} {
		if name == "" {
			continue
		}
		if db.names[name] == 0 {
			for _, g := range uniqueGrams(name) {
				db.nameGrams[g] = append(db.nameGrams[g], name)
			}
		}
		db.names[name]++
	}
	for _, g := range uniqueGrams(f.local) {
		db.grams[g] = append(db.grams[g], idx)
	}
}

// unindexLocked undoes the counted parts of indexLocked (postings are
// cleaned lazily).
func (db *DB) unindexLocked(f *fields) {
	db.regionAddLocked(f, -1)
	if f.road == "" || f.roadno == "" || f.poi == "" {
		return
	}
	k := f.road + "|" + f.roadno
	ps := db.poisAt[k]
	i := slices.IndexFunc(ps, func(r poiRef) bool { return r.name == f.poi })
	if i < 0 {
		return
	}
	if ps[i].n--; ps[i].n > 0 {
		return
	}
	ps = append(ps[:i:i], ps[i+1:]...)
	if len(ps) == 0 {
		delete(db.poisAt, k)
	} else {
		db.poisAt[k] = ps
	}
}

// regionAddLocked counts the entry's province and city, the region the
// database covers.
func (db *DB) regionAddLocked(f *fields, sign int) {
	for _, m := range []struct {
		u   int32
		cnt map[int32]int
	}{{f.unit[AdminProvince], db.provs}, {f.unit[AdminCity], db.cities}} {
		if m.u < 0 {
			continue
		}
		m.cnt[m.u] += sign
		if m.cnt[m.u] <= 0 {
			delete(m.cnt, m.u)
		}
	}
}

// uniqueGrams returns the distinct bigrams of s, sorted. On valid UTF-8
// they are substrings of s (what bigrams gives, without a string
// allocated per bigram: at a million addresses the fill made some twenty
// million of them).
func uniqueGrams(s string) []string {
	var gs []string
	if utf8.ValidString(s) {
		if n := utf8.RuneCountInString(s); n < 2 {
			if n == 1 {
				return []string{s}
			}
			return nil
		} else {
			gs = make([]string, 0, n-1)
		}
		_, w := utf8.DecodeRuneInString(s)
		for i, j := 0, w; j < len(s); {
			_, w := utf8.DecodeRuneInString(s[j:])
			gs = append(gs, s[i:j+w])
			i, j = j, j+w
		}
	} else {
		gs = bigrams(s)
	}
	sort.Strings(gs)
	out := gs[:0]
	for i, g := range gs {
		if i == 0 || g != gs[i-1] {
			out = append(out, g)
		}
	}
	return out
}

func (db *DB) aggAddLocked(f *fields, p orb.Point, sign int) {
	for _, k := range aggKeys(f) {
		a := db.aggs[k]
		if a == nil {
			a = &agg{}
			db.aggs[k] = a
		}
		a.lon += float64(sign) * p[0]
		a.lat += float64(sign) * p[1]
		a.n += sign
		if a.n == 0 {
			delete(db.aggs, k)
		}
	}
}

func aggKeys(f *fields) []string {
	var ks []string
	if f.road != "" {
		ks = append(ks, "r:"+f.road, "r:"+f.district+"|"+f.road)
	}
	if f.town != "" {
		ks = append(ks, "t:"+f.district+"|"+f.town)
	}
	if f.district != "" {
		ks = append(ks, "d:"+f.district)
	}
	if f.city != "" {
		ks = append(ks, "c:"+f.city)
	} else if f.province != "" {
		ks = append(ks, "c:"+f.province)
	}
	return ks
}

// Remove deletes records by ID. Missing IDs are reported with an error
// wrapping ErrNotFound; the others are still removed. Safe for concurrent use.
func (db *DB) Remove(ids ...string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var missing []string
	for _, id := range ids {
		ref, ok := db.recs.get(id)
		if !ok {
			missing = append(missing, id)
			continue
		}
		db.recs.del(id)
		e := db.entries[ref.entry]
		ef := e.fields()
		e.count -= int(ref.count)
		e.nRec--
		if ref.loc != (orb.Point{}) {
			e.sumLon -= ref.loc[0]
			e.sumLat -= ref.loc[1]
			e.nLoc--
			db.aggAddLocked(&ef, ref.loc, -1)
		}
		if e.nRec == 0 {
			// postings are cleaned lazily: readers skip nil entries
			db.byKey.del(entryKey(&ef), db.entries)
			for _, name := range []string{ef.road, ef.poi} {
				if name != "" {
					db.names[name]--
					if db.names[name] <= 0 {
						delete(db.names, name)
					}
				}
			}
			db.unindexLocked(&ef)
			db.entries[ref.entry] = nil
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, strings.Join(missing, ","))
	}
	return nil
}

// LoadStandardCSV loads a standard-address list. The first row is a header
// naming the columns (any order, case-insensitive):
//
//	id            required, unique
//	address       required, at most Options.MaxRunes characters
//	lon, lat      required, WGS-84 decimal degrees
//	kind          optional: entity | building | standard (default standard)
//	entity_count  optional non-negative integer (default 0)
//
// Good rows are added, bad rows are skipped and reported in a *CSVError
// (errors.Is(err, ErrBadCSV)) with row number, field and reason. It returns
// the number of records added. Safe for concurrent use.
func (db *DB) LoadStandardCSV(r io.Reader) (int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("addressmatch: reading csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"id", "address", "lon", "lat"} {
		if _, ok := col[need]; !ok {
			return 0, fmt.Errorf("%w: header lacks column %q", ErrBadCSV, need)
		}
	}
	cerr := &CSVError{}
	added := 0
	var batch []Record
	var batchRows []int
	seenIDs := map[string]bool{}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := db.Add(batch...); err == nil {
			added += len(batch)
		} else {
			for i, rec := range batch { // a concurrent writer raced us: add one by one
				if err := db.Add(rec); err != nil {
					cerr.Rows = append(cerr.Rows, RowError{Row: batchRows[i], Field: "id", Reason: err.Error()})
					continue
				}
				added++
			}
		}
		batch, batchRows = batch[:0], batchRows[:0]
	}
	row := 1
	for {
		rec, err := cr.Read()
		row++
		if err == io.EOF {
			break
		}
		if err != nil {
			cerr.Rows = append(cerr.Rows, RowError{Row: row, Field: "", Reason: err.Error()})
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			break
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		bad := func(field, reason string) {
			cerr.Rows = append(cerr.Rows, RowError{Row: row, Field: field, Reason: reason})
		}
		r := Record{ID: get("id"), Address: get("address"), Kind: KindStandard}
		if r.ID == "" {
			bad("id", "empty")
			continue
		}
		if err := db.p.validate(r.Address); err != nil {
			bad("address", err.Error())
			continue
		}
		lon, err1 := strconv.ParseFloat(get("lon"), 64)
		lat, err2 := strconv.ParseFloat(get("lat"), 64)
		if err1 != nil || lon < -180 || lon > 180 || math.IsNaN(lon) {
			bad("lon", "not a longitude")
			continue
		}
		if err2 != nil || lat < -90 || lat > 90 || math.IsNaN(lat) {
			bad("lat", "not a latitude")
			continue
		}
		r.Location = orb.Point{lon, lat}
		if k := get("kind"); k != "" {
			switch Kind(k) {
			case KindEntity, KindBuilding, KindStandard:
				r.Kind = Kind(k)
			default:
				bad("kind", "must be entity, building or standard")
				continue
			}
		}
		if s := get("entity_count"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				bad("entity_count", "not a non-negative integer")
				continue
			}
			r.EntityCount = n
		}
		if seenIDs[r.ID] || db.hasID(r.ID) {
			bad("id", "duplicate id")
			continue
		}
		seenIDs[r.ID] = true
		batch = append(batch, r)
		batchRows = append(batchRows, row)
		if len(batch) >= 1024 {
			flush()
		}
	}
	flush()
	if len(cerr.Rows) > 0 {
		return added, cerr
	}
	return added, nil
}

func (db *DB) hasID(id string) bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	_, ok := db.recs.get(id)
	return ok
}

type scored struct {
	idx   int32
	level Level
	score float64
}

// Check looks an address up. It returns an error wrapping ErrEmpty or
// ErrTooLong for unusable input (the result then has Verdict Invalid and a
// Reason), or ctx.Err(). Text that is not an address (no road, place,
// village…; words that name no place; markup) gives Verdict Invalid, and an
// address in another province or city than the database's own gives Verdict
// Outside, both with a nil error.
//
// Matched means that a registered address with entities agrees with the
// query on its road and road number (or, without a road, its named place),
// and on every finer component the query gives: a sub-number (附3号), floor
// or room alone never matches, a place name the query adds must be
// registered at that number, an assist word (附近, 对面, 旁边) or a street
// (街道) or town outside the query's district keeps a registered address
// from a match, and look-alikes in several districts or on several roads
// make the answer Doubtful with the candidates. Safe for concurrent use.
func (db *DB) Check(ctx context.Context, address string) (CheckResult, error) {
	if err := ctx.Err(); err != nil {
		return CheckResult{}, err
	}
	if err := db.p.validate(address); err != nil {
		reason := "地址为空"
		if errors.Is(err, ErrTooLong) {
			reason = fmt.Sprintf("地址超过%d个字符", db.p.maxRunes)
		}
		return CheckResult{Verdict: Invalid, Reason: reason, Message: "该地址无效：" + reason}, fmt.Errorf("check: %w", err)
	}
	norm := Normalize(restoreRoadHao(foldCheckNumbers(address)))
	c := db.p.ruleParse(norm)
	res := CheckResult{Normalized: canonicalOf(&c), Components: c}
	invalid := func(reason string) (CheckResult, error) {
		res.Verdict, res.Reason, res.Message = Invalid, reason, "该地址无效："+reason
		return res, nil
	}
	if r, ok := markup(address); ok {
		return invalid(fmt.Sprintf("含有非地址字符（%c）", r))
	}
	if reason := notAddressReason(&c, norm); reason != "" {
		return invalid(reason)
	}
	f := db.p.fields(&c)
	db.mu.RLock()
	if reason := db.junkReasonLocked(&c, &f); reason != "" {
		db.mu.RUnlock()
		return invalid(reason)
	}
	if where, juris, ok := db.outsideLocked(&c); ok {
		db.mu.RUnlock()
		res.Verdict, res.Reason = Outside, "不在本平台管辖范围内"
		res.Message = fmt.Sprintf("该地址位于%s，不在本平台管辖范围（%s）内，请核实或到属地登记机关办理", where, juris)
		return res, nil
	}
	cx := cmpCtx{check: true, roadKnown: f.road != "" && db.names[f.road] > 0}
	cx.poiKnown = db.poiKnownLocked(&f, cx.roadKnown)
	best := db.candidatesLocked(ctx, &f, cx)
	cands := make([]Candidate, 0, len(best))
	for _, s := range best {
		e := db.entries[s.idx]
		cands = append(cands, Candidate{Address: e.display(), Score: round3(s.score), Level: s.level, EntityCount: e.count, Location: e.location()})
	}
	// look-alikes: other exact candidates at another place (district, road
	// or road number)
	var districts, roads []string
	count, ambiguous := 0, false
	var top *entryView
	if len(best) > 0 && best[0].level == LevelExact {
		te := db.entries[best[0].idx]
		top = &entryView{display: te.display(), f: te.fields()}
		for _, s := range best {
			if s.level != LevelExact {
				continue
			}
			e := &entryView{f: db.entries[s.idx].fields()}
			if samePlace(&top.f, &e.f) {
				count += db.entries[s.idx].count
				continue
			}
			ambiguous = true
			if !slices.Contains(districts, top.f.district) {
				districts = append(districts, top.f.district)
			}
			if !slices.Contains(districts, e.f.district) {
				districts = append(districts, e.f.district)
			}
			if !slices.Contains(roads, top.f.road) {
				roads = append(roads, top.f.road)
			}
			if !slices.Contains(roads, e.f.road) {
				roads = append(roads, e.f.road)
			}
		}
	}
	exact := len(cands) > 0 && cands[0].Level == LevelExact && cands[0].Score >= db.minScore
	held := ""
	if exact {
		held = db.heldBackCheck(&c, &f, top) // checkrules.go
	}
	db.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return CheckResult{}, err
	}
	res.Candidates = cands

	switch {
	case exact && !ambiguous && count > 0 && held == "":
		res.Verdict = Matched
		res.Location = cands[0].Location
		res.Message = fmt.Sprintf("该地址与地址库匹配通过，该地址注册过市场主体（%d户）", count)
		if f.road != "" && top.f.road != "" && f.road != top.f.road {
			res.Message += fmt.Sprintf("；道路名称按地址库纠正为“%s”", top.f.road)
		}
	case ambiguous && len(districts) > 1:
		res.Verdict, res.Reason = Doubtful, "多个区县存在相同地址"
		res.Message = fmt.Sprintf("该地址在多个区县存在同名地址（%s），请补充区县信息后核实", strings.Join(districts, "、"))
	case ambiguous:
		res.Verdict, res.Reason = Doubtful, "多条道路存在相近地址"
		res.Message = fmt.Sprintf("该地址与多条道路上的地址相近（%s），请核实道路名称", strings.Join(roads, "、"))
	case exact && held != "":
		res.Verdict, res.Reason = Doubtful, held
		res.Message = "地址库中存在相近地址，但" + held + "，请核实或实地核查"
	case exact:
		res.Verdict = Doubtful
		res.Location = cands[0].Location
		res.Message = "该地址在地址库中存在，但未登记过市场主体，请实地核查"
	case len(cands) > 0 && levelRank(cands[0].Level) >= levelRank(LevelSameRoad):
		res.Verdict = Doubtful
		if reason := db.heldBackReason(&f, cx); reason != "" {
			res.Reason = reason
		}
		res.Message = "地址库中未找到该地址，存在相近地址，请核实或实地核查"
	default:
		res.Verdict = Doubtful
		res.Message = "地址库中未找到该地址，请实地核查"
	}
	return res, nil
}

// restoreRoadHao puts back the 号 a clerk left out after a road number
// when something follows it: 金开大道46 4-4, 金开大道29翠云汇 and
// 金开大道6附2号 are 金开大道46号4-4, 29号翠云汇 and 6号附2号 (Normalize
// would otherwise glue 46 and 4-4 into one number).
func restoreRoadHao(s string) string {
	rs := []rune(s)
	var b strings.Builder
	changed := false
	for i := 0; i < len(rs); i++ {
		b.WriteRune(rs[i])
		if !strings.ContainsRune("路街道巷", cntext.FoldRune(rs[i])) || i+1 >= len(rs) || !isDigit(cntext.FoldRune(rs[i+1])) {
			continue
		}
		j := i + 1
		for j < len(rs) && isDigit(cntext.FoldRune(rs[j])) {
			j++
		}
		k := j
		for k < len(rs) && cntext.IsSpaceOrPunct(cntext.FoldRune(rs[k])) && cntext.FoldRune(rs[k]) != '-' {
			k++
		}
		if k >= len(rs) || k == j && !cntext.IsHan(rs[k]) {
			continue
		}
		next := cntext.FoldRune(rs[k])
		if k == j && strings.ContainsRune("号號栋幢座层楼室房弄组期户排区街巷队社单米公里", next) {
			continue // a unit word: 6号, 3栋 …
		}
		if k > j && !(isDigit(next) || next == '附' || cntext.IsHan(next) && !strings.ContainsRune("号號栋幢座层楼室房弄组期单", next)) {
			continue
		}
		b.WriteString(string(rs[i+1 : j]))
		b.WriteRune('号')
		i = j - 1
		changed = true
	}
	if !changed {
		return s
	}
	return b.String()
}

// heldBackReason says why a query whose road and number are registered was
// not matched, when a name it adds is the cause.
func (db *DB) heldBackReason(f *fields, cx cmpCtx) string {
	if f.poi != "" && f.road != "" && f.roadno != "" && !cx.poiKnown {
		return fmt.Sprintf("地址库中该门牌下未登记“%s”", f.poi)
	}
	return ""
}

// samePlace: two registered addresses agree on district, road, road number
// and place name, i.e. are one address written two ways.
func samePlace(a, b *fields) bool {
	if a.unit[AdminDistrict] != b.unit[AdminDistrict] || a.district != b.district {
		return false
	}
	if a.road != b.road || a.roadno != b.roadno {
		return false
	}
	if a.road == "" {
		eq, _ := poiSim(a.poi, b.poi)
		return eq || a.poi == b.poi
	}
	return true
}

// poiKnownLocked: the query's place name is registered at its road number
// (on its road, or on the one road its misspelt road stands for).
func (db *DB) poiKnownLocked(f *fields, roadKnown bool) bool {
	if f.poi == "" || f.road == "" || f.roadno == "" {
		return false
	}
	roads := []string{f.road}
	if !roadKnown {
		roads = append(roads, db.similarNamesLocked(f.road)...)
	}
	for _, r := range roads {
		for _, x := range db.poisAt[r+"|"+f.roadno] {
			if eq, _ := poiSim(f.poi, x.name); eq {
				return true
			}
		}
	}
	return false
}

// markup returns a character that never occurs in an address but does in
// markup, code or injected text (<script>, ${…}, a=b;).
func markup(s string) (rune, bool) {
	for _, r := range s {
		switch r {
		case '<', '>', '{', '}', '\\', '^', '$', '=', ';', '|', '`', '＜', '＞', '｛', '｝', '＝', '；', '｜':
			return r, true
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return r, true
		}
	}
	return 0, false
}

// junkReasonLocked returns why a parsed text names no place although the
// parser found a span in it, or "": a text of one or two characters
// repeated (栋栋栋栋栋); only a sub-number, building, floor or room
// (附3号, 3-1); or, without any division, road or village, words that end
// in no place suffix and are not a registered name (你好世界, 我家门口).
func (db *DB) junkReasonLocked(c *Components, f *fields) string {
	var han []rune
	for _, s := range c.Spans {
		switch s.Label {
		case LabelProvince, LabelCity, LabelDistrict, LabelTown:
			continue
		}
		for _, r := range s.Text {
			if cntext.IsHan(r) {
				han = append(han, r)
			}
		}
	}
	if len(han) >= 3 {
		distinct := map[rune]bool{}
		for _, r := range han {
			distinct[r] = true
		}
		if len(distinct) <= 2 && len(distinct) < len(han)-1 {
			return "重复字符，不是地址"
		}
	}
	hasTown, hasAdmin := false, false
	for _, s := range c.Spans {
		switch s.Label {
		case LabelTown:
			hasTown = true
		case LabelProvince, LabelCity, LabelDistrict:
			hasAdmin = true
		}
	}
	named := f.road != "" || f.poi != "" || f.subpoi != "" || f.community != "" || f.vgroup != "" || f.devzone || hasTown
	if !named {
		return "只有门牌附号、楼栋、楼层或房号，缺少道路、小区等地名"
	}
	if hasAdmin || hasTown || f.road != "" || f.community != "" || f.vgroup != "" || f.devzone || f.poi == "" {
		return ""
	}
	if db.names[f.poi] > 0 || db.p.placeLike(f.poi) {
		return ""
	}
	return "不含可识别的地名（道路、门牌、小区、单位等）"
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// notAddressReason returns why c is not an address, or "".
func notAddressReason(c *Components, norm string) string {
	han := 0
	for _, r := range norm {
		if cntext.IsHan(r) {
			han++
		}
	}
	if han < 2 {
		return "不含有效的中文地址信息"
	}
	hasAdmin, hasLocal := false, false
	for _, s := range c.Spans {
		switch s.Label {
		case LabelProvince, LabelCity, LabelDistrict:
			hasAdmin = true
		case LabelAssist, LabelDistance:
		default:
			hasLocal = true
		}
	}
	if !hasLocal {
		if hasAdmin {
			return "只有行政区划，缺少街道、门牌或小区等信息"
		}
		return "缺少街道、门牌或小区等信息"
	}
	return ""
}

// outsideLocked reports whether the address lies in a province, or a city
// of a province that is not a municipality, where the database registers
// no address while it registers addresses elsewhere. It returns the place
// named and the database's own region.
func (db *DB) outsideLocked(c *Components) (where, juris string, ok bool) {
	if len(db.provs) == 0 {
		return "", "", false
	}
	d := db.p.dict
	provOf := func(u int32) int32 {
		for u >= 0 && d.units[u].level > AdminProvince {
			u = d.units[u].parent
		}
		return u
	}
	prov := c.unit[AdminProvince]
	switch {
	case prov >= 0 && db.provs[prov] > 0:
		if d.units[prov].muni {
			return "", "", false
		}
		city := c.unit[AdminCity]
		if city < 0 || db.cities[city] > 0 {
			return "", "", false
		}
		inProv := false
		for u := range db.cities {
			if provOf(u) == prov {
				inProv = true
				break
			}
		}
		if !inProv {
			return "", "", false
		}
	case prov >= 0:
	case len(c.Admin.Ambiguous) > 0:
		// 朝阳区 alone: outside when every reading is
		for _, code := range c.Admin.Ambiguous {
			u, found := d.unitByCode(code)
			if !found || db.provs[provOf(u)] > 0 {
				return "", "", false
			}
		}
	default:
		return "", "", false
	}
	where = c.Admin.Province + c.Admin.City + c.Admin.District
	if where == "" {
		where = "外地"
	}
	return where, db.regionNameLocked(), true
}

// regionNameLocked names the database's region: its provinces (and, for
// provinces that are not municipalities, its cities), most addresses first.
func (db *DB) regionNameLocked() string {
	d := db.p.dict
	type uc struct {
		u int32
		n int
	}
	var us []uc
	for u, n := range db.provs {
		if d.units[u].muni {
			us = append(us, uc{u, n})
		}
	}
	for u, n := range db.cities {
		if p := d.units[u].parent; d.units[u].name != "" && (p < 0 || !d.units[p].muni) {
			us = append(us, uc{u, n})
		}
	}
	sort.Slice(us, func(i, j int) bool {
		if us[i].n != us[j].n {
			return us[i].n > us[j].n
		}
		return us[i].u < us[j].u
	})
	var names []string
	for i, x := range us {
		if i == 3 {
			names = append(names, "等")
			break
		}
		names = append(names, d.units[x.u].name)
	}
	return strings.Join(names, "、")
}

// maxScan caps the database entries compared for one check. A road number
// alone (金碧南路157号) keys every unit registered there, thousands in a
// dense 1M database; 1,000 keeps p99 of Check at a few milliseconds with no
// loss on the clerk-variant test (99.7 % either way).
const maxScan = 1000

// candidatesLocked gathers and ranks candidates. Caller holds db.mu (read).
func (db *DB) candidatesLocked(ctx context.Context, f *fields, cx cmpCtx) []scored {
	seen := make(map[int32]bool, 64)
	var out []scored
	scanned := 0
	consider := func(list []int32) {
		for _, idx := range list {
			if scanned >= maxScan {
				return
			}
			if seen[idx] {
				continue
			}
			seen[idx] = true
			e := db.entries[idx]
			if e == nil {
				continue
			}
			scanned++
			if scanned%256 == 0 && ctx.Err() != nil {
				return
			}
			ef := e.fields()
			lvl, score := compareFieldsCtx(f, &ef, cx)
			if lvl == LevelDifferent {
				continue
			}
			out = append(out, scored{idx: idx, level: lvl, score: score})
		}
	}
	// 1. exact locality key
	var one [1]int32 // a key's single entry (consider reads it at once)
	consider(db.byLocal.get(f.local, &one))
	// 2. component keys
	if f.road != "" && f.roadno != "" {
		consider(db.byRoadNo.get(f.road+"|"+f.roadno, &one))
	}
	if f.poi != "" {
		consider(db.byPoi.get(f.poi+"|"+f.houseno, &one))
	}
	if !hasLevel(out, LevelExact) {
		// 3. one-typo variants of the road and POI names
		if f.road != "" && f.roadno != "" && db.names[f.road] == 0 {
			for _, r := range db.similarNamesLocked(f.road) {
				consider(db.byRoadNo.get(r+"|"+f.roadno, &one))
			}
		}
		if f.poi != "" && db.names[f.poi] == 0 {
			for _, pn := range db.similarNamesLocked(f.poi) {
				consider(db.byPoi.get(pn+"|"+f.houseno, &one))
			}
		}
	}
	// 4. fuzzy: rarest locality bigrams, unless component keys already found
	// enough same-POI candidates
	if !hasLevel(out, LevelExact) && !(len(out) >= db.maxCand && (hasLevel(out, LevelSamePOI) || hasLevel(out, LevelSameBuilding))) {
		consider(db.fuzzyLocked(f.local))
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := levelRank(out[i].level), levelRank(out[j].level)
		if ri != rj {
			return ri > rj
		}
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return db.entries[out[i].idx].count > db.entries[out[j].idx].count
	})
	if len(out) > db.maxCand {
		out = out[:db.maxCand]
	}
	return out
}

func hasLevel(s []scored, l Level) bool {
	for _, x := range s {
		if x.level == l {
			return true
		}
	}
	return false
}

// similarNamesLocked returns name itself (if known) and known names at edit
// distance 1.
func (db *DB) similarNamesLocked(name string) []string {
	var out []string
	n := utf8.RuneCountInString(name)
	if n < 3 {
		return out
	}
	seen := map[string]bool{name: true}
	for _, g := range uniqueGrams(name) {
		list := db.nameGrams[g]
		if len(list) > 5000 {
			continue
		}
		for _, cand := range list {
			if seen[cand] || db.names[cand] == 0 {
				continue
			}
			seen[cand] = true
			if cn := utf8.RuneCountInString(cand); cn < n-1 || cn > n+1 {
				continue
			}
			if cntext.EditDistance(name, cand, 1) <= 1 {
				out = append(out, cand)
			}
		}
	}
	return out
}

// fuzzyLocked returns up to 32 entries sharing the most rare bigrams with s.
func (db *DB) fuzzyLocked(s string) []int32 {
	gs := uniqueGrams(s)
	type gl struct {
		g string
		n int
	}
	lists := make([]gl, 0, len(gs))
	for _, g := range gs {
		if n := len(db.grams[g]); n > 0 {
			lists = append(lists, gl{g, n})
		}
	}
	sort.Slice(lists, func(i, j int) bool { return lists[i].n < lists[j].n })
	counts := make(map[int32]int, 256)
	budget := 6000
	for i, l := range lists {
		if i >= 6 || l.n > budget {
			break
		}
		budget -= l.n
		for _, idx := range db.grams[l.g] {
			counts[idx]++
		}
	}
	type ic struct {
		idx int32
		c   int
	}
	top := make([]ic, 0, len(counts))
	for idx, c := range counts {
		top = append(top, ic{idx, c})
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].c != top[j].c {
			return top[i].c > top[j].c
		}
		return top[i].idx < top[j].idx
	})
	if len(top) > 32 {
		top = top[:32]
	}
	out := make([]int32, len(top))
	for i, t := range top {
		out[i] = t.idx
	}
	return out
}

// GeocodeResult is a geocoded point.
type GeocodeResult struct {
	Location  orb.Point     `json:"location"`
	Precision geo.Precision `json:"precision"`
	// Address is the matched database address for address/building precision.
	Address string `json:"address,omitempty"`
}

// Geocode returns a point for an address: the matched (or same-building)
// candidate's location, else the centroid of the finest parsed unit computed
// from the database records (road, then town, district, city). Precision is
// geo.PrecisionNone when nothing applies. Errors as for [DB.Check]. Safe for
// concurrent use.
func (db *DB) Geocode(ctx context.Context, address string) (GeocodeResult, error) {
	res, err := db.Check(ctx, address)
	if err != nil {
		return GeocodeResult{Precision: geo.PrecisionNone}, err
	}
	if len(res.Candidates) > 0 && res.Candidates[0].Location != (orb.Point{}) {
		switch res.Candidates[0].Level {
		case LevelExact:
			return GeocodeResult{Location: res.Candidates[0].Location, Precision: geo.PrecisionAddress, Address: res.Candidates[0].Address}, nil
		case LevelSameBuilding:
			return GeocodeResult{Location: res.Candidates[0].Location, Precision: geo.PrecisionBuilding, Address: res.Candidates[0].Address}, nil
		}
	}
	f := db.p.fields(&res.Components)
	db.mu.RLock()
	defer db.mu.RUnlock()
	try := func(k string) (orb.Point, bool) {
		a := db.aggs[k]
		if a == nil || a.n <= 0 {
			return orb.Point{}, false
		}
		return orb.Point{a.lon / float64(a.n), a.lat / float64(a.n)}, true
	}
	if f.road != "" {
		if p, ok := try("r:" + f.district + "|" + f.road); ok && f.district != "" {
			return GeocodeResult{Location: p, Precision: geo.PrecisionRoad}, nil
		}
		if f.district == "" {
			if p, ok := try("r:" + f.road); ok {
				return GeocodeResult{Location: p, Precision: geo.PrecisionRoad}, nil
			}
		}
	}
	if f.town != "" {
		if p, ok := try("t:" + f.district + "|" + f.town); ok {
			return GeocodeResult{Location: p, Precision: geo.PrecisionTown}, nil
		}
	}
	if f.district != "" {
		if p, ok := try("d:" + f.district); ok {
			return GeocodeResult{Location: p, Precision: geo.PrecisionDistrict}, nil
		}
	}
	city := f.city
	if city == "" {
		city = f.province
	}
	if city != "" {
		if p, ok := try("c:" + city); ok {
			return GeocodeResult{Location: p, Precision: geo.PrecisionCity}, nil
		}
	}
	return GeocodeResult{Precision: geo.PrecisionNone}, nil
}
