package tiles

import (
	"fmt"
	"strings"
)

// ParseZXY parses the z, x and y of a tile path as strict decimal numbers
// (no sign, no leading zeros beyond "0", at most 8 digits) and checks them
// against the tile pyramid and maxZoom, before any work is done. Errors
// wrap ErrOutOfRange.
func ParseZXY(zs, xs, ys string, maxZoom int) (z, x, y int, err error) {
	if z, err = parseCoord("z", zs); err != nil {
		return
	}
	if x, err = parseCoord("x", xs); err != nil {
		return
	}
	if y, err = parseCoord("y", ys); err != nil {
		return
	}
	err = checkZXY(z, x, y, maxZoom)
	return
}

func parseCoord(field, s string) (int, error) {
	if s == "" || len(s) > 8 || (len(s) > 1 && s[0] == '0') {
		return 0, &RangeError{Field: field, Reason: fmt.Sprintf("%q is not a tile coordinate", s)}
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, &RangeError{Field: field, Reason: fmt.Sprintf("%q is not a tile coordinate", s)}
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// ParsePath parses "{layer}/{z}/{x}/{y}.mvt" (with or without a leading
// "/tiles/" or "/") into its parts, validating the numbers like ParseZXY.
// The layer name is returned unchecked. It does not allocate on success.
func ParsePath(p string, maxZoom int) (layer string, z, x, y int, err error) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimPrefix(p, "tiles/")
	layer, rest, ok1 := strings.Cut(p, "/")
	zs, rest, ok2 := strings.Cut(rest, "/")
	xs, ys, ok3 := strings.Cut(rest, "/")
	ys, ok4 := strings.CutSuffix(ys, ".mvt")
	if !ok1 || !ok2 || !ok3 || !ok4 || layer == "" || strings.Contains(ys, "/") {
		return "", 0, 0, 0, &RangeError{Field: "path", Reason: fmt.Sprintf("%q is not {layer}/{z}/{x}/{y}.mvt", p)}
	}
	z, x, y, err = ParseZXY(zs, xs, ys, maxZoom)
	return layer, z, x, y, err
}
