package tiles

import (
	"context"
	"math"

	"github.com/marketgeo/marketgeo/geo"
)

// clusterCell accumulates the points of one cluster cell.
type clusterCell struct {
	n      int
	byRisk [5]int
	sx, sy float64
	first  selPoint
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
	side := int(r.opts.Extent / cell)
	if cap(l.cells) < side*side {
		l.cells = make([]clusterCell, side*side)
	}
	cells := l.cells[:side*side]
	clear(cells)
	scale := float64(uint64(1) << z)
	ox, oy := float64(x), float64(y)
	icell := int(cell)
	err := s.eachIn(ctx, ox/scale, oy/scale, (ox+1)/scale, (oy+1)/scale, m, func(b *bucket, p *storedPoint) bool {
		tx := (p.fx*scale - ox) * ext
		ty := (p.fy*scale - oy) * ext
		if tx < 0 || ty < 0 || tx >= ext || ty >= ext {
			return true // rounding at the tile's edge
		}
		c := &cells[int(ty)/icell*side+int(tx)/icell]
		c.n++
		c.byRisk[p.risk]++
		c.sx += tx
		c.sy += ty
		if c.n == 1 {
			c.first = selPoint{b, p}
		}
		return true
	})
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
			l.entity(s, c.first.b, c.first.p, int64(math.Floor(c.sx)), int64(math.Floor(c.sy)))
		default:
			l.num("cluster", 1)
			l.num("count", int64(c.n))
			l.num("count_A", int64(c.byRisk[1]))
			l.num("count_B", int64(c.byRisk[2]))
			l.num("count_C", int64(c.byRisk[3]))
			l.num("count_D", int64(c.byRisk[4]))
			l.risk(s, dominantRisk(c.byRisk))
			n := float64(c.n)
			l.add(int64(math.Floor(c.sx/n)), int64(math.Floor(c.sy/n)))
		}
		total += c.n
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
