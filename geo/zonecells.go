package geo

import (
	"math"
	"sync"

	"github.com/paulmach/orb"
)

// zoneCells is a uniform grid over the zones of a snapshot listing, for each
// cell, the zones whose bounding box meets it. A point lookup then tests only
// the few zones of its cell, instead of walking the R-tree. It is built on
// the first lookup after the zones change and shared by later snapshots
// until the zones change again.
type zoneCells struct {
	bound  orb.Bound
	nx, ny int
	cw, ch float64
	start  []int32
	items  []*zoneEntry
}

// zoneCellsHolder builds the cells once per zone state.
type zoneCellsHolder struct {
	once  sync.Once
	cells *zoneCells
}

func (h *zoneCellsHolder) get(s *Snapshot) *zoneCells {
	h.once.Do(func() { h.cells = buildZoneCells(s) })
	return h.cells
}

func buildZoneCells(s *Snapshot) *zoneCells {
	var entries []*zoneEntry
	s.zoneIDs.Scan(func(_ string, ze *zoneEntry) bool {
		entries = append(entries, ze)
		return true
	})
	zc := &zoneCells{}
	if len(entries) == 0 {
		return zc
	}
	b := entries[0].area.bound
	for _, ze := range entries[1:] {
		b = b.Union(ze.area.bound)
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	if w <= 0 {
		w = 1e-9
	}
	if h <= 0 {
		h = 1e-9
	}
	target := float64(len(entries) * 4)
	target = math.Min(math.Max(target, 64), 1<<20)
	side := math.Sqrt(w * h / target)
	nx := int(math.Max(1, math.Min(4096, math.Ceil(w/side))))
	ny := int(math.Max(1, math.Min(4096, math.Ceil(h/side))))
	zc.bound, zc.nx, zc.ny, zc.cw, zc.ch = b, nx, ny, w/float64(nx), h/float64(ny)
	counts := make([]int32, nx*ny+1)
	span := func(ze *zoneEntry) (x0, y0, x1, y1 int) {
		zb := ze.area.bound
		x0, y0 = zc.cell(zb.Min)
		x1, y1 = zc.cell(zb.Max)
		return
	}
	for _, ze := range entries {
		x0, y0, x1, y1 := span(ze)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				counts[y*nx+x+1]++
			}
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	zc.start = counts
	zc.items = make([]*zoneEntry, counts[len(counts)-1])
	fill := make([]int32, nx*ny)
	copy(fill, counts[:nx*ny])
	for _, ze := range entries {
		x0, y0, x1, y1 := span(ze)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				c := y*nx + x
				zc.items[fill[c]] = ze
				fill[c]++
			}
		}
	}
	return zc
}

func (zc *zoneCells) cell(p orb.Point) (int, int) {
	x := int((p[0] - zc.bound.Min[0]) / zc.cw)
	y := int((p[1] - zc.bound.Min[1]) / zc.ch)
	return min(max(x, 0), zc.nx-1), min(max(y, 0), zc.ny-1)
}

// candidates returns the zones whose bounding box may contain p.
func (zc *zoneCells) candidates(p orb.Point) []*zoneEntry {
	if zc.nx == 0 || p[0] < zc.bound.Min[0] || p[0] > zc.bound.Max[0] || p[1] < zc.bound.Min[1] || p[1] > zc.bound.Max[1] {
		return nil
	}
	x, y := zc.cell(p)
	c := y*zc.nx + x
	return zc.items[zc.start[c]:zc.start[c+1]]
}
