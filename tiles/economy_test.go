package tiles

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// mapEconomy is an economy source whose figures the test sets.
type mapEconomy struct {
	mu    sync.Mutex
	figs  map[string]BuildingFigures
	calls int
	delay time.Duration // after reading the figures (a slow render)
}

func (m *mapEconomy) source(ctx context.Context, snap *geo.Snapshot, bs []*geo.Building) ([]BuildingFigures, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	out := make([]BuildingFigures, len(bs))
	for i, b := range bs {
		out[i] = m.figs[b.ID]
	}
	if m.delay > 0 {
		m.mu.Unlock()
		time.Sleep(m.delay)
		m.mu.Lock()
	}
	return out, nil
}

func (m *mapEconomy) set(id string, f BuildingFigures) {
	m.mu.Lock()
	m.figs[id] = f
	m.mu.Unlock()
}

// TestEconomyFigures: with an economy source the buildings layer carries
// its figures (not the buildings' attributes); a change reported by
// building ID or by a point inside the footprint drops the cached tile,
// and renders racing with changes never leave a stale tile in the cache.
func TestEconomyFigures(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	ctx := context.Background()
	var bld *geo.Building
	idx.Snapshot().ScanBuildings(func(b *geo.Building) bool { bld = b; return false })
	tl := maptile.At(bld.Center(), 16)
	figuresOf := func() (BuildingFigures, bool) {
		t.Helper()
		got, err := r.Tile(ctx, LayerBuildings, 16, int(tl.X), int(tl.Y), Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range decode(t, got.Data)[LayerBuildings].Features {
			if f.Properties["id"] == bld.ID {
				p := f.Properties
				if _, ok := p["output"]; !ok {
					return BuildingFigures{}, false
				}
				return BuildingFigures{Entities: int(num(p["entity_count"])), Output: num(p["output"]), OutputPerFloor: num(p["output_per_floor"]),
					Employment: int(num(p["employment"])), Tax: num(p["tax"])}, true
			}
		}
		t.Fatalf("building %s not in its tile", bld.ID)
		return BuildingFigures{}, false
	}
	if _, ok := figuresOf(); ok && bld.Attrs["output"] == "" {
		t.Fatal("an output without a source nor an attribute")
	}
	eco := &mapEconomy{figs: map[string]BuildingFigures{}}
	want := BuildingFigures{Entities: 7, Output: 1234.5, OutputPerFloor: 61.7, Employment: 321, Tax: 98765.43}
	eco.set(bld.ID, want)
	r.SetEconomy(eco.source)
	if got, ok := figuresOf(); !ok || got != want {
		t.Fatalf("tile figures %+v, source %+v", got, want)
	}
	// unreported change: the cached tile stands (the cache is in use) ...
	want2 := want
	want2.Tax = 1
	eco.set(bld.ID, want2)
	if got, _ := figuresOf(); got != want {
		t.Fatalf("cached tile %+v, want the cached %+v", got, want)
	}
	// ... reported by building ID, by a point inside, and by a point elsewhere
	r.EconomyChanged(nil, []string{bld.ID})
	if got, _ := figuresOf(); got != want2 {
		t.Fatalf("after EconomyChanged(id): %+v, want %+v", got, want2)
	}
	want2.Entities = 8
	eco.set(bld.ID, want2)
	r.EconomyChanged([]orb.Point{{0, 0}}, nil) // nowhere near: the tile stays
	if got, _ := figuresOf(); got.Entities != 7 {
		t.Fatalf("a change elsewhere dropped the tile: %+v", got)
	}
	r.EconomyChanged([]orb.Point{bld.Center()}, nil)
	if got, _ := figuresOf(); got != want2 {
		t.Fatalf("after EconomyChanged(point): %+v, want %+v", got, want2)
	}
	// renders racing with reported changes: the last change is what the tile shows
	eco.mu.Lock()
	eco.delay = 2 * time.Millisecond
	eco.mu.Unlock()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := r.Tile(ctx, LayerBuildings, 16, int(tl.X), int(tl.Y), Query{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 300 {
		f := want2
		f.Employment = i
		eco.set(bld.ID, f)
		r.EconomyChanged(nil, []string{bld.ID})
		time.Sleep(time.Duration(i%3) * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got, _ := figuresOf(); got.Employment != 299 {
		t.Fatalf("after racing renders: employment %d, want 299 (a stale tile was cached)", got.Employment)
	}
	// no source: the attributes again
	r.SetEconomy(nil)
	if got, ok := figuresOf(); ok && got == want2 {
		t.Fatal("the source's figures after SetEconomy(nil)")
	}
}
