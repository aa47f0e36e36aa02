package tiles

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// Field restriction (Options.Fields): a renderer given a field list per
// layer encodes only those properties, and its TileJSON announces only
// those. A public server builds its renderer with the server's public
// field list, so that no internal property (risk class, internal figures)
// reaches a public tile, whatever the encoder of a layer writes.

// restricted reports whether Options.Fields restricts the layer's
// properties, and the allowed set.
func (r *Renderer) allowedFields(layer string) (map[string]bool, bool) {
	if r.opts.Fields == nil {
		return nil, false
	}
	set := map[string]bool{}
	for _, f := range r.opts.Fields[layer] {
		set[f] = true
	}
	return set, true
}

// restrictFields returns the encoded tile with the properties Options.Fields
// does not allow removed from every layer (their keys, their values when
// no other property uses them, and their tags). A layer absent from a
// non-nil Fields keeps its geometry and loses every property.
func (r *Renderer) restrictFields(data []byte) ([]byte, error) {
	if r.opts.Fields == nil || len(data) == 0 {
		return data, nil
	}
	return filterMVT(data, func(layer, key string) bool {
		return slices.Contains(r.opts.Fields[layer], key)
	})
}

// filterVectorLayer removes the fields not allowed from a TileJSON layer.
func (r *Renderer) filterVectorLayer(vl *VectorLayer) {
	allowed, ok := r.allowedFields(vl.ID)
	if !ok {
		return
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(vl.Fields)) {
		if allowed[k] {
			out[k] = vl.Fields[k]
		}
	}
	vl.Fields = out
}

// filterMVT rewrites an encoded MVT 2.1 tile keeping only the properties
// keep allows. Geometry, ids, types, names, extents and versions are
// copied byte for byte.
func filterMVT(data []byte, keep func(layer, key string) bool) ([]byte, error) {
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		num, typ, val, rest, err := nextField(data)
		if err != nil {
			return nil, err
		}
		field := data[:len(data)-len(rest)]
		data = rest
		if num != 3 || typ != 2 {
			out = append(out, field...)
			continue
		}
		layer, err := filterLayer(val, keep)
		if err != nil {
			return nil, err
		}
		out = appendBytesField(out, 3, layer)
	}
	return out, nil
}

func filterLayer(data []byte, keep func(layer, key string) bool) ([]byte, error) {
	var (
		name     string
		keys     []string
		values   [][]byte
		features [][]byte
		other    []byte // version, extent, unknown fields
	)
	for b := data; len(b) > 0; {
		num, typ, val, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		field := b[:len(b)-len(rest)]
		b = rest
		switch {
		case num == 1 && typ == 2:
			name = string(val)
			other = append(other, field...)
		case num == 2 && typ == 2:
			features = append(features, val)
		case num == 3 && typ == 2:
			keys = append(keys, string(val))
		case num == 4 && typ == 2:
			values = append(values, val)
		default:
			other = append(other, field...)
		}
	}
	keptKey := make([]int, len(keys)) // new index + 1; 0: dropped
	nk := 0
	for i, k := range keys {
		if keep(name, k) {
			nk++
			keptKey[i] = nk
		}
	}
	usedVal := make([]int, len(values)) // new index + 1
	nv := 0
	feats := make([][]byte, len(features))
	for fi, f := range features {
		var tags []uint64
		var rebuilt []byte
		for b := f; len(b) > 0; {
			num, typ, val, rest, err := nextField(b)
			if err != nil {
				return nil, err
			}
			field := b[:len(b)-len(rest)]
			b = rest
			switch {
			case num == 2 && typ == 2:
				for p := val; len(p) > 0; {
					v, n := binary.Uvarint(p)
					if n <= 0 {
						return nil, fmt.Errorf("tiles: bad tag varint")
					}
					tags = append(tags, v)
					p = p[n:]
				}
			case num == 2 && typ == 0:
				v, _ := binary.Uvarint(val)
				tags = append(tags, v)
			default:
				rebuilt = append(rebuilt, field...)
			}
		}
		if len(tags)%2 != 0 {
			return nil, fmt.Errorf("tiles: odd number of tags")
		}
		var nt []byte
		for i := 0; i+1 < len(tags); i += 2 {
			k, v := tags[i], tags[i+1]
			if k >= uint64(len(keys)) || v >= uint64(len(values)) {
				return nil, fmt.Errorf("tiles: tag out of range")
			}
			if keptKey[k] == 0 {
				continue
			}
			if usedVal[v] == 0 {
				nv++
				usedVal[v] = nv
			}
			nt = binary.AppendUvarint(nt, uint64(keptKey[k]-1))
			nt = binary.AppendUvarint(nt, uint64(usedVal[v]-1))
		}
		if len(nt) > 0 {
			rebuilt = appendBytesField(rebuilt, 2, nt)
		}
		feats[fi] = rebuilt
	}
	out := make([]byte, 0, len(data))
	out = append(out, other...)
	for _, f := range feats {
		out = appendBytesField(out, 2, f)
	}
	for i, k := range keys {
		if keptKey[i] != 0 {
			out = appendBytesField(out, 3, []byte(k))
		}
	}
	vals := make([][]byte, nv)
	for i, v := range values {
		if usedVal[i] != 0 {
			vals[usedVal[i]-1] = v
		}
	}
	for _, v := range vals {
		out = appendBytesField(out, 4, v)
	}
	return out, nil
}

// nextField splits the first protobuf field off b: its number, wire type,
// value (the payload of a length-delimited field, else the raw value
// bytes) and the rest.
func nextField(b []byte) (num uint64, typ int, val, rest []byte, err error) {
	key, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, nil, nil, fmt.Errorf("tiles: bad field key")
	}
	num, typ, b = key>>3, int(key&7), b[n:]
	switch typ {
	case 0:
		_, m := binary.Uvarint(b)
		if m <= 0 {
			return 0, 0, nil, nil, fmt.Errorf("tiles: bad varint")
		}
		return num, typ, b[:m], b[m:], nil
	case 1:
		if len(b) < 8 {
			return 0, 0, nil, nil, fmt.Errorf("tiles: short fixed64")
		}
		return num, typ, b[:8], b[8:], nil
	case 2:
		l, m := binary.Uvarint(b)
		if m <= 0 || uint64(len(b)-m) < l {
			return 0, 0, nil, nil, fmt.Errorf("tiles: bad length")
		}
		return num, typ, b[m : m+int(l)], b[m+int(l):], nil
	case 5:
		if len(b) < 4 {
			return 0, 0, nil, nil, fmt.Errorf("tiles: short fixed32")
		}
		return num, typ, b[:4], b[4:], nil
	}
	return 0, 0, nil, nil, fmt.Errorf("tiles: wire type %d", typ)
}

func appendBytesField(dst []byte, num uint64, v []byte) []byte {
	dst = binary.AppendUvarint(dst, num<<3|2)
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}
