package geo

import (
	"context"

	"github.com/paulmach/orb"
)

// The grid rule, in one place: an entity's GridID is the ID of the zone of
// Options.GridLayer containing its location, the smallest ID when grids
// overlap, "" when none does. The index applies it on every write of an
// entity and re-applies it to the entities under a grid zone that is
// written or deleted (emitting those as derived changes of the commit).

// GridAt returns the ID of the grid zone containing p under the grid rule
// (the GridID the index gives an entity at p), or "". Safe for concurrent use.
func (s *Snapshot) GridAt(p orb.Point) string {
	if s.zoneCount[s.opts.GridLayer] == 0 {
		return ""
	}
	return s.gridAt(p)
}

// gridBulk is the number of grid assignments from which a commit builds
// the zone table first (when it is not yet built for the current zones):
// below it, the zone R-tree answers, without a table build after every
// zone write.
const gridBulk = 2048

// prepareGrids builds the zone table ahead of n grid assignments when n
// is large enough to repay the build.
func (s *Snapshot) prepareGrids(n int) {
	if n >= gridBulk && s.zoneCount[s.opts.GridLayer] > 0 {
		_, _ = s.ztab.get(context.Background(), s) // without cancellation, it cannot fail
	}
}

// gridAt returns the ID of the grid zone containing p, or "". It is safe
// for concurrent use once the zones of s are settled.
func (s *Snapshot) gridAt(p orb.Point) string {
	if t := s.ztab.built(); t != nil {
		lo, hi := t.LayerRange(s.opts.GridLayer)
		if zi := t.FirstAt(p, lo, hi); zi >= 0 {
			return t.zones[zi].ID
		}
		return ""
	}
	id := ""
	s.zones.Search(p, p, func(_, _ [2]float64, ze *zoneEntry) bool {
		if ze.zone.Layer == s.opts.GridLayer && (id == "" || ze.zone.ID < id) && ze.area.Contains(p) {
			id = ze.zone.ID
		}
		return true
	})
	return id
}
