package demo

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

func TestGenerateDemoRegion(t *testing.T) {
	start := time.Now()
	ds, err := Generate(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated in %v: %d entities, %d buildings, %d places, %d zones, %d roads", time.Since(start), len(ds.Entities), len(ds.Buildings), len(ds.Places), len(ds.Zones), len(ds.Roads))
	if len(ds.Entities) != 79000 {
		t.Fatalf("entities = %d", len(ds.Entities))
	}
	if n := len(ds.Buildings); n < 19000 || n > 21000 {
		t.Fatalf("buildings = %d, want about 20,000", n)
	}
	ix, _ := geo.New(geo.Options{})
	if err := ds.Load(ix); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated and loaded in %v", time.Since(start))
	c := ix.Snapshot().Counts()
	t.Logf("counts %+v", c)
	if c.Entities != 79000 || c.ZoneLayer["ftz"] != 3 || c.ZoneLayer["district"] != 7 || c.ZoneLayer["grid"] < 100 {
		t.Fatalf("counts %+v", c)
	}
	// every entity got a grid
	noGrid := 0
	ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.GridID == "" {
			noGrid++
		}
		return true
	})
	if noGrid > 0 {
		t.Fatalf("%d entities without a grid", noGrid)
	}
	// dense districts: the densest 200 m circles hold a few hundred entities
	var counts []int
	for i := 0; i < len(ds.Entities); i += 97 {
		res, err := ix.Nearby(context.Background(), geo.LayerEntities, ds.Entities[i].Location, 200, geo.Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, res.Total)
	}
	sort.Ints(counts)
	p50, p90, top := counts[len(counts)/2], counts[len(counts)*9/10], counts[len(counts)-1]
	t.Logf("entities within 200 m of an entity: p50 %d, p90 %d, max %d", p50, p90, top)
	if p90 < 100 || p90 > 1500 {
		t.Fatalf("a dense district should hold a few hundred entities in 200 m, p90 is %d", p90)
	}
	// determinism
	ds2, _ := Generate(Options{})
	for i := 0; i < len(ds.Entities); i += 1000 {
		if ds.Entities[i].ID != ds2.Entities[i].ID || ds.Entities[i].Location != ds2.Entities[i].Location {
			t.Fatal("generation is not deterministic")
		}
	}
}

// TestRoads: Roads gives the roads of Generate (same names, same lines).
func TestRoads(t *testing.T) {
	ds, err := Generate(Options{Entities: 2000})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Roads(Options{Entities: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(ds.Roads) || len(rs) < 100 {
		t.Fatalf("Roads: %d roads, Generate: %d", len(rs), len(ds.Roads))
	}
	for i := range rs {
		a, b := rs[i], ds.Roads[i]
		if a.Name != b.Name || a.Street != b.Street || !a.Line.Equal(b.Line) {
			t.Fatalf("road %d: %+v, Generate gave %+v", i, a, b)
		}
	}
}
