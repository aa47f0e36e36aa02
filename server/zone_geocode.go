package server

import (
	"context"
	"errors"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/zoneid"
)

// AddressGeocoder adapts the address database to zoneid's Geocoder (zoneid
// does not import addressmatch). An address that is not an address, or is
// not found, geocodes to precision "none"; other errors (an empty or
// over-long address) are returned as they are, for the status table.
func AddressGeocoder(db *addressmatch.DB) zoneid.Geocoder {
	return zoneid.GeocoderFunc(func(ctx context.Context, address string) (zoneid.Geocoded, error) {
		g, err := db.Geocode(ctx, address)
		if errors.Is(err, addressmatch.ErrNotAddress) || errors.Is(err, addressmatch.ErrNotFound) {
			return zoneid.Geocoded{Precision: geo.PrecisionNone}, nil
		}
		if err != nil {
			return zoneid.Geocoded{}, err
		}
		return zoneid.Geocoded{Location: g.Location, Precision: g.Precision, Address: g.Address}, nil
	})
}
