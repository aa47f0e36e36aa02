package geo

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// ZoneTable is the point-in-zone accelerator of the index, the one place
// where zone membership is computed: [Snapshot.ZonesAt], the grid the index
// derives for every entity ([Entity.GridID]) and package zoneid all read it.
//
// It is a uniform grid of cells over the zones' bounding box, square in
// metres, at most Options.ZoneCells of them. For each cell it stores the
// zones that contain the whole cell ("full") and the zones whose boundary
// passes through it ("partial"); only the latter need an exact
// point-in-polygon test, with the zone's [PreparedArea], so the answer is
// exact under its boundary rule. Zones are numbered 0 … Len()-1 sorted by
// layer, then ID, so the zones of one layer are a contiguous range
// ([ZoneTable.LayerRange]) and the first zone of a layer containing a point
// has the smallest ID.
//
// A table is immutable and safe for concurrent use. It is built on first
// use after a zone change and shared by every later snapshot until the
// zones change again.
type ZoneTable struct {
	zones  []*Zone         // sorted by layer, then ID
	areas  []*PreparedArea // parallel to zones
	layers map[string][2]int32

	empty      bool
	minX, minY float64
	cw, ch     float64 // cell size in degrees
	nx, ny     int
	cells      []uint32 // cell -> index into setOff
	setOff     []uint32 // set k is entries[setOff[k]:setOff[k+1]]
	entries    []int32  // zone index << 1 | 1 if partial
}

// ZoneTable returns the zone table of the snapshot's zones, building it
// when no snapshot with the same zones has (a build checks ctx; it takes
// tens of milliseconds for a city's districts, streets and grids). Safe for
// concurrent use.
func (s *Snapshot) ZoneTable(ctx context.Context) (*ZoneTable, error) {
	return s.ztab.get(ctx, s)
}

// Len returns the number of zones.
func (t *ZoneTable) Len() int { return len(t.zones) }

// Zone returns zone i (0 ≤ i < Len()), shared with the index: do not modify it.
func (t *ZoneTable) Zone(i int32) *Zone { return t.zones[i] }

// Area returns the prepared geometry of zone i.
func (t *ZoneTable) Area(i int32) *PreparedArea { return t.areas[i] }

// LayerRange returns the zone numbers [lo, hi) of a zone layer (lo == hi
// when the layer has no zone).
func (t *ZoneTable) LayerRange(layer string) (lo, hi int32) {
	r := t.layers[layer]
	return r[0], r[1]
}

// Find returns the number of zone z, which must be one of the table's.
func (t *ZoneTable) Find(z *Zone) (int32, bool) {
	i, ok := slices.BinarySearchFunc(t.zones, z, func(a, b *Zone) int {
		if c := strings.Compare(a.Layer, b.Layer); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return int32(i), ok && t.zones[i] == z
}

// AppendAt appends to buf the numbers of the zones containing p, in zone
// order (layer, then ID), and returns the extended slice. It does not
// allocate when buf has room. Points outside every zone, and invalid
// coordinates, are in none.
func (t *ZoneTable) AppendAt(buf []int32, p orb.Point) []int32 {
	for _, e := range t.cell(p) {
		if e&1 == 0 || t.areas[e>>1].Contains(p) {
			buf = append(buf, e>>1)
		}
	}
	return buf
}

// FirstAt returns the first zone numbered in [lo, hi) that contains p, or
// -1: with a layer's range, the zone of that layer with the smallest ID.
func (t *ZoneTable) FirstAt(p orb.Point, lo, hi int32) int32 {
	for _, e := range t.cell(p) {
		zi := e >> 1
		if zi < lo {
			continue
		}
		if zi >= hi {
			break // entries are in zone order
		}
		if e&1 == 0 || t.areas[zi].Contains(p) {
			return zi
		}
	}
	return -1
}

// cell returns the entries of the cell holding p.
func (t *ZoneTable) cell(p orb.Point) []int32 {
	if t.empty {
		return nil
	}
	fx := (p[0] - t.minX) / t.cw
	fy := (p[1] - t.minY) / t.ch
	if !(fx >= 0 && fy >= 0) || fx > float64(t.nx) || fy > float64(t.ny) {
		return nil // outside every zone's bounding box (or NaN)
	}
	i, j := min(int(fx), t.nx-1), min(int(fy), t.ny-1)
	s := t.cells[j*t.nx+i]
	return t.entries[t.setOff[s]:t.setOff[s+1]]
}

// zoneTableHolder builds the table of one zone state once; a snapshot
// whose zones change gets a new holder.
type zoneTableHolder struct {
	mu  sync.Mutex // serialises builds
	tab atomic.Pointer[ZoneTable]
}

func (h *zoneTableHolder) get(ctx context.Context, s *Snapshot) (*ZoneTable, error) {
	if t := h.tab.Load(); t != nil {
		return t, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tab.Load(); t != nil {
		return t, nil
	}
	t, err := buildZoneTable(ctx, s)
	if err != nil {
		return nil, err // not kept: the next caller builds again
	}
	h.tab.Store(t)
	return t, nil
}

// built returns the table if it has been built, else nil.
func (h *zoneTableHolder) built() *ZoneTable { return h.tab.Load() }

// The cell count of a zone table: zoneCellsPerZone per zone, at least
// minZoneCells, at most Options.ZoneCells.
const (
	zoneCellsPerZone = 64
	minZoneCells     = 4096
)

// zoneEps pads every edge when cells are marked, far above float64
// rounding of the cell arithmetic and far below any real distance
// (1e-9° ≈ 0.1 mm).
const zoneEps = 1e-9

func buildZoneTable(ctx context.Context, s *Snapshot) (*ZoneTable, error) {
	t := &ZoneTable{layers: map[string][2]int32{}}
	s.zoneIDs.Scan(func(_ string, ze *zoneEntry) bool {
		t.zones = append(t.zones, ze.zone)
		t.areas = append(t.areas, ze.area)
		return true
	})
	order := make([]int, len(t.zones))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(t.zones[a].Layer, t.zones[b].Layer); c != 0 {
			return c
		}
		return strings.Compare(t.zones[a].ID, t.zones[b].ID)
	})
	zones, areas := make([]*Zone, len(order)), make([]*PreparedArea, len(order))
	for i, k := range order {
		zones[i], areas[i] = t.zones[k], t.areas[k]
	}
	t.zones, t.areas = zones, areas
	if len(t.zones) == 0 {
		t.empty = true
		return t, nil
	}
	var bound orb.Bound
	for i, z := range t.zones {
		r := t.layers[z.Layer]
		if r[1] == 0 {
			r[0] = int32(i)
		}
		r[1] = int32(i + 1)
		t.layers[z.Layer] = r
		if i == 0 {
			bound = t.areas[i].Bound()
		} else {
			bound = bound.Union(t.areas[i].Bound())
		}
	}
	// About zoneCellsPerZone cells per zone, within the budget: enough for
	// most cells of a large polygon to be full (no exact test), while a
	// build after a zone change stays proportional to the zones.
	t.layout(bound, min(s.opts.ZoneCells, max(minZoneCells, zoneCellsPerZone*len(t.zones))))
	pairs, err := t.cellPairs(ctx)
	if err != nil {
		return nil, err
	}
	t.group(pairs)
	return t, nil
}

// layout chooses square-ish cells (in metres) within the cell budget.
func (t *ZoneTable) layout(bound orb.Bound, maxCells int) {
	w := math.Max(bound.Max[0]-bound.Min[0], 1e-6)
	h := math.Max(bound.Max[1]-bound.Min[1], 1e-6)
	k := math.Cos(bound.Center()[1] * math.Pi / 180)
	side := math.Sqrt(w * k * h / float64(maxCells)) // in "latitude degrees"
	t.cw, t.ch = side/k, side
	t.nx = int(w/t.cw) + 1
	t.ny = int(h/t.ch) + 1
	for t.nx*t.ny > maxCells {
		t.cw *= 1.01
		t.ch *= 1.01
		t.nx = int(w/t.cw) + 1
		t.ny = int(h/t.ch) + 1
	}
	t.minX, t.minY = bound.Min[0], bound.Min[1]
}

// cellPairs returns the (cell, entry) pairs of every zone: cell<<32 |
// zone<<1 | partial.
func (t *ZoneTable) cellPairs(ctx context.Context) ([]uint64, error) {
	n := 0
	for zi := range t.zones {
		b := t.areas[zi].Bound()
		n += (t.col(b.Max[0]+zoneEps) - t.col(b.Min[0]-zoneEps) + 1) * (t.row(b.Max[1]+zoneEps) - t.row(b.Min[1]-zoneEps) + 1)
	}
	pairs := make([]uint64, 0, n) // at most one per cell of each zone's bounding box
	var mark []bool
	for zi, z := range t.zones {
		if zi%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		b := t.areas[zi].Bound()
		i0, j0 := t.col(b.Min[0]-zoneEps), t.row(b.Min[1]-zoneEps)
		i1, j1 := t.col(b.Max[0]+zoneEps), t.row(b.Max[1]+zoneEps)
		bw, bh := i1-i0+1, j1-j0+1
		if cap(mark) < bw*bh {
			mark = make([]bool, bw*bh)
		}
		mark = mark[:bw*bh]
		clear(mark)
		set := func(i, j int) {
			if i >= i0 && i <= i1 && j >= j0 && j <= j1 {
				mark[(j-j0)*bw+(i-i0)] = true
			}
		}
		for _, p := range z.Geometry {
			for _, r := range p {
				for e := 0; e+1 < len(r); e++ {
					t.markSegment(r[e], r[e+1], set)
				}
				if n := len(r); n > 1 && r[0] != r[n-1] {
					t.markSegment(r[n-1], r[0], set)
				}
			}
		}
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				cell := uint64(j*t.nx + i)
				if mark[(j-j0)*bw+(i-i0)] {
					pairs = append(pairs, cell<<32|uint64(zi)<<1|1)
					continue
				}
				c := orb.Point{t.minX + (float64(i)+0.5)*t.cw, t.minY + (float64(j)+0.5)*t.ch}
				if t.areas[zi].Contains(c) {
					pairs = append(pairs, cell<<32|uint64(zi)<<1)
				}
			}
		}
	}
	return pairs, ctx.Err()
}

// group sorts the pairs by cell (then zone) and stores each distinct cell
// content once.
func (t *ZoneTable) group(pairs []uint64) {
	// by cell, then zone (LSD radix sort of the whole key)
	pairs = radixSort(pairs, nil, func(v *uint64) uint64 { return *v })
	t.cells = make([]uint32, t.nx*t.ny)
	t.setOff = []uint32{0, 0} // set 0 is the empty set
	dedup := map[string]uint32{"": 0}
	var key []byte
	for a := 0; a < len(pairs); {
		cell := pairs[a] >> 32
		b := a
		key = key[:0]
		for b < len(pairs) && pairs[b]>>32 == cell {
			v := uint32(pairs[b])
			key = append(key, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
			b++
		}
		id, ok := dedup[string(key)]
		if !ok {
			for q := a; q < b; q++ {
				t.entries = append(t.entries, int32(uint32(pairs[q])))
			}
			id = uint32(len(t.setOff) - 1)
			t.setOff = append(t.setOff, uint32(len(t.entries)))
			dedup[string(key)] = id
		}
		t.cells[cell] = id
		a = b
	}
}

func (t *ZoneTable) col(x float64) int {
	i := int(math.Floor((x - t.minX) / t.cw))
	return min(max(i, 0), t.nx-1)
}

func (t *ZoneTable) row(y float64) int {
	j := int(math.Floor((y - t.minY) / t.ch))
	return min(max(j, 0), t.ny-1)
}

// markSegment calls set for every cell that the segment a–b, padded by
// zoneEps, may touch: column by column, the cells between the segment's
// lowest and highest latitude within the column.
func (t *ZoneTable) markSegment(a, b orb.Point, set func(i, j int)) {
	if a[0] > b[0] {
		a, b = b, a
	}
	i0, i1 := t.col(a[0]-zoneEps), t.col(b[0]+zoneEps)
	dx := b[0] - a[0]
	for i := i0; i <= i1; i++ {
		var ylo, yhi float64
		if dx <= 0 || i0 == i1 {
			ylo, yhi = math.Min(a[1], b[1]), math.Max(a[1], b[1])
		} else {
			xl := math.Max(a[0], t.minX+float64(i)*t.cw-zoneEps)
			xr := math.Min(b[0], t.minX+float64(i+1)*t.cw+zoneEps)
			yl := a[1] + (xl-a[0])/dx*(b[1]-a[1])
			yr := a[1] + (xr-a[0])/dx*(b[1]-a[1])
			ylo, yhi = math.Min(yl, yr), math.Max(yl, yr)
		}
		for j := t.row(ylo - zoneEps); j <= t.row(yhi+zoneEps); j++ {
			set(i, j)
		}
	}
}
