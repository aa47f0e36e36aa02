package store

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// srsWGS84 is the srs_id of EPSG:4326 in gpkg_spatial_ref_sys.
const srsWGS84 = 4326

// encodeGPB encodes g as a GeoPackage geometry blob (GeoPackage 1.3 §2.1.3):
// the "GP" header, version 0, little-endian flags, the SRS id, an XY
// envelope for anything but a point, then standard little-endian WKB.
func encodeGPB(g orb.Geometry) ([]byte, error) {
	w, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, err
	}
	_, isPoint := g.(orb.Point)
	env := 1 // [minx, maxx, miny, maxy]
	if isPoint {
		env = 0
	}
	n := 8 + len(w)
	if env == 1 {
		n += 32
	}
	out := make([]byte, 8, n)
	out[0], out[1], out[2] = 'G', 'P', 0
	out[3] = byte(env<<1) | 1 // little endian
	binary.LittleEndian.PutUint32(out[4:], srsWGS84)
	if env == 1 {
		b := g.Bound()
		for _, v := range []float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	return append(out, w...), nil
}

// decodeGPB decodes a GeoPackage geometry blob.
func decodeGPB(b []byte) (orb.Geometry, error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, fmt.Errorf("%w: not a GeoPackage geometry blob", ErrCorrupt)
	}
	flags := b[3]
	if flags&(1<<5) != 0 {
		return nil, fmt.Errorf("%w: extended GeoPackage geometry types are not supported", ErrCorrupt)
	}
	var envLen int
	switch (flags >> 1) & 7 {
	case 0:
	case 1:
		envLen = 32
	case 2, 3:
		envLen = 48
	case 4:
		envLen = 64
	default:
		return nil, fmt.Errorf("%w: bad envelope indicator in geometry blob", ErrCorrupt)
	}
	if len(b) < 8+envLen {
		return nil, fmt.Errorf("%w: short geometry blob", ErrCorrupt)
	}
	if flags&(1<<4) != 0 {
		return nil, fmt.Errorf("%w: empty geometry", ErrCorrupt)
	}
	g, err := wkb.Unmarshal(b[8+envLen:])
	if err != nil {
		return nil, fmt.Errorf("%w: geometry: %v", ErrCorrupt, err)
	}
	return g, nil
}
