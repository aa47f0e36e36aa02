package zoneid

import (
	"context"
	"fmt"
	"math"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// coarse reports precisions that never answer "in the FTZ?" or "which grid?".
func coarse(p geo.Precision) bool {
	switch p {
	case geo.PrecisionPoint, geo.PrecisionAddress, geo.PrecisionBuilding, geo.PrecisionRoad, geo.PrecisionTown:
		return false
	}
	return true
}

// Geocoded is a geocoder's answer.
type Geocoded struct {
	// Location is the WGS-84 point (meaningless when Precision is geo.PrecisionNone).
	Location orb.Point
	// Precision is the granularity of Location.
	Precision geo.Precision
	// Address is the matched reference address, if any.
	Address string
}

// Geocoder turns an address into a point. zoneid does not import the
// address matcher (its sibling): the composition root adapts it, e.g.
// server.AddressGeocoder(db). Implementations must be safe for concurrent
// use. An address that cannot be located is not an error: return
// Precision geo.PrecisionNone.
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
	// UncertaintyM is the positional uncertainty, in metres, assumed for a
	// geocoded point of each precision. A geocoded point closer than this
	// to the boundary of an FTZ area answers InFTZ Uncertain, and closer
	// than this to the boundary of its grid answers no grid. Precisions
	// missing from the map use the defaults: address 30, building 30,
	// road 1000, town 3000. District, city and none are always uncertain;
	// geo.PrecisionPoint is always 0.
	UncertaintyM map[geo.Precision]float64
	// Rules are the siting rules of CheckSite and Violations. Default
	// (nil): no rules, as an empty RuleSet. The library has no rules of its
	// own: the demo's are demo.Rules().
	Rules *RuleSet
	// Geocoder locates addresses for IdentifyAddress and CheckSiteAddress.
	// Default nil: those methods return ErrNoGeocoder. (A dependency, not a
	// configuration value.)
	Geocoder Geocoder

	// gridLayer is the geo index's GridLayer: the one name of the grid
	// layer is geo.Options.GridLayer, so that Identify's grid is the
	// entity's GridID.
	gridLayer string
}

// DefaultUncertaintyM returns the default positional uncertainty per precision.
func DefaultUncertaintyM() map[geo.Precision]float64 {
	return map[geo.Precision]float64{geo.PrecisionAddress: 30, geo.PrecisionBuilding: 30, geo.PrecisionRoad: 1000, geo.PrecisionTown: 3000}
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{FTZLayer: "ftz", UncertaintyM: DefaultUncertaintyM()}
}

func (o Options) withDefaults(gridLayer string) Options {
	d := DefaultOptions()
	if o.FTZLayer == "" {
		o.FTZLayer = d.FTZLayer
	}
	o.gridLayer = gridLayer
	um := d.UncertaintyM
	for k, v := range o.UncertaintyM {
		um[k] = v
	}
	o.UncertaintyM = um
	if o.Rules == nil {
		o.Rules = &RuleSet{Version: 1}
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
	if o.Rules != nil {
		if err := o.Rules.Validate(); err != nil {
			return err
		}
	}
	return nil
}
