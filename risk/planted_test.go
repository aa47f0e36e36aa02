package risk

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
)

// plantedWorld is a demo region with the planted patterns, its planted
// licence records, and an engine on the demo's reference day.
func plantedWorld(t testing.TB, n int) (*demo.Dataset, *demo.Planted, *geo.Index, *Engine) {
	t.Helper()
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		t.Fatal(err)
	}
	p, err := demo.Plant(ds, demo.PlantOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := geo.New(geo.Options{})
	if err := ds.Load(ix); err != nil {
		t.Fatal(err)
	}
	now := demo.AsOf().Add(12 * time.Hour)
	eng, err := New(Options{Now: func() time.Time { return now }, Recheck: -1, Warnings: WarningOptions{HomeDivisions: demo.HomeDivisions()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ix, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	var recs []exchange.Record
	for _, tb := range demo.PlantedTables(ds.Entities) {
		for i, row := range tb.Rows[1:] {
			r := exchange.Record{EntityID: row[0], Dept: tb.Dept, Kind: exchange.Kind(tb.Kind), Date: row[4],
				Fields: map[string]string{"有效期至": row[5], "许可项目": row[6]}, Source: exchange.Source{File: tb.File, Row: i + 2, Key: row[3]}}
			r.Seal()
			recs = append(recs, r)
		}
	}
	eng.ApplyRecords(recs)
	if err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ds, p, ix, eng
}

// TestPlantedWarningsFound: every planted pattern is found as exactly one
// warning whose evidence is exactly the planted entities, and no other
// warning of its type is in the planted area (the building, or the grid
// for the per-grid types); warnings of each type elsewhere are counted
// and reported (false positives on the generated data, whose entities
// have no department records in this test).
func TestPlantedWarningsFound(t *testing.T) {
	_, p, ix, eng := plantedWorld(t, 20000)
	ws, err := eng.Warnings(context.Background(), WarningQuery{})
	if err != nil {
		t.Fatal(err)
	}
	snap := ix.Snapshot()
	gridOf := func(id string) string { e, _ := snap.Entity(id); return e.GridID }
	others := map[string]int{}
	for _, typ := range WarningTypes() {
		planted := p.Entities[typ]
		if len(planted) == 0 {
			t.Fatalf("nothing planted for %s", typ)
		}
		area := func(w Warning) bool { // is w in the planted area?
			switch typ {
			case WarnCluster, WarnZombie:
				for _, id := range w.Entities {
					if e, _ := snap.Entity(id); e.BuildingID == p.Buildings[typ] {
						return true
					}
				}
				return false
			case WarnShift, WarnLicenceDue:
				return w.GridID == gridOf(planted[0])
			}
			return true // out of area: the investors' division is the area
		}
		var found []Warning
		for _, w := range ws {
			if w.Type != typ {
				continue
			}
			if area(w) {
				found = append(found, w)
			} else {
				others[typ]++
			}
		}
		if typ == WarnZombie { // one warning per entity
			var got []string
			for _, w := range found {
				got = append(got, w.Entities...)
			}
			slices.Sort(got)
			if !slices.Equal(got, planted) {
				t.Errorf("%s: warnings in the planted building name %v, planted %v", typ, got, planted)
			}
			continue
		}
		if len(found) != 1 || !slices.Equal(found[0].Entities, planted) {
			t.Errorf("%s: %d warnings in the planted area %+v; want one with the planted %v", typ, len(found), found, planted)
			continue
		}
		if typ == WarnShift && found[0].Key != p.ShiftDivision || typ == WarnOutOfArea && found[0].Key != p.InvestorDivision {
			t.Errorf("%s: key %q", typ, found[0].Key)
		}
		if typ == WarnLicenceDue && len(found[0].Records) != len(planted) {
			t.Errorf("%s: %d records as evidence, want %d", typ, len(found[0].Records), len(planted))
		}
	}
	t.Logf("warnings of each type outside the planted areas (20k demo entities, no department records): %v", others)
	// since= and type= and an area keep what they say.
	w2, err := eng.Warnings(context.Background(), WarningQuery{Types: []string{WarnCluster}, Since: demo.AsOf().AddDate(0, 0, -90).Format("2006-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range w2 {
		if w.Type != WarnCluster || w.Date < demo.AsOf().AddDate(0, 0, -90).Format("2006-01-02") {
			t.Fatalf("since/type filter let through %+v", w)
		}
	}
}

// TestBuildingEconomyOracle: a building's economy equals a brute-force
// sum over the entities whose building ID is the building's.
func TestBuildingEconomyOracle(t *testing.T) {
	ds, _, ix, eng := plantedWorld(t, 3000)
	for _, b := range ds.Buildings[:200] {
		ec, err := eng.BuildingEconomy(context.Background(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, sections := 0, map[string]int{}
		for _, e := range ds.Entities {
			if e.BuildingID == b.ID {
				n++
				sections[e.Industry[:1]]++
			}
		}
		if ec.Entities != n || len(ec.BySection) != len(sections) {
			t.Fatalf("building %s: %d entities %v, brute force %d %v", b.ID, ec.Entities, ec.BySection, n, sections)
		}
		for k, v := range sections {
			if ec.BySection[k] != v {
				t.Fatalf("building %s section %s: %d, want %d", b.ID, k, ec.BySection[k], v)
			}
		}
	}
	_ = ix
}
