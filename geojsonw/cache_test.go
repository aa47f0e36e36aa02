package geojsonw

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
)

// randEntityHits returns n entity hits over a pool of entities (each
// entity hit several times, at random distances).
func randEntityHits(r *rand.Rand, pool, n int) []geo.Hit {
	ents := make([]*geo.Entity, 0, pool)
	for len(ents) < pool {
		if h := randHit(r); h.Entity != nil {
			ents = append(ents, h.Entity)
		}
	}
	hits := make([]geo.Hit, n)
	for i := range hits {
		hits[i] = geo.Hit{Entity: ents[r.IntN(len(ents))], DistanceM: r.Float64() * 500}
	}
	return hits
}

// TestFeatureCacheSameBytes: an encoder with a FeatureCache writes the
// same bytes as one without, whether a head is cached or not, for random
// entities (escapes, free attributes named as computed members), every
// CRS, random field selections, with and without distance_m, and search
// hits (never cached); the cached answers also decode to the
// encoding/json rendering (the oracle). The cache fills on the first pass
// and holds one head per entity.
func TestFeatureCacheSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 22))
	for round := range 60 {
		c := []crs.CRS{crs.WGS84, crs.GCJ02, crs.BD09}[r.IntN(3)]
		fs := randFields(r)
		dist := r.IntN(2) == 0
		cache := NewFeatureCache(c, fs, dist, 64<<20)
		plain := NewEncoder(c, fs)
		cached := plain.WithCache(cache)
		if cached.cache == nil {
			t.Fatalf("round %d: the cache was not taken by an encoder of its CRS and fields", round)
		}
		hits := randEntityHits(r, 40, 200)
		seen := map[*geo.Entity]bool{} // written with the cache's kind of Extra
		for pass := range 3 {
			var got, want []byte
			for i := range hits {
				x := Extra{Distance: dist}
				switch r.IntN(8) {
				case 0:
					x.Distance = !dist // not the cache's kind: written without it
				case 1:
					x.Search, x.Score, x.Layer, x.Match = true, r.Float64(), geo.LayerEntities, "exact"
				}
				cached.Touch(&hits[i])
				g := cached.AppendHit(got, i > 0, &hits[i], x)
				w := plain.AppendHit(want, i > 0, &hits[i], x)
				if !bytes.Equal(g[len(got):], w[len(want):]) {
					t.Fatalf("round %d pass %d hit %d (%s, fields %s, %+v):\n got %s\nwant %s", round, pass, i, c, fs, x, g[len(got):], w[len(want):])
				}
				if pass > 0 {
					one := cached.AppendHit(nil, false, &hits[i], x)
					if dv, ov := decode(t, one), oracle(t, &hits[i], c, fs, x); !reflect.DeepEqual(dv, ov) {
						t.Fatalf("round %d hit %d: cached feature %s decodes to %v, want %v", round, i, one, dv, ov)
					}
				}
				if !x.Search && x.Distance == dist {
					seen[hits[i].Entity] = true
				}
				got, want = g, w
			}
			if cache.Len() != len(seen) {
				t.Fatalf("round %d pass %d: %d heads cached, want one for each of the %d entities written with the cache's kind", round, pass, cache.Len(), len(seen))
			}
		}
	}
}

// TestFeatureCacheNotForOtherEncoders: a cache is used only by encoders of
// its CRS and entity fields.
func TestFeatureCacheNotForOtherEncoders(t *testing.T) {
	cache := NewFeatureCache(crs.WGS84, geo.AllFields(), true, 1<<20)
	for _, tc := range []struct {
		name string
		enc  *Encoder
		want bool
	}{
		{"same", NewEncoder(crs.WGS84, geo.AllFields()), true},
		{"default crs", NewEncoder("", geo.AllFields()), true},
		{"other crs", NewEncoder(crs.GCJ02, geo.AllFields()), false},
		{"fields=id", NewEncoder(crs.WGS84, geo.NewFieldSet(geo.FieldID)), false},
		{"entities restricted", NewEncoder(crs.WGS84, geo.AllFields()).Restrict(geo.LayerEntities, geo.NewFieldSet(geo.FieldName)), false},
	} {
		if got := tc.enc.WithCache(cache).cache != nil; got != tc.want {
			t.Errorf("%s: cache used %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFeatureCacheNewValue: a written entity is a new value, which the
// cache encodes afresh (the old value's head is never shown for it).
func TestFeatureCacheNewValue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 22))
	cache := NewFeatureCache(crs.WGS84, geo.AllFields(), true, 1<<20)
	enc := NewEncoder(crs.WGS84, geo.AllFields()).WithCache(cache)
	plain := NewEncoder(crs.WGS84, geo.AllFields())
	h := randEntityHits(r, 1, 1)[0]
	for i := range 20 {
		e := *h.Entity // the write: a new value of the same entity
		e.Name = e.Name + string(rune('a'+i))
		e.Location[0] += 1e-5
		e.Version++
		h.Entity = &e
		for range 2 {
			got, want := enc.AppendHit(nil, false, &h, Extra{Distance: true}), plain.AppendHit(nil, false, &h, Extra{Distance: true})
			if !bytes.Equal(got, want) {
				t.Fatalf("write %d: got %s, want %s", i, got, want)
			}
		}
	}
}

// TestFeatureCacheBounded: the cache holds at most about its bound (a
// shard's share each), and the bytes stay the same as it empties shards.
func TestFeatureCacheBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 22))
	const bound = 1 << 20
	cache := NewFeatureCache(crs.WGS84, geo.AllFields(), true, bound)
	enc := NewEncoder(crs.WGS84, geo.AllFields()).WithCache(cache)
	plain := NewEncoder(crs.WGS84, geo.AllFields())
	hits := randEntityHits(r, 8000, 20000)
	for i := range hits {
		got, want := enc.AppendHit(nil, false, &hits[i], Extra{Distance: true}), plain.AppendHit(nil, false, &hits[i], Extra{Distance: true})
		if !bytes.Equal(got, want) {
			t.Fatalf("hit %d: got %s, want %s", i, got, want)
		}
		if b := cache.Bytes(); b > bound {
			t.Fatalf("hit %d: the cache holds %d bytes, bound %d", i, b, bound)
		}
	}
	if cache.Len() == 0 {
		t.Fatal("nothing cached")
	}
}

// TestFeatureCacheConcurrent: goroutines writing answers through one cache
// (run with -race) write what an encoder without it writes.
func TestFeatureCacheConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 22))
	hits := randEntityHits(r, 300, 3000)
	cache := NewFeatureCache(crs.WGS84, geo.AllFields(), true, 1<<20)
	plain := NewEncoder(crs.WGS84, geo.AllFields())
	want := make([][]byte, len(hits))
	for i := range hits {
		want[i] = plain.AppendHit(nil, false, &hits[i], Extra{Distance: true})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := NewEncoder(crs.WGS84, geo.AllFields()).WithCache(cache)
			var buf []byte
			for k := range len(hits) {
				i := (k*7 + g*31) % len(hits)
				enc.Touch(&hits[i])
				buf = enc.AppendHit(buf[:0], false, &hits[i], Extra{Distance: true})
				if !bytes.Equal(buf, want[i]) {
					errs <- string(buf)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a goroutine wrote %s", e)
	}
}

// TestAppendRounded2: the same bytes as AppendFloat(RoundTo(v, 2)) for
// distances of every size, values next to the rounding's halves, and
// values outside the fast range.
func TestAppendRounded2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 22))
	vals := []float64{0, 0.004, 0.005, 0.005000001, 0.1, 0.15, 0.999, 1, 9.995, 10, 99.99, 100, 123.4, 199.995, 1e11, 1e12 - 1, 1e12, 5e15, -1, -0.004, math.NaN(), math.Inf(1), math.SmallestNonzeroFloat64}
	for range 200000 {
		switch r.IntN(4) {
		case 0:
			vals = append(vals, r.Float64()*500)
		case 1:
			vals = append(vals, float64(r.IntN(1000000))/100)
		case 2:
			vals = append(vals, (float64(r.IntN(100000))+0.5)/100+float64(r.IntN(3)-1)*1e-12)
		default:
			vals = append(vals, math.Exp(r.Float64()*60-20))
		}
	}
	for _, v := range vals {
		got, want := AppendRounded2(nil, v), AppendFloat(nil, RoundTo(v, 2))
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, want %s", v, got, want)
		}
	}
}
