package geo

// Precision is the granularity of a located point: PrecisionPoint for
// coordinates given by the caller, otherwise the precision of a geocoded
// address. It is shared vocabulary of the packages that geocode
// (addressmatch) and locate (zoneid), which may not import each other.
type Precision string

// The precisions, finest first.
const (
	// PrecisionPoint: coordinates given directly; no positional uncertainty is assumed.
	PrecisionPoint Precision = "point"
	// PrecisionAddress: a full address matched in the address database.
	PrecisionAddress Precision = "address"
	// PrecisionBuilding: the building (same building, other door or floor).
	PrecisionBuilding Precision = "building"
	// PrecisionRoad: the centroid of a road's known addresses.
	PrecisionRoad Precision = "road"
	// PrecisionTown: the centroid of a street (街道) or town (镇).
	PrecisionTown Precision = "town"
	// PrecisionDistrict: the centroid of a district.
	PrecisionDistrict Precision = "district"
	// PrecisionCity: the centroid of a city.
	PrecisionCity Precision = "city"
	// PrecisionNone: the address could not be located.
	PrecisionNone Precision = "none"
)
