package tiles

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// The entity layer is written by a hand-made protobuf encoder (mvtenc.go)
// from the point store. These tests build the same tiles the way a
// renderer built on orb would (features from a direct geo query or scan,
// encoded by orb's encoding/mvt) and check that both decode, with orb's
// mvt.Unmarshal, to the same features.

func entityFeature(e *geo.Entity, g orb.Geometry) *geojson.Feature {
	f := geojson.NewFeature(g)
	for k, v := range map[string]string{"id": e.ID, "name": e.Name, "risk": string(e.Risk), "industry": e.Industry, "status": string(e.Status)} {
		if v != "" {
			f.Properties[k] = v
		}
	}
	return f
}

// orbEncode encodes fc as the entities layer with orb; with project set the
// geometries are WGS-84 and projected to tile tl, else already in tile
// units.
func orbEncode(t *testing.T, fc *geojson.FeatureCollection, tl maptile.Tile, project bool) []byte {
	t.Helper()
	ml := mvt.NewLayer(LayerEntities, fc)
	ml.Version, ml.Extent = 2, 4096
	ls := mvt.Layers{ml}
	if project {
		ls.ProjectToTile(tl)
	}
	data, err := mvt.Marshal(ls)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// orbPointTile is the point tile of the orb path: a geo query of the tile
// bounds plus the buffer, projected and encoded by orb.
func orbPointTile(t *testing.T, r *Renderer, idx *geo.Index, tl maptile.Tile, f geo.Filter) []byte {
	res, err := idx.InBBox(context.Background(), geo.LayerEntities, r.tileBound(int(tl.Z), int(tl.X), int(tl.Y), r.opts.Buffer), geo.Query{Limit: 10000, Filter: f})
	if err != nil || res.Truncated {
		t.Fatal(err, res.Truncated)
	}
	fc := geojson.NewFeatureCollection()
	for _, h := range res.Hits {
		fc.Append(entityFeature(h.Entity, h.Entity.Location))
	}
	return orbEncode(t, fc, tl, true)
}

// orbClusterTile is the clustered tile of the orb path: every entity of
// the index inside the tile (projected by orb's maptile), grouped on the
// grid, encoded by orb in cell order.
func orbClusterTile(t *testing.T, idx *geo.Index, tl maptile.Tile, cell int, f geo.Filter) []byte {
	const ext = 4096
	side := ext / cell
	type acc struct {
		n      int
		by     [5]int
		sx, sy float64
		first  *geo.Entity
	}
	cells := make([]acc, side*side)
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if !filterOK(f, e) {
			return true
		}
		p := maptile.Fraction(e.Location, tl.Z+12)
		tx, ty := p[0]-float64(tl.X)*ext, p[1]-float64(tl.Y)*ext
		if tx < 0 || ty < 0 || tx >= ext || ty >= ext {
			return true
		}
		c := &cells[int(ty)/cell*side+int(tx)/cell]
		c.n++
		c.by[riskCode(e.Risk)]++
		c.sx += tx
		c.sy += ty
		if c.first == nil {
			c.first = e
		}
		return true
	})
	fc := geojson.NewFeatureCollection()
	for _, c := range cells {
		switch {
		case c.n == 1:
			fc.Append(entityFeature(c.first, orb.Point{math.Floor(c.sx), math.Floor(c.sy)}))
		case c.n > 1:
			g := geojson.NewFeature(orb.Point{math.Floor(c.sx / float64(c.n)), math.Floor(c.sy / float64(c.n))})
			g.Properties["cluster"] = 1
			g.Properties["count"] = c.n
			for i, k := range []string{"A", "B", "C", "D"} {
				g.Properties["count_"+k] = c.by[i+1]
			}
			for i := 4; i >= 1; i-- {
				if c.by[i] > 0 {
					g.Properties["risk"] = string("?ABCD"[i])
					break
				}
			}
			fc.Append(g)
		}
	}
	return orbEncode(t, fc, tl, false)
}

// sameFeatures compares two decoded entity layers: the same features with
// the same properties; positions equal, or within tol tile units for
// clusters (their mean positions are sums in a different order). Point
// tiles are compared by id, clustered tiles in order.
func sameFeatures(t *testing.T, got, want []byte, byID bool) {
	t.Helper()
	g, w := decode(t, got)[LayerEntities], decode(t, want)[LayerEntities]
	if g == nil || w == nil {
		if (g == nil) != (w == nil) || (g == nil && len(got)+len(want) > 0) {
			t.Fatalf("layer present: fast %v, orb %v", g != nil, w != nil)
		}
		return
	}
	if len(g.Features) != len(w.Features) {
		t.Fatalf("fast encoder: %d features, orb: %d", len(g.Features), len(w.Features))
	}
	if byID {
		for _, fc := range []*geojson.FeatureCollection{g, w} {
			sort.Slice(fc.Features, func(i, j int) bool {
				return fmt.Sprint(fc.Features[i].Properties["id"]) < fmt.Sprint(fc.Features[j].Properties["id"])
			})
		}
	}
	for i := range g.Features {
		a, b := g.Features[i], w.Features[i]
		if !reflect.DeepEqual(a.Properties, b.Properties) {
			t.Fatalf("feature %d: fast %v, orb %v", i, a.Properties, b.Properties)
		}
		pa, pb := a.Geometry.(orb.Point), b.Geometry.(orb.Point)
		tol := 0.0
		if _, ok := a.Properties["cluster"]; ok {
			tol = 1
		}
		if math.Abs(pa[0]-pb[0]) > tol || math.Abs(pa[1]-pb[1]) > tol {
			t.Fatalf("feature %d (%v): fast at %v, orb at %v", i, a.Properties["id"], pa, pb)
		}
	}
}

// TestFastEncoderMatchesOrb checks the entity layer against orb's encoder
// on every z14 tile of the demo holding an entity, the densest z15 and z16
// tiles, clustered tiles of z8–13 and finely clustered dense z14 tiles,
// with and without filters.
func TestFastEncoderMatchesOrb(t *testing.T) {
	idx := demoIndex(t, 79000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	fine := newRenderer(t, idx, Options{CacheBytes: -1, MaxPoints: 300})
	ctx := context.Background()
	filters := []geo.Filter{{}, {Risk: []geo.Risk{geo.RiskC, geo.RiskD}}, {Industry: []string{"I", "51"}}, {Status: []geo.Status{geo.StatusActive}}}
	z14, _ := tileCounts(idx, 14)
	type tcase struct {
		r    *Renderer
		tl   maptile.Tile
		f    geo.Filter
		name string
	}
	var cases []tcase
	for i, tl := range z14 {
		cases = append(cases, tcase{r, tl, filters[0], "all"})
		if i < 12 {
			for fi, f := range filters[1:] {
				cases = append(cases, tcase{r, tl, f, fmt.Sprint("filter", fi+1)})
			}
			cases = append(cases, tcase{fine, tl, filters[0], "fine"})
		}
	}
	for _, z := range []int{8, 10, 12, 13, 15, 16} {
		for _, tl := range denseTiles(idx, z, 6) {
			for fi, f := range filters {
				cases = append(cases, tcase{r, tl, f, fmt.Sprint("filter", fi)})
			}
		}
	}
	points, clustered := 0, 0
	for _, c := range cases {
		tl := c.tl
		got, err := c.r.Render(ctx, LayerEntities, int(tl.Z), int(tl.X), int(tl.Y), Query{Filter: c.f})
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if got.Clustered {
			cell := int(c.r.opts.ClusterCell)
			if int(tl.Z) > c.r.opts.ClusterMaxZoom {
				cell = max(16, cell/4)
			}
			want = orbClusterTile(t, idx, tl, cell, c.f)
			clustered++
		} else {
			want = orbPointTile(t, c.r, idx, tl, c.f)
			points++
		}
		t.Run(fmt.Sprintf("%d/%d/%d/%s", tl.Z, tl.X, tl.Y, c.name), func(t *testing.T) {
			sameFeatures(t, got.Data, want, !got.Clustered)
		})
	}
	if points < 100 || clustered < 40 {
		t.Fatalf("only %d point and %d clustered tiles compared", points, clustered)
	}
	t.Logf("%d point tiles and %d clustered tiles equal to orb's encoding", points, clustered)
}

// TestStoreFollowsUpdates churns a live index (moves, renames, risk and
// industry changes, deletions, new entities, in batches and one by one,
// enough to make the point store compact its buckets) and checks that the
// renderer's tiles still equal orb's encoding of direct geo queries.
func TestStoreFollowsUpdates(t *testing.T) {
	idx := freshIndex(t, 1000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	var es []geo.Entity
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool { es = append(es, *e); return true })
	for round := 0; round < 6; round++ {
		b := idx.Batch()
		for i := range es {
			e := &es[i]
			switch (i + round) % 7 {
			case 0:
				e.Location = orb.Point{e.Location[0] + 0.003, e.Location[1] - 0.002}
			case 1:
				e.Name = fmt.Sprintf("%s（第%d次更名）", e.Name, round)
			case 2:
				e.Risk = []geo.Risk{geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD, ""}[(i+round)%5]
			case 3:
				e.Industry = []string{"I6510", "F5191", "", "C3011"}[(i+round)%4]
			default:
				continue
			}
			if err := b.UpsertEntity(*e); err != nil {
				t.Fatal(err)
			}
		}
		b.Commit()
		// One by one: delete a few and re-add them under their old IDs.
		for i := round; i < len(es); i += 97 {
			if err := idx.Delete(geo.LayerEntities, es[i].ID); err != nil {
				t.Fatal(err)
			}
		}
		for i := round; i < len(es); i += 194 {
			if err := idx.UpsertEntity(es[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	z14, _ := tileCounts(idx, 14)
	for _, tl := range z14 {
		got, err := r.Render(ctx, LayerEntities, 14, int(tl.X), int(tl.Y), Query{})
		if err != nil || got.Clustered {
			t.Fatal(err, got.Clustered)
		}
		sameFeatures(t, got.Data, orbPointTile(t, r, idx, tl, geo.Filter{}), true)
	}
	for _, tl := range denseTiles(idx, 11, 4) {
		got, err := r.Render(ctx, LayerEntities, 11, int(tl.X), int(tl.Y), Query{Filter: geo.Filter{Risk: []geo.Risk{geo.RiskD}}})
		if err != nil {
			t.Fatal(err)
		}
		sameFeatures(t, got.Data, orbClusterTile(t, idx, tl, int(r.opts.ClusterCell), geo.Filter{Risk: []geo.Risk{geo.RiskD}}), false)
	}
	n := 0
	r.points.mu.RLock()
	for _, b := range r.points.buckets {
		for _, pts := range b.cells {
			n += len(pts)
			for i := range pts {
				if b.id(&pts[i]) == "" {
					t.Fatal("stored point without id")
				}
			}
		}
	}
	r.points.mu.RUnlock()
	if want := idx.Snapshot().Counts().Entities; n != want || r.points.compactions == 0 {
		t.Fatalf("store holds %d points, index %d entities; %d compactions", n, want, r.points.compactions)
	}
}
