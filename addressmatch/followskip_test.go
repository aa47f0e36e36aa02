package addressmatch

import (
	"fmt"
	"math"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestSameAddressRecord: which changes leave the address records alone.
func TestSameAddressRecord(t *testing.T) {
	e := &geo.Entity{ID: "e1", Name: "甲", Address: "重庆市渝北区金开大道68号", Location: orb.Point{106.5, 29.6}, BuildingID: "b1", Risk: "A"}
	b := &geo.Building{ID: "b1", Address: "重庆市渝北区金开大道68号", Floors: 3,
		Footprint: orb.Polygon{{{106.5, 29.6}, {106.501, 29.6}, {106.501, 29.601}, {106.5, 29.6}}}}
	with := func(f func(*geo.Entity)) *geo.Entity { c := *e; f(&c); return &c }
	withB := func(f func(*geo.Building)) *geo.Building { c := *b; f(&c); return &c }
	moved := orb.Polygon{{{106.6, 29.6}, {106.601, 29.6}, {106.601, 29.601}, {106.6, 29.6}}}
	for _, tc := range []struct {
		name string
		c    geo.Change
		same bool
	}{
		{"risk and name", geo.Change{Layer: geo.LayerEntities, Old: e, New: with(func(x *geo.Entity) { x.Risk, x.Name = "C", "乙" })}, true},
		{"address", geo.Change{Layer: geo.LayerEntities, Old: e, New: with(func(x *geo.Entity) { x.Address += "附1号" })}, false},
		{"location", geo.Change{Layer: geo.LayerEntities, Old: e, New: with(func(x *geo.Entity) { x.Location[0] += 1e-6 })}, false},
		{"building", geo.Change{Layer: geo.LayerEntities, Old: e, New: with(func(x *geo.Entity) { x.BuildingID = "b2" })}, false},
		{"insert", geo.Change{Layer: geo.LayerEntities, New: e}, false},
		{"delete", geo.Change{Layer: geo.LayerEntities, Old: e}, false},
		{"building floors", geo.Change{Layer: geo.LayerBuildings, Old: b, New: withB(func(x *geo.Building) { x.Floors = 9 })}, true},
		{"building moved", geo.Change{Layer: geo.LayerBuildings, Old: b, New: withB(func(x *geo.Building) { x.Footprint = moved })}, false},
		{"building address", geo.Change{Layer: geo.LayerBuildings, Old: b, New: withB(func(x *geo.Building) { x.Address = "" })}, false},
		{"place", geo.Change{Layer: geo.LayerPlaces, Old: &geo.Place{ID: "p"}, New: &geo.Place{ID: "p"}}, false},
	} {
		if got := sameAddressRecord(tc.c); got != tc.same {
			t.Errorf("%s: sameAddressRecord = %v, want %v", tc.name, got, tc.same)
		}
	}
}

// recordView is what a database holds for one record, independent of the
// order its entries were made in.
type recordView struct {
	key, display    string
	count, nRecords int
	loc             orb.Point
	recCount        int
}

func recordViews(db *DB) map[string]recordView {
	out := map[string]recordView{}
	for id, r := range db.recs.all {
		e := db.entries[r.entry]
		f := e.fields()
		out[id] = recordView{key: entryKey(&f), display: e.display(), count: e.count, nRecords: int(e.nRec), loc: e.location(), recCount: int(r.count)}
	}
	return out
}

// TestFollowUnchangedAddresses: a database following writes of every kind
// (risk and name changes that it skips, moves, new addresses, buildings
// changed in place and moved) holds what a database filled afresh from
// the index after them holds (the oracle).
func TestFollowUnchangedAddresses(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 3000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	live := followed(t, idx, nil)
	for round := range 2 {
		b := idx.Batch()
		i := 0
		idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
			i++
			ne := *e
			switch {
			case i%3 == 0:
				ne.Risk = geo.Risk("ABCD"[(i+round)%4])
			case i%5 == 0:
				ne.Name += "（变更）"
			case i%7 == 0:
				ne.Location[0] += 1e-4
			case i%11 == 0:
				ne.Address = fmt.Sprintf("重庆市渝北区跟随测试路%d号", i)
			case i%13 == 0:
				ne.BuildingID = ""
			default:
				return true
			}
			if err := b.UpsertEntity(ne); err != nil {
				t.Fatal(err)
			}
			return true
		})
		j := 0
		idx.Snapshot().ScanBuildings(func(bl *geo.Building) bool {
			j++
			nb := *bl
			switch {
			case j%2 == 0:
				nb.Floors++
			case j%5 == 0:
				nb.Footprint = orb.Polygon{nb.Footprint[0].Clone()}
				for k := range nb.Footprint[0] {
					nb.Footprint[0][k][1] += 1e-4
				}
			default:
				return true
			}
			if err := b.UpsertBuilding(nb); err != nil {
				t.Fatal(err)
			}
			return true
		})
		b.Commit()
	}
	fresh := followed(t, idx, nil)
	got, want := recordViews(live), recordViews(fresh)
	if len(got) != len(want) {
		t.Fatalf("%d records; the fresh fill has %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		near := math.Abs(g.loc[0]-w.loc[0]) < 1e-9 && math.Abs(g.loc[1]-w.loc[1]) < 1e-9 // sums of moved locations round
		g.loc = w.loc
		if !ok || g != w || !near {
			t.Fatalf("record %s: %+v; the fresh fill has %+v", id, g, w)
		}
	}
}
