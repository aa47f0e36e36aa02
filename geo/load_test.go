package geo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
)

func TestReadEntitiesCSVReportsEveryBadRow(t *testing.T) {
	f, err := os.Open("testdata/entities_bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ents, rep, err := ReadEntitiesCSV(f, "entities_bad.csv", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || rep.Loaded != 1 || rep.Rejected != 6 {
		t.Fatalf("loaded %d (%d), rejected %d; report:\n%s", len(ents), rep.Loaded, rep.Rejected, rep)
	}
	if ents[0].Attrs["floor_area"] != "1200" {
		t.Errorf("extra column not kept: %v", ents[0].Attrs)
	}
	want := []struct {
		row      int
		field    string
		sentinel error
	}{
		{3, "id", ErrInvalidUSCC},
		{4, "name", ErrInvalidFeature},
		{5, "lon", ErrInvalidCoordinate},
		{6, "lat", ErrInvalidCoordinate},
		{7, "risk", ErrInvalidFeature},
		{8, "id", ErrInvalidFeature},
	}
	for i, w := range want {
		got := rep.Errors[i]
		if got.Index != w.row || got.Field != w.field || !errors.Is(got, w.sentinel) {
			t.Errorf("error %d = row %d field %s (%v); want row %d field %s %v", i, got.Index, got.Field, got, w.row, w.field, w.sentinel)
		}
	}
	if !strings.Contains(rep.String(), "record 5 (id 91440300708461136T): lon") {
		t.Errorf("report does not name row, id and field:\n%s", rep)
	}
	// strict mode rejects the whole file
	f.Seek(0, 0)
	ents, _, err = ReadEntitiesCSV(f, "entities_bad.csv", LoadOptions{Strict: true})
	if err == nil || ents != nil {
		t.Fatalf("strict: %d entities, err %v", len(ents), err)
	}
}

func TestReadEntitiesCSVErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"missing lat column", "id,name,lon\n"},
		{"duplicate column", "id,name,lon,lat,lat\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := ReadEntitiesCSV(strings.NewReader(c.in), "x", LoadOptions{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	_, _, err := ReadEntitiesCSV(strings.NewReader("id,name,lon,lat\n"+strings.Repeat("x", 100)), "x", LoadOptions{MaxBytes: 50})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized input: %v", err)
	}
}

func TestCSVRoundTripAndCRS(t *testing.T) {
	// coordinates with every digit of a float64: the round trip is exact
	e := testEntity(1, orb.Point{106.54955543444548, 29.622369567133802})
	e.Address = "重庆市渝北区金开大道68号"
	e.FormerNames = []string{"甲", "乙"}
	var buf bytes.Buffer
	if err := WriteEntitiesCSV(&buf, []Entity{e}); err != nil {
		t.Fatal(err)
	}
	got, rep, err := ReadEntitiesCSV(bytes.NewReader(buf.Bytes()), "rt", LoadOptions{Strict: true})
	if err != nil || rep.Loaded != 1 {
		t.Fatal(err, rep)
	}
	if got[0].ID != e.ID || got[0].Address != e.Address || len(got[0].FormerNames) != 2 || got[0].Location != e.Location {
		t.Fatalf("round trip: %+v", got[0])
	}
	// The same file read as GCJ-02 lands about 500 m away, in WGS-84.
	g, _, _ := ReadEntitiesCSV(bytes.NewReader(buf.Bytes()), "rt", LoadOptions{CRS: crs.GCJ02})
	lon, lat := crs.WGS84ToGCJ02(g[0].Location[0], g[0].Location[1])
	if DistanceM(orb.Point{lon, lat}, e.Location) > 0.01 || DistanceM(g[0].Location, e.Location) < 100 {
		t.Fatalf("GCJ-02 input not converted: %v", g[0].Location)
	}
}

func TestReadGeoJSONPerFeatureErrors(t *testing.T) {
	in := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","id":"z1","properties":{"layer":"grid","name":"一网格","inspector":"王伟"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
	 {"type":"Feature","properties":{"id":"z2","name":"不闭合"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}},
	 {"type":"Feature","properties":{"id":"z3"},"geometry":{"type":"Point","coordinates":[0,0]}},
	 {"type":"Feature","properties":{"id":"z4"},"geometry":{"type":"Polygon","coordinates":"oops"}},
	 {"type":"Feature","properties":{"id":"z5"},"geometry":null},
	 {"type":"Feature","properties":{"id":"z6"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,100],[0,1],[0,0]]]}},
	 {"type":"Feature","properties":{"id":"z1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
	 {"type":"Feature","properties":{"id":"z7","name":"默认层"},"geometry":{"type":"MultiPolygon","coordinates":[[[[2,2],[3,2],[3,3],[2,3],[2,2]]]]}}
	]}`
	fs, rep, err := ReadGeoJSON(strings.NewReader(in), "zones.geojson", LayerZones, LoadOptions{Layer: "custom"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Loaded != 2 || rep.Rejected != 6 {
		t.Fatalf("report:\n%s", rep)
	}
	if fs.Zones[0].Props["inspector"] != "王伟" || fs.Zones[0].Layer != "grid" || fs.Zones[1].Layer != "custom" {
		t.Fatalf("zones: %+v", fs.Zones)
	}
	wantIdx := []int{1, 2, 3, 4, 5, 6}
	for i, e := range rep.Errors {
		if e.Index != wantIdx[i] {
			t.Errorf("error %d at feature %d, want %d: %v", i, e.Index, wantIdx[i], e)
		}
	}
	bad := []string{``, `[]`, `{"type":"Feature"}`, `{"type":"FeatureCollection"}`, `{"type":"FeatureCollection","features":{}}`, `{"type":"FeatureCollection","features":[{]}`}
	for _, b := range bad {
		if _, _, err := ReadGeoJSON(strings.NewReader(b), "x", LayerZones, LoadOptions{}); err == nil {
			t.Errorf("accepted %q", b)
		}
	}
	if _, _, err := ReadGeoJSON(strings.NewReader(in), "x", LayerZones, LoadOptions{MaxVertices: 3}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	ents := []Entity{testEntity(1, orb.Point{106.5, 29.5}), testEntity(2, orb.Point{106.51, 29.5})}
	var buf bytes.Buffer
	_ = WriteEntitiesCSV(&buf, ents)
	os.WriteFile(filepath.Join(dir, "entities.csv"), buf.Bytes(), 0o644)
	z := Features{Zones: []Zone{{ID: "g1", Layer: "grid", Name: "一", Geometry: orb.MultiPolygon{{{{106, 29}, {107, 29}, {107, 30}, {106, 30}, {106, 29}}}}}}}
	b, _ := z.FeatureCollection().MarshalJSON()
	os.WriteFile(filepath.Join(dir, "zones-grid.geojson"), b, 0o644)
	ix, _ := New(Options{})
	reps, err := LoadDir(context.Background(), ix, dir, LoadOptions{})
	if err != nil || len(reps) != 2 {
		t.Fatal(err, reps)
	}
	e, ok := ix.Snapshot().Entity(ents[0].ID)
	if !ok || e.GridID != "g1" {
		t.Fatalf("entity %v grid %q", ok, e.GridID)
	}
	if _, err := LoadDir(context.Background(), ix, t.TempDir(), LoadOptions{}); err == nil {
		t.Fatal("empty dir accepted")
	}
}

func FuzzReadEntitiesCSV(f *testing.F) {
	b, _ := os.ReadFile("testdata/entities_bad.csv")
	f.Add(string(b))
	f.Add("id,name,lon,lat\n\"unterminated")
	f.Fuzz(func(t *testing.T, in string) {
		ents, rep, err := ReadEntitiesCSV(strings.NewReader(in), "fuzz", LoadOptions{})
		if err != nil {
			return
		}
		if len(ents) != rep.Loaded {
			t.Fatalf("%d entities but report says %d", len(ents), rep.Loaded)
		}
		for _, e := range ents {
			if err := e.Validate(); err != nil {
				t.Fatalf("loaded an invalid entity: %v", err)
			}
		}
	})
}

func FuzzReadGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a","name":"x"},"geometry":{"type":"Point","coordinates":[106.5,29.5]}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"z","layer":"g"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		for _, l := range []Layer{LayerPlaces, LayerZones, LayerBuildings, LayerEntities} {
			fs, rep, err := ReadGeoJSON(strings.NewReader(in), "fuzz", l, LoadOptions{MaxVertices: 10000})
			if err != nil {
				continue
			}
			n := len(fs.Entities) + len(fs.Buildings) + len(fs.Places) + len(fs.Zones)
			if n != rep.Loaded {
				t.Fatalf("%d features but report says %d", n, rep.Loaded)
			}
			ix, _ := New(Options{})
			b := ix.Batch()
			for _, z := range fs.Zones {
				if err := b.UpsertZone(z); err != nil {
					t.Fatalf("loaded zone rejected by the index: %v", err)
				}
			}
			for _, p := range fs.Places {
				if err := b.UpsertPlace(p); err != nil {
					t.Fatalf("loaded place rejected by the index: %v", err)
				}
			}
			b.Commit()
		}
	})
}

func TestColPosMatchesColumns(t *testing.T) {
	for i, c := range EntityCSVColumns {
		if colPos(c) != i {
			t.Errorf("colPos(%q) = %d, want %d", c, colPos(c), i)
		}
	}
	if colPos("nope") != -1 {
		t.Error("unknown column has a position")
	}
}

// TestReadEntitiesCSVManyBatches: rows spread over many converter batches
// keep their order; bad rows and duplicates (also across batches) are
// reported in row order with the first occurrence kept.
func TestReadEntitiesCSVManyBatches(t *testing.T) {
	const n = 40000
	var ents []Entity
	for i := 0; i < n; i++ {
		ents = append(ents, testEntity(i, orb.Point{106.5 + float64(i%100)*1e-4, 29.5 + float64(i/100)*1e-4}))
	}
	var buf bytes.Buffer
	if err := WriteEntitiesCSV(&buf, ents); err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 3*csvChunkBytes {
		t.Fatalf("%d bytes: fewer than 3 chunks", buf.Len())
	}
	per := n * csvChunkBytes / buf.Len() // rows a chunk
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// row r of the file is lines[r-1]; row 2 is entity 0
	badRows := map[int]bool{}
	lines[100] = strings.Replace(lines[100], ",106.5", ",abc", 1) // row 101: bad lon
	badRows[101] = true
	lines[per+7] = lines[5] // a duplicate of row 6, in the next batch
	badRows[per+8] = true
	lines[n] = lines[2] // the last row duplicates row 3
	badRows[n+1] = true
	lines[2*per] = `x"y,` + lines[2*per] // a bare quote: a CSV error for this record only
	badRows[2*per+1] = true
	in := strings.Join(lines, "\n") + "\n"
	got, rep, err := ReadEntitiesCSV(strings.NewReader(in), "many", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rep.Errors); i++ {
		if rep.Errors[i].Index < rep.Errors[i-1].Index {
			t.Fatalf("errors out of row order: %v then %v", rep.Errors[i-1], rep.Errors[i])
		}
	}
	for _, fe := range rep.Errors {
		if fe.Field == "id" && !strings.Contains(fe.Reason, "duplicate") {
			t.Errorf("unexpected id error %v", fe)
		}
	}
	for r := range badRows {
		found := false
		for _, fe := range rep.Errors {
			found = found || fe.Index == r
		}
		if !found {
			t.Errorf("row %d not reported; report:\n%s", r, rep)
		}
	}
	if rep.Loaded != len(got) || rep.Loaded+rep.Rejected < n-2 {
		t.Fatalf("loaded %d (%d entities), rejected %d of %d rows", rep.Loaded, len(got), rep.Rejected, n)
	}
	// order kept: IDs of consecutive entities follow the file
	seen := map[string]bool{}
	for i := 1; i < len(got); i++ {
		if seen[got[i].ID] {
			t.Fatalf("duplicate %s loaded", got[i].ID)
		}
		seen[got[i].ID] = true
	}
	if got[0].ID != ents[0].ID || got[5].ID != ents[5].ID {
		t.Fatalf("first entities out of order: %s %s", got[0].ID, got[5].ID)
	}
	// strict: the first bad row stops it
	_, _, err = ReadEntitiesCSV(strings.NewReader(in), "many", LoadOptions{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "record 101") {
		t.Fatalf("strict: %v", err)
	}
}

func TestParseDateEqualsTimeParse(t *testing.T) {
	for _, d := range []string{"2017-04-01", "2020-02-29", "2019-02-29", "2021-13-01", "2021-00-10", "2021-04-31",
		"0000-01-01", "9999-12-31", "2021-4-01", "2021/04/01", "20210401xx", "2021-04-0a", "", "2021-04-01 "} {
		got, gerr := parseDate(d)
		want, werr := time.Parse("2006-01-02", d)
		if (gerr == nil) != (werr == nil) || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; time.Parse: %v, %v", d, got, gerr, want, werr)
		}
	}
}

func TestLoadDirCancelled(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("id,name,lon,lat\n")
	for i := range 20000 {
		fmt.Fprintf(&sb, "%s,公司%d,106.5,29.6\n", makeUSCC(i), i)
	}
	if err := os.WriteFile(filepath.Join(dir, "entities.csv"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _ := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadDir(ctx, ix, dir, LoadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := ix.Snapshot().Counts().Entities; n != 0 {
		t.Fatalf("a cancelled load wrote %d entities", n)
	}
	if _, err := LoadDir(context.Background(), ix, dir, LoadOptions{}); err != nil || ix.Snapshot().Counts().Entities != 20000 {
		t.Fatalf("uncancelled: %v, %d entities", err, ix.Snapshot().Counts().Entities)
	}
}
