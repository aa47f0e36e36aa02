package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// The tile layers. Each is served as its own tileset; its MVT layer has the
// same name.
const (
	// LayerEntities: market entities as points (id, name, risk, industry,
	// status), clustered up to Options.ClusterMaxZoom (cluster, count,
	// count_A … count_D, risk = worst class present).
	LayerEntities = "entities"
	// LayerBuildings: building footprints (id, name, height, floors,
	// entity_count, output, output_per_floor, employment, tax: see
	// Renderer.SetEconomy) from Options.BuildingMinZoom.
	LayerBuildings = "buildings"
	// LayerZones: zones of every zone layer as polygons (layer, id, name),
	// and each named zone's label point (layer, id, name, label = 1) in the
	// one tile that contains it.
	LayerZones = "zones"
	// LayerPlaces: places of interest as points (id, name, kind).
	LayerPlaces = "places"
	// LayerRoads: named road centre lines (id, name, kind) of the base
	// map, given to Renderer.SetRoads (not part of the geo index).
	LayerRoads = "roads"
)

// Layers returns the names of the tile layers, in drawing order.
func Layers() []string {
	return []string{LayerZones, LayerRoads, LayerBuildings, LayerPlaces, LayerEntities}
}

func geoLayer(layer string) (geo.Layer, error) {
	switch layer {
	case LayerEntities:
		return geo.LayerEntities, nil
	case LayerBuildings:
		return geo.LayerBuildings, nil
	case LayerZones:
		return geo.LayerZones, nil
	case LayerPlaces:
		return geo.LayerPlaces, nil
	case LayerRoads:
		return "", nil // not an index layer
	}
	return "", fmt.Errorf("%w: %q (want entities, buildings, zones, places or roads)", ErrUnknownLayer, layer)
}

// Query restricts the features of a tile. Empty fields do not restrict.
type Query struct {
	// Filter uses the semantics of geo.Filter: Risk, Industry and Status
	// apply to entities only, Kind to places only.
	Filter geo.Filter
}

// key is a canonical form of the query for the cache.
func (q Query) key() string {
	f := q.Filter
	if len(f.Risk) == 0 && len(f.Industry) == 0 && len(f.Status) == 0 && len(f.Kind) == 0 {
		return ""
	}
	part := func(name string, vs []string) string {
		s := slices.Clone(vs)
		for i := range s {
			s[i] = strings.ToUpper(strings.TrimSpace(s[i]))
		}
		slices.Sort(s)
		return name + "=" + strings.Join(slices.Compact(s), ",")
	}
	var risk, status []string
	for _, r := range f.Risk {
		risk = append(risk, string(r))
	}
	for _, s := range f.Status {
		status = append(status, string(s))
	}
	return "?" + part("r", risk) + "&" + part("i", f.Industry) + "&" + part("s", status) + "&" + part("k", f.Kind)
}

func (q Query) validate(layer string) error {
	f := q.Filter
	if layer != LayerEntities && (len(f.Risk) > 0 || len(f.Industry) > 0 || len(f.Status) > 0) {
		return fmt.Errorf("%w: risk, industry and status filters apply to the entities layer only", ErrInvalidFilter)
	}
	if layer != LayerPlaces && len(f.Kind) > 0 {
		return fmt.Errorf("%w: the kind filter applies to the places layer only", ErrInvalidFilter)
	}
	for _, r := range f.Risk {
		if riskCode(r) == 0 {
			return fmt.Errorf("%w: risk %q (want A, B, C or D)", ErrInvalidFilter, r)
		}
	}
	return nil
}

// Tile is one rendered vector tile. Tiles are immutable and may be shared
// between goroutines.
type Tile struct {
	// Layer, Z, X and Y identify the tile.
	Layer   string
	Z, X, Y int
	// Data is the uncompressed Mapbox Vector Tile 2.1; empty when the tile
	// has no feature.
	Data []byte
	// ETag is a strong entity tag of Data, quoted as HTTP wants it, and
	// GzipETag that of the gzip form (the same for an empty tile).
	ETag, GzipETag string
	// Features is the number of features encoded; Points the number of
	// entities they stand for (clusters count their members).
	Features, Points int
	// Clustered reports that entity points were grouped into clusters.
	Clustered bool
	gz        *gzipBox
}

type gzipBox struct {
	once sync.Once
	b    []byte
}

// Empty reports a tile without features (served as 204 No Content).
func (t Tile) Empty() bool { return len(t.Data) == 0 }

// Gzip returns Data gzip-compressed. It is computed once per rendered
// tile (then shared by the cache) and is safe for concurrent use.
func (t Tile) Gzip() []byte {
	if t.gz == nil {
		return gzipBytes(t.Data)
	}
	t.gz.once.Do(func() { t.gz.b = gzipBytes(t.Data) })
	return t.gz.b
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// etagOf is a strong entity tag of b: two CRC-32s (IEEE and Castagnoli,
// both hardware-accelerated; FNV-1a took ~0.2 ms on a 200 KB tile) and the
// length. It depends on the bytes only, so it is stable across renders
// and processes.
func etagOf(b []byte) string {
	h := uint64(crc32.ChecksumIEEE(b))<<32 | uint64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return `"` + strconv.FormatUint(h, 16) + "-" + strconv.Itoa(len(b)) + `"`
}

// Renderer renders vector tiles from a geo.Index and caches them. It follows
// the index: a live update drops the cached tiles that contain the old or
// new position of the changed feature. A Renderer is safe for concurrent
// use; call Close to stop following the index.
type Renderer struct {
	idx      *geo.Index
	opts     Options
	maxLimit int
	points   *pointStore
	layers   sync.Pool // of *pointLayer
	cache    *cache
	stop     func()
	closed   atomic.Bool
	roads    atomic.Pointer[roadSet]    // roads.go
	roadMu   sync.Mutex                 // serialises SetRoads
	econ     atomic.Pointer[economyBox] // economy.go
	econGen  atomic.Uint64              // counts economy changes (economy.go)
}

// New returns a renderer of idx. It reads every entity once to build its
// cluster buckets, then follows the index.
func New(idx *geo.Index, opts Options) (*Renderer, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: nil index", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	r := &Renderer{idx: idx, opts: o, maxLimit: idx.Options().MaxLimit}
	if o.CacheBytes > 0 {
		r.cache = newCache(o.CacheBytes)
	}
	bz := o.ClusterMaxZoom
	if bz < 10 {
		bz = 10
	}
	r.points = newPointStore(uint(bz))
	r.points.mu.Lock()
	snap, stop := idx.Follow(r.apply)
	snap.ScanEntities(func(e *geo.Entity) bool {
		r.points.add(e)
		return true
	})
	r.points.trim()
	r.points.version = snap.Version()
	r.points.mu.Unlock()
	r.stop = stop
	return r, nil
}

// Close stops following the index and empties the cache. Tile calls after
// Close return ErrClosed. Close is idempotent.
func (r *Renderer) Close() {
	if r.closed.Swap(true) {
		return
	}
	r.stop()
	if r.cache != nil {
		for _, l := range Layers() {
			r.cache.invalidate(l, nil, true, math.MaxUint64)
		}
	}
}

// Options returns the effective options (defaults filled in).
func (r *Renderer) Options() Options { return r.opts }

// CacheStats returns the counters of the tile cache.
func (r *Renderer) CacheStats() CacheStats { return r.cache.stats() }

// bulkInvalidation is the number of changes of one layer in a commit above
// which the whole layer is dropped from the cache instead of tile by tile.
const bulkInvalidation = 256

// apply is the Follow callback: it updates the cluster buckets and drops
// the affected cached tiles.
func (r *Renderer) apply(cs geo.ChangeSet) {
	bounds := map[string][]orb.Bound{}
	r.points.mu.Lock()
	for _, c := range cs.Changes {
		var layer string
		for _, v := range []any{c.Old, c.New} {
			switch f := v.(type) {
			case *geo.Entity:
				if f == nil {
					continue
				}
				layer = LayerEntities
				if v == c.Old {
					r.points.remove(f)
				} else {
					r.points.add(f)
				}
				bounds[layer] = append(bounds[layer], f.Location.Bound())
			case *geo.Building:
				if f == nil {
					continue
				}
				layer = LayerBuildings
				bounds[layer] = append(bounds[layer], f.Footprint.Bound())
			case *geo.Place:
				if f == nil {
					continue
				}
				layer = LayerPlaces
				bounds[layer] = append(bounds[layer], f.Location.Bound())
			case *geo.Zone:
				if f == nil {
					continue
				}
				layer = LayerZones
				bounds[layer] = append(bounds[layer], f.Geometry.Bound())
			}
		}
	}
	r.points.version = cs.Version
	r.points.mu.Unlock()
	for layer, bs := range bounds {
		r.cache.invalidate(layer, bs, len(bs) > 2*bulkInvalidation, cs.Version)
	}
}

// CheckTile validates tile coordinates against the pyramid and the
// renderer's MaxZoom, before any work.
func (r *Renderer) CheckTile(z, x, y int) error {
	return checkZXY(z, x, y, r.opts.MaxZoom)
}

func checkZXY(z, x, y, maxZoom int) error {
	if z < 0 || z > maxZoom {
		return &RangeError{Field: "z", Reason: fmt.Sprintf("zoom %d is outside [0, %d]", z, maxZoom)}
	}
	n := 1 << uint(z)
	if x < 0 || x >= n {
		return &RangeError{Field: "x", Reason: fmt.Sprintf("x %d is outside [0, %d] at zoom %d", x, n-1, z)}
	}
	if y < 0 || y >= n {
		return &RangeError{Field: "y", Reason: fmt.Sprintf("y %d is outside [0, %d] at zoom %d", y, n-1, z)}
	}
	return nil
}

// tileBound returns the WGS-84 bounds of a tile grown by buf tile units on
// every side, clamped to the valid coordinate range.
func (r *Renderer) tileBound(z, x, y int, buf uint32) orb.Bound {
	frac := float64(buf) / float64(r.opts.Extent)
	b := maptile.New(uint32(x), uint32(y), maptile.Zoom(z)).Bound(frac)
	b.Min[0] = math.Max(b.Min[0], -180)
	b.Max[0] = math.Min(b.Max[0], 180)
	b.Min[1] = math.Max(b.Min[1], -85.06)
	b.Max[1] = math.Min(b.Max[1], 85.06)
	return b
}

// Tile renders (or returns from the cache) tile z/x/y of layer with q's
// filter. It validates the coordinates first (ErrOutOfRange), then the
// layer (ErrUnknownLayer) and the filter (ErrInvalidFilter). An empty tile
// is not an error: its Data is empty. Tile is safe for concurrent use.
func (r *Renderer) Tile(ctx context.Context, layer string, z, x, y int, q Query) (Tile, error) {
	if err := r.CheckTile(z, x, y); err != nil {
		return Tile{}, err
	}
	if _, err := geoLayer(layer); err != nil {
		return Tile{}, err
	}
	if err := q.validate(layer); err != nil {
		return Tile{}, err
	}
	if r.closed.Load() {
		return Tile{}, ErrClosed
	}
	key := cacheKey{layer: layer, z: z, x: x, y: y, q: q.key()}
	if t, ok := r.cache.get(key); ok {
		return t, nil
	}
	var fresh func() bool
	if layer == LayerBuildings { // the economy's figures change outside the index (economy.go)
		gen := r.econGen.Load()
		fresh = func() bool { return r.econGen.Load() == gen }
	}
	t, version, err := r.render(ctx, layer, z, x, y, q)
	if err != nil {
		return Tile{}, err
	}
	r.cache.put(key, r.tileBound(z, x, y, r.opts.Buffer), t, version, fresh)
	return t, nil
}

// Cached returns tile z/x/y of layer with q's filter if it is in the cache,
// without validating anything or rendering: a cheap first step for a
// server that bounds only renders by a deadline. Cached is safe for
// concurrent use.
func (r *Renderer) Cached(layer string, z, x, y int, q Query) (Tile, bool) {
	if r.closed.Load() {
		return Tile{}, false
	}
	return r.cache.get(cacheKey{layer: layer, z: z, x: x, y: y, q: q.key()})
}

// Render renders a tile without the cache (for exports and benchmarks).
func (r *Renderer) Render(ctx context.Context, layer string, z, x, y int, q Query) (Tile, error) {
	if err := r.CheckTile(z, x, y); err != nil {
		return Tile{}, err
	}
	if _, err := geoLayer(layer); err != nil {
		return Tile{}, err
	}
	if err := q.validate(layer); err != nil {
		return Tile{}, err
	}
	t, _, err := r.render(ctx, layer, z, x, y, q)
	return t, err
}

func (r *Renderer) render(ctx context.Context, layer string, z, x, y int, q Query) (Tile, uint64, error) {
	if err := ctx.Err(); err != nil {
		return Tile{}, 0, err
	}
	snap := r.idx.Snapshot()
	version := snap.Version()
	t := Tile{Layer: layer, Z: z, X: x, Y: y, gz: &gzipBox{}}
	var err error
	switch layer {
	case LayerEntities:
		version, err = r.renderEntities(ctx, &t, q)
	case LayerPlaces:
		err = r.renderPlaces(ctx, snap, &t, q)
	case LayerBuildings:
		err = r.renderPolygons(ctx, snap, &t)
	case LayerZones:
		err = r.renderPolygons(ctx, snap, &t)
	case LayerRoads:
		version, err = r.renderRoads(ctx, &t)
	}
	if err != nil {
		return Tile{}, 0, err
	}
	if t.Data, err = r.restrictFields(t.Data); err != nil { // Options.Fields (fields.go)
		return Tile{}, 0, err
	}
	if len(t.Data) > 0 {
		t.ETag = etagOf(t.Data)
		t.GzipETag = t.ETag[:len(t.ETag)-1] + `-gz"`
	} else {
		t.Data = nil
		t.ETag, t.GzipETag = `"empty"`, `"empty"`
	}
	return t, version, nil
}

func (r *Renderer) pointXY(p orb.Point, z, x, y int) (int64, int64) {
	fx, fy := mercator(p[0], p[1])
	scale := float64(uint64(1) << uint(z))
	ext := float64(r.opts.Extent)
	return int64(math.Floor((fx*scale - float64(x)) * ext)), int64(math.Floor((fy*scale - float64(y)) * ext))
}

func (r *Renderer) renderEntities(ctx context.Context, t *Tile, q Query) (uint64, error) {
	l := r.layer(LayerEntities)
	defer r.layers.Put(l)
	version, err := r.renderEntityLayer(ctx, l, t, q.Filter)
	if err != nil {
		return 0, err
	}
	t.Features, t.Data = l.n, l.marshal()
	return version, nil
}

// layer returns an empty point layer from the renderer's pool; put it back
// with r.layers.Put once its tile is marshalled.
func (r *Renderer) layer(name string) *pointLayer {
	l, _ := r.layers.Get().(*pointLayer)
	if l == nil {
		return newPointLayer(name, r.opts.Extent)
	}
	l.reset(name, r.opts.Extent)
	return l
}

func (r *Renderer) renderPlaces(ctx context.Context, snap *geo.Snapshot, t *Tile, q Query) error {
	res, err := snap.InBBox(ctx, geo.LayerPlaces, r.tileBound(t.Z, t.X, t.Y, r.opts.Buffer), geo.Query{Limit: r.maxLimit, Filter: q.Filter})
	if err != nil {
		return err
	}
	l := r.layer(LayerPlaces)
	defer r.layers.Put(l)
	for i := range res.Hits {
		p := res.Hits[i].Place
		l.uniq("id", p.ID)
		l.uniq("name", p.Name)
		l.str("kind", p.Kind)
		px, py := r.pointXY(p.Location, t.Z, t.X, t.Y)
		l.add(px, py)
	}
	t.Points, t.Features, t.Data = l.n, l.n, l.marshal()
	return nil
}

func attrNumber(attrs map[string]string, k string) (float64, bool) {
	v, ok := attrs[k]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// windMVT orients the rings of a polygon in tile coordinates as MVT 2.1
// (§4.3.4.4) requires, whatever the source's winding: an exterior ring has
// a positive surveyor's-formula area (clockwise on screen, y down), its
// holes a negative one. A decoder tells polygons and holes apart by it
// alone. Rings are reversed in place (the geometry is the tile's own copy).
func windMVT(g orb.Geometry) orb.Geometry {
	wind := func(p orb.Polygon) {
		for i, r := range p {
			a := ringArea2(r)
			if (i == 0 && a < 0) || (i > 0 && a > 0) {
				r.Reverse()
			}
		}
	}
	switch t := g.(type) {
	case orb.Polygon:
		wind(t)
	case orb.MultiPolygon:
		for _, p := range t {
			wind(p)
		}
	}
	return g
}

// ringArea2 is twice the signed surveyor's-formula area of a ring.
func ringArea2(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// renderPolygons renders buildings or zones with orb's MVT encoder:
// projected to the tile, clipped to the tile plus its buffer, simplified
// below DataMaxZoom, with slivers under one square tile unit removed.
func (r *Renderer) renderPolygons(ctx context.Context, snap *geo.Snapshot, t *Tile) error {
	if t.Layer == LayerBuildings && t.Z < r.opts.BuildingMinZoom {
		return nil
	}
	gl, _ := geoLayer(t.Layer)
	res, err := snap.InBBox(ctx, gl, r.tileBound(t.Z, t.X, t.Y, r.opts.Buffer), geo.Query{Limit: r.maxLimit})
	if err != nil {
		return err
	}
	if len(res.Hits) == 0 {
		return nil
	}
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(res.Hits))
	var labels []*geojson.Feature
	inTile := r.tileBound(t.Z, t.X, t.Y, 0)
	var figs []BuildingFigures
	if t.Layer == LayerBuildings {
		bs := make([]*geo.Building, len(res.Hits))
		for i := range res.Hits {
			bs[i] = res.Hits[i].Building
		}
		if figs, err = r.buildingFigures(ctx, snap, bs); err != nil {
			return err
		}
	}
	for i := range res.Hits {
		if i&255 == 255 && ctx.Err() != nil {
			return ctx.Err()
		}
		var f *geojson.Feature
		if b := res.Hits[i].Building; b != nil {
			f = geojson.NewFeature(b.Footprint.Clone()) // ProjectToTile works in place: never touch the index's geometry
			f.Properties["id"] = b.ID
			if b.Name != "" {
				f.Properties["name"] = b.Name
			}
			f.Properties["height"] = math.Round(b.Height()*10) / 10
			f.Properties["floors"] = b.Floors
			if figs != nil { // the economy source's (economy.go)
				fg := figs[i]
				f.Properties["entity_count"], f.Properties["output"], f.Properties["output_per_floor"] = fg.Entities, fg.Output, fg.OutputPerFloor
				f.Properties["employment"], f.Properties["tax"] = fg.Employment, fg.Tax
			} else {
				for _, k := range []string{"entity_count", "output", "employment", "tax"} {
					if v, ok := attrNumber(b.Attrs, k); ok {
						f.Properties[k] = v
					}
				}
			}
		} else if zn := res.Hits[i].Zone; zn != nil {
			f = geojson.NewFeature(zn.Geometry.Clone())
			f.Properties["layer"] = zn.Layer
			f.Properties["id"] = zn.ID
			f.Properties["name"] = zn.Name
			// the zone's name label: one point, in the one tile holding it
			if lp, ok := labelPoint(zn.Geometry); ok && zn.Name != "" && inTile.Contains(lp) {
				lf := geojson.NewFeature(lp)
				lf.Properties["layer"], lf.Properties["id"], lf.Properties["name"] = zn.Layer, zn.ID, zn.Name
				lf.Properties["label"] = 1
				labels = append(labels, lf)
			}
		}
		fc.Append(f)
	}
	fc.Features = append(fc.Features, labels...)
	ml := mvt.NewLayer(t.Layer, fc)
	ml.Extent = r.opts.Extent
	ml.Version = 2
	ls := mvt.Layers{ml}
	ls.ProjectToTile(maptile.New(uint32(t.X), uint32(t.Y), maptile.Zoom(t.Z)))
	buf := float64(r.opts.Buffer)
	ext := float64(r.opts.Extent)
	ls.Clip(orb.Bound{Min: orb.Point{-buf, -buf}, Max: orb.Point{ext + buf, ext + buf}})
	if t.Z < r.opts.DataMaxZoom && r.opts.SimplifyTolerance > 0 {
		ls.Simplify(simplify.DouglasPeucker(r.opts.SimplifyTolerance))
	}
	ls.RemoveEmpty(1, 1)
	if len(ml.Features) == 0 {
		return nil
	}
	for _, f := range ml.Features {
		f.Geometry = windMVT(f.Geometry)
	}
	data, err := mvt.Marshal(ls)
	if err != nil {
		return fmt.Errorf("tiles: encoding %s %d/%d/%d: %w", t.Layer, t.Z, t.X, t.Y, err)
	}
	t.Features, t.Points, t.Data = len(ml.Features), len(ml.Features), data
	return nil
}
