package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

// schemaVersion is the version of the marketgeo tables in the file
// (mg_meta.schema); a file of a newer version is refused.
const schemaVersion = 1

// gpkgApplicationID is "GPKG" as the SQLite application_id; 10400 is
// GeoPackage 1.3.0 as its user_version (the newest that Debian 12's GDAL 3.6 reads without a warning; the layout is the same).
const (
	gpkgApplicationID = 0x47504B47
	gpkgUserVersion   = 10300
)

// SQLite is the embedded [Backend]: one SQLite file in WAL mode, laid out
// as an OGC GeoPackage 1.3 (one feature table per layer, GeoPackage
// geometry blobs in EPSG:4326) plus the change log (mg_changes, registered
// as a GeoPackage attributes table) and mg_meta. See docs/store.md.
type SQLite struct {
	db   *sql.DB
	path string
	lock *os.File // PATH.lock, held while open (nil for memory stores)

	collMu sync.Mutex
	colls  map[string]bool // the collections ensured

	// the statements of Commit, prepared once on the database (see stmt)
	// and closed by Close
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

// stmt returns the statement of query, prepared on the database the first
// time it is asked for and kept until Close: a commit binds it to its
// transaction with Tx.StmtContext, which reuses what each connection has
// prepared instead of compiling the SQL again (compiling the statements
// was about a sixth of a single write's commit).
func (s *SQLite) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	if st := s.stmts[query]; st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// closeStmts closes the prepared statements; stmt refuses to prepare more.
func (s *SQLite) closeStmts() error {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	s.closed = true
	var errs []error
	for q, st := range s.stmts {
		errs = append(errs, st.Close())
		delete(s.stmts, q)
	}
	return errors.Join(errs...)
}

// The SQL of Commit's statements.
const (
	sqlLogChange   = "INSERT INTO mg_changes (seq, time, layer, id, op, writer, feature) VALUES (?, ?, ?, ?, ?, ?, ?)"
	sqlLastChange  = "UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?"
	sqlDocPutFmt   = "INSERT INTO %s (id, version, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET version=excluded.version, doc=excluded.doc"
	sqlDeleteIDFmt = "DELETE FROM %s WHERE id = ?"
)

// putSQL is the upsert of a feature table's row.
func (t *layerTable) putSQL() string {
	cols := append([]string{"id", "geom"}, t.names...)
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		set = append(set, c+"=excluded."+c)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT(id) DO UPDATE SET %s", t.table, strings.Join(cols, ", "),
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "), strings.Join(set, ", "))
}

// layerTable describes the feature table of a layer.
type layerTable struct {
	layer    geo.Layer
	table    string
	geomType string
	columns  string // column definitions after fid, id and geom
	names    []string
}

var layerTables = []layerTable{
	{geo.LayerEntities, "entities", "POINT",
		"name TEXT NOT NULL, short_name TEXT, former_names TEXT, address TEXT, industry TEXT, status TEXT, risk TEXT, building_id TEXT, grid_id TEXT, registered_at DATE, annual_report BOOLEAN, abnormal BOOLEAN, blacklisted BOOLEAN, attrs TEXT, version INTEGER NOT NULL",
		[]string{"name", "short_name", "former_names", "address", "industry", "status", "risk", "building_id", "grid_id", "registered_at", "annual_report", "abnormal", "blacklisted", "attrs", "version"}},
	{geo.LayerBuildings, "buildings", "POLYGON",
		"name TEXT, address TEXT, floors INTEGER, height REAL, attrs TEXT, version INTEGER NOT NULL",
		[]string{"name", "address", "floors", "height", "attrs", "version"}},
	{geo.LayerPlaces, "places", "POINT",
		"name TEXT NOT NULL, kind TEXT, aliases TEXT, attrs TEXT, version INTEGER NOT NULL",
		[]string{"name", "kind", "aliases", "attrs", "version"}},
	{geo.LayerZones, "zones", "MULTIPOLYGON",
		"layer TEXT NOT NULL, name TEXT, props TEXT, version INTEGER NOT NULL",
		[]string{"layer", "name", "props", "version"}},
}

func tableOf(l geo.Layer) *layerTable {
	for i := range layerTables {
		if layerTables[i].layer == l {
			return &layerTables[i]
		}
	}
	return nil
}

// OpenSQLite opens or creates the GeoPackage store at path. ":memory:"
// opens a store that lives in memory only (tests, --store :memory:).
// Missing parent directories are created.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	var dsn string
	mem := path == ":memory:"
	var lock *os.File
	if mem {
		dsn = "file::memory:?_pragma=foreign_keys(0)"
	} else {
		if path == "" {
			return nil, fmt.Errorf("%w: empty store path", ErrInvalidWrite)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
		}
		var err error
		if lock, err = lockFile(path + ".lock"); err != nil {
			return nil, err
		}
		defer func() {
			if lock != nil { // not handed to the store: failed
				lock.Close()
			}
		}()
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_txlock", "immediate")
		dsn = "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if mem {
		db.SetMaxOpenConns(1) // every connection would be a database of its own
	} else {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	s := &SQLite{db: db, path: path, lock: lock}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	lock = nil
	return s, nil
}

func (s *SQLite) init(ctx context.Context) error {
	var appID int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
	}
	var ntables int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table'").Scan(&ntables); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
	}
	if ntables > 0 {
		if appID != gpkgApplicationID {
			return fmt.Errorf("%w: %s is an SQLite file but not a GeoPackage", ErrCorrupt, s.path)
		}
		var v string
		err := s.db.QueryRowContext(ctx, "SELECT value FROM mg_meta WHERE key='schema'").Scan(&v)
		if err != nil {
			return fmt.Errorf("%w: %s is a GeoPackage but not a marketgeo store: %v", ErrCorrupt, s.path, err)
		}
		if v != fmt.Sprint(schemaVersion) {
			return fmt.Errorf("%w: %s has store schema %s, this build reads %d", ErrCorrupt, s.path, v, schemaVersion)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer tx.Rollback()
	stmts := []string{
		fmt.Sprintf("PRAGMA application_id = %d", gpkgApplicationID),
		fmt.Sprintf("PRAGMA user_version = %d", gpkgUserVersion),
		`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
		`INSERT INTO gpkg_spatial_ref_sys VALUES
			('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
			('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
			('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`,
		`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
		`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
		`CREATE TABLE mg_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		fmt.Sprintf(`INSERT INTO mg_meta VALUES ('schema', '%d')`, schemaVersion),
		`CREATE TABLE mg_changes (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, layer TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, writer TEXT, feature TEXT)`,
		`CREATE INDEX mg_changes_feature ON mg_changes (layer, id, seq)`,
		`INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES ('mg_changes', 'attributes', 'mg_changes', 'marketgeo change log: one row per feature written, in commit order')`,
	}
	for _, t := range layerTables {
		stmts = append(stmts,
			fmt.Sprintf(`CREATE TABLE %s (fid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, geom %s, %s)`, t.table, t.geomType, t.columns),
			fmt.Sprintf(`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES ('%s', 'features', '%s', 'marketgeo %s', %d)`, t.table, t.table, t.layer, srsWGS84),
			fmt.Sprintf(`INSERT INTO gpkg_geometry_columns VALUES ('%s', 'geom', '%s', %d, 0, 0)`, t.table, t.geomType, srsWGS84),
		)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w: creating the store: %v", ErrUnavailable, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: creating the store: %v", ErrUnavailable, err)
	}
	return nil
}

// LastSeq implements [Backend].
func (s *SQLite) LastSeq(ctx context.Context) (uint64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(seq) FROM mg_changes").Scan(&n); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return uint64(n.Int64), nil
}

// Meta implements [Backend].
func (s *SQLite) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM mg_meta WHERE key = ?", "user:"+key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return v, nil
}

// SetMeta implements [Backend].
func (s *SQLite) SetMeta(ctx context.Context, key, value string) error {
	if _, err := s.db.ExecContext(ctx, "INSERT INTO mg_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", "user:"+key, value); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Close implements [Backend]; it releases the store's lock.
func (s *SQLite) Close() error {
	err := errors.Join(s.closeStmts(), s.db.Close())
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

func jsonText(v any, empty bool) any {
	if empty {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// values returns the column values (after id and geom) and the geometry
// of a feature, in the order of its table's names.
func values(v any) (orb.Geometry, []any) {
	switch t := v.(type) {
	case *geo.Entity:
		var reg any
		if !t.RegisteredAt.IsZero() {
			reg = t.RegisteredAt.Format("2006-01-02")
		}
		return t.Location, []any{t.Name, nullIf(t.ShortName), jsonText(t.FormerNames, len(t.FormerNames) == 0), nullIf(t.Address),
			nullIf(t.Industry), nullIf(string(t.Status)), nullIf(string(t.Risk)), nullIf(t.BuildingID), nullIf(t.GridID), reg,
			boolInt(t.AnnualReport), boolInt(t.Abnormal), boolInt(t.Blacklisted), jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
	case *geo.Building:
		return t.Footprint, []any{nullIf(t.Name), nullIf(t.Address), t.Floors, t.HeightM, jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
	case *geo.Place:
		return t.Location, []any{t.Name, nullIf(t.Kind), jsonText(t.Aliases, len(t.Aliases) == 0), jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
	case *geo.Zone:
		return t.Geometry, []any{t.Layer, nullIf(t.Name), jsonText(t.Props, len(t.Props) == 0), int64(t.Version)}
	}
	return nil, nil
}

// Commit implements [Backend]: one immediate transaction, synced to disk
// (WAL, synchronous=FULL) before it returns.
func (s *SQLite) Commit(ctx context.Context, recs []Record) error {
	// the statements are prepared (the first time) before the transaction
	// takes its connection: a memory store has only that one
	logStmt, err := s.stmt(ctx, sqlLogChange)
	if err != nil {
		return err
	}
	lastChange, err := s.stmt(ctx, sqlLastChange)
	if err != nil {
		return err
	}
	stmts := map[geo.Layer]*prepared{}
	for i := range recs {
		l := recs[i].Layer
		if stmts[l] != nil {
			continue
		}
		p := &prepared{table: string(l), doc: true}
		put, del := fmt.Sprintf(sqlDocPutFmt, l), fmt.Sprintf(sqlDeleteIDFmt, l)
		if t := tableOf(l); t != nil {
			p.table, p.doc = t.table, false
			put, del = t.putSQL(), fmt.Sprintf(sqlDeleteIDFmt, t.table)
		} else if !s.hasCollection(string(l)) {
			return fmt.Errorf("%w: layer %q", geo.ErrUnknownLayer, l)
		}
		if p.put, err = s.stmt(ctx, put); err != nil {
			return err
		}
		if p.del, err = s.stmt(ctx, del); err != nil {
			return err
		}
		stmts[l] = p
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// each statement bound to the transaction once (closed with it)
	logStmt = tx.StmtContext(ctx, logStmt)
	for _, p := range stmts {
		p.put, p.del = tx.StmtContext(ctx, p.put), tx.StmtContext(ctx, p.del)
	}
	touched := map[string]bool{"mg_changes": true}
	for i := range recs {
		r := &recs[i]
		p := stmts[r.Layer]
		touched[p.table] = true
		switch {
		case p.doc:
			if d, ok := r.Value.(*Doc); ok && d != nil {
				_, err = p.put.ExecContext(ctx, r.ID, int64(d.Version), string(d.Body))
			} else {
				_, err = p.del.ExecContext(ctx, r.ID)
			}
		case r.Value == nil:
			_, err = p.del.ExecContext(ctx, r.ID)
		default:
			g, vals := values(r.Value)
			blob, gerr := encodeGPB(g)
			if gerr != nil {
				return gerr
			}
			_, err = p.put.ExecContext(ctx, append([]any{r.ID, blob}, vals...)...)
		}
		if err != nil {
			return err
		}
		if _, err := logStmt.ExecContext(ctx, int64(r.Seq), r.Time.UTC().Format(time.RFC3339Nano), string(r.Layer), r.ID, string(r.Op), nullIf(r.Writer), logFeature(r.Feature)); err != nil {
			return err
		}
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	lastChange = tx.StmtContext(ctx, lastChange)
	for tbl := range touched {
		if _, err := lastChange.ExecContext(ctx, now, tbl); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// prepared holds the statements of one layer's (or collection's) table.
type prepared struct {
	put, del *sql.Stmt
	table    string
	doc      bool // a collection's: (id, version, doc)
}

func logFeature(f json.RawMessage) any {
	if len(f) > 0 && string(f) != "null" {
		return string(f)
	}
	return nil
}

func (s *SQLite) hasCollection(name string) bool {
	s.collMu.Lock()
	defer s.collMu.Unlock()
	return s.colls[name]
}

// EnsureCollection implements [DocBackend]: the collection is a GeoPackage
// attributes table (fid, id, version, doc: the JSON document), registered in
// gpkg_contents so that GIS tools list it with its row count.
func (s *SQLite) EnsureCollection(ctx context.Context, name string) error {
	if !collectionName.MatchString(name) || tableOf(geo.Layer(name)) != nil || strings.HasPrefix(name, "gpkg_") || strings.HasPrefix(name, "mg_") {
		return fmt.Errorf("%w: collection name %q", ErrInvalidWrite, name)
	}
	s.collMu.Lock()
	defer s.collMu.Unlock()
	if s.colls[name] {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (fid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, doc TEXT NOT NULL)`, name),
		fmt.Sprintf(`INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES ('%s', 'attributes', '%s', 'marketgeo collection %s: one JSON document a row')`, name, name, name),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w: creating collection %s: %v", ErrUnavailable, name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: creating collection %s: %v", ErrUnavailable, name, err)
	}
	if s.colls == nil {
		s.colls = map[string]bool{}
	}
	s.colls[name] = true
	return nil
}

// LoadDocs implements [DocBackend].
func (s *SQLite) LoadDocs(ctx context.Context, name string, fn func(Doc) error) error {
	if !s.hasCollection(name) {
		return fmt.Errorf("%w: collection %q", geo.ErrUnknownLayer, name)
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT id, version, doc FROM %s", name))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var d Doc
		var v int64
		var body []byte
		if err := rows.Scan(&d.ID, &v, &body); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
		}
		d.Version, d.Body = uint64(v), json.RawMessage(body)
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	return nil
}

// Docs implements [DocBackend].
func (s *SQLite) Docs(ctx context.Context, name string, ids []string) ([]Doc, error) {
	if !s.hasCollection(name) {
		return nil, fmt.Errorf("%w: collection %q", geo.ErrUnknownLayer, name)
	}
	var out []Doc
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		q := fmt.Sprintf("SELECT id, version, doc FROM %s WHERE id IN (%s)", name, strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", "))
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, name, err)
		}
		for rows.Next() {
			var d Doc
			var v int64
			var body []byte
			if err := rows.Scan(&d.ID, &v, &body); err != nil {
				rows.Close()
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
			}
			d.Version, d.Body = uint64(v), json.RawMessage(body)
			out = append(out, d)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
		}
	}
	return out, nil
}

// Load implements [Backend].
func (s *SQLite) Load(ctx context.Context, fn func(layer geo.Layer, v any) error) error {
	for _, t := range layerTables {
		if err := s.loadTable(ctx, &t, fn); err != nil {
			return fmt.Errorf("loading %s: %w", t.table, err)
		}
	}
	return nil
}

func (s *SQLite) loadTable(ctx context.Context, t *layerTable, fn func(geo.Layer, any) error) error {
	q := fmt.Sprintf("SELECT id, geom, %s FROM %s", strings.Join(t.names, ", "), t.table)
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, err := scanFeature(t.layer, rows)
		if err != nil {
			return err
		}
		if err := fn(t.layer, v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

func unjson(s sql.NullString, v any) error {
	if !s.Valid || s.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

func scanFeature(layer geo.Layer, rows *sql.Rows) (any, error) {
	var id string
	var blob []byte
	var version int64
	bad := func(err error) error { return fmt.Errorf("%w: %s %q: %v", ErrCorrupt, layer, id, err) }
	switch layer {
	case geo.LayerEntities:
		var name string
		var short, former, addr, ind, status, risk, bld, grid, reg, attrs sql.NullString
		var ar, ab, bl sql.NullBool
		if err := rows.Scan(&id, &blob, &name, &short, &former, &addr, &ind, &status, &risk, &bld, &grid, &reg, &ar, &ab, &bl, &attrs, &version); err != nil {
			return nil, bad(err)
		}
		pt, err := decodePoint(blob)
		if err != nil {
			return nil, bad(err)
		}
		e := &geo.Entity{ID: id, Name: name, ShortName: short.String, Address: addr.String, Location: pt, Industry: ind.String,
			Status: geo.Status(status.String), Risk: geo.Risk(risk.String), BuildingID: bld.String, GridID: grid.String,
			AnnualReport: ar.Bool, Abnormal: ab.Bool, Blacklisted: bl.Bool, Version: uint64(version)}
		if reg.Valid && reg.String != "" {
			d, err := time.Parse("2006-01-02", reg.String[:min(10, len(reg.String))])
			if err != nil {
				return nil, bad(err)
			}
			e.RegisteredAt = d
		}
		if err := unjson(former, &e.FormerNames); err != nil {
			return nil, bad(err)
		}
		if err := unjson(attrs, &e.Attrs); err != nil {
			return nil, bad(err)
		}
		return e, nil
	case geo.LayerBuildings:
		var name, addr, attrs sql.NullString
		var floors sql.NullInt64
		var height sql.NullFloat64
		if err := rows.Scan(&id, &blob, &name, &addr, &floors, &height, &attrs, &version); err != nil {
			return nil, bad(err)
		}
		g, err := decodeGPB(blob)
		if err != nil {
			return nil, bad(err)
		}
		poly, ok := g.(orb.Polygon)
		if !ok {
			return nil, bad(errors.New("geometry is not a polygon"))
		}
		b := &geo.Building{ID: id, Name: name.String, Address: addr.String, Footprint: poly, Floors: int(floors.Int64), HeightM: height.Float64, Version: uint64(version)}
		if err := unjson(attrs, &b.Attrs); err != nil {
			return nil, bad(err)
		}
		return b, nil
	case geo.LayerPlaces:
		var name string
		var kind, aliases, attrs sql.NullString
		if err := rows.Scan(&id, &blob, &name, &kind, &aliases, &attrs, &version); err != nil {
			return nil, bad(err)
		}
		pt, err := decodePoint(blob)
		if err != nil {
			return nil, bad(err)
		}
		p := &geo.Place{ID: id, Name: name, Kind: kind.String, Location: pt, Version: uint64(version)}
		if err := unjson(aliases, &p.Aliases); err != nil {
			return nil, bad(err)
		}
		if err := unjson(attrs, &p.Attrs); err != nil {
			return nil, bad(err)
		}
		return p, nil
	case geo.LayerZones:
		var zl string
		var name, props sql.NullString
		if err := rows.Scan(&id, &blob, &zl, &name, &props, &version); err != nil {
			return nil, bad(err)
		}
		g, err := decodeGPB(blob)
		if err != nil {
			return nil, bad(err)
		}
		var mp orb.MultiPolygon
		switch t := g.(type) {
		case orb.MultiPolygon:
			mp = t
		case orb.Polygon:
			mp = orb.MultiPolygon{t}
		default:
			return nil, bad(errors.New("geometry is not a (multi)polygon"))
		}
		z := &geo.Zone{ID: id, Layer: zl, Name: name.String, Geometry: mp, Version: uint64(version)}
		if err := unjson(props, &z.Props); err != nil {
			return nil, bad(err)
		}
		return z, nil
	}
	return nil, fmt.Errorf("%w: %q", geo.ErrUnknownLayer, layer)
}

func decodePoint(blob []byte) (orb.Point, error) {
	g, err := decodeGPB(blob)
	if err != nil {
		return orb.Point{}, err
	}
	pt, ok := g.(orb.Point)
	if !ok {
		return orb.Point{}, errors.New("geometry is not a point")
	}
	return pt, nil
}

func scanChanges(rows *sql.Rows) ([]Change, error) {
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var seq int64
		var tm, layer, op string
		var writer, feat sql.NullString
		if err := rows.Scan(&seq, &tm, &layer, &c.ID, &op, &writer, &feat); err != nil {
			return nil, fmt.Errorf("%w: change log: %v", ErrCorrupt, err)
		}
		t, err := time.Parse(time.RFC3339Nano, tm)
		if err != nil {
			return nil, fmt.Errorf("%w: change %d: time %q", ErrCorrupt, seq, tm)
		}
		c.Seq, c.Time, c.Layer, c.Op, c.Writer = uint64(seq), t, geo.Layer(layer), Op(op), writer.String
		c.Feature = json.RawMessage("null")
		if feat.Valid {
			c.Feature = json.RawMessage(feat.String)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: change log: %v", ErrCorrupt, err)
	}
	return out, nil
}

// Changes implements [Backend].
func (s *SQLite) Changes(ctx context.Context, since uint64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, "SELECT seq, time, layer, id, op, writer, feature FROM mg_changes WHERE seq > ? ORDER BY seq LIMIT ?", int64(since), limit)
	if err != nil {
		return nil, fmt.Errorf("%w: change log: %v", ErrUnavailable, err)
	}
	return scanChanges(rows)
}

// History implements [Backend].
func (s *SQLite) History(ctx context.Context, layer geo.Layer, id string, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, "SELECT seq, time, layer, id, op, writer, feature FROM (SELECT * FROM mg_changes WHERE layer = ? AND id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq", string(layer), id, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: history: %v", ErrUnavailable, err)
	}
	return scanChanges(rows)
}
