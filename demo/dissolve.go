package demo

import (
	"math"
	"slices"
)

// A lattice point of a raster: cell (i, j) spans [i, i+1] × [j, j+1].
type lpt = [2]float64

// dissolveRaster turns a raster of owners (owner[j*nx+i] in 0..n, 0 for
// none) into the outline of each owner's cells: polygons (exterior ring
// counter-clockwise, then its holes) in lattice coordinates, by owner.
// Cells of one owner sharing an edge are one polygon; no cell edge is left
// inside. The boundary between two owners (or an owner and nothing) is cut
// into arcs at the lattice points where three or more owners meet, and
// each arc is simplified once with Douglas–Peucker at tol cells, in a
// canonical direction, so that both sides get the same line and the
// owners still partition the plane.
func dissolveRaster(owner []int, nx, ny, n int, tol float64) [][][][]lpt {
	at := func(i, j int) int {
		if i < 0 || j < 0 || i >= nx || j >= ny {
			return 0
		}
		return owner[j*nx+i]
	}
	type vtx struct{ i, j int }
	type edge struct{ a, b vtx }
	// directed boundary edges of each owner, its cells on the left
	out := make([]map[vtx][]vtx, n+1)
	for o := range out {
		out[o] = map[vtx][]vtx{}
	}
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			o := at(i, j)
			if o == 0 {
				continue
			}
			add := func(a, b vtx) { out[o][a] = append(out[o][a], b) }
			if at(i, j-1) != o {
				add(vtx{i, j}, vtx{i + 1, j})
			}
			if at(i+1, j) != o {
				add(vtx{i + 1, j}, vtx{i + 1, j + 1})
			}
			if at(i, j+1) != o {
				add(vtx{i + 1, j + 1}, vtx{i, j + 1})
			}
			if at(i-1, j) != o {
				add(vtx{i, j + 1}, vtx{i, j})
			}
		}
	}
	// node: a lattice point where the four cells around it are not just
	// two owners split by a straight line (three or more owners, or a
	// diagonal pinch): arcs end there.
	isNode := func(v vtx) bool {
		c := [4]int{at(v.i-1, v.j-1), at(v.i, v.j-1), at(v.i, v.j), at(v.i-1, v.j)}
		distinct := map[int]bool{c[0]: true, c[1]: true, c[2]: true, c[3]: true}
		if len(distinct) >= 3 {
			return true
		}
		return len(distinct) == 2 && c[0] == c[2] && c[1] == c[3]
	}
	dir := func(a, b vtx) vtx { return vtx{b.i - a.i, b.j - a.j} }
	// left-turn preference at a pinch keeps diagonal cells apart
	turnRank := func(in, out vtx) int {
		cross := in.i*out.j - in.j*out.i
		switch {
		case cross > 0:
			return 0 // left
		case cross == 0:
			return 1 // straight
		}
		return 2 // right
	}
	simplified := map[string][]lpt{} // canonical arc → simplified
	simplifyArc := func(arc []vtx, closed bool) []lpt {
		pts := make([]lpt, len(arc))
		for k, v := range arc {
			pts[k] = lpt{float64(v.i), float64(v.j)}
		}
		// canonical form: an open arc from its smaller end; a closed one
		// from its smallest point, towards its smaller neighbour
		less := func(a, b lpt) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }
		rev := false
		if closed {
			pts = pts[:len(pts)-1]
			m := 0
			for k := range pts {
				if less(pts[k], pts[m]) {
					m = k
				}
			}
			rot := append(slices.Clone(pts[m:]), pts[:m]...)
			if less(rot[len(rot)-1], rot[1]) {
				slices.Reverse(rot[1:])
				rev = true
			}
			pts = append(rot, rot[0])
			// the caller's start point is lost: closed rings restart anywhere
		} else if less(pts[len(pts)-1], pts[0]) {
			slices.Reverse(pts)
			rev = true
		}
		key := keyOf(pts)
		s, ok := simplified[key]
		if !ok {
			if closed {
				far := 0
				for k := range pts {
					if dist2(pts[k], pts[0]) > dist2(pts[far], pts[0]) {
						far = k
					}
				}
				a := douglasPeucker(pts[:far+1], tol)
				b := douglasPeucker(pts[far:], tol)
				s = append(a, b[1:]...)
				if len(s) < 4 {
					s = pts
				}
			} else {
				s = douglasPeucker(pts, tol)
			}
			simplified[key] = s
		}
		s = slices.Clone(s)
		if rev {
			if closed {
				slices.Reverse(s[1 : len(s)-1])
			} else {
				slices.Reverse(s)
			}
		}
		return s
	}
	res := make([][][][]lpt, n+1)
	for o := 1; o <= n; o++ {
		var rings [][]lpt
		used := map[edge]bool{}
		starts := make([]vtx, 0, len(out[o]))
		for v := range out[o] {
			starts = append(starts, v)
		}
		slices.SortFunc(starts, func(a, b vtx) int {
			if a.j != b.j {
				return a.j - b.j
			}
			return a.i - b.i
		})
		for _, s := range starts {
			for _, t := range out[o][s] {
				if used[edge{s, t}] {
					continue
				}
				// trace a ring
				ring := []vtx{s}
				a, b := s, t
				for {
					used[edge{a, b}] = true
					ring = append(ring, b)
					if b == s {
						break
					}
					nexts := out[o][b]
					best, br := vtx{}, 9
					for _, c := range nexts {
						if used[edge{b, c}] {
							continue
						}
						if r := turnRank(dir(a, b), dir(b, c)); r < br {
							best, br = c, r
						}
					}
					if br == 9 {
						break // cannot happen on a closed boundary
					}
					a, b = b, best
				}
				// drop collinear lattice points, cut at nodes, simplify the arcs
				var nodes []int
				for k := 0; k < len(ring)-1; k++ {
					if isNode(ring[k]) {
						nodes = append(nodes, k)
					}
				}
				var pts []lpt
				if len(nodes) == 0 {
					pts = simplifyArc(ring, true)
				} else {
					// rotate to start at the first node
					r := append(slices.Clone(ring[nodes[0]:len(ring)-1]), ring[:nodes[0]+1]...)
					cut := []int{}
					for k := 0; k < len(r)-1; k++ {
						if isNode(r[k]) {
							cut = append(cut, k)
						}
					}
					cut = append(cut, len(r)-1)
					pts = []lpt{{float64(r[0].i), float64(r[0].j)}}
					for c := 0; c+1 < len(cut); c++ {
						arc := simplifyArc(r[cut[c]:cut[c+1]+1], false)
						pts = append(pts, arc[1:]...)
					}
				}
				pts = dropSpikes(pts)
				if len(pts) >= 4 {
					rings = append(rings, pts)
				}
			}
		}
		// exteriors (counter-clockwise) take the holes inside them
		var polys [][][]lpt
		var holes [][]lpt
		for _, r := range rings {
			if ringArea(r) > 0 {
				polys = append(polys, [][]lpt{r})
			} else {
				holes = append(holes, r)
			}
		}
		for _, h := range holes {
			p := interiorPoint(h)
			for k := range polys {
				if ringContains(polys[k][0], p) {
					polys[k] = append(polys[k], h)
					break
				}
			}
		}
		res[o] = polys
	}
	return res
}

func keyOf(pts []lpt) string {
	b := make([]byte, 0, len(pts)*8)
	for _, p := range pts {
		b = append(b, byte(int(p[0])), byte(int(p[0])>>8), byte(int(p[1])), byte(int(p[1])>>8))
	}
	return string(b)
}

func dist2(a, b lpt) float64 { return (a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) }

// douglasPeucker simplifies an open polyline, keeping its ends.
func douglasPeucker(pts []lpt, tol float64) []lpt {
	if len(pts) <= 2 {
		return slices.Clone(pts)
	}
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	var rec func(a, b int)
	rec = func(a, b int) {
		best, bd := -1, tol
		for k := a + 1; k < b; k++ {
			if d := segDist(pts[k], pts[a], pts[b]); d > bd {
				best, bd = k, d
			}
		}
		if best >= 0 {
			keep[best] = true
			rec(a, best)
			rec(best, b)
		}
	}
	rec(0, len(pts)-1)
	out := make([]lpt, 0, len(pts))
	for k, p := range pts {
		if keep[k] {
			out = append(out, p)
		}
	}
	return out
}

// segDist is the distance of p from the segment ab.
func segDist(p, a, b lpt) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// ringArea is twice the signed area (positive counter-clockwise).
func ringArea(r []lpt) float64 {
	a := 0.0
	for k := 0; k+1 < len(r); k++ {
		a += r[k][0]*r[k+1][1] - r[k+1][0]*r[k][1]
	}
	return a
}

// interiorPoint is a point just inside a ring's edge (the middle of its
// first edge, moved a little to the edge's left or right: inside a hole
// ring, outside its exterior, on the side of the enclosing polygon).
func interiorPoint(r []lpt) lpt {
	a, b := r[0], r[1]
	return lpt{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
}

// ringContains is the even-odd test of p against a ring.
func ringContains(r []lpt, p lpt) bool {
	in := false
	for k := 0; k+1 < len(r); k++ {
		a, b := r[k], r[k+1]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}

// dropSpikes removes the zero-width spikes (a, p, a) that simplifying a
// one-cell-wide strip leaves, and repeated points, from a closed ring. The
// neighbour's ring has the same spike reversed, so both lose it.
func dropSpikes(r []lpt) []lpt {
	if len(r) < 4 {
		return r
	}
	pts := slices.Clone(r[:len(r)-1])
	for changed := true; changed && len(pts) >= 3; {
		changed = false
		for k := 0; k < len(pts) && len(pts) >= 3; k++ {
			prev, next := pts[(k+len(pts)-1)%len(pts)], pts[(k+1)%len(pts)]
			switch {
			case pts[k] == next:
				pts = slices.Delete(pts, k, k+1)
				changed = true
			case prev == next:
				// a → p → a: drop p and the second a
				i, j := k, (k+1)%len(pts)
				if j < i {
					i, j = j, i
				}
				pts = slices.Delete(pts, j, j+1)
				pts = slices.Delete(pts, i, i+1)
				changed = true
			}
		}
	}
	if len(pts) < 3 {
		return nil
	}
	return append(pts, pts[0])
}
