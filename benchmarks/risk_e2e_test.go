package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/store"
)

// BenchmarkRiskEndToEnd measures a record's end-to-end time at 79k and 1M
// entities: a department record (a severe penalty of a class-A entity:
// at least class C by the default rules) written through the store into
// the exchange's records collection, as an import does, until the
// entity's class in the index — the class the map, tiles and filters
// read — is the computed C (the
// engine received the committed record, evaluated the entity and wrote
// the class back through the store). Serve's wiring: the SQLite store,
// the exchange's collection teed into the risk engine. p50/p99 over the
// samples (one entity each; at least 200 whatever -benchtime says).
func BenchmarkRiskEndToEnd(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			dir := b.TempDir()
			ix, _ := geo.New(geo.Options{})
			ex, err := exchange.New(exchange.Options{})
			if err != nil {
				b.Fatal(err)
			}
			now := demo.AsOf().Add(12 * time.Hour)
			rk, err := risk.New(risk.Options{Now: func() time.Time { return now }, Recheck: -1})
			if err != nil {
				b.Fatal(err)
			}
			st, err := store.Open(ctx, filepath.Join(dir, "store.gpkg"), ix, store.Options{Collections: []store.Collection{rk.RecordsCollection(ex.Collection()), rk.OverridesCollection()}})
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			defer st.Close()
			if _, err := st.Import(ctx, "import", d.Index.Snapshot()); err != nil {
				b.Fatal(err)
			}
			ex.Attach(st)
			if err := rk.Start(ix, st); err != nil {
				b.Fatal(err)
			}
			defer rk.Close()
			if err := rk.Sync(ctx); err != nil { // every entity's computed class written
				b.Fatal(err)
			}
			var pool []string // class A entities
			ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
				if e.Risk == geo.RiskA {
					pool = append(pool, e.ID)
				}
				return len(pool) < 5000
			})
			samples := max(b.N, 200)
			if samples > len(pool) {
				b.Fatalf("%d samples, %d class-A entities", samples, len(pool))
			}
			lat := make([]time.Duration, 0, samples)
			b.ResetTimer()
			for i := range samples {
				id := pool[i]
				rec := exchange.Record{EntityID: id, Dept: "市场监督管理局", Kind: exchange.KindPenalty, Date: demo.AsOf().AddDate(0, 0, -3).Format(time.DateOnly),
					Fields: map[string]string{"罚没金额（万元）": "100", "处罚内容": "罚款"}, Source: exchange.Source{Key: fmt.Sprintf("bench-%d", i)}}
				rec.Seal()
				t0 := time.Now()
				if _, err := st.Apply(ctx, "bench", []store.Write{{Layer: exchange.Collection, ID: rec.ID, Feature: rec}}); err != nil {
					b.Fatal(err)
				}
				for {
					if e, ok := ix.Snapshot().Entity(id); ok && (e.Risk == geo.RiskC || e.Risk == geo.RiskD) {
						break
					}
					if time.Since(t0) > 10*time.Second {
						e, _ := ix.Snapshot().Entity(id)
						b.Fatalf("entity %s still class %s 10 s after its severe penalty", id, e.Risk)
					}
					time.Sleep(20 * time.Microsecond)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(samples), "samples")
		})
	}
}
