package zoneid

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

var demoOnce struct {
	sync.Once
	ds  *demo.Dataset
	idx *geo.Index
	err error
}

// demoIndex returns the shared demo index (read-only: tests must not write to it).
func demoIndex(t testing.TB) (*demo.Dataset, *geo.Index) {
	t.Helper()
	demoOnce.Do(func() {
		demoOnce.ds, demoOnce.err = demo.Generate(demo.Options{})
		if demoOnce.err != nil {
			return
		}
		demoOnce.idx, demoOnce.err = geo.New(geo.Options{})
		if demoOnce.err == nil {
			demoOnce.err = demoOnce.ds.Load(demoOnce.idx)
		}
	})
	if demoOnce.err != nil {
		t.Fatal(demoOnce.err)
	}
	return demoOnce.ds, demoOnce.idx
}

// demoRules returns the demo's siting rules, parsed afresh.
func demoRules(t testing.TB) *RuleSet {
	t.Helper()
	rs, err := ParseRules(bytes.NewReader(demo.RulesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func newIdentifier(t testing.TB, idx *geo.Index, opts Options) *Identifier {
	t.Helper()
	id, err := New(idx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	return id
}

// bruteZones returns the IDs of the zones containing p by orb/planar over
// every zone (orb counts boundary points as inside: use off-boundary points).
func bruteZones(zones []geo.Zone, p orb.Point) []string {
	var out []string
	for i := range zones {
		if planar.MultiPolygonContains(zones[i].Geometry, p) {
			out = append(out, zones[i].Layer+"/"+zones[i].ID)
		}
	}
	return out
}

func zoneKeys(zs []*geo.Zone) []string {
	out := make([]string, 0, len(zs))
	for _, z := range zs {
		out = append(out, z.Layer+"/"+z.ID)
	}
	return out
}

func randIn(r *rand.Rand, b orb.Bound) orb.Point {
	return orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
}

func layerBound(zones []geo.Zone, layer string) orb.Bound {
	var b orb.Bound
	first := true
	for _, z := range zones {
		if layer != "" && z.Layer != layer {
			continue
		}
		if first {
			b, first = z.Geometry.Bound(), false
		} else {
			b = b.Union(z.Geometry.Bound())
		}
	}
	return b
}

var bg = context.Background()

func cosd(lat float64) float64 { return math.Cos(lat * math.Pi / 180) }
