// Package geo is the in-memory spatial core of marketgeo: the model of a
// regulator's map (market entities, buildings, places of interest and zones)
// and a spatial index per layer that answers radius, k-nearest, bounding-box,
// polygon and point-in-zone queries.
//
// A point layer (entities, places, buildings by their centre) is indexed
// twice over: bulk loads build a static packed R-tree (the points sorted
// along a Hilbert curve in flat arrays, 16 to a leaf), which a radius query
// scans without a callback per point; later writes go to a tidwall/rtree
// R-tree and mark the packed points they replace as dead. Both cost every
// query, so once a commit leaves [Options.RepackChurn] such points in a
// layer (default 1024), a goroutine repacks that layer from the published
// snapshot off the writer's lock, then briefly takes the lock to replay
// the writes committed meanwhile onto the new tree and publishes a
// snapshot with it (same features, same [Snapshot.Version]); writers never
// wait for the packing, readers see the old tree or the new one.
// [Index.Close] stops these repacks. A commit that leaves a quarter of a
// layer's points written repacks it itself. Zones and building footprints
// live in tidwall/rtree R-trees.
//
// All coordinates are WGS-84 longitude/latitude ([orb.Point] is [lon, lat]).
// Distances are great-circle distances on the mean Earth sphere (radius
// [EarthRadius]), computed with the haversine formula, which is exact on the
// sphere for every distance this package handles.
//
// An [Index] is safe for any number of concurrent readers and writers. Every
// query runs against an immutable [Snapshot]; a write (Upsert, Delete or a
// [Batch]) builds the next snapshot with copy-on-write R-trees, B-trees and dead-point
// sets (the packed trees are immutable and shared) and
// publishes it atomically, so a reader never sees a half-applied update and
// never waits for a writer.
//
// A minimal session:
//
//	idx, _ := geo.New(geo.Options{})
//	_ = idx.UpsertEntity(geo.Entity{ID: "91500000MA5U7XXXXX", Name: "…", Location: orb.Point{106.58, 29.66}})
//	hits, _ := idx.Nearby(ctx, geo.LayerEntities, orb.Point{106.58, 29.66}, 200, geo.Query{})
//	for _, h := range hits.Hits {
//		fmt.Println(h.ID, h.DistanceM)
//	}
package geo
