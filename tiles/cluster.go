package tiles

import (
	"context"
	"math"
	"math/bits"

	"github.com/marketgeo/marketgeo/geo"
)

// clusterCell accumulates the points of one cluster cell. It holds no
// pointer (the first point is found by bucket and point index), so the
// pooled cell array costs the garbage collector nothing.
type clusterCell struct {
	n      int32
	byRisk [5]int32
	fb, fi uint32 // first point: l.bks[fb].cells[fc][fi]
	fc     uint16
	sx, sy float64
}

// renderEntityLayer writes the entity features of tile (z, x, y) into l
// from the point store: individual points (the tile plus its buffer) above
// ClusterMaxZoom while there are at most MaxPoints of them, clusters
// otherwise. It holds the store's read lock throughout and returns the
// index version the tile reflects.
func (r *Renderer) renderEntityLayer(ctx context.Context, l *pointLayer, t *Tile, f geo.Filter) (uint64, error) {
	s := r.points
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, x, y := uint32(t.Z), uint32(t.X), uint32(t.Y)
	m := newMatcher(&s.dict, f)
	if t.Z <= r.opts.ClusterMaxZoom {
		n, err := r.renderClusters(ctx, l, m, z, x, y, r.opts.ClusterCell)
		t.Clustered, t.Points = true, n
		return s.version, err
	}
	scale := float64(uint64(1) << z)
	ext := float64(r.opts.Extent)
	buf := float64(r.opts.Buffer) / ext
	x0, y0 := (float64(x)-buf)/scale, (float64(y)-buf)/scale
	x1, y1 := (float64(x+1)+buf)/scale, (float64(y+1)+buf)/scale
	sel := l.sel[:0]
	maxPts := r.opts.MaxPoints
	err := s.eachIn(ctx, x0, y0, x1, y1, m, func(b *bucket, p *storedPoint) bool {
		sel = append(sel, selPoint{b, p})
		return len(sel) <= maxPts
	})
	l.sel = sel
	if err != nil {
		return 0, err
	}
	if len(sel) > maxPts {
		clear(l.sel)
		l.sel = l.sel[:0]
		n, err := r.renderClusters(ctx, l, m, z, x, y, max(16, r.opts.ClusterCell/4))
		t.Clustered, t.Points = true, n
		return s.version, err
	}
	ox, oy := float64(x), float64(y)
	for i, sp := range sel {
		if i&255 == 255 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		p := sp.p
		l.entity(s, sp.b, p, int64(math.Floor((p.fx*scale-ox)*ext)), int64(math.Floor((p.fy*scale-oy)*ext)))
	}
	t.Points = len(sel)
	return s.version, nil
}

// renderClusters writes the entity points of tile (z, x, y) grouped on a
// grid of cell×cell tile units: a cell holding one point gives that
// entity's feature, a cell holding more gives a cluster feature at the
// mean position with count and count_A … count_D. Only points inside the
// tile (not its buffer) are counted, so the counts of a tile add up to the
// entities in its bounds. The caller holds the store's read lock.
func (r *Renderer) renderClusters(ctx context.Context, l *pointLayer, m *matcher, z, x, y uint32, cell uint32) (int, error) {
	s := r.points
	ext := float64(r.opts.Extent)
	// Extent is a power of two, so is every cell size dividing it.
	cshift := uint(bits.TrailingZeros32(cell))
	sshift := uint(bits.TrailingZeros32(r.opts.Extent)) - cshift
	side := 1 << sshift
	if cap(l.cells) < side*side {
		l.cells = make([]clusterCell, side*side)
	}
	cells := l.cells[:side*side]
	clear(cells)
	scale := float64(uint64(1) << z)
	ox, oy := float64(x), float64(y)
	x0, y0, x1, y1 := ox/scale, oy/scale, (ox+1)/scale, (oy+1)/scale
	all := m.all()
	bks := l.bks[:0]
	var err error
	var fb uint32
	s.eachCell(x0, y0, x1, y1, func(b *bucket, ci int, pts []storedPoint, inside bool) bool {
		if len(bks) == 0 || bks[len(bks)-1] != b {
			if err = ctx.Err(); err != nil {
				return false
			}
			fb = uint32(len(bks))
			bks = append(bks, b)
		}
		for i := range pts {
			p := &pts[i]
			if !inside && (p.fx < x0 || p.fx >= x1 || p.fy < y0 || p.fy >= y1) {
				continue
			}
			if !all && !m.ok(p) {
				continue
			}
			tx := (p.fx*scale - ox) * ext
			ty := (p.fy*scale - oy) * ext
			ix, iy := int(tx), int(ty)
			if ix < 0 || iy < 0 || ix >= int(ext) || iy >= int(ext) {
				continue // rounding at the tile's edge
			}
			c := &cells[(iy>>cshift)<<sshift|ix>>cshift]
			if c.n == 0 {
				c.fb, c.fc, c.fi = fb, uint16(ci), uint32(i)
			}
			c.n++
			c.byRisk[p.risk]++
			c.sx += tx
			c.sy += ty
		}
		return true
	})
	l.bks = bks
	if err != nil {
		return 0, err
	}
	total := 0
	for i := range cells {
		c := &cells[i]
		switch {
		case c.n == 0:
			continue
		case c.n == 1:
			b := bks[c.fb]
			l.entity(s, b, &b.cells[c.fc][c.fi], int64(math.Floor(c.sx)), int64(math.Floor(c.sy)))
		default:
			l.cluster(s, c)
		}
		total += int(c.n)
	}
	return total, nil
}

// dominantRisk is the code of the worst risk class present in a cluster (D
// over C over B over A), which is what a regulator's map colours a cluster
// by; 0 when none is rated.
func dominantRisk(by [5]int) uint8 {
	for i := 4; i >= 1; i-- {
		if by[i] > 0 {
			return uint8(i)
		}
	}
	return 0
}
