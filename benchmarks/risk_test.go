package benchmarks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/server"
)

// riskWorld is a loaded dataset with a risk engine holding ten generated
// records an entity on average (10M at 1M entities).
type riskWorld struct {
	d       *Dataset
	eng     *risk.Engine
	records int
	ids     []string
}

var (
	riskMu     sync.Mutex
	riskWorlds = map[int]*riskWorld{}
)

var benchKinds = []exchange.Kind{exchange.KindTax, exchange.KindTax, exchange.KindTax, exchange.KindSocialInsurance, exchange.KindSocialInsurance,
	exchange.KindInspection, exchange.KindPenalty, exchange.KindComplaint, exchange.KindLicence, exchange.KindAnnualReport, exchange.KindOutput}

// benchRecord generates record number k of an entity, deterministically.
func benchRecord(r *rand.Rand, entity string, k uint64, asOf time.Time) exchange.Record {
	kind := benchKinds[r.IntN(len(benchKinds))]
	rec := exchange.Record{ID: fmt.Sprintf("dept%d:%016x", r.IntN(17), k*0x9e3779b97f4a7c15), EntityID: entity, Kind: kind,
		Date: asOf.AddDate(0, 0, -r.IntN(1500)).Format(time.DateOnly)}
	switch kind {
	case exchange.KindPenalty:
		rec.Fields = map[string]string{"罚没金额（万元）": strconv.Itoa(r.IntN(30)), "处罚内容": "罚款"}
	case exchange.KindLicence:
		rec.Fields = map[string]string{"有效期至": asOf.AddDate(0, 0, r.IntN(2000)-300).Format(time.DateOnly)}
	case exchange.KindTax:
		rec.Fields = map[string]string{"实缴金额（元）": strconv.Itoa(r.IntN(100000))}
	case exchange.KindOutput:
		rec.Fields = map[string]string{"工业总产值（万元）": strconv.Itoa(r.IntN(10000)), "从业人员（人）": strconv.Itoa(r.IntN(500))}
	}
	return rec
}

func loadRisk(b *testing.B, n int) *riskWorld {
	riskMu.Lock()
	defer riskMu.Unlock()
	if w, ok := riskWorlds[n]; ok {
		return w
	}
	d, err := Load(n)
	if err != nil {
		b.Fatal(err)
	}
	asOf := demo.AsOf()
	now := asOf.Add(12 * time.Hour)
	eng, err := risk.New(risk.Options{Now: func() time.Time { return now }, Recheck: -1, Warnings: risk.WarningOptions{HomeDivisions: demo.HomeDivisions()}})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(d.Index, nil); err != nil {
		b.Fatal(err)
	}
	w := &riskWorld{d: d, eng: eng}
	r := rand.New(rand.NewPCG(18, 18))
	var k uint64
	batch := make([]exchange.Record, 0, 100000)
	for _, e := range d.Demo.Entities {
		w.ids = append(w.ids, e.ID)
		for j, m := 0, r.IntN(21); j < m; j++ { // 10 on average
			k++
			batch = append(batch, benchRecord(r, e.ID, k, asOf))
			if len(batch) == cap(batch) {
				eng.ApplyRecords(batch)
				batch = batch[:0]
			}
		}
	}
	eng.ApplyRecords(batch)
	w.records = int(k)
	if err := eng.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	riskWorlds[n] = w
	return w
}

// BenchmarkRisk measures the risk engine at 79k and 1M entities with ten
// records an entity: the full recomputation, one entity's recomputation
// after a record arrives (record handed to the engine → its class
// evaluated and recorded; p50/p99 reported), the early warnings over every
// entity, and the risk summary of a zone through HTTP.
func BenchmarkRisk(b *testing.B) {
	for _, n := range Sizes() {
		w := loadRisk(b, n)
		b.Run(sizeName(n)+"/recompute", func(b *testing.B) {
			b.ReportMetric(float64(w.records), "records")
			for i := 0; i < b.N; i++ {
				got, err := w.eng.Recompute(context.Background())
				if err != nil || got != len(w.ids) {
					b.Fatalf("%d entities, %v", got, err)
				}
			}
		})
		b.Run(sizeName(n)+"/one-record", func(b *testing.B) {
			r := rand.New(rand.NewPCG(uint64(n), 99))
			samples := max(b.N, 2000) // enough for a p99 whatever -benchtime says
			lat := make([]time.Duration, 0, samples)
			for i := 0; i < samples; i++ {
				id := w.ids[r.IntN(len(w.ids))]
				rec := exchange.Record{ID: fmt.Sprintf("bench:%016x", uint64(i)*0x2545f4914f6cdd1d+uint64(n)), EntityID: id, Kind: exchange.KindPenalty,
					Date: demo.AsOf().Format(time.DateOnly), Fields: map[string]string{"罚没金额（万元）": "12"}}
				t0 := time.Now()
				w.eng.ApplyRecords([]exchange.Record{rec})
				if err := w.eng.Sync(context.Background()); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			// The records added are removed again (the next runs see the same world).
			for i := 0; i < samples; i++ {
				w.eng.ApplyRecords([]exchange.Record{{ID: fmt.Sprintf("bench:%016x", uint64(i)*0x2545f4914f6cdd1d+uint64(n))}})
			}
			_ = w.eng.Sync(context.Background())
		})
		b.Run(sizeName(n)+"/warnings", func(b *testing.B) {
			var total int
			for i := 0; i < b.N; i++ {
				ws, err := w.eng.Warnings(context.Background(), risk.WarningQuery{})
				if err != nil {
					b.Fatal(err)
				}
				total = len(ws)
			}
			b.ReportMetric(float64(total), "warnings")
		})
		h, err := server.New(server.Deps{Index: w.d.Index, Risk: w.eng}, server.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var ftz, street, grid string
		var nStreet int
		w.d.Index.Snapshot().ScanZones(func(z *geo.Zone) bool {
			switch {
			case z.ID == "FTZ-LJ":
				ftz = z.ID
			case z.Layer == "street":
				// the street with the most entities, found below
				res, _ := w.d.Index.Snapshot().Within(context.Background(), geo.LayerEntities, z.Geometry, geo.Query{Limit: 1})
				if res.Total > nStreet {
					street, nStreet = z.ID, res.Total
				}
			case z.Layer == "grid" && grid == "":
				grid = z.ID
			}
			return true
		})
		for _, id := range []string{ftz, street, grid} {
			if id == "" {
				continue
			}
			z, _ := w.d.Index.Snapshot().Zone(id)
			b.Run(sizeName(n)+"/summary-uncached/"+id, func(b *testing.B) {
				// every call finds the zone's entities again (the first
				// summary of a zone, or one after entities moved)
				for i := 0; i < b.N; i++ {
					if _, err := w.eng.Summary(context.Background(), risk.Area{Bound: z.Geometry.Bound(), Prepared: geo.Prepare(z.Geometry)}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(sizeName(n)+"/summary/"+id, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/risk/summary?zone="+id, nil)
				for i := 0; i < b.N; i++ {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
