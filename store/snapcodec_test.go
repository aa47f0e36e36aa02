package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// randText is a string of n runes drawn from ASCII and CJK, so that the
// byte lengths cross the arena's limits at odd offsets.
func randText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		if rng.IntN(3) == 0 {
			b.WriteRune(rune(0x4e00 + rng.IntN(0x5000)))
		} else {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
	}
	return b.String()
}

// randLen is mostly short, sometimes past arenaMaxStr, sometimes empty.
func randLen(rng *rand.Rand) int {
	switch rng.IntN(20) {
	case 0:
		return 0
	case 1:
		return arenaMaxStr/3 + rng.IntN(arenaMaxStr) // bytes around and past the limit
	case 2:
		return arenaChunk/3 + rng.IntN(100) // about a chunk's bytes
	}
	return 1 + rng.IntN(40)
}

// TestSnapCodecRoundTrip: features written by snapWriter and read back by
// snapReader (strings in shared chunks, attribute values shared) equal the
// originals, compared after the whole stream is decoded, so that a later
// string written over an earlier one's bytes would show.
func TestSnapCodecRoundTrip(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var want []any
			var layers []geo.Layer
			for i := range 3000 {
				attrs := map[string]string{}
				for range rng.IntN(4) {
					// a few repeated values, and unique ones
					v := []string{"industrial", "commercial", "synthetic-demo"}[rng.IntN(3)]
					if rng.IntN(2) == 0 {
						v = randText(rng, randLen(rng))
					}
					attrs[randText(rng, 1+rng.IntN(8))] = v
				}
				if len(attrs) == 0 {
					attrs = nil
				}
				switch rng.IntN(4) {
				case 0, 1:
					e := &geo.Entity{ID: fmt.Sprintf("9150%014d", i), Name: randText(rng, randLen(rng)), ShortName: randText(rng, randLen(rng)),
						Address: randText(rng, randLen(rng)), Location: orb.Point{106 + rng.Float64(), 29 + rng.Float64()},
						Industry: "F52", Status: "存续", Risk: "B", BuildingID: randText(rng, 16), GridID: "G1",
						RegisteredAt: time.Unix(rng.Int64N(2e9), 0).UTC(), Abnormal: rng.IntN(2) == 0, Attrs: attrs, Version: rng.Uint64N(1e6)}
					for range rng.IntN(3) {
						e.FormerNames = append(e.FormerNames, randText(rng, randLen(rng)))
					}
					want, layers = append(want, e), append(layers, geo.LayerEntities)
				case 2:
					b := &geo.Building{ID: fmt.Sprintf("B%d", i), Name: randText(rng, randLen(rng)), Address: randText(rng, randLen(rng)),
						Footprint: randPolygon(rng), Floors: rng.IntN(40), HeightM: rng.Float64() * 100,
						Attrs: attrs, Version: uint64(i)}
					want, layers = append(want, b), append(layers, geo.LayerBuildings)
				default:
					p := &geo.Place{ID: fmt.Sprintf("P%d", i), Name: randText(rng, randLen(rng)), Kind: "park",
						Location: orb.Point{106 + rng.Float64(), 29 + rng.Float64()}, Attrs: attrs, Version: uint64(i)}
					for range rng.IntN(3) {
						p.Aliases = append(p.Aliases, randText(rng, randLen(rng)))
					}
					want, layers = append(want, p), append(layers, geo.LayerPlaces)
				}
			}
			var buf bytes.Buffer
			bw := bufio.NewWriter(&buf)
			w := &snapWriter{w: bw}
			for _, v := range want {
				w.feature(v)
			}
			if w.err != nil || bw.Flush() != nil {
				t.Fatal(w.err)
			}
			r := &snapReader{r: bufio.NewReaderSize(&buf, 1<<20), intern: map[string]string{}}
			var got []any
			for _, l := range layers {
				v, _ := r.feature(l)
				got = append(got, v)
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("feature %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			// The features share slabs: points appended to every decoded
			// ring, a ring to every footprint and a field written must not
			// show in any other feature.
			for _, v := range got {
				switch f := v.(type) {
				case *geo.Building:
					for k := range f.Footprint {
						f.Footprint[k] = append(f.Footprint[k], orb.Point{-1, -1})
					}
					f.Footprint = append(f.Footprint, orb.Ring{{-2, -2}})
					f.Floors = -1
				case *geo.Entity:
					f.Version = 0
				case *geo.Place:
					f.Version = 0
				}
			}
			for i, v := range got {
				w := want[i]
				switch f := v.(type) {
				case *geo.Building:
					wb := *w.(*geo.Building)
					n := len(f.Footprint) - 1
					fp := make(orb.Polygon, n)
					for k := range n {
						fp[k] = f.Footprint[k][:len(f.Footprint[k])-1]
					}
					if !reflect.DeepEqual(fp, wb.Footprint) || f.ID != wb.ID || f.Name != wb.Name || f.Address != wb.Address {
						t.Fatalf("building %d changed by writes to the others:\n got %+v\nwant %+v", i, f, wb)
					}
				case *geo.Entity:
					we := *w.(*geo.Entity)
					we.Version = 0
					if !reflect.DeepEqual(*f, we) {
						t.Fatalf("entity %d changed by writes to the others:\n got %+v\nwant %+v", i, f, we)
					}
				case *geo.Place:
					wp := *w.(*geo.Place)
					wp.Version = 0
					if !reflect.DeepEqual(*f, wp) {
						t.Fatalf("place %d changed by writes to the others:\n got %+v\nwant %+v", i, f, wp)
					}
				}
			}
		})
	}
}

// randPolygon is a footprint of one to three rings, mostly short, some
// longer than slabMaxRing, some with as many rings as a slab's end.
func randPolygon(rng *rand.Rand) orb.Polygon {
	p := make(orb.Polygon, 1+rng.IntN(3))
	if rng.IntN(50) == 0 {
		p = make(orb.Polygon, slabMaxRing+1+rng.IntN(3))
	}
	for k := range p {
		n := 4 + rng.IntN(8)
		if rng.IntN(30) == 0 {
			n = slabMaxRing - 2 + rng.IntN(6)
		}
		r := make(orb.Ring, n)
		for i := range r {
			r[i] = orb.Point{106 + rng.Float64(), 29 + rng.Float64()}
		}
		p[k] = r
	}
	return p
}

// TestSnapInternBound: past maxIntern distinct values, istr still returns
// each value, decoded like any string, and keeps no more.
func TestSnapInternBound(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := &snapWriter{w: bw}
	n := maxIntern + 500
	for i := range n {
		w.str(fmt.Sprintf("v%07d", i%(maxIntern+100)))
	}
	if err := bw.Flush(); err != nil || w.err != nil {
		t.Fatal(err, w.err)
	}
	r := &snapReader{r: bufio.NewReaderSize(&buf, 1<<20), intern: map[string]string{}}
	got := make([]string, n)
	for i := range n {
		got[i] = r.istr()
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	for i, s := range got {
		if want := fmt.Sprintf("v%07d", i%(maxIntern+100)); s != want {
			t.Fatalf("value %d: %q, want %q", i, s, want)
		}
	}
	if len(r.intern) != maxIntern {
		t.Fatalf("%d values kept, want the bound %d", len(r.intern), maxIntern)
	}
}
