package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Load implements [store.Backend]: every layer is read with COPY … TO
// STDOUT in PostgreSQL's binary format (one stream a table, no per-row
// round trip), geometries as WKB. With Options.Region, only the region's
// entities.
func (b *Backend) Load(ctx context.Context, fn func(layer geo.Layer, v any) error) error {
	for i := range tables {
		t := &tables[i]
		if err := b.loadTable(ctx, t, fn); err != nil {
			return fmt.Errorf("loading %s: %w", t.name, err)
		}
	}
	return nil
}

// selectSQL is the COPY query of a table: id, the geometry as WKB, then
// the other columns with the JSON ones as text.
func (b *Backend) selectSQL(t *table) string {
	q := "SELECT id, ST_AsBinary(geom)"
	for _, c := range t.cols[1:] {
		switch {
		case c.expr == "%s::jsonb":
			q += ", " + c.name + "::text"
		case c.expr == "%s::date":
			q += ", " + c.name + "::text"
		case c.expr == "%s::integer":
			q += ", " + c.name + "::bigint"
		default:
			q += ", " + c.name
		}
	}
	q += " FROM " + t.name
	if t.layer == geo.LayerEntities && b.opts.Region != "" {
		q += " WHERE adcode LIKE '" + b.opts.Region + "%'" // digits only (Validate)
	}
	return q
}

func (b *Backend) loadTable(ctx context.Context, t *table, fn func(geo.Layer, any) error) error {
	c, err := b.pool.get(ctx)
	if err != nil {
		return unavailable("connecting", err)
	}
	pr, pw := io.Pipe()
	copyErr := make(chan error, 1)
	go func() {
		_, err := c.PgConn().CopyTo(ctx, pw, "COPY ("+b.selectSQL(t)+") TO STDOUT (FORMAT binary)")
		pw.CloseWithError(err)
		copyErr <- err
	}()
	err = decodeCopy(bufio.NewReaderSize(pr, 1<<20), len(t.cols)+1, newRowDecoder(ctx, t, fn))
	pr.CloseWithError(errors.New("load stopped"))
	cerr := <-copyErr
	b.pool.put(c, cerr)
	if cerr != nil && err == nil {
		return unavailable("reading "+t.name, cerr)
	}
	return err
}

// Keeps implements [store.Partial]: with a region, only the entities
// whose adcode (characters 3-8 of the ID) starts with it.
func (b *Backend) Keeps(layer geo.Layer, id string) bool {
	if b.opts.Region == "" || layer != geo.LayerEntities {
		return true
	}
	return len(id) >= 8 && strings.HasPrefix(id[2:8], b.opts.Region)
}

// maxField and maxTuple bound what one COPY tuple may make the decoder
// allocate (a geometry is capped by the index's vertex limit long before).
const (
	maxField = 64 << 20
	maxTuple = 256 << 20
)

var copyMagic = []byte("PGCOPY\n\xff\r\n\x00")

// decodeCopy reads a COPY stream in PostgreSQL's binary format (header,
// tuples of length-prefixed fields, -1 for NULL, trailer) and calls row
// with each tuple's fields (nil for NULL; valid until the next call).
func decodeCopy(r *bufio.Reader, nfields int, row func([][]byte) error) error {
	var hdr [19]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("%w: COPY header: %v", store.ErrCorrupt, err)
	}
	if !bytes.Equal(hdr[:11], copyMagic) {
		return fmt.Errorf("%w: not a binary COPY stream", store.ErrCorrupt)
	}
	if ext := binary.BigEndian.Uint32(hdr[15:]); ext > 0 {
		if _, err := r.Discard(int(ext)); err != nil {
			return fmt.Errorf("%w: COPY header: %v", store.ErrCorrupt, err)
		}
	}
	fields := make([][]byte, nfields)
	var buf []byte
	lens := make([]int, 0, nfields)
	var n2 [2]byte
	var n4 [4]byte
	for {
		if _, err := io.ReadFull(r, n2[:]); err != nil {
			return fmt.Errorf("%w: COPY stream: %v", store.ErrCorrupt, err)
		}
		nf := int16(binary.BigEndian.Uint16(n2[:]))
		if nf == -1 {
			return nil
		}
		if int(nf) != nfields {
			return fmt.Errorf("%w: COPY tuple of %d fields, want %d", store.ErrCorrupt, nf, nfields)
		}
		buf, lens = buf[:0], lens[:0]
		for range nfields {
			if _, err := io.ReadFull(r, n4[:]); err != nil {
				return fmt.Errorf("%w: COPY stream: %v", store.ErrCorrupt, err)
			}
			l := int32(binary.BigEndian.Uint32(n4[:]))
			lens = append(lens, int(l))
			if l < 0 {
				continue
			}
			if l > maxField || len(buf)+int(l) > maxTuple {
				return fmt.Errorf("%w: COPY field of %d bytes", store.ErrCorrupt, l)
			}
			start := len(buf)
			buf = slices.Grow(buf, int(l))[:start+int(l)]
			if _, err := io.ReadFull(r, buf[start:]); err != nil {
				return fmt.Errorf("%w: COPY stream: %v", store.ErrCorrupt, err)
			}
		}
		off := 0
		for i, l := range lens {
			if l < 0 {
				fields[i] = nil
				continue
			}
			fields[i] = buf[off : off+l : off+l]
			off += l
		}
		if err := row(fields); err != nil {
			return err
		}
	}
}

// rowDecoder turns COPY tuples of a table into features.
type rowDecoder struct {
	ctx    context.Context
	t      *table
	fn     func(geo.Layer, any) error
	n      int
	intern map[string]string
}

func newRowDecoder(ctx context.Context, t *table, fn func(geo.Layer, any) error) func([][]byte) error {
	d := &rowDecoder{ctx: ctx, t: t, fn: fn, intern: map[string]string{}}
	return d.row
}

// str returns a field as a string, interning the short repeated ones
// (industry, status, risk, grid and building IDs).
func (d *rowDecoder) str(f []byte, intern bool) string {
	if f == nil {
		return ""
	}
	if !intern || len(f) > 40 {
		return string(f)
	}
	if s, ok := d.intern[string(f)]; ok {
		return s
	}
	if len(d.intern) > 1<<20 {
		return string(f)
	}
	s := string(f)
	d.intern[s] = s
	return s
}

func i64(f []byte) int64 {
	if len(f) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(f))
}

func boolOf(f []byte) bool { return len(f) == 1 && f[0] != 0 }

func unjson(f []byte, v any) error {
	if f == nil {
		return nil
	}
	return json.Unmarshal(f, v)
}

func (d *rowDecoder) row(f [][]byte) error {
	if d.n++; d.n&4095 == 0 {
		if err := d.ctx.Err(); err != nil {
			return err
		}
	}
	id := string(f[0])
	bad := func(err error) error { return fmt.Errorf("%w: %s %q: %v", store.ErrCorrupt, d.t.layer, id, err) }
	g, err := wkb.Unmarshal(f[1])
	if err != nil {
		return bad(err)
	}
	var v any
	switch d.t.layer {
	case geo.LayerEntities:
		pt, ok := g.(orb.Point)
		if !ok {
			return bad(errors.New("geometry is not a point"))
		}
		e := &geo.Entity{ID: id, Location: pt, Name: d.str(f[2], false), ShortName: d.str(f[3], false), Address: d.str(f[5], false),
			Industry: d.str(f[6], true), Status: geo.Status(d.str(f[7], true)), Risk: geo.Risk(d.str(f[8], true)), BuildingID: d.str(f[9], true), GridID: d.str(f[10], true),
			AnnualReport: boolOf(f[12]), Abnormal: boolOf(f[13]), Blacklisted: boolOf(f[14]), Version: uint64(i64(f[16]))}
		if f[11] != nil {
			if e.RegisteredAt, err = time.Parse("2006-01-02", string(f[11])); err != nil {
				return bad(err)
			}
		}
		if err := unjson(f[4], &e.FormerNames); err != nil {
			return bad(err)
		}
		if err := unjson(f[15], &e.Attrs); err != nil {
			return bad(err)
		}
		v = e
	case geo.LayerBuildings:
		poly, ok := g.(orb.Polygon)
		if !ok {
			return bad(errors.New("geometry is not a polygon"))
		}
		var h float64
		if len(f[5]) == 8 {
			h = math.Float64frombits(binary.BigEndian.Uint64(f[5]))
		}
		bl := &geo.Building{ID: id, Footprint: poly, Name: d.str(f[2], false), Address: d.str(f[3], false), Floors: int(i64(f[4])), HeightM: h, Version: uint64(i64(f[7]))}
		if err := unjson(f[6], &bl.Attrs); err != nil {
			return bad(err)
		}
		v = bl
	case geo.LayerPlaces:
		pt, ok := g.(orb.Point)
		if !ok {
			return bad(errors.New("geometry is not a point"))
		}
		p := &geo.Place{ID: id, Location: pt, Name: d.str(f[2], false), Kind: d.str(f[3], true), Version: uint64(i64(f[6]))}
		if err := unjson(f[4], &p.Aliases); err != nil {
			return bad(err)
		}
		if err := unjson(f[5], &p.Attrs); err != nil {
			return bad(err)
		}
		v = p
	case geo.LayerZones:
		var mp orb.MultiPolygon
		switch t := g.(type) {
		case orb.MultiPolygon:
			mp = t
		case orb.Polygon:
			mp = orb.MultiPolygon{t}
		default:
			return bad(errors.New("geometry is not a (multi)polygon"))
		}
		z := &geo.Zone{ID: id, Geometry: mp, Layer: d.str(f[2], true), Name: d.str(f[3], false), Version: uint64(i64(f[5]))}
		if err := unjson(f[4], &z.Props); err != nil {
			return bad(err)
		}
		v = z
	}
	return d.fn(d.t.layer, v)
}
