package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
)

// BenchmarkAddressDBMemory measures the live heap of the address database
// as serve builds it (the parser with the demo's region, a database
// following the geo index of the shared data set), after a forced
// collection: parser-MB is the parser (the national division dictionary
// with the region merged in), db-MB the database filled by parsing every
// address, cache-MB the parses read back from a save (what a restart
// reads), restored-MB the database filled from them once the cache is
// dropped, restored-peak-MB the cache and that database together.
// fill-s and restored-fill-s are the two fills' times.
func BenchmarkAddressDBMemory(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			reg, err := demo.Region()
			if err != nil {
				b.Fatal(err)
			}
			heap := func() float64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return float64(ms.HeapAlloc) / 1e6
			}
			for b.Loop() {
				h0 := heap()
				p, err := addressmatch.NewParser(addressmatch.Options{Region: reg})
				if err != nil {
					b.Fatal(err)
				}
				h1 := heap()
				db, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				fl, err := addressmatch.Follow(db, d.Index)
				if err != nil {
					b.Fatal(err)
				}
				fill := time.Since(t0)
				h2 := heap()
				// saved to a file and read back as serve does (not from a
				// buffer: it would be in the heap measured below)
				path := filepath.Join(b.TempDir(), "parsed")
				fw, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.SaveParsed(ctx, fw, "bench"); err != nil {
					b.Fatal(err)
				}
				if err := fw.Close(); err != nil {
					b.Fatal(err)
				}
				recs := db.RecordCount()
				fl.Stop()
				fl, db = nil, nil
				h3 := heap()
				fr, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				cache, err := addressmatch.ReadParsed(fr, "bench")
				fr.Close()
				if err != nil {
					b.Fatal(err)
				}
				h4 := heap()
				db2, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
				if err != nil {
					b.Fatal(err)
				}
				if err := db2.UseParsed(cache); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				fl2, err := addressmatch.Follow(db2, d.Index)
				if err != nil {
					b.Fatal(err)
				}
				refill := time.Since(t1)
				cache = nil
				h5 := heap()
				if err := db2.UseParsed(nil); err != nil {
					b.Fatal(err)
				}
				h6 := heap()
				fl2.Stop()
				b.ReportMetric(h1-h0, "parser-MB")
				b.ReportMetric(h2-h1, "db-MB")
				b.ReportMetric((h2-h1)*1e6/float64(recs), "B/record")
				b.ReportMetric(h4-h3, "cache-MB")
				b.ReportMetric(h5-h3, "restored-peak-MB")
				b.ReportMetric(h6-h3, "restored-MB")
				b.ReportMetric(fill.Seconds(), "fill-s")
				b.ReportMetric(refill.Seconds(), "restored-fill-s")
				runtime.KeepAlive(p)
				runtime.KeepAlive(db2)
			}
		})
	}
}
