package zoneid

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// table is an immutable lookup structure over all zones of one index
// state: a uniform grid of cells over the zones' bounding box. For each
// cell it stores the zones that contain the whole cell ("full") and the
// zones whose boundary passes through it ("partial"); only the latter need
// an exact point-in-polygon test, with geo.PreparedArea, so the answer is
// exactly that of geo.Index.ZonesAt, boundary rule included.
type table struct {
	gen   uint64
	snap  *geo.Snapshot
	zones []*geo.Zone         // sorted by layer, then ID
	areas []*geo.PreparedArea // parallel to zones
	ftz   []bool              // zone is of the FTZ layer
	grid  []bool              // zone is of the grid layer
	byID  map[*geo.Zone]int32 // zone -> index
	ftzI  []int32             // indexes of FTZ zones
	gridI []int32             // indexes of grid zones

	empty      bool
	minX, minY float64
	cw, ch     float64 // cell size in degrees
	nx, ny     int
	cells      []uint32 // cell -> index into setOff
	setOff     []uint32 // set k is entries[setOff[k]:setOff[k+1]]
	entries    []int32  // zone index << 1 | 1 if partial
}

// eps pads every edge when cells are marked, far above float64 rounding of
// the cell arithmetic and far below any real distance (1e-9° ≈ 0.1 mm).
const eps = 1e-9

func buildTable(ctx context.Context, snap *geo.Snapshot, gen uint64, o Options) (*table, error) {
	t := &table{gen: gen, snap: snap, byID: map[*geo.Zone]int32{}}
	snap.ScanZones(func(z *geo.Zone) bool {
		t.zones = append(t.zones, z)
		return true
	})
	slices.SortFunc(t.zones, func(a, b *geo.Zone) int {
		if c := strings.Compare(a.Layer, b.Layer); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(t.zones) == 0 {
		t.empty = true
		return t, nil
	}
	var bound orb.Bound
	for i, z := range t.zones {
		pa := geo.Prepare(z.Geometry)
		t.areas = append(t.areas, pa)
		t.ftz = append(t.ftz, z.Layer == o.FTZLayer)
		t.grid = append(t.grid, z.Layer == o.gridLayer)
		t.byID[z] = int32(i)
		if z.Layer == o.FTZLayer {
			t.ftzI = append(t.ftzI, int32(i))
		}
		if z.Layer == o.gridLayer {
			t.gridI = append(t.gridI, int32(i))
		}
		if i == 0 {
			bound = pa.Bound()
		} else {
			bound = bound.Union(pa.Bound())
		}
	}
	// square-ish cells (in metres) within the cell budget
	w := math.Max(bound.Max[0]-bound.Min[0], 1e-6)
	h := math.Max(bound.Max[1]-bound.Min[1], 1e-6)
	k := math.Cos(bound.Center()[1] * math.Pi / 180)
	side := math.Sqrt(w * k * h / float64(o.MaxCells)) // in "latitude degrees"
	t.cw, t.ch = side/k, side
	t.nx = int(w/t.cw) + 1
	t.ny = int(h/t.ch) + 1
	for t.nx*t.ny > o.MaxCells {
		t.cw *= 1.01
		t.ch *= 1.01
		t.nx = int(w/t.cw) + 1
		t.ny = int(h/t.ch) + 1
	}
	t.minX, t.minY = bound.Min[0], bound.Min[1]

	// (cell, entry) pairs, then grouped by cell
	var pairs []uint64
	var mark []bool
	for zi, z := range t.zones {
		if zi%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		b := t.areas[zi].Bound()
		i0, j0 := t.col(b.Min[0]-eps), t.row(b.Min[1]-eps)
		i1, j1 := t.col(b.Max[0]+eps), t.row(b.Max[1]+eps)
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.Sort(pairs)
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
	return t, nil
}

func (t *table) col(x float64) int {
	i := int(math.Floor((x - t.minX) / t.cw))
	return min(max(i, 0), t.nx-1)
}

func (t *table) row(y float64) int {
	j := int(math.Floor((y - t.minY) / t.ch))
	return min(max(j, 0), t.ny-1)
}

// markSegment calls set for every cell that the segment a–b, padded by
// eps, may touch: column by column, the cells between the segment's lowest
// and highest latitude within the column.
func (t *table) markSegment(a, b orb.Point, set func(i, j int)) {
	if a[0] > b[0] {
		a, b = b, a
	}
	i0, i1 := t.col(a[0]-eps), t.col(b[0]+eps)
	dx := b[0] - a[0]
	for i := i0; i <= i1; i++ {
		var ylo, yhi float64
		if dx <= 0 || i0 == i1 {
			ylo, yhi = math.Min(a[1], b[1]), math.Max(a[1], b[1])
		} else {
			xl := math.Max(a[0], t.minX+float64(i)*t.cw-eps)
			xr := math.Min(b[0], t.minX+float64(i+1)*t.cw+eps)
			yl := a[1] + (xl-a[0])/dx*(b[1]-a[1])
			yr := a[1] + (xr-a[0])/dx*(b[1]-a[1])
			ylo, yhi = math.Min(yl, yr), math.Max(yl, yr)
		}
		for j := t.row(ylo - eps); j <= t.row(yhi+eps); j++ {
			set(i, j)
		}
	}
}

// lookup appends the indexes of the zones containing p, in zone order.
func (t *table) lookup(buf []int32, p orb.Point) []int32 {
	if t.empty {
		return buf
	}
	x, y := p[0], p[1]
	fx := (x - t.minX) / t.cw
	fy := (y - t.minY) / t.ch
	if !(fx >= 0 && fy >= 0) || fx > float64(t.nx) || fy > float64(t.ny) {
		return buf // outside every zone's bounding box (or NaN)
	}
	i, j := int(fx), int(fy)
	if i >= t.nx {
		i = t.nx - 1
	}
	if j >= t.ny {
		j = t.ny - 1
	}
	s := t.cells[j*t.nx+i]
	for _, e := range t.entries[t.setOff[s]:t.setOff[s+1]] {
		if e&1 == 0 || t.areas[e>>1].Contains(p) {
			buf = append(buf, e>>1)
		}
	}
	return buf
}
