// Package store makes marketgeo a system of record: every write to a
// [geo.Index] is validated, made durable, then published, and every
// accepted change is kept in a change log with the writer's identity.
//
// A [Store] ties a durable [Backend] to an index. Its write path
// ([Store.Apply], [Store.Patch]) runs inside [geo.Batch.CommitAhead]: the
// index computes what the writes change on a private copy, the store checks
// the preconditions (a feature's version, its existence), assigns each
// change a sequence number, commits the changes and their change-log rows
// in one backend transaction, and only then is the new state published to
// readers and to everything that follows the index (search, the address
// database, grid assignment, the tile cache). A write that fails validation,
// a precondition or the backend changes nothing anywhere.
//
// The embedded backend ([OpenSQLite]) is one SQLite file in WAL mode laid
// out as an OGC GeoPackage, so that GIS tools (QGIS, GDAL's ogrinfo) open the
// regulator's data as it is; see docs/store.md.
//
//	ix, _ := geo.New(geo.Options{})
//	st, err := store.Open(ctx, "marketgeo.gpkg", ix, store.Options{})
//	if err != nil { ... }
//	defer st.Close()
//	res, err := st.Apply(ctx, "clerk-7", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}})
//	fmt.Println(res.Seq) // the change's sequence number, durable when Apply returns
package store
