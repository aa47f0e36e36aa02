package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// TestOgrinfoReadsTheStore opens a store file with GDAL's ogrinfo, an
// independent GeoPackage reader: every layer is listed with the feature
// count of the index, and the change log as a table of its own. Skipped
// where ogrinfo is absent, unless MARKETGEO_REQUIRE_OGRINFO is set (CI).
func TestOgrinfoReadsTheStore(t *testing.T) {
	ogr, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("MARKETGEO_REQUIRE_OGRINFO") != "" {
			t.Fatal("ogrinfo not found (Debian package gdal-bin)")
		}
		t.Skip("ogrinfo not found (Debian package gdal-bin)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ogr.gpkg")
	st, ix := openStore(t, path)
	seedDemo(t, st, 3000)
	// some deletes and a new feature, so that counts are not the import's
	var del []store.Write
	ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		del = append(del, store.Write{Layer: geo.LayerEntities, ID: e.ID})
		return len(del) < 17
	})
	e := entity(99, 106.5, 29.6)
	del = append(del, store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e})
	if _, err := st.Apply(ctx, "t", del); err != nil {
		t.Fatal(err)
	}
	c := ix.Snapshot().Counts()
	seq := st.Seq()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ogr, "-ro", "-so", "-al", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	got := map[string]int{}
	re := regexp.MustCompile(`(?m)^Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	want := map[string]int{"entities": c.Entities, "buildings": c.Buildings, "places": c.Places, "zones": c.Zones, "mg_changes": int(seq)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ogrinfo: layer %s has %d features, want %d", k, got[k], v)
		}
	}
	if regexp.MustCompile(`(?i)warning|error`).Match(out) {
		t.Errorf("ogrinfo complained:\n%s", out)
	}
	if t.Failed() {
		t.Logf("ogrinfo said:\n%s", out)
	}
	// the geometry of one entity as GDAL reads it is where the index has it
	one, err := exec.Command(ogr, "-ro", "-q", "-where", "id='"+e.ID+"'", path, "entities").CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, one)
	}
	if !regexp.MustCompile(`POINT \(106\.5 29\.6\)`).Match(one) {
		t.Fatalf("entity %s as GDAL reads it:\n%s", e.ID, one)
	}
}
