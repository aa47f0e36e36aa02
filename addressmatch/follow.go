package addressmatch

import (
	"errors"
	"fmt"
	"sync"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Record IDs given to the geo store's features.
const (
	entityPrefix   = "entity:"
	buildingPrefix = "building:"
)

// Follower keeps a DB equal to the addresses of a geo index: one record per
// entity (its registered address) and one per building (its street address,
// counting the entities ever registered in it, cancelled ones included),
// current on every commit of the index.
type Follower struct {
	db      *DB
	mu      sync.Mutex
	counts  map[string]int           // building ID → entities in it
	blds    map[string]*geo.Building // buildings with an address
	stop    func()
	errs    []error
	filling bool            // the first fill runs: commits wait in pending
	pending []geo.ChangeSet // commits made during the first fill, in order
}

// Follow fills db from idx and keeps it current until Stop. The DB should
// start empty of entity and building records (standard addresses loaded
// from CSV are left alone). Commits are applied synchronously, so the next
// Check after a write sees it. The first fill (seconds at a million
// addresses) does not hold up the index's writers: the commits made
// meanwhile are kept and applied, in order, before Follow returns.
func Follow(db *DB, idx *geo.Index) (*Follower, error) {
	f := &Follower{db: db, counts: map[string]int{}, blds: map[string]*geo.Building{}, filling: true}
	snap, stop := idx.Follow(f.apply)
	f.stop = stop
	// counts and blds are this goroutine's alone while filling: apply
	// only queues. The records are parsed and inserted a chunk at a time,
	// never all at once (at a million addresses the parsed forms of every
	// record held together took a gigabyte).
	fill := &filler{db: db}
	snap.ScanEntities(func(e *geo.Entity) bool {
		if e.BuildingID != "" {
			f.counts[e.BuildingID]++
		}
		if e.Address != "" {
			fill.add(entityRecord(e))
		}
		return fill.err == nil
	})
	// the building records need every entity counted first
	snap.ScanBuildings(func(b *geo.Building) bool {
		if b.Address != "" {
			f.blds[b.ID] = b
			fill.add(f.buildingRecord(b))
		}
		return fill.err == nil
	})
	err := fill.flush()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		stop()
		return nil, fmt.Errorf("addressmatch: filling from the geo index: %w", err)
	}
	for _, cs := range f.pending {
		f.applyLocked(cs)
	}
	f.pending, f.filling = nil, false
	return f, nil
}

// fillChunk is how many records the first fill parses and inserts at a
// time: enough for every core to parse in parallel, little memory.
const fillChunk = 16384

// filler adds records to db a chunk at a time. After an error it adds
// nothing more and removes what it added, so a failed fill leaves the
// database as it found it.
type filler struct {
	db    *DB
	chunk []Record
	added []string
	err   error
}

func (fl *filler) add(r Record) {
	if fl.err != nil {
		return
	}
	fl.chunk = append(fl.chunk, r)
	if len(fl.chunk) >= fillChunk {
		fl.flush()
	}
}

func (fl *filler) flush() error {
	if fl.err == nil && len(fl.chunk) > 0 {
		if fl.err = fl.db.Add(fl.chunk...); fl.err == nil {
			for _, r := range fl.chunk {
				fl.added = append(fl.added, r.ID)
			}
		} else if len(fl.added) > 0 {
			_ = fl.db.Remove(fl.added...)
		}
		fl.chunk = fl.chunk[:0]
	}
	return fl.err
}

// Stop ends the subscription.
func (f *Follower) Stop() { f.stop() }

// Errors returns (and clears) the errors met while applying commits, such
// as an address too long to index. They never stop the follower.
func (f *Follower) Errors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.errs
	f.errs = nil
	return e
}

func entityRecord(e *geo.Entity) Record {
	return Record{ID: entityPrefix + e.ID, Address: e.Address, Location: e.Location, Kind: KindEntity, EntityCount: 1, key: e.ID}
}

func (f *Follower) buildingRecord(b *geo.Building) Record {
	return Record{ID: buildingPrefix + b.ID, Address: b.Address, Location: b.Center(), Kind: KindBuilding, EntityCount: f.counts[b.ID], key: b.ID}
}

func (f *Follower) apply(cs geo.ChangeSet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.filling {
		f.pending = append(f.pending, cs)
		return
	}
	f.applyLocked(cs)
}

func (f *Follower) applyLocked(cs geo.ChangeSet) {
	var del []string
	var add []Record
	touched := map[string]bool{}
	for _, c := range cs.Changes {
		if sameAddressRecord(c) {
			continue // a status or risk change: nothing here changes
		}
		if p, ok := movedOnly(c); ok && f.db.relocate(entityPrefix+c.ID, p) {
			continue // a relocation: the record's location follows, no parse
		}
		switch c.Layer {
		case geo.LayerEntities:
			if old, ok := c.Old.(*geo.Entity); ok {
				if old.Address != "" {
					del = append(del, entityPrefix+old.ID)
				}
				if old.BuildingID != "" {
					f.counts[old.BuildingID]--
					touched[old.BuildingID] = true
				}
			}
			if ne, ok := c.New.(*geo.Entity); ok {
				if ne.Address != "" {
					add = append(add, entityRecord(ne))
				}
				if ne.BuildingID != "" {
					f.counts[ne.BuildingID]++
					touched[ne.BuildingID] = true
				}
			}
		case geo.LayerBuildings:
			if old, ok := c.Old.(*geo.Building); ok && old.Address != "" {
				delete(f.blds, old.ID)
				touched[old.ID] = true
			}
			if nb, ok := c.New.(*geo.Building); ok && nb.Address != "" {
				f.blds[nb.ID] = nb
				touched[nb.ID] = true
			}
		}
	}
	for id := range touched {
		del = append(del, buildingPrefix+id)
		if b, ok := f.blds[id]; ok {
			add = append(add, f.buildingRecord(b))
		}
	}
	if len(del) > 0 {
		if err := f.db.Remove(del...); err != nil && !errors.Is(err, ErrNotFound) {
			f.errs = append(f.errs, err)
		}
	}
	if len(add) > 0 {
		if err := f.db.Add(add...); err != nil {
			// add one by one so that one bad record does not lose the others
			for _, r := range add {
				if err := f.db.Add(r); err != nil {
					f.errs = append(f.errs, fmt.Errorf("addressmatch: %s: %w", r.ID, err))
				}
			}
		}
	}
}

// sameAddressRecord reports whether c replaces a feature by one of the
// same address records: an entity of the same address, location and
// building, or a building of the same address and centre. Most writes are
// of this kind (status, risk, flags); they cost the database nothing, not
// a parse of the address and a removal and insertion of its record.
func sameAddressRecord(c geo.Change) bool {
	switch c.Layer {
	case geo.LayerEntities:
		o, ok1 := c.Old.(*geo.Entity)
		n, ok2 := c.New.(*geo.Entity)
		return ok1 && ok2 && o.ID == n.ID && o.Address == n.Address && o.Location == n.Location && o.BuildingID == n.BuildingID
	case geo.LayerBuildings:
		o, ok1 := c.Old.(*geo.Building)
		n, ok2 := c.New.(*geo.Building)
		return ok1 && ok2 && o.ID == n.ID && o.Address == n.Address && o.Center() == n.Center()
	}
	return false
}

// movedOnly reports whether c moves an entity that keeps its address and
// building (a relocation at the same registered address): its record's
// location is all that changes; it returns the new location.
func movedOnly(c geo.Change) (orb.Point, bool) {
	if c.Layer != geo.LayerEntities {
		return orb.Point{}, false
	}
	o, ok1 := c.Old.(*geo.Entity)
	n, ok2 := c.New.(*geo.Entity)
	if !ok1 || !ok2 || o.ID != n.ID || n.Address == "" || o.Address != n.Address || o.BuildingID != n.BuildingID || o.Location == n.Location {
		return orb.Point{}, false
	}
	return n.Location, true
}

// relocate moves record id to p, its address unchanged: the mean location
// of its entry and the aggregates of its road, town, district and city
// follow, as a removal and re-insertion would leave them, without parsing
// the address again or making a new entry. It reports false (changing
// nothing) when the database holds no such record or p is not a valid
// location. Safe for concurrent use.
func (db *DB) relocate(id string, p orb.Point) bool {
	if !validPoint(p) {
		return false
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	ref, ok := db.recs.get(id)
	if !ok || db.entries[ref.entry] == nil {
		return false
	}
	e := db.entries[ref.entry]
	f := e.fields()
	if ref.loc != (orb.Point{}) {
		e.sumLon -= ref.loc[0]
		e.sumLat -= ref.loc[1]
		e.nLoc--
		db.aggAddLocked(&f, ref.loc, -1)
	}
	if p != (orb.Point{}) {
		e.sumLon += p[0]
		e.sumLat += p[1]
		e.nLoc++
		db.aggAddLocked(&f, p, 1)
	}
	ref.loc = p
	db.recs.set(id, "", ref)
	return true
}
