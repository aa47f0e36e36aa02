package benchmarks

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
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

// memPeak samples the live heap (what the last collection marked live:
// runtime/metrics /gc/heap/live:bytes, not the garbage GOGC lets pile up
// between collections) and the process's resident set every 50 ms until
// stopped, keeping the largest of each.
type memPeak struct {
	stop        chan struct{}
	done        chan struct{}
	heap, rss   uint64
	heap0, rss0 uint64
	heapEnd     uint64
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func startMemPeak() *memPeak {
	runtime.GC()
	p := &memPeak{stop: make(chan struct{}), done: make(chan struct{}), heap0: liveHeap(), rss0: rssBytes()}
	p.heap, p.rss = p.heap0, p.rss0
	go func() {
		defer close(p.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			p.heap = max(p.heap, liveHeap())
			p.rss = max(p.rss, rssBytes())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *memPeak) end() {
	close(p.stop)
	<-p.done
	runtime.GC() // the live heap at the end, the records index included
	p.heapEnd = liveHeap()
	p.heap = max(p.heap, p.heapEnd)
}

// writeDeptCSV writes a tax department's table of rows rows about ds's
// entities to path, 50,000 generated rows at a time (fixed seeds 1, 2, …:
// the same file every time), never the whole table in memory.
func writeDeptCSV(path string, ds *demo.Dataset, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("\xef\xbb\xbf")
	cw := csv.NewWriter(bw)
	for i, done := 0, 0; done < rows; i++ {
		part := demo.DepartmentRows(ds, min(50_000, rows-done), uint64(1+i))
		if i > 0 {
			part = part[1:] // the header once
		}
		if err := cw.WriteAll(part); err != nil {
			f.Close()
			return err
		}
		done += min(50_000, rows-done)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// BenchmarkExchangeImport: a department table of MARKETGEO_IMPORT_ROWS
// rows (default 100,000; the README's figure is 1,000,000) about the 79k
// demo entities, generated to a CSV file with fixed seeds, imported end to
// end the way `marketgeo import` does — streamed from the file
// (ImportReader: read, match 90 % by a dirty USCC and 10 % by name and
// address through search and addressmatch, store in commits of 5,000
// records through the store's group commit) with the feedback table
// written as it goes. Reports rows/s and the peaks of the live heap and
// of the resident set during the import, above the store's own (sampled
// every 50 ms; the live heap is what collections marked live) and the
// live heap at the end (the records index of the stored records).
// MARKETGEO_IMPORT_AGAIN=1 imports the file a second time
// (every row unchanged) and reports its rows/s. Run with -benchtime=1x.
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
	dir := b.TempDir()
	path := filepath.Join(dir, "x.gpkg")
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
	tablePath := filepath.Join(dir, "tax.csv")
	if err := writeDeptCSV(tablePath, d.Demo, rows); err != nil {
		b.Fatal(err)
	}
	ix, _ := geo.New(geo.Options{})
	ex, err := exchange.New(exchange.Options{Read: exchange.ReadOptions{MaxBytes: 4 << 30, MaxRows: rows + 10}})
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
	if err := si.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	po := addressmatch.DefaultOptions()
	po.Region = reg
	p, err := addressmatch.NewParser(po)
	if err != nil {
		b.Fatal(err)
	}
	ex.SetEngines(si, p, search.NewNameParser(reg))
	importFile := func(feedback string) (*exchange.Report, time.Duration) {
		f, err := os.Open(tablePath)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		o := exchange.ImportOptions{Dept: "税务局", Kind: "tax"}
		var fw *exchange.FeedbackWriter
		var fb *os.File
		if feedback != "" {
			if fb, err = os.Create(feedback); err != nil {
				b.Fatal(err)
			}
			defer fb.Close()
			fw, _ = exchange.NewFeedbackWriter(fb, "csv")
			o.OnRow = fw.Row
		}
		t0 := time.Now()
		rep, err := ex.ImportReader(ctx, f, "tax.csv", o)
		if err != nil {
			b.Fatal(err)
		}
		if fw != nil {
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
		}
		return rep, time.Since(t0)
	}
	b.ResetTimer()
	for range b.N {
		mp := startMemPeak()
		rep, el := importFile(filepath.Join(dir, "feedback.csv"))
		mp.end()
		mb := func(v uint64) float64 { return float64(v) / (1 << 20) }
		// a long run says its figure at once (b.Logf waits for the end)
		fmt.Fprintf(os.Stderr, "import: %d rows in %s = %.0f rows/s, attached %d (by method %v), unchanged %d, duplicate %d, unmatched %d, ambiguous %d, rejected %d; live heap %.0f MB before, peak %.0f MB (at the end %.0f MB); RSS %.0f MB before, peak %.0f MB\n",
			rep.Rows, el.Round(time.Millisecond), float64(rep.Rows)/el.Seconds(), rep.Attached, rep.ByMethod, rep.Unchanged, rep.Duplicate, rep.Unmatched, rep.Ambiguous, rep.Rejected, mb(mp.heap0), mb(mp.heap), mb(mp.heapEnd), mb(mp.rss0), mb(mp.rss))
		if rep.Rows != rows {
			b.Fatalf("%d rows imported, want %d", rep.Rows, rows)
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(mb(mp.heap)-mb(mp.heap0), "peak-live-heap-MB-above")
		b.ReportMetric(mb(mp.heapEnd)-mb(mp.heap0), "end-live-heap-MB-above")
		b.ReportMetric(mb(mp.rss), "peak-RSS-MB")
		b.ReportMetric(float64(rep.Attached), "records")
		if os.Getenv("MARKETGEO_IMPORT_AGAIN") != "" {
			seq := st.Seq()
			rep2, el2 := importFile("")
			if rep2.Attached != 0 || st.Seq() != seq {
				b.Fatalf("the second import changed something: %+v", rep2)
			}
			b.ReportMetric(float64(rows)/el2.Seconds(), "reimport-rows/s")
		}
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
