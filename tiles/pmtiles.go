package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// ExportOptions configure ExportPMTiles. Zero values mean the defaults
// given.
type ExportOptions struct {
	// MinZoom and MaxZoom bound the zooms written. Defaults 0 and
	// Options.DataMaxZoom (16).
	MinZoom, MaxZoom int
	// Layers are the tile layers merged into each tile. Default all.
	Layers []string
	// Bounds limits the tiles written. Default the index's bounds.
	Bounds orb.Bound
	// MaxBytes caps the archive (tile data is held in memory until
	// written). Default 2 GiB.
	MaxBytes int64
	// Progress, when set, is called after each zoom level.
	Progress func(z, tiles int)
}

// ExportStats summarise an export.
type ExportStats struct {
	// Addressed tiles (non-empty), distinct contents, and archive bytes.
	Tiles, Contents int
	Bytes           int64
}

// ExportPMTiles writes the tiles of the index as a PMTiles v3 archive
// (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md): one MVT
// per tile holding every requested layer, gzip-compressed, deduplicated,
// clustered in Hilbert order, with TileJSON-like metadata. Empty tiles are
// left out. Entities are written unfiltered. ExportPMTiles is safe to call
// while the index is being written; it renders from one snapshot per tile.
func (r *Renderer) ExportPMTiles(ctx context.Context, w io.Writer, opts ExportOptions) (ExportStats, error) {
	var st ExportStats
	if opts.MaxZoom == 0 {
		opts.MaxZoom = r.opts.DataMaxZoom
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 2 << 30
	}
	if len(opts.Layers) == 0 {
		opts.Layers = Layers()
	}
	if opts.MinZoom < 0 || opts.MaxZoom < opts.MinZoom || opts.MaxZoom > r.opts.MaxZoom {
		return st, &RangeError{Field: "z", Reason: fmt.Sprintf("zoom range [%d, %d] is not within [0, %d]", opts.MinZoom, opts.MaxZoom, r.opts.MaxZoom)}
	}
	var vls []VectorLayer
	for _, l := range opts.Layers {
		vl, err := r.VectorLayerOf(l)
		if err != nil {
			return st, err
		}
		vls = append(vls, vl)
	}
	b := opts.Bounds
	if b == (orb.Bound{}) {
		var ok bool
		if b, ok = r.dataBounds(); !ok {
			return st, fmt.Errorf("%w: the index is empty", ErrInvalidOptions)
		}
	}

	type entry struct {
		id          uint64
		offset, len uint64
	}
	var (
		entries []entry
		data    bytes.Buffer
		seen    = map[uint64]entry{} // content hash → first entry
	)
	for z := opts.MinZoom; z <= opts.MaxZoom; z++ {
		lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
		hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
		n := 0
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				if err := ctx.Err(); err != nil {
					return st, err
				}
				var mvt []byte
				for _, l := range opts.Layers {
					t, err := r.Render(ctx, l, z, int(x), int(y), Query{})
					if err != nil {
						return st, err
					}
					mvt = append(mvt, t.Data...) // MVT layers concatenate
				}
				if len(mvt) == 0 {
					continue
				}
				gz := gzipBytes(mvt)
				h := fnv.New64a()
				_, _ = h.Write(gz)
				sum := h.Sum64()
				e := entry{id: zxyToID(uint8(z), x, y)}
				if prev, ok := seen[sum]; ok {
					e.offset, e.len = prev.offset, prev.len
				} else {
					e.offset, e.len = uint64(data.Len()), uint64(len(gz))
					data.Write(gz)
					seen[sum] = e
					st.Contents++
				}
				if int64(data.Len()) > opts.MaxBytes {
					return st, fmt.Errorf("%w: archive exceeds %d bytes at zoom %d", ErrTooLarge, opts.MaxBytes, z)
				}
				entries = append(entries, e)
				n++
			}
		}
		if opts.Progress != nil {
			opts.Progress(z, n)
		}
	}
	st.Tiles = len(entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].id < entries[j].id })

	// Rewrite the tile data in tile-ID order so that the archive is clustered.
	var ordered bytes.Buffer
	moved := map[uint64]uint64{} // old offset → new offset
	pm := make([]pmEntry, 0, len(entries))
	for _, e := range entries {
		off, ok := moved[e.offset]
		if !ok {
			off = uint64(ordered.Len())
			ordered.Write(data.Bytes()[e.offset : e.offset+e.len])
			moved[e.offset] = off
		}
		if k := len(pm) - 1; k >= 0 && pm[k].tileID+uint64(pm[k].runLength) == e.id && pm[k].offset == off {
			pm[k].runLength++ // run of identical consecutive tiles
			continue
		}
		pm = append(pm, pmEntry{tileID: e.id, offset: off, length: uint32(e.len), runLength: 1})
	}

	root, leaves := buildDirectories(pm)
	meta, err := json.Marshal(map[string]any{
		"name": r.opts.Name, "description": "marketgeo vector tiles", "attribution": r.opts.Attribution,
		"type": "overlay", "format": "pbf", "version": "1.0.0", "vector_layers": vls,
	})
	if err != nil {
		return st, err
	}
	meta = gzipBytes(meta)

	c := b.Center()
	h := pmHeader{
		rootOffset: pmHeaderLen, rootLength: uint64(len(root)),
		metaLength: uint64(len(meta)), leafLength: uint64(len(leaves)), dataLength: uint64(ordered.Len()),
		addressed: uint64(len(entries)), tileEntries: uint64(len(pm)), contents: uint64(st.Contents),
		minZoom: uint8(opts.MinZoom), maxZoom: uint8(opts.MaxZoom), centerZoom: uint8(max(opts.MinZoom, min(opts.MaxZoom, fitZoom(b)))),
		minLon: e7(b.Min[0]), minLat: e7(b.Min[1]), maxLon: e7(b.Max[0]), maxLat: e7(b.Max[1]), centerLon: e7(c[0]), centerLat: e7(c[1]),
	}
	h.metaOffset = h.rootOffset + h.rootLength
	h.leafOffset = h.metaOffset + h.metaLength
	h.dataOffset = h.leafOffset + h.leafLength
	cw := &countWriter{w: w}
	for _, part := range [][]byte{h.bytes(), root, meta, leaves, ordered.Bytes()} {
		if _, err := cw.Write(part); err != nil {
			return st, err
		}
	}
	st.Bytes = cw.n
	return st, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func e7(v float64) int32 { return int32(math.Round(v * 1e7)) }

const pmHeaderLen = 127

type pmHeader struct {
	rootOffset, rootLength, metaOffset, metaLength, leafOffset, leafLength, dataOffset, dataLength uint64
	addressed, tileEntries, contents                                                               uint64
	minZoom, maxZoom, centerZoom                                                                   uint8
	minLon, minLat, maxLon, maxLat, centerLon, centerLat                                           int32
}

// bytes serialises the 127-byte v3 header: clustered, gzip internal and
// tile compression, MVT tiles.
func (h pmHeader) bytes() []byte {
	b := make([]byte, pmHeaderLen)
	copy(b, "PMTiles")
	b[7] = 3
	le := binary.LittleEndian
	for i, v := range []uint64{h.rootOffset, h.rootLength, h.metaOffset, h.metaLength, h.leafOffset, h.leafLength,
		h.dataOffset, h.dataLength, h.addressed, h.tileEntries, h.contents} {
		le.PutUint64(b[8+8*i:], v)
	}
	b[96] = 1 // clustered
	b[97] = 2 // internal compression: gzip
	b[98] = 2 // tile compression: gzip
	b[99] = 1 // tile type: MVT
	b[100], b[101] = h.minZoom, h.maxZoom
	le.PutUint32(b[102:], uint32(h.minLon))
	le.PutUint32(b[106:], uint32(h.minLat))
	le.PutUint32(b[110:], uint32(h.maxLon))
	le.PutUint32(b[114:], uint32(h.maxLat))
	b[118] = h.centerZoom
	le.PutUint32(b[119:], uint32(h.centerLon))
	le.PutUint32(b[123:], uint32(h.centerLat))
	return b
}

type pmEntry struct {
	tileID    uint64
	offset    uint64
	length    uint32
	runLength uint32
}

// serializeEntries encodes a directory: count, delta tile IDs, run
// lengths, lengths, offsets (0 = contiguous with the previous entry,
// else offset+1), gzip-compressed.
func serializeEntries(es []pmEntry) []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(es)))
	last := uint64(0)
	for _, e := range es {
		b = binary.AppendUvarint(b, e.tileID-last)
		last = e.tileID
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.runLength))
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.length))
	}
	for i, e := range es {
		if i > 0 && e.offset == es[i-1].offset+uint64(es[i-1].length) {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = binary.AppendUvarint(b, e.offset+1)
		}
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// buildDirectories returns the root directory and the leaf directories:
// everything in the root when it fits the 16 KiB the spec asks of header
// plus root, else leaves of growing size until the root of leaf pointers
// (run length 0) fits.
func buildDirectories(es []pmEntry) (root, leaves []byte) {
	const target = 16384 - pmHeaderLen
	if root = serializeEntries(es); len(root) <= target {
		return root, nil
	}
	for leafSize := max(4096, len(es)/3500); ; leafSize *= 2 {
		var ptrs []pmEntry
		leaves = leaves[:0]
		for i := 0; i < len(es); i += leafSize {
			j := min(i+leafSize, len(es))
			leaf := serializeEntries(es[i:j])
			ptrs = append(ptrs, pmEntry{tileID: es[i].tileID, offset: uint64(len(leaves)), length: uint32(len(leaf))})
			leaves = append(leaves, leaf...)
		}
		if root = serializeEntries(ptrs); len(root) <= target {
			return root, leaves
		}
	}
}

// zxyToID is the PMTiles tile ID: the tiles of lower zooms, then the
// Hilbert-curve index of (x, y) at zoom z.
func zxyToID(z uint8, x, y uint32) uint64 {
	acc := (uint64(1)<<(2*uint(z)) - 1) / 3
	for a := int(z) - 1; a >= 0; a-- {
		s := uint32(1) << uint(a)
		rx, ry := s&x, s&y
		acc += uint64((3*rx)^ry) << uint(a)
		if ry == 0 {
			if rx != 0 {
				x = s - 1 - x
				y = s - 1 - y
			}
			x, y = y, x
		}
	}
	return acc
}
