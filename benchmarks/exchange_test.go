package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
)

// heapMB is the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkExchangeImport: a department table of MARKETGEO_IMPORT_ROWS
// rows (default 100,000; the README's figure is 1,000,000) about the 79k
// demo entities imported end to end — CSV read, match (90 % by a dirty
// USCC, 10 % by name and address through search and addressmatch), stored
// as records in a GeoPackage store — then imported again (every row
// unchanged). Reports rows/s of both and the live heap before and after.
// Run with -benchtime=1x.
func BenchmarkExchangeImport(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("MARKETGEO_IMPORT_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("MARKETGEO_IMPORT_ROWS=%q", s)
		}
		rows = n
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "x.gpkg")
	base := storeFile(b, 79000)
	for _, ext := range []string{"", ".snapshot"} {
		data, err := os.ReadFile(base + ext)
		if err != nil && ext == "" {
			b.Fatal(err)
		}
		if err == nil {
			if err := os.WriteFile(path+ext, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	d, err := Load(79000)
	if err != nil {
		b.Fatal(err)
	}
	ix, _ := geo.New(geo.Options{})
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, path, ix, store.Options{Collections: []store.Collection{ex.Collection()}})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ex.Attach(st)
	reg, err := demo.Region()
	if err != nil {
		b.Fatal(err)
	}
	so := search.DefaultOptions()
	so.Region = reg
	si, err := search.New(ctx, ix, so)
	if err != nil {
		b.Fatal(err)
	}
	defer si.Close()
	po := addressmatch.DefaultOptions()
	po.Region = reg
	p, err := addressmatch.NewParser(po)
	if err != nil {
		b.Fatal(err)
	}
	ex.SetEngines(si, p, search.NewNameParser(reg))
	var buf bytes.Buffer
	if err := exchange.WriteCSV(&buf, demo.DepartmentRows(d.Demo, rows, 1)); err != nil {
		b.Fatal(err)
	}
	table := buf.Bytes()
	before := heapMB()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		rep, _, err := ex.ReadAndImport(ctx, bytes.NewReader(table), "tax.csv", exchange.ImportOptions{Dept: "税务局", Kind: "tax"})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		after := heapMB()
		// a long run says its first figure at once (b.Logf waits for the end)
		fmt.Fprintf(os.Stderr, "first import: %d rows in %s = %.0f rows/s, attached %d, heap %.0f → %.0f MB\n", rows, el.Round(time.Millisecond), float64(rows)/el.Seconds(), rep.Attached, before, after)
		t1 := time.Now()
		rep2, _, err := ex.ReadAndImport(ctx, bytes.NewReader(table), "tax.csv", exchange.ImportOptions{Dept: "税务局", Kind: "tax"})
		if err != nil {
			b.Fatal(err)
		}
		el2 := time.Since(t1)
		if rep2.Attached != 0 || rep2.Seq != rep.Seq {
			b.Fatalf("the second import changed something: %+v", rep2)
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(float64(rows)/el2.Seconds(), "reimport-rows/s")
		b.ReportMetric(after-before, "heap-MB-after")
		b.ReportMetric(float64(rep.Attached), "records")
		b.Logf("%d rows: attached %d (by method %v), unchanged %d, duplicate %d, unmatched %d, ambiguous %d, rejected %d in %s; again in %s; heap %.0f → %.0f MB",
			rows, rep.Attached, rep.ByMethod, rep.Unchanged, rep.Duplicate, rep.Unmatched, rep.Ambiguous, rep.Rejected, el.Round(time.Millisecond), el2.Round(time.Millisecond), before, after)
	}
}

// BenchmarkExchangeRecords: the records path at 79k and 1M entities, with
// one record an entity on average (written straight through the store,
// 50,000 a commit): the write rate, the index's memory a record, the
// reload on a restart, and one entity's records list and summary.
func BenchmarkExchangeRecords(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			ctx := context.Background()
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "r.gpkg")
			open := func() (*exchange.Exchange, *store.Store) {
				ix, _ := geo.New(geo.Options{})
				ex, _ := exchange.New(exchange.Options{})
				st, err := store.Open(ctx, path, ix, store.Options{NoSnapshot: true, Collections: []store.Collection{ex.Collection()}})
				if err != nil {
					b.Fatal(err)
				}
				ex.Attach(st)
				return ex, st
			}
			ex, st := open()
			r := rand.New(rand.NewPCG(3, 3))
			ents := d.Demo.Entities
			kinds := []exchange.Kind{exchange.KindTax, exchange.KindPenalty, exchange.KindInspection, exchange.KindLicence}
			h0 := heapMB()
			t0 := time.Now()
			for lo := 0; lo < n; lo += 50_000 {
				ws := make([]store.Write, 0, 50_000)
				for i := lo; i < min(n, lo+50_000); i++ {
					e := &ents[r.IntN(len(ents))]
					rec := exchange.Record{EntityID: e.ID, Dept: "税务局", Kind: kinds[i%len(kinds)], Date: time.Date(2024, 1, 1+i%700, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
						Fields: map[string]string{"金额": fmt.Sprint(i)}, Source: exchange.Source{File: "bench.csv", Row: i + 2, Key: strconv.Itoa(i)}, Match: exchange.MatchInfo{Method: exchange.MethodUSCC, Confidence: 1}}
					rec.Seal()
					ws = append(ws, store.Write{Layer: exchange.Collection, ID: rec.ID, Feature: &rec})
				}
				if _, err := st.Apply(ctx, "bench", ws); err != nil {
					b.Fatal(err)
				}
			}
			write := time.Since(t0)
			perRecord := (heapMB() - h0) * (1 << 20) / float64(n)
			st.Close()
			t1 := time.Now()
			ex, st = open()
			reload := time.Since(t1)
			defer st.Close()
			if ex.Len() != n {
				b.Fatalf("%d records after the restart, want %d", ex.Len(), n)
			}
			// (a parent of sub-benchmarks reports no metrics: logged)
			b.Logf("%d records: written at %.0f records/s (50,000 a commit), index %.0f B/record of live heap, reloaded in %.2f s",
				n, float64(n)/write.Seconds(), perRecord, reload.Seconds())
			q := make([]string, 1024)
			for i := range q {
				q[i] = ents[r.IntN(len(ents))].ID
			}
			b.Run("records", func(b *testing.B) {
				for i := range b.N {
					if _, err := ex.Records(ctx, q[i%len(q)], exchange.Filter{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("summary", func(b *testing.B) {
				for i := range b.N {
					if _, err := ex.Summarize(ctx, q[i%len(q)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
