// Package zoneid answers "which zones contain this point or address?":
// is it inside the free-trade zone (and which area), which district and
// street, which supervision grid and inspector; and it checks siting rules
// such as "no internet café within 200 m of a school".
//
// The zones themselves are held by the geo index (geo.Zone, any number of
// layers: "ftz", "district", "street", "grid" and whatever a user loads
// from GeoJSON), and so is zone membership: an [Identifier] reads the
// index's zone table (geo.Snapshot.ZoneTable), a uniform grid of cells each
// listing the zones covering it entirely and those whose boundary crosses
// it, so that only the latter need an exact point-in-polygon test (with
// geo.PreparedArea, whose edges are bucketed in latitude bands, so
// boundaries with thousands of vertices stay cheap). The same table answers
// geo.Index.ZonesAt and gives every entity its grid; it is rebuilt on the
// first query after a zone change.
//
// # Boundary rule
//
// Containment is exactly that of geo.Index.ZonesAt: the half-open
// crossing-number rule of geo.PreparedArea. A point on an edge shared by
// two zones of a partition (neighbouring grids, streets) belongs to exactly
// one of them: the zone to the right of a vertical edge, the zone above a
// horizontal edge (for a sloped edge, the zone on its +x side). A point on
// the outer boundary of a partition belongs to at most one zone. Holes and
// multipolygons follow the even-odd rule. When several grids overlap, the
// smallest ID is the point's grid, as for geo.Entity.GridID, which the
// index derives from the entity's location on every write.
//
// # Addresses
//
// IdentifyAddress geocodes first, through the [Geocoder] interface (zoneid
// does not import the address matcher; the server adapts it). The answer
// reports the geocode precision. An address known only to district or
// city level cannot say whether it is in the FTZ: InFTZ is [Uncertain]
// (JSON null). A finer geocode is also Uncertain when it lies within its
// positional uncertainty (Options.UncertaintyM) of an FTZ boundary.
//
// # Example
//
//	idx, _ := geo.New(geo.Options{})
//	_ = idx.UpsertZone(geo.Zone{ID: "FTZ-LJ", Layer: "ftz", Name: "两江片区", Geometry: mp})
//	rules, _ := zoneid.LoadRules("rules.json") // nil Rules: no siting rules
//	id, _ := zoneid.New(idx, zoneid.Options{Rules: rules})
//	defer id.Close()
//	res, _ := id.Identify(ctx, orb.Point{106.56, 29.71})
//	fmt.Println(res.InFTZ, res.FTZ.Name) // inside 两江片区
//	vs, _ := id.CheckSite(ctx, orb.Point{106.56, 29.71}, "R9013")
//	for _, v := range vs {
//		fmt.Println(v.Rule.ID, v.Places[0].Place.Name, v.Places[0].DistanceM)
//	}
//
// All methods of Identifier are safe for concurrent use; nothing in the
// package is global or mutable.
package zoneid
