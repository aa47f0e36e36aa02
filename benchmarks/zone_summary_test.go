package benchmarks

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
)

// BenchmarkZoneSummary measures GET /api/v1/zones/{id}/summary (the web
// map's area card: entities inside a zone by risk class) for an FTZ area
// and a supervision grid, at 79k and 1M entities.
func BenchmarkZoneSummary(b *testing.B) {
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		h, err := server.New(server.Deps{Index: d.Index}, server.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var ftz, grid string
		d.Index.Snapshot().ScanZones(func(z *geo.Zone) bool {
			if z.Layer == "ftz" && ftz == "" {
				ftz = z.ID
			}
			if z.Layer == "grid" && grid == "" {
				grid = z.ID
			}
			return true
		})
		for _, id := range []string{ftz, grid} {
			b.Run(sizeName(n)+"/"+id, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/zones/"+id+"/summary", nil)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
