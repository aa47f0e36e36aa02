package tiles

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/geo"
)

// pointStore buckets every entity by the tile of zoom bz that contains it,
// with its Web-Mercator position and risk/status codes, so that a
// clustered tile reads only the buckets under it instead of asking the
// index for every point (the index caps a query at MaxLimit hits). It is
// kept current by the renderer's Follow callback.
type pointStore struct {
	mu      sync.RWMutex
	bz      uint
	buckets map[uint64][]storedPoint
	version uint64 // index version the buckets reflect
}

type storedPoint struct {
	fx, fy float64
	e      *geo.Entity
	risk   uint8 // 0 unknown, 1..4 = A..D
}

func riskCode(r geo.Risk) uint8 {
	switch r {
	case geo.RiskA:
		return 1
	case geo.RiskB:
		return 2
	case geo.RiskC:
		return 3
	case geo.RiskD:
		return 4
	}
	return 0
}

func newPointStore(bz uint) *pointStore {
	return &pointStore{bz: bz, buckets: map[uint64][]storedPoint{}}
}

func (s *pointStore) bucketOf(fx, fy float64) uint64 {
	n := float64(uint64(1) << s.bz)
	bx := uint64(clampF(math.Floor(fx*n), 0, n-1))
	by := uint64(clampF(math.Floor(fy*n), 0, n-1))
	return bx<<32 | by
}

func clampF(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// add and remove must be called with mu held for writing.
func (s *pointStore) add(e *geo.Entity) {
	fx, fy := mercator(e.Location[0], e.Location[1])
	k := s.bucketOf(fx, fy)
	s.buckets[k] = append(s.buckets[k], storedPoint{fx: fx, fy: fy, e: e, risk: riskCode(e.Risk)})
}

func (s *pointStore) remove(e *geo.Entity) {
	fx, fy := mercator(e.Location[0], e.Location[1])
	k := s.bucketOf(fx, fy)
	b := s.buckets[k]
	for i := range b {
		if b[i].e == e || b[i].e.ID == e.ID {
			b[i] = b[len(b)-1]
			b[len(b)-1] = storedPoint{}
			b = b[:len(b)-1]
			break
		}
	}
	if len(b) == 0 {
		delete(s.buckets, k)
	} else {
		s.buckets[k] = b
	}
}

// each calls fn for every stored point whose bucket overlaps tile (z, x, y),
// holding the read lock. fn may see points of the bucket outside the tile.
func (s *pointStore) each(ctx context.Context, z, x, y uint32, fn func(*storedPoint)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	visit := func(b []storedPoint) error {
		for i := range b {
			if i&1023 == 1023 && ctx.Err() != nil {
				return ctx.Err()
			}
			fn(&b[i])
		}
		return ctx.Err()
	}
	bz := uint32(s.bz)
	if z >= bz {
		k := uint64(x>>(z-bz))<<32 | uint64(y>>(z-bz))
		return visit(s.buckets[k])
	}
	sh := bz - z
	x0, x1 := uint64(x)<<sh, uint64(x+1)<<sh
	y0, y1 := uint64(y)<<sh, uint64(y+1)<<sh
	if (x1-x0)*(y1-y0) > uint64(len(s.buckets)) {
		for k, b := range s.buckets {
			bx, by := k>>32, k&0xffffffff
			if bx >= x0 && bx < x1 && by >= y0 && by < y1 {
				if err := visit(b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for bx := x0; bx < x1; bx++ {
		for by := y0; by < y1; by++ {
			if b, ok := s.buckets[bx<<32|by]; ok {
				if err := visit(b); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// exceeds reports whether more than max stored points matching f lie in
// tile (z, x, y): a cheap pre-count that spares a point tile's index query
// when the tile will be clustered anyway.
func (r *Renderer) exceeds(ctx context.Context, z, x, y uint32, f geo.Filter, max int) bool {
	scale := float64(uint64(1) << z)
	x0, y0 := float64(x)/scale, float64(y)/scale
	x1, y1 := float64(x+1)/scale, float64(y+1)/scale
	m := newMatcher(f)
	n := 0
	_ = r.points.each(ctx, z, x, y, func(p *storedPoint) {
		if p.fx >= x0 && p.fx < x1 && p.fy >= y0 && p.fy < y1 && m.ok(p) {
			n++
		}
	})
	return n > max
}

// matcher applies a geo.Filter to stored points with the semantics of the
// geo index (risk and status sets, GB/T 4754 prefixes with or without the
// section letter).
type matcher struct {
	risk     [5]bool
	anyRisk  bool
	status   []geo.Status
	industry []string
}

func newMatcher(f geo.Filter) matcher {
	var m matcher
	for _, r := range f.Risk {
		m.risk[riskCode(r)] = true
		m.anyRisk = true
	}
	m.status = f.Status
	for _, in := range f.Industry {
		if in = strings.ToUpper(strings.TrimSpace(in)); in != "" {
			m.industry = append(m.industry, in)
		}
	}
	return m
}

func (m *matcher) ok(p *storedPoint) bool {
	if m.anyRisk && !m.risk[p.risk] {
		return false
	}
	if len(m.status) > 0 {
		found := false
		for _, st := range m.status {
			if p.e.Status == st {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(m.industry) == 0 {
		return true
	}
	ind := p.e.Industry
	for _, pre := range m.industry {
		if strings.HasPrefix(ind, pre) || (len(ind) > 1 && pre[0] >= '0' && pre[0] <= '9' && strings.HasPrefix(ind[1:], pre)) {
			return true
		}
	}
	return false
}

// clusterCell accumulates the points of one cluster cell.
type clusterCell struct {
	n      int
	byRisk [5]int
	sx, sy float64
	first  *storedPoint
}

// renderClusters writes the entity points of tile (z, x, y) grouped on a
// grid of cell×cell tile units: a cell holding one point gives that
// entity's feature, a cell holding more gives a cluster feature at the
// mean position with count and count_A … count_D. Only points inside the
// tile (not its buffer) are counted, so the counts of a tile add up to the
// entities in its bounds.
func (r *Renderer) renderClusters(ctx context.Context, l *pointLayer, z, x, y uint32, cell uint32, f geo.Filter) (int, error) {
	ext := float64(r.opts.Extent)
	side := int(r.opts.Extent / cell)
	cells := make([]clusterCell, side*side)
	scale := float64(uint64(1) << z)
	ox, oy := float64(x), float64(y)
	m := newMatcher(f)
	err := r.points.each(ctx, z, x, y, func(p *storedPoint) {
		tx := (p.fx*scale - ox) * ext
		ty := (p.fy*scale - oy) * ext
		if tx < 0 || ty < 0 || tx >= ext || ty >= ext {
			return
		}
		if !m.ok(p) {
			return
		}
		c := &cells[int(ty)/int(cell)*side+int(tx)/int(cell)]
		c.n++
		c.byRisk[p.risk]++
		c.sx += tx
		c.sy += ty
		if c.first == nil {
			c.first = p
		}
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
			e := c.first.e
			entityProps(l, e)
			l.add(int64(math.Floor(c.sx)), int64(math.Floor(c.sy)))
		default:
			l.num("cluster", 1)
			l.num("count", int64(c.n))
			l.num("count_A", int64(c.byRisk[1]))
			l.num("count_B", int64(c.byRisk[2]))
			l.num("count_C", int64(c.byRisk[3]))
			l.num("count_D", int64(c.byRisk[4]))
			l.str("risk", dominantRisk(c.byRisk))
			n := float64(c.n)
			l.add(int64(math.Floor(c.sx/n)), int64(math.Floor(c.sy/n)))
		}
		total += c.n
	}
	return total, nil
}

// dominantRisk is the worst risk class present in a cluster (D over C over
// B over A), which is what a regulator's map colours a cluster by.
func dominantRisk(by [5]int) string {
	for i := 4; i >= 1; i-- {
		if by[i] > 0 {
			return string("?ABCD"[i])
		}
	}
	return ""
}

func entityProps(l *pointLayer, e *geo.Entity) {
	l.uniq("id", e.ID)
	l.uniq("name", e.Name)
	l.str("risk", string(e.Risk))
	l.str("industry", e.Industry)
	l.str("status", string(e.Status))
}
