package tiles

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them (or a
// geo sentinel), so callers test with errors.Is.
var (
	// ErrUnknownLayer: the tile layer is not one of Layers().
	ErrUnknownLayer = errors.New("tiles: unknown layer")
	// ErrOutOfRange: z, x or y is outside the tile pyramid or the renderer's zoom range.
	ErrOutOfRange = errors.New("tiles: tile coordinates out of range")
	// ErrInvalidFilter: a filter does not apply to the layer or has a bad value.
	ErrInvalidFilter = errors.New("tiles: invalid filter")
	// ErrInvalidOptions: options that cannot work.
	ErrInvalidOptions = errors.New("tiles: invalid options")
	// ErrTooLarge: an export exceeds its byte cap.
	ErrTooLarge = errors.New("tiles: too large")
	// ErrInvalidRoad: a road given to SetRoads cannot be drawn.
	ErrInvalidRoad = errors.New("tiles: invalid road")
	// ErrClosed: the renderer was closed.
	ErrClosed = errors.New("tiles: renderer closed")
)

// RangeError says which tile coordinate is out of range and why. It wraps
// ErrOutOfRange.
type RangeError struct {
	// Field is "z", "x", "y" or "path".
	Field string
	// Reason is a short human-readable explanation.
	Reason string
}

func (e *RangeError) Error() string { return fmt.Sprintf("tiles: %s: %s", e.Field, e.Reason) }

// Unwrap returns ErrOutOfRange.
func (e *RangeError) Unwrap() error { return ErrOutOfRange }
