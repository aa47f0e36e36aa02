package pmtilescheck

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protomaps/go-pmtiles/pmtiles"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
)

// archive is a PMTiles file read only through go-pmtiles' functions.
type archive struct {
	data             []byte
	h                pmtiles.HeaderV3
	root             []pmtiles.EntryV3
	leaves, tileData []byte // the sections the header points at
}

func section(data []byte, off, n uint64) ([]byte, error) {
	if off > uint64(len(data)) || n > uint64(len(data))-off {
		return nil, fmt.Errorf("section [%d, +%d) outside the %d-byte file", off, n, len(data))
	}
	return data[off : off+n], nil
}

func openArchive(t *testing.T, path string) *archive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < pmtiles.HeaderV3LenBytes {
		t.Fatalf("archive is %d bytes, shorter than a header", len(data))
	}
	h, err := pmtiles.DeserializeHeader(data[:pmtiles.HeaderV3LenBytes])
	if err != nil {
		t.Fatalf("DeserializeHeader: %v", err)
	}
	b, err := section(data, h.RootOffset, h.RootLength)
	if err != nil {
		t.Fatalf("root directory: %v", err)
	}
	root := pmtiles.DeserializeEntries(bytes.NewBuffer(b), h.InternalCompression)
	if len(root) == 0 {
		t.Fatal("root directory is empty")
	}
	leaves, err := section(data, h.LeafDirectoryOffset, h.LeafDirectoryLength)
	if err != nil {
		t.Fatalf("leaf directories: %v", err)
	}
	tileData, err := section(data, h.TileDataOffset, h.TileDataLength)
	if err != nil {
		t.Fatalf("tile data: %v", err)
	}
	return &archive{data: data, h: h, root: root, leaves: leaves, tileData: tileData}
}

// find looks a tile up the way a PMTiles reader does: root directory, then
// leaf directories (entries with run length 0), at most three levels deep
// as the spec allows. It returns the stored (possibly compressed) bytes.
func (a *archive) find(z uint8, x, y uint32) ([]byte, bool, error) {
	id := pmtiles.ZxyToID(z, x, y)
	dir := a.root
	for depth := 0; depth <= 3; depth++ {
		e, ok := pmtiles.FindTile(dir, id)
		if !ok {
			return nil, false, nil
		}
		if e.RunLength > 0 {
			b, err := section(a.tileData, e.Offset, uint64(e.Length))
			if err != nil {
				return nil, false, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, err)
			}
			return b, true, nil
		}
		b, err := section(a.leaves, e.Offset, uint64(e.Length))
		if err != nil {
			return nil, false, fmt.Errorf("leaf directory for %d/%d/%d: %w", z, x, y, err)
		}
		dir = pmtiles.DeserializeEntries(bytes.NewBuffer(b), a.h.InternalCompression)
	}
	return nil, false, fmt.Errorf("tile %d/%d/%d: directories nested deeper than the spec allows", z, x, y)
}

// tile returns the tile's MVT bytes, decompressed as the header says.
func (a *archive) tile(z uint8, x, y uint32) ([]byte, bool, error) {
	b, ok, err := a.find(z, x, y)
	if !ok || err != nil {
		return nil, ok, err
	}
	switch a.h.TileCompression {
	case pmtiles.NoCompression:
		return b, true, nil
	case pmtiles.Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, true, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, true, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, err)
		}
		return out, true, nil
	default:
		return nil, true, fmt.Errorf("tile compression %d not expected", a.h.TileCompression)
	}
}

// countEntries walks every directory with go-pmtiles' IterateEntries and
// returns the addressed tiles (sum of run lengths) per zoom.
func (a *archive) countEntries(t *testing.T) map[uint8]int {
	t.Helper()
	perZoom := map[uint8]int{}
	err := pmtiles.IterateEntries(a.h, func(off, n uint64) ([]byte, error) {
		return section(a.data, off, n)
	}, func(e pmtiles.EntryV3) {
		for i := uint64(0); i < uint64(e.RunLength); i++ {
			z, _, _ := pmtiles.IDToZxy(e.TileID + i)
			perZoom[z]++
		}
	})
	if err != nil {
		t.Fatalf("IterateEntries: %v", err)
	}
	return perZoom
}

// verify runs go-pmtiles' own archive check (`pmtiles verify`): header
// counts against the directories, section bounds, clustered order. It logs
// some problems instead of returning them, so the log is checked too.
func verify(t *testing.T, path string) {
	t.Helper()
	var logbuf bytes.Buffer
	if err := pmtiles.Verify(log.New(&logbuf, "", 0), path); err != nil {
		t.Errorf("pmtiles.Verify: %v", err)
	}
	if s := logbuf.String(); strings.Contains(strings.ToLower(s), "invalid") {
		t.Errorf("pmtiles.Verify reported:\n%s", s)
	}
}

// want renders tile z/x/y as the export does: every layer, unfiltered, MVT
// layers concatenated in the order given.
func want(ctx context.Context, t *testing.T, r *tiles.Renderer, layers []string, z, x, y int) []byte {
	t.Helper()
	var mvt []byte
	for _, l := range layers {
		tl, err := r.Render(ctx, l, z, x, y, tiles.Query{})
		if err != nil {
			t.Fatalf("render %s %d/%d/%d: %v", l, z, x, y, err)
		}
		mvt = append(mvt, tl.Data...)
	}
	return mvt
}

func e7(v float64) int32 { return int32(math.Round(v * 1e7)) }

// tileRange is the tile range of bound b at zoom z (as the export walks it).
func tileRange(b orb.Bound, z int) (lo, hi maptile.Tile) {
	return maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z)),
		maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
}

func export(ctx context.Context, t *testing.T, r *tiles.Renderer, opts tiles.ExportOptions) (string, tiles.ExportStats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.pmtiles")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.ExportPMTiles(ctx, f, opts)
	if err != nil {
		f.Close()
		t.Fatalf("ExportPMTiles: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

// TestDemoArchive exports the demo region as `marketgeo tiles export
// --minzoom 0 --maxzoom 14` does and reads it back with go-pmtiles: the
// header, the metadata, and every tile of the region at every zoom (1,279
// tiles, 930 empty ones; z13–14 bring the buildings layer, unclustered
// entities and deduplicated contents). It takes ~7 s.
func TestDemoArchive(t *testing.T) {
	const minZoom, maxZoom = 0, 14
	ctx := context.Background()
	idx, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Generate(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	r, err := tiles.New(idx, tiles.Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	layers := tiles.Layers()
	path, st := export(ctx, t, r, tiles.ExportOptions{MinZoom: minZoom, MaxZoom: maxZoom, Layers: layers})
	a := openArchive(t, path)
	h := a.h

	// Header.
	b := idx.Snapshot().Bounds()
	tj, err := r.TileJSON(tiles.LayerEntities, "x/{z}/{x}/{y}.mvt")
	if err != nil {
		t.Fatal(err)
	}
	centerZoom := uint8(max(minZoom, min(maxZoom, int(tj.Center[2]))))
	c := b.Center()
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"SpecVersion", h.SpecVersion, uint8(3)},
		{"TileType", h.TileType, pmtiles.TileType(pmtiles.Mvt)},
		{"TileCompression", h.TileCompression, pmtiles.Compression(pmtiles.Gzip)},
		{"InternalCompression", h.InternalCompression, pmtiles.Compression(pmtiles.Gzip)},
		{"Clustered", h.Clustered, true},
		{"MinZoom", h.MinZoom, uint8(minZoom)},
		{"MaxZoom", h.MaxZoom, uint8(maxZoom)},
		{"MinLonE7", h.MinLonE7, e7(b.Min[0])},
		{"MinLatE7", h.MinLatE7, e7(b.Min[1])},
		{"MaxLonE7", h.MaxLonE7, e7(b.Max[0])},
		{"MaxLatE7", h.MaxLatE7, e7(b.Max[1])},
		{"CenterZoom", h.CenterZoom, centerZoom},
		{"CenterLonE7", h.CenterLonE7, e7(c[0])},
		{"CenterLatE7", h.CenterLatE7, e7(c[1])},
		{"AddressedTilesCount", h.AddressedTilesCount, uint64(st.Tiles)},
		{"TileContentsCount", h.TileContentsCount, uint64(st.Contents)},
		{"archive bytes", uint64(len(a.data)), uint64(st.Bytes)},
	} {
		if f.got != f.want {
			t.Errorf("header %s = %v, want %v", f.name, f.got, f.want)
		}
	}
	verify(t, path)

	// Metadata.
	mb, err := section(a.data, h.MetadataOffset, h.MetadataLength)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	meta, err := pmtiles.DeserializeMetadata(bytes.NewReader(mb), h.InternalCompression)
	if err != nil {
		t.Fatalf("DeserializeMetadata: %v", err)
	}
	if meta["format"] != "pbf" {
		t.Errorf("metadata format = %v, want pbf", meta["format"])
	}
	vls, _ := meta["vector_layers"].([]any)
	var ids []string
	for _, vl := range vls {
		m, _ := vl.(map[string]any)
		id, _ := m["id"].(string)
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != strings.Join(layers, ",") {
		t.Errorf("metadata vector_layers = %v, want %v", ids, layers)
	}

	// Every tile of the region at every zoom: present with our renderer's
	// bytes when the renderer gives a non-empty tile, absent otherwise.
	found := map[uint8]int{}
	empty := 0
	for z := minZoom; z <= maxZoom; z++ {
		lo, hi := tileRange(b, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				w := want(ctx, t, r, layers, z, int(x), int(y))
				got, ok, err := a.tile(uint8(z), x, y)
				switch {
				case err != nil:
					t.Fatal(err)
				case len(w) == 0 && ok:
					t.Errorf("tile %d/%d/%d is empty but the archive has %d bytes for it", z, x, y, len(got))
				case len(w) == 0:
					empty++
				case !ok:
					t.Errorf("tile %d/%d/%d (%d bytes) not found through go-pmtiles' directories", z, x, y, len(w))
				case !bytes.Equal(got, w):
					t.Errorf("tile %d/%d/%d: archive holds %d bytes that differ from the renderer's %d", z, x, y, len(got), len(w))
				default:
					found[uint8(z)]++
				}
			}
		}
	}
	// Nothing else is addressed: the directories hold exactly these tiles.
	perZoom := a.countEntries(t)
	for z := uint8(0); z <= 30; z++ {
		if perZoom[z] != found[z] {
			t.Errorf("zoom %d: directories address %d tiles, %d found by lookup", z, perZoom[z], found[z])
		}
	}
	if found[0] != 1 || found[maxZoom] == 0 {
		t.Errorf("found per zoom %v: want one z0 tile and some z%d tiles", found, maxZoom)
	}

	// Tiles that were not written are absent: far outside the region, and
	// inside it one zoom above maxzoom.
	lo, _ := tileRange(b, maxZoom+1)
	far := maptile.At(orb.Point{0, 0}, maxZoom)
	for _, tl := range []maptile.Tile{far, lo, {X: 0, Y: 0, Z: 5}} {
		if _, ok, err := a.find(uint8(tl.Z), tl.X, tl.Y); ok || err != nil {
			t.Errorf("tile %d/%d/%d: found=%v err=%v, want absent", tl.Z, tl.X, tl.Y, ok, err)
		}
	}
	t.Logf("%d tiles (%d distinct) in %d bytes, root directory %d bytes, leaves %d bytes; %d empty tiles in range absent; per zoom %v",
		st.Tiles, st.Contents, st.Bytes, h.RootLength, h.LeafDirectoryLength, empty, found)
}

// TestLargeArchive builds an index that makes the writer use every part of
// the format the demo at z0–12 does not: leaf directories (one place in
// each z12 tile of a 128×128 block, with names of random length so that
// the directory does not compress into a 16 KiB root), and deduplicated
// contents with runs (a square zone over a 40×40 hole in the places: its
// interior tiles are identical). Every tile of the block is read back
// through go-pmtiles' directories.
func TestLargeArchive(t *testing.T) {
	const z, side = 12, 128
	const hole0, hole1 = 40, 80 // zone covers [hole0, hole1) in both axes
	ctx := context.Background()
	idx, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x0, y0 := uint32(3245), uint32(1660)
	rnd := rand.New(rand.NewPCG(1, 2))
	batch := idx.Batch()
	for i := uint32(0); i < side; i++ {
		for j := uint32(0); j < side; j++ {
			if i >= hole0 && i < hole1 && j >= hole0 && j < hole1 {
				continue
			}
			name := make([]byte, 4+rnd.IntN(600))
			for k := range name {
				name[k] = byte('a' + rnd.IntN(26))
			}
			err := batch.UpsertPlace(geo.Place{ID: fmt.Sprintf("p%d-%d", i, j), Name: string(name),
				Kind: "landmark", Location: maptile.New(x0+i, y0+j, z).Center()})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	nw := maptile.New(x0+hole0, y0+hole0, z).Bound().Min
	se := maptile.New(x0+hole1-1, y0+hole1-1, z).Bound().Max
	// Inset by a tenth of a tile so that the zone's edge tiles are the
	// hole's own border tiles.
	d := (se[0] - nw[0]) / (hole1 - hole0) / 10
	ring := orb.Ring{{nw[0] + d, nw[1] + d}, {se[0] - d, nw[1] + d}, {se[0] - d, se[1] - d}, {nw[0] + d, se[1] - d}, {nw[0] + d, nw[1] + d}}
	if err := batch.UpsertZone(geo.Zone{ID: "z1", Layer: "grid", Name: "hole", Geometry: orb.MultiPolygon{{ring}}}); err != nil {
		t.Fatal(err)
	}
	batch.Commit()
	r, err := tiles.New(idx, tiles.Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	layers := []string{tiles.LayerPlaces, tiles.LayerZones}
	path, st := export(ctx, t, r, tiles.ExportOptions{MinZoom: z, MaxZoom: z, Layers: layers})
	a := openArchive(t, path)
	h := a.h
	if h.LeafDirectoryLength == 0 {
		t.Errorf("%d tiles written without leaf directories (root %d bytes): the test no longer covers them", st.Tiles, h.RootLength)
	}
	if st.Tiles != side*side {
		t.Errorf("%d tiles written, want %d", st.Tiles, side*side)
	}
	if !(h.TileContentsCount < h.TileEntriesCount && h.TileEntriesCount < h.AddressedTilesCount) {
		t.Errorf("contents %d, entries %d, addressed %d: want fewer contents than entries (deduplication) and fewer entries than tiles (runs)",
			h.TileContentsCount, h.TileEntriesCount, h.AddressedTilesCount)
	}
	verify(t, path)
	for i := uint32(0); i < side; i++ {
		for j := uint32(0); j < side; j++ {
			x, y := x0+i, y0+j
			got, ok, err := a.tile(z, x, y)
			if err != nil || !ok {
				t.Fatalf("tile %d/%d/%d: found=%v err=%v", z, x, y, ok, err)
			}
			if w := want(ctx, t, r, layers, z, int(x), int(y)); !bytes.Equal(got, w) {
				t.Fatalf("tile %d/%d/%d: archive holds %d bytes that differ from the renderer's %d", z, x, y, len(got), len(w))
			}
		}
	}
	if n := a.countEntries(t)[z]; n != side*side {
		t.Errorf("directories address %d tiles, want %d", n, side*side)
	}
	for _, tl := range [][2]uint32{{x0 - 1, y0}, {x0, y0 - 1}, {x0 + side, y0 + side - 1}, {x0 + side - 1, y0 + side}, {0, 0}} {
		if _, ok, err := a.find(z, tl[0], tl[1]); ok || err != nil {
			t.Errorf("tile %d/%d/%d: found=%v err=%v, want absent", z, tl[0], tl[1], ok, err)
		}
	}
	t.Logf("%d tiles, %d entries, %d contents; root directory %d bytes, leaf directories %d bytes",
		st.Tiles, h.TileEntriesCount, h.TileContentsCount, h.RootLength, h.LeafDirectoryLength)
}
