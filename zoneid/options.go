package zoneid

import (
	"context"
	"fmt"
	"math"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Precision is the granularity of a located point ([geo.Precision]).
type Precision = geo.Precision

// The precisions, finest first (see [geo.Precision]; PrecisionDistrict and
// PrecisionCity are too coarse for any zone answer).
const (
	PrecisionPoint    = geo.PrecisionPoint
	PrecisionAddress  = geo.PrecisionAddress
	PrecisionBuilding = geo.PrecisionBuilding
	PrecisionRoad     = geo.PrecisionRoad
	PrecisionTown     = geo.PrecisionTown
	PrecisionDistrict = geo.PrecisionDistrict
	PrecisionCity     = geo.PrecisionCity
	PrecisionNone     = geo.PrecisionNone
)

// coarse reports precisions that never answer "in the FTZ?" or "which grid?".
func coarse(p Precision) bool {
	switch p {
	case PrecisionPoint, PrecisionAddress, PrecisionBuilding, PrecisionRoad, PrecisionTown:
		return false
	}
	return true
}

// Geocoded is a geocoder's answer.
type Geocoded struct {
	// Location is the WGS-84 point (meaningless when Precision is PrecisionNone).
	Location orb.Point
	// Precision is the granularity of Location.
	Precision Precision
	// Address is the matched reference address, if any.
	Address string
}

// Geocoder turns an address into a point. zoneid does not import the
// address matcher (its sibling): the composition root adapts it, e.g.
// server.AddressGeocoder(db). Implementations must be safe for concurrent
// use. An address that cannot be located is not an error: return
// Precision PrecisionNone.
type Geocoder interface {
	Geocode(ctx context.Context, address string) (Geocoded, error)
}

// GeocoderFunc adapts a function to the Geocoder interface.
type GeocoderFunc func(ctx context.Context, address string) (Geocoded, error)

// Geocode calls f.
func (f GeocoderFunc) Geocode(ctx context.Context, address string) (Geocoded, error) {
	return f(ctx, address)
}

// Options configure an [Identifier]. The zero value of every field means
// "use the default" given in its comment.
type Options struct {
	// FTZLayer is the zone layer of the free-trade-zone areas. Default "ftz".
	FTZLayer string
	// GridLayer is the zone layer of the supervision grids. Default: the
	// index's GridLayer ("grid"), so that Identify's grid is the entity's GridID.
	GridLayer string
	// UncertaintyM is the positional uncertainty, in metres, assumed for a
	// geocoded point of each precision. A geocoded point closer than this
	// to the boundary of an FTZ area answers InFTZ Uncertain, and closer
	// than this to the boundary of its grid answers no grid. Precisions
	// missing from the map use the defaults: address 30, building 30,
	// road 1000, town 3000. District, city and none are always uncertain;
	// PrecisionPoint is always 0.
	UncertaintyM map[Precision]float64
	// MaxCells caps the cells of the lookup grid built over the zones
	// (4 bytes each plus the distinct cell contents). Default 1<<18.
	MaxCells int
	// Rules are the siting rules of CheckSite and Violations. Default
	// (nil): DefaultRules(). An empty RuleSet disables the rules.
	Rules *RuleSet
	// Geocoder locates addresses for IdentifyAddress and CheckSiteAddress.
	// Default nil: those methods return ErrNoGeocoder. (A dependency, not a
	// configuration value.)
	Geocoder Geocoder
}

// DefaultUncertaintyM returns the default positional uncertainty per precision.
func DefaultUncertaintyM() map[Precision]float64 {
	return map[Precision]float64{PrecisionAddress: 30, PrecisionBuilding: 30, PrecisionRoad: 1000, PrecisionTown: 3000}
}

// DefaultOptions returns the options with every default filled in (the
// grid layer as for a default geo index).
func DefaultOptions() Options {
	return Options{FTZLayer: "ftz", GridLayer: "grid", UncertaintyM: DefaultUncertaintyM(), MaxCells: 1 << 18, Rules: DefaultRules()}
}

func (o Options) withDefaults(gridLayer string) Options {
	d := DefaultOptions()
	if o.FTZLayer == "" {
		o.FTZLayer = d.FTZLayer
	}
	if o.GridLayer == "" {
		o.GridLayer = gridLayer
		if o.GridLayer == "" {
			o.GridLayer = d.GridLayer
		}
	}
	um := d.UncertaintyM
	for k, v := range o.UncertaintyM {
		um[k] = v
	}
	o.UncertaintyM = um
	if o.MaxCells == 0 {
		o.MaxCells = d.MaxCells
	}
	if o.Rules == nil {
		o.Rules = d.Rules
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	for k, v := range o.UncertaintyM {
		if math.IsNaN(v) || v < 0 || v > 100_000 {
			return fmt.Errorf("%w: UncertaintyM[%q] = %v must be in [0, 100000] metres", ErrInvalidOptions, k, v)
		}
	}
	if o.MaxCells < 0 || (o.MaxCells > 0 && o.MaxCells < 1024) || o.MaxCells > 1<<26 {
		return fmt.Errorf("%w: MaxCells %d must be 0 (default) or in [1024, %d]", ErrInvalidOptions, o.MaxCells, 1<<26)
	}
	if o.Rules != nil {
		if err := o.Rules.Validate(); err != nil {
			return err
		}
	}
	return nil
}
