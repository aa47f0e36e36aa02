package exchange

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/store"
)

// index is the exchange's compact in-memory view of the stored records: a
// store.Consumer of the records collection. It keeps 32 bytes a record
// (its ID hash, content hash, entity, date, department and kind) plus the
// maps, not the records' JSON: full records are read from the store by ID.
// Safe for concurrent use.
type index struct {
	mu      sync.RWMutex
	slots   []slot
	free    []int32
	byID    map[uint64]int32  // the ID's hash part → slot
	byEnt   map[int32][]int32 // entity → its slots
	ents    []string          // entity number → USCC
	entNo   map[string]int32
	depts   []string
	deptNo  map[string]uint16
	records int
}

type slot struct {
	idh    uint64 // the 16 hex digits of the ID
	hash   uint64 // the first 8 bytes of the content hash
	entity int32
	date   int32 // days since 1970-01-01; noDate when none
	dept   uint16
	kind   uint8
	live   bool
}

// NoDate is the day number of a record without a (readable) date.
const NoDate = math.MinInt32

const noDate = NoDate

func newIndex() *index {
	return &index{byID: map[uint64]int32{}, byEnt: map[int32][]int32{}, entNo: map[string]int32{}, deptNo: map[string]uint16{}}
}

func kindNo(k Kind) uint8 {
	for i, ki := range kindInfo {
		if ki.k == k {
			return uint8(i)
		}
	}
	return math.MaxUint8
}

func kindOf(n uint8) Kind {
	if int(n) < len(kindInfo) {
		return kindInfo[n].k
	}
	return ""
}

// idParts splits a record ID into the department and the hash.
func idParts(id string) (string, uint64, bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || len(id)-i-1 != 16 {
		return "", 0, false
	}
	b, err := hex.DecodeString(id[i+1:])
	if err != nil {
		return "", 0, false
	}
	return id[:i], binary.BigEndian.Uint64(b), true
}

func hash8(h string) uint64 {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// DayNumber returns the day number (days since 1970-01-01, UTC) of a
// YYYY-MM-DD date, NoDate when it is empty or not such a date.
func DayNumber(date string) int32 {
	if date == "" {
		return noDate
	}
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return noDate
	}
	return int32(t.Unix() / 86400)
}

// DayString is DayNumber's inverse ("" for NoDate).
func DayString(d int32) string {
	if d == noDate {
		return ""
	}
	return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)
}

// recordHead is what the index reads of a stored record: decoding it
// skips the fields (a restart with millions of records decodes only this).
type recordHead struct {
	ID       string `json:"id"`
	EntityID string `json:"entity_id"`
	Kind     Kind   `json:"kind"`
	Date     string `json:"date"`
	Hash     string `json:"hash"`
}

func decodeHead(body []byte) (*recordHead, error) {
	var h recordHead
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	return &h, nil
}

// put adds or replaces a record (under mu).
func (x *index) put(r *recordHead) error {
	dept, idh, ok := idParts(r.ID)
	if !ok {
		return fmt.Errorf("%w: record id %q", ErrInvalidRecord, r.ID)
	}
	en, ok := x.entNo[r.EntityID]
	if !ok {
		en = int32(len(x.ents))
		x.ents = append(x.ents, r.EntityID)
		x.entNo[r.EntityID] = en
	}
	dn, ok := x.deptNo[dept]
	if !ok {
		if len(x.depts) >= math.MaxUint16 {
			return fmt.Errorf("%w: too many departments", ErrInvalidRecord)
		}
		dn = uint16(len(x.depts))
		x.depts = append(x.depts, dept)
		x.deptNo[dept] = dn
	}
	s := slot{idh: idh, hash: hash8(r.Hash), entity: en, date: DayNumber(r.Date), dept: dn, kind: kindNo(r.Kind), live: true}
	if i, ok := x.byID[idh]; ok {
		old := x.slots[i]
		if old.entity != en {
			x.unlinkEntity(old.entity, i)
			x.byEnt[en] = append(x.byEnt[en], i)
		}
		x.slots[i] = s
		return nil
	}
	var i int32
	if n := len(x.free); n > 0 {
		i, x.free = x.free[n-1], x.free[:n-1]
		x.slots[i] = s
	} else {
		i = int32(len(x.slots))
		x.slots = append(x.slots, s)
	}
	x.byID[idh] = i
	x.byEnt[en] = append(x.byEnt[en], i)
	x.records++
	return nil
}

func (x *index) unlinkEntity(en, i int32) {
	l := x.byEnt[en]
	for j, v := range l {
		if v == i {
			l[j] = l[len(l)-1]
			l = l[:len(l)-1]
			break
		}
	}
	if len(l) == 0 {
		delete(x.byEnt, en)
	} else {
		x.byEnt[en] = l
	}
}

func (x *index) remove(id string) {
	_, idh, ok := idParts(id)
	if !ok {
		return
	}
	i, ok := x.byID[idh]
	if !ok {
		return
	}
	x.unlinkEntity(x.slots[i].entity, i)
	delete(x.byID, idh)
	x.slots[i] = slot{}
	x.free = append(x.free, i)
	x.records--
}

// Load implements store.Consumer.
func (x *index) Load(d store.Doc) error {
	r, err := decodeHead(d.Body)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.put(r)
}

// Version implements store.Consumer: the index does not keep versions;
// records are written without version preconditions, so it answers
// whether the record exists (version 1 standing for "some").
func (x *index) Version(id string) (uint64, bool) {
	_, idh, ok := idParts(id)
	if !ok {
		return 0, false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if _, ok := x.byID[idh]; ok {
		return 1, true
	}
	return 0, false
}

// Commit implements store.Consumer.
func (x *index) Commit(cs []store.DocChange) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range cs {
		if c.Body == nil {
			x.remove(c.ID)
			continue
		}
		r, err := decodeHead(c.Body)
		if err != nil {
			continue // validated before it was written
		}
		_ = x.put(r)
	}
}

// same reports whether the record with this ID is stored with this content.
func (x *index) same(id, hash string) bool {
	_, idh, ok := idParts(id)
	if !ok {
		return false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, ok := x.byID[idh]
	return ok && x.slots[i].hash == hash8(hash)
}

// recordRef is what the index knows of one record.
type recordRef struct {
	id   string
	dept string
	kind Kind
	date int32
}

// entityRecords returns the index's view of an entity's records.
func (x *index) entityRecords(entity string) []recordRef {
	x.mu.RLock()
	defer x.mu.RUnlock()
	en, ok := x.entNo[entity]
	if !ok {
		return nil
	}
	l := x.byEnt[en]
	out := make([]recordRef, 0, len(l))
	for _, i := range l {
		s := x.slots[i]
		d := x.depts[s.dept]
		out = append(out, recordRef{id: fmt.Sprintf("%s:%016x", d, s.idh), dept: d, kind: kindOf(s.kind), date: s.date})
	}
	return out
}

// Len returns the number of records.
func (x *index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.records
}
