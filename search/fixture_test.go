package search

import (
	"context"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
)

// demoFixture is the demo region loaded into a geo index and a search
// index, built once per test binary.
type demoFixture struct {
	ds        *demo.Dataset
	geo       *geo.Index
	idx       *Index
	buildTime time.Duration
	buildCPU  time.Duration
	heapBytes uint64
}

var (
	fixtureOnce sync.Once
	fixture     *demoFixture
	fixtureErr  error
)

// demoEntities is the size of the demo region the tests use: the real
// 79,000 (6,000 under the race detector) unless MARKETGEO_TEST_ENTITIES
// says otherwise.
func demoEntities() int {
	if v := os.Getenv("MARKETGEO_TEST_ENTITIES"); v != "" {
		n := 0
		for _, c := range v {
			n = n*10 + int(c-'0')
		}
		return n
	}
	if raceEnabled {
		return 6000
	}
	return 79000
}

// demoRegion is the demo's administrative dictionary, built once.
var demoRegion = sync.OnceValues(demo.Region)

// demoNames returns the name parser of the demo region.
func demoNames(t testing.TB) *NameParser {
	t.Helper()
	d, err := demoRegion()
	if err != nil {
		t.Fatal(err)
	}
	return NewNameParser(d)
}

// withDemoRegion sets opts.Region to the demo's when it is nil.
func withDemoRegion(opts Options) (Options, error) {
	if opts.Region != nil {
		return opts, nil
	}
	d, err := demoRegion()
	opts.Region = d
	return opts, err
}

func buildFixture(n int, opts Options) (*demoFixture, error) {
	opts, err := withDemoRegion(opts)
	if err != nil {
		return nil, err
	}
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		return nil, err
	}
	g, err := geo.New(geo.Options{})
	if err != nil {
		return nil, err
	}
	if err := ds.Load(g); err != nil {
		return nil, err
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, cpu0 := time.Now(), cpuTime()
	idx, err := New(context.Background(), g, opts)
	if err != nil {
		return nil, err
	}
	took, cpu := time.Since(start), cpuTime()-cpu0
	runtime.GC()
	runtime.ReadMemStats(&after)
	return &demoFixture{ds: ds, geo: g, idx: idx, buildTime: took, buildCPU: cpu, heapBytes: after.HeapAlloc - before.HeapAlloc}, nil
}

func getFixture(t testing.TB) *demoFixture {
	t.Helper()
	fixtureOnce.Do(func() {
		fixture, fixtureErr = buildFixture(demoEntities(), Options{})
		if fixtureErr == nil {
			t.Logf("demo fixture: %d entities, search index built in %v, heap +%.0f MiB",
				len(fixture.ds.Entities), fixture.buildTime.Round(time.Millisecond), float64(fixture.heapBytes)/(1<<20))
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture
}

func mustSearch(t testing.TB, idx *Index, q Query) []Hit {
	t.Helper()
	hits, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Text, err)
	}
	return hits
}
