package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/planar"
)

// TestZoneSummary: the counts by class of an FTZ area and a district equal
// a brute-force count (every entity tested with planar.MultiPolygonContains
// against the zone's geometry); an unknown zone is a 404 JSON error.
func TestZoneSummary(t *testing.T) {
	f, h, _ := zoneServer(t)
	snap := f.idx.Snapshot()
	// the FTZ area and the district of an entity inside the FTZ
	var ids []string
	for _, e := range f.ds.Entities {
		zs, err := snap.ZonesAt(context.Background(), e.Location, "ftz", "district")
		if err != nil {
			t.Fatal(err)
		}
		if len(zs) == 2 {
			for _, z := range zs {
				ids = append(ids, z.ID)
			}
			break
		}
	}
	if len(ids) != 2 {
		t.Fatalf("zones %v", ids)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			z, _ := snap.Zone(id)
			want := map[string]int{}
			n := 0
			snap.ScanEntities(func(e *geo.Entity) bool {
				if planar.MultiPolygonContains(z.Geometry, e.Location) {
					want[string(e.Risk)]++
					n++
				}
				return true
			})
			rec := do(h, "GET", "/api/v1/zones/"+id+"/summary", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var got struct {
				Zone     map[string]any `json:"zone"`
				Entities int            `json:"entities"`
				ByRisk   map[string]int `json:"by_risk"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Zone["name"] != z.Name || got.Zone["layer"] != z.Layer {
				t.Errorf("zone %v", got.Zone)
			}
			if got.Entities != n || n == 0 {
				t.Errorf("entities %d, brute force %d", got.Entities, n)
			}
			for _, k := range []string{"A", "B", "C", "D"} {
				if got.ByRisk[k] != want[k] {
					t.Errorf("class %s: %d, brute force %d", k, got.ByRisk[k], want[k])
				}
			}
		})
	}
	rec := do(h, "GET", "/api/v1/zones/NOPE/summary", nil)
	var e map[string]string
	if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e["error"] == "" {
		t.Fatalf("unknown zone: %d %s", rec.Code, rec.Body)
	}
}
