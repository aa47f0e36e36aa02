package risk

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// econRec is one generated department figure of an entity, kept apart
// from the engine's compact records for the brute force.
type econRec struct {
	kind exchange.Kind
	day  time.Time
	val  float64 // output (万元) or tax (元); -1: none
	emp  int     // employment; -1: none
}

// TestBuildingEconomySums: a building's output, employment and tax equal a
// brute-force computation from the generated records by the documented
// rule (BuildingEconomy's field comments): the latest output record's
// output, the latest employment figure (an output record's, else a
// social-insurance record's), the tax records of the last 365 days, over
// the entities with the building's ID and those without one inside its
// footprint. The records include figures outside the tax window, records
// in the future, output records without employment and replaced records
// (same department key); after deleting some, the sums follow.
func TestBuildingEconomySums(t *testing.T) {
	ds, _, ix, eng := plantedWorld(t, 3000)
	snap := ix.Snapshot()
	today := demo.AsOf()
	rng := rand.New(rand.NewPCG(18, 4))
	byEnt := map[string][]econRec{}
	byKey := map[string]exchange.Record{} // department key → record (the latest version)
	keyOf := map[string]string{}          // department key → entity
	recOf := map[string]econRec{}         // department key → its figures
	var recs []exchange.Record
	seq := 0
	add := func(ent string, er econRec) {
		seq++
		key := "k" + strconv.Itoa(seq)
		if prev := "k" + strconv.Itoa(seq-1); seq%5 == 0 && recOf[prev].kind == er.kind { // a replacement of the previous record (same department, kind and key)
			key, ent = prev, keyOf[prev]
		}
		f := map[string]string{}
		dept := map[exchange.Kind]string{exchange.KindOutput: "经济运行局", exchange.KindTax: "税务局", exchange.KindSocialInsurance: "人社局"}[er.kind]
		switch er.kind {
		case exchange.KindOutput:
			f["产值（万元）"] = strconv.FormatFloat(er.val, 'f', -1, 64)
		case exchange.KindTax:
			f["实缴金额（元）"] = strconv.FormatFloat(er.val, 'f', -1, 64)
		}
		if er.emp >= 0 {
			f["从业人员（人）"] = strconv.Itoa(er.emp)
		}
		r := exchange.Record{EntityID: ent, Dept: dept, Kind: er.kind, Date: er.day.Format("2006-01-02"), Fields: f, Source: exchange.Source{Key: key}}
		r.Seal()
		recs = append(recs, r)
		byKey[key], keyOf[key], recOf[key] = r, ent, er
	}
	buildings := ds.Buildings[:120]
	for _, b := range buildings {
		for _, e := range ds.Entities {
			if e.BuildingID != b.ID {
				continue
			}
			for range rng.IntN(3) { // distinct days: "latest" is well defined
				emp := -1
				if rng.IntN(3) > 0 {
					emp = rng.IntN(400)
				}
				add(e.ID, econRec{exchange.KindOutput, today.AddDate(0, 0, -rng.IntN(900)-1-seq%7*1000), float64(rng.IntN(200000)) / 4, emp})
			}
			for range rng.IntN(3) {
				add(e.ID, econRec{exchange.KindSocialInsurance, today.AddDate(0, 0, -rng.IntN(900)-1-seq%5*1000), -1, rng.IntN(300)})
			}
			for range rng.IntN(5) { // some older than a year, some in the future
				add(e.ID, econRec{exchange.KindTax, today.AddDate(0, 0, 30-rng.IntN(500)), float64(rng.IntN(4000000)) / 2, -1})
			}
		}
	}
	check := func(stage string) {
		t.Helper()
		for k, r := range byKey {
			if r.Kind == "" {
				continue
			}
			byEnt[keyOf[k]] = append(byEnt[keyOf[k]], recOf[k])
		}
		defer clear(byEnt)
		reporting := 0
		for _, b := range buildings {
			ec, err := eng.BuildingEconomy(context.Background(), b.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out, tax float64
			emp, n := 0, 0
			for _, e := range ds.Entities {
				cur, ok := snap.Entity(e.ID)
				if !ok || !(cur.BuildingID == b.ID || cur.BuildingID == "" && planar.PolygonContains(b.Footprint, cur.Location)) {
					continue
				}
				n++
				var lastOut, lastEmpOut, lastSI time.Time
				o, eo, es := 0.0, -1, -1
				for _, r := range byEnt[e.ID] {
					switch r.kind {
					case exchange.KindOutput:
						if r.day.After(lastOut) {
							lastOut, o = r.day, r.val
						}
						if r.emp >= 0 && r.day.After(lastEmpOut) {
							lastEmpOut, eo = r.day, r.emp
						}
					case exchange.KindSocialInsurance:
						if r.day.After(lastSI) {
							lastSI, es = r.day, r.emp
						}
					case exchange.KindTax:
						if age := today.Sub(r.day).Hours() / 24; age >= 0 && age < 365 {
							tax += r.val
						}
					}
				}
				out += o
				if eo >= 0 {
					emp += eo
				} else if es >= 0 {
					emp += es
				}
				if len(byEnt[e.ID]) > 0 {
					reporting++
				}
			}
			if ec.Entities != n || math.Abs(ec.Output-out) > 0.051 || ec.Employment != emp || math.Abs(ec.Tax-tax) > 0.0051 {
				t.Fatalf("%s: building %s: entities %d output %.2f employment %d tax %.2f; brute force %d %.2f %d %.2f",
					stage, b.ID, ec.Entities, ec.Output, ec.Employment, ec.Tax, n, out, emp, tax)
			}
			if b.Floors > 0 && math.Abs(ec.OutputPerFloor-out/float64(b.Floors)) > 0.051+0.05/float64(b.Floors) {
				t.Fatalf("%s: building %s: output per floor %.2f, brute force %.2f", stage, b.ID, ec.OutputPerFloor, out/float64(b.Floors))
			}
		}
		if reporting == 0 {
			t.Fatalf("%s: no entity with records in the checked buildings: the test checks nothing", stage)
		}
	}
	eng.ApplyRecords(recs)
	if err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("all records")
	// delete every third record (a delete is a record with an empty Kind)
	var dels []exchange.Record
	i := 0
	for k, r := range byKey {
		if i++; i%3 == 0 {
			dels = append(dels, exchange.Record{ID: r.ID})
			byKey[k] = exchange.Record{}
		}
	}
	eng.ApplyRecords(dels)
	if err := eng.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("after deletes")
}

// BenchmarkBuildingFigures: the figures of the buildings of one dense
// z14 tile (what a building tile render asks the engine), at 79k demo
// entities without department records.
func BenchmarkBuildingFigures(b *testing.B) {
	_, _, ix, eng := plantedWorld(b, 79000)
	snap := ix.Snapshot()
	// tile 14/13042/6776 (the web map test's dense part)
	bound := orb.Bound{Min: orb.Point{106.5674, 29.6683}, Max: orb.Point{106.5894, 29.6874}}
	res, err := snap.InBBox(context.Background(), geo.LayerBuildings, bound, geo.Query{Limit: 10000})
	if err != nil {
		b.Fatal(err)
	}
	bs := make([]*geo.Building, len(res.Hits))
	for i, h := range res.Hits {
		bs[i] = h.Building
	}
	b.ReportMetric(float64(len(bs)), "buildings")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := eng.BuildingFigures(context.Background(), snap, bs); err != nil {
			b.Fatal(err)
		}
	}
}
