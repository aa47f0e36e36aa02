package geojsonw

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

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
						TouchID(&hits[j])
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

// TestAppendDate: the date as time.AppendFormat writes it, in the time's
// location, for years inside and outside 0–9999.
func TestAppendDate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	locs := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("W", -11*3600)}
	for i := range 5000 {
		y := 1 + r.IntN(9998)
		switch i % 50 {
		case 0:
			y = -r.IntN(3000)
		case 1:
			y = 10000 + r.IntN(5000)
		case 2:
			y = 0
		}
		tm := time.Date(y, time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), 0, 0, locs[r.IntN(len(locs))])
		want := `"` + tm.Format("2006-01-02") + `"`
		if got := string(appendDate(nil, tm)); got != want {
			t.Fatalf("%v: %s, want %s", tm, got, want)
		}
	}
}
