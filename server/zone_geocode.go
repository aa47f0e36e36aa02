package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/zoneid"
)

// AddressGeocoder adapts the address database to zoneid's Geocoder (zoneid
// does not import addressmatch). An address that is not an address, or is
// not found, geocodes to precision "none"; an empty or over-long address is
// a bad request.
func AddressGeocoder(db *addressmatch.DB) zoneid.Geocoder {
	return zoneid.GeocoderFunc(func(ctx context.Context, address string) (zoneid.Geocoded, error) {
		g, err := db.Geocode(ctx, address)
		switch {
		case err == nil:
		case errors.Is(err, addressmatch.ErrNotAddress), errors.Is(err, addressmatch.ErrNotFound):
			return zoneid.Geocoded{Precision: zoneid.PrecisionNone}, nil
		case errors.Is(err, addressmatch.ErrEmpty), errors.Is(err, addressmatch.ErrTooLong):
			return zoneid.Geocoded{}, fmt.Errorf("%w: address: %v", errBadParam, err)
		default:
			return zoneid.Geocoded{}, err
		}
		return zoneid.Geocoded{Location: g.Location, Precision: g.Precision, Address: g.Address}, nil
	})
}

// zoneErr maps zoneid's errors onto the server's error classes.
func zoneErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zoneid.ErrUnknownGrid):
		return &notFoundError{what: err.Error()[len("zoneid: "):]}
	case errors.Is(err, zoneid.ErrNoGeocoder), errors.Is(err, zoneid.ErrClosed):
		return fmt.Errorf("%w: %v", errUnavailable, err)
	case errors.Is(err, zoneid.ErrInvalidIndustry):
		return fmt.Errorf("%w: %v", errBadParam, err)
	}
	return err
}
