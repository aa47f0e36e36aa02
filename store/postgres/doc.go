// Package postgres is the PostgreSQL/PostGIS backend of package store:
// several marketgeo nodes, each an in-memory index, over one database as
// the shared system of record (issue 20; docs/store.md, "Several nodes").
//
// The layers are tables with PostGIS geometry(…, 4326) columns and GiST
// indexes (GIS staff query them with SQL and QGIS); the change log is
// mg_changes, numbered by the one-row table mg_seq whose row lock orders
// the writers of every node; migrations (migrations/NNNN_name.sql, embedded)
// are applied on open. Load reads each table with COPY … TO STDOUT in
// binary; Commit writes a batch with one unnest statement per table and
// chunk. A node follows the others through LISTEN/NOTIFY as a wake-up and
// the change log as the truth ([store.Shared]).
//
//	be, err := postgres.Open(ctx, "postgres://marketgeo@127.0.0.1/marketgeo", postgres.Options{})
//	if err != nil { ... }
//	st, err := store.New(ctx, ix, be, store.Options{}) // loads, then follows
//	if err != nil { ... }
//	defer st.Close()
package postgres
