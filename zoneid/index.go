package zoneid

import (
	"github.com/marketgeo/marketgeo/geo"
)

// table is one state of the index's zones as zoneid reads it: the index's
// zone table (geo.ZoneTable, the one point-in-zone accelerator, shared with
// geo.Snapshot.ZonesAt and the grid the index gives every entity) and the
// zone numbers of the FTZ and grid layers. Answers are exactly those of
// geo.Index.ZonesAt, boundary rule included.
type table struct {
	*geo.ZoneTable
	ftzLo, ftzHi   int32 // FTZ zones are numbered [ftzLo, ftzHi)
	gridLo, gridHi int32 // grid zones are numbered [gridLo, gridHi)
}

func newTable(zt *geo.ZoneTable, o Options) *table {
	t := &table{ZoneTable: zt}
	t.ftzLo, t.ftzHi = zt.LayerRange(o.FTZLayer)
	t.gridLo, t.gridHi = zt.LayerRange(o.gridLayer)
	return t
}

func (t *table) isFTZ(zi int32) bool  { return zi >= t.ftzLo && zi < t.ftzHi }
func (t *table) isGrid(zi int32) bool { return zi >= t.gridLo && zi < t.gridHi }
