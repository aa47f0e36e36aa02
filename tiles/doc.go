// Package tiles renders Mapbox Vector Tiles (MVT 2.1) of a geo.Index for
// the regulator's web map: market entities coloured by risk class (clustered
// at low zooms), building footprints with their economic figures, zones
// (districts, streets, the FTZ outline, supervision grids) and places. It
// also writes TileJSON 3.0.0 documents and PMTiles v3 archives for offline
// use, and keeps an LRU cache of rendered tiles with a byte cap.
//
// The core is transport-free: [Renderer.Tile] takes a context, a layer,
// z/x/y and a [Query] and returns a [Tile] (MVT bytes, a lazily computed
// gzip variant and an ETag). The server package adapts it to HTTP.
//
// Tiles follow the index: a live update (geo.Index.Follow) drops only the
// cached tiles whose bounds, with the buffer, contain the old or the new
// position or footprint of the changed feature.
//
// Geometry handling: features are projected to the tile at Options.Extent
// (4096), polygons are clipped to the tile plus Options.Buffer and
// simplified with Douglas–Peucker at a tolerance of one tile unit (so the
// tolerance in metres halves at every zoom), slivers under one square unit
// are dropped. Entity points are clustered on a grid of
// Options.ClusterCell units up to Options.ClusterMaxZoom, and above it
// whenever a tile would hold more than Options.MaxPoints points; a cluster
// feature carries count and count_A … count_D.
//
// A minimal session:
//
//	tr, err := tiles.New(idx, tiles.Options{})
//	if err != nil { … }
//	defer tr.Close()
//	t, err := tr.Tile(ctx, tiles.LayerEntities, 14, 13042, 6776, tiles.Query{})
//	// t.Data is the MVT, t.Gzip() its gzip form, t.ETag its entity tag.
//
// The package imports no net/http and holds no package-level mutable state;
// every Renderer is independent.
package tiles
