package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Dataset is a generated region loaded in an index, with query points.
type Dataset struct {
	Demo    *demo.Dataset
	Index   *geo.Index
	Queries []orb.Point // entity locations: queries where entities are
}

var (
	mu    sync.Mutex
	cache = map[int]*Dataset{}
)

// Sizes returns the entity counts to benchmark: MARKETGEO_BENCH_SIZES
// (comma-separated) or 79,000 and 1,000,000.
func Sizes() []int {
	env := os.Getenv("MARKETGEO_BENCH_SIZES")
	if env == "" {
		return []int{79000, 1000000}
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// Load generates (once per process) and indexes a dataset of n entities.
func Load(n int) (*Dataset, error) {
	mu.Lock()
	defer mu.Unlock()
	if d, ok := cache[n]; ok {
		return d, nil
	}
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		return nil, err
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return nil, err
	}
	if err := ds.Load(idx); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(7, 7))
	q := make([]orb.Point, 4096)
	for i := range q {
		q[i] = ds.Entities[r.IntN(len(ds.Entities))].Location
	}
	d := &Dataset{Demo: ds, Index: idx, Queries: q}
	cache[n] = d
	runtime.GC() // the generator's garbage must not be collected during a benchmark
	return d, nil
}

func sizeName(n int) string {
	if n%1000000 == 0 {
		return fmt.Sprintf("%dM", n/1000000)
	}
	return fmt.Sprintf("%dk", n/1000)
}
