package geojsonw

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestTouch: Touch reads the features of any hit without failing (empty
// strings, no footprint, zones, a hit without a feature) and leaves the
// answer as it was: the bytes written after it equal those written
// without it.
func TestTouch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	hits := []geo.Hit{
		{},
		{Entity: &geo.Entity{}},
		{Building: &geo.Building{}},
		{Building: &geo.Building{Footprint: orb.Polygon{{}}}},
		{Place: &geo.Place{}},
		{Zone: &geo.Zone{}},
	}
	for range 200 {
		hits = append(hits, randHit(r))
	}
	for _, fs := range []geo.FieldSet{geo.AllFields(), geo.NewFieldSet(geo.FieldID), {}, geo.NewFieldSet(geo.FieldID, geo.FieldName)} {
		enc := NewEncoder("", fs)
		var want []byte
		for i := range hits {
			want = enc.AppendHit(want, i > 0, &hits[i], Extra{Distance: true})
		}
		for _, ahead := range []int{1, 7, TouchAhead} {
			var got []byte
			for i := range hits {
				if i%ahead == 0 {
					Touch(hits[i:min(i+ahead, len(hits))])
					for j := i; j < min(i+ahead, len(hits)); j++ {
						enc.Touch(&hits[j])
					}
				}
				got = enc.AppendHit(got, i > 0, &hits[i], Extra{Distance: true})
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("fields %v, ahead %d: the answer changed after Touch", fs, ahead)
			}
		}
	}
}
