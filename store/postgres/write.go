package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// column kinds of the parameter arrays of a bulk upsert
const (
	kText  = iota // nullable text ([]*string)
	kBytes        // bytea ([][]byte)
	kBool         // boolean ([]bool)
	kInt          // bigint ([]int64)
	kFloat        // double precision ([]float64)
)

type column struct {
	name string
	kind int
	expr string // the value from the unnest alias u.cN ("%s" = u.cN)
}

// table is the feature table of a layer: its columns after id (geom is
// the first) and how a feature gives their values.
type table struct {
	layer  geo.Layer
	name   string
	cols   []column
	values func(v any) []any // in cols order: nil, string, []byte, bool, int64, float64
}

func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func jsonText(v any, empty bool) any {
	if empty {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func wkbOf(g orb.Geometry) []byte {
	b, _ := wkb.Marshal(g, binary.LittleEndian)
	return b
}

var geomCol = column{"geom", kBytes, "ST_GeomFromWKB(%s, 4326)"}

var tables = []table{
	{geo.LayerEntities, "entities", []column{geomCol, {"name", kText, ""}, {"short_name", kText, ""}, {"former_names", kText, "%s::jsonb"}, {"address", kText, ""},
		{"industry", kText, ""}, {"status", kText, ""}, {"risk", kText, ""}, {"building_id", kText, ""}, {"grid_id", kText, ""}, {"registered_at", kText, "%s::date"},
		{"annual_report", kBool, ""}, {"abnormal", kBool, ""}, {"blacklisted", kBool, ""}, {"attrs", kText, "%s::jsonb"}, {"version", kInt, ""}},
		func(v any) []any {
			t := v.(*geo.Entity)
			var reg any
			if !t.RegisteredAt.IsZero() {
				reg = t.RegisteredAt.Format("2006-01-02")
			}
			return []any{wkbOf(t.Location), t.Name, text(t.ShortName), jsonText(t.FormerNames, len(t.FormerNames) == 0), text(t.Address),
				text(t.Industry), text(string(t.Status)), text(string(t.Risk)), text(t.BuildingID), text(t.GridID), reg,
				t.AnnualReport, t.Abnormal, t.Blacklisted, jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
		}},
	{geo.LayerBuildings, "buildings", []column{geomCol, {"name", kText, ""}, {"address", kText, ""}, {"floors", kInt, "%s::integer"}, {"height", kFloat, ""},
		{"attrs", kText, "%s::jsonb"}, {"version", kInt, ""}},
		func(v any) []any {
			t := v.(*geo.Building)
			return []any{wkbOf(t.Footprint), text(t.Name), text(t.Address), int64(t.Floors), t.HeightM, jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
		}},
	{geo.LayerPlaces, "places", []column{geomCol, {"name", kText, ""}, {"kind", kText, ""}, {"aliases", kText, "%s::jsonb"}, {"attrs", kText, "%s::jsonb"}, {"version", kInt, ""}},
		func(v any) []any {
			t := v.(*geo.Place)
			return []any{wkbOf(t.Location), t.Name, text(t.Kind), jsonText(t.Aliases, len(t.Aliases) == 0), jsonText(t.Attrs, len(t.Attrs) == 0), int64(t.Version)}
		}},
	{geo.LayerZones, "zones", []column{geomCol, {"layer", kText, ""}, {"name", kText, ""}, {"props", kText, "%s::jsonb"}, {"version", kInt, ""}},
		func(v any) []any {
			t := v.(*geo.Zone)
			g := orb.Geometry(t.Geometry)
			return []any{wkbOf(g), t.Layer, text(t.Name), jsonText(t.Props, len(t.Props) == 0), int64(t.Version)}
		}},
}

func tableOf(l geo.Layer) *table {
	for i := range tables {
		if tables[i].layer == l {
			return &tables[i]
		}
	}
	return nil
}

var arrayType = [...]string{kText: "text[]", kBytes: "bytea[]", kBool: "boolean[]", kInt: "bigint[]", kFloat: "double precision[]"}

// upsertSQL is the statement that upserts rows given as one array per
// column ($1 the ids).
func (t *table) upsertSQL() string {
	var args, aliases, names, sel, set []string
	args = append(args, "$1::text[]")
	aliases = append(aliases, "id")
	for i, c := range t.cols {
		a := "c" + strconv.Itoa(i)
		args = append(args, fmt.Sprintf("$%d::%s", i+2, arrayType[c.kind]))
		aliases = append(aliases, a)
		names = append(names, c.name)
		e := "u." + a
		if c.expr != "" {
			e = fmt.Sprintf(c.expr, e)
		}
		sel = append(sel, e)
		set = append(set, c.name+" = excluded."+c.name)
	}
	return fmt.Sprintf("INSERT INTO %s (id, %s) SELECT u.id, %s FROM unnest(%s) AS u(%s) ON CONFLICT (id) DO UPDATE SET %s",
		t.name, strings.Join(names, ", "), strings.Join(sel, ", "), strings.Join(args, ", "), strings.Join(aliases, ", "), strings.Join(set, ", "))
}

// arrays turns rows of values into one typed array per column.
func (t *table) arrays(ids []string, vals [][]any) []any {
	out := []any{ids}
	for ci, c := range t.cols {
		switch c.kind {
		case kText:
			a := make([]*string, len(vals))
			for i, v := range vals {
				if s, ok := v[ci].(string); ok {
					a[i] = &s
				}
			}
			out = append(out, a)
		case kBytes:
			a := make([][]byte, len(vals))
			for i, v := range vals {
				a[i], _ = v[ci].([]byte)
			}
			out = append(out, a)
		case kBool:
			a := make([]bool, len(vals))
			for i, v := range vals {
				a[i], _ = v[ci].(bool)
			}
			out = append(out, a)
		case kInt:
			a := make([]int64, len(vals))
			for i, v := range vals {
				a[i], _ = v[ci].(int64)
			}
			out = append(out, a)
		case kFloat:
			a := make([]float64, len(vals))
			for i, v := range vals {
				a[i], _ = v[ci].(float64)
			}
			out = append(out, a)
		}
	}
	return out
}

// chunk is the number of rows of one bulk statement.
const chunk = 20000

// writeTx is a write transaction holding the sequence row's lock. It is
// driven with explicit BEGIN/COMMIT statements so that a small commit
// (rows, change log, sequence, notification, COMMIT) is one pipelined
// round trip while the lock is held.
type writeTx struct {
	b    *Backend
	c    *pgx.Conn
	last uint64
	done bool
}

// BeginWrite implements [store.Shared]: it locks the sequence row (SELECT
// … FOR UPDATE) and returns its value. Until this transaction ends, no
// writer of any node can take a sequence number: numbers are handed out
// in commit order, without gaps.
func (b *Backend) BeginWrite(ctx context.Context) (store.WriteTx, uint64, error) {
	c, err := b.pool.get(ctx)
	if err != nil {
		return nil, 0, unavailable("connecting", err)
	}
	batch := &pgx.Batch{}
	batch.Queue("BEGIN")
	batch.Queue("SELECT last FROM mg_seq FOR UPDATE")
	res := c.SendBatch(ctx, batch)
	var last int64
	_, err = res.Exec()
	if err == nil {
		err = res.QueryRow().Scan(&last)
	}
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w := &writeTx{b: b, c: c}
		w.end(err)
		return nil, 0, unavailable("locking the sequence", err)
	}
	return &writeTx{b: b, c: c, last: uint64(last)}, uint64(last), nil
}

// end rolls back when the transaction is still open and returns the
// connection.
func (w *writeTx) end(err error) {
	w.done = true
	if !w.c.IsClosed() && w.c.PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, rerr := w.c.Exec(ctx, "ROLLBACK"); err == nil {
			err = rerr
		}
		cancel()
	}
	w.b.pool.put(w.c, err)
}

// Rollback implements [store.WriteTx].
func (w *writeTx) Rollback() {
	if !w.done {
		w.end(nil)
	}
}

// Commit implements [store.WriteTx]: the features' rows, the change-log
// rows, the sequence row and a notification to the other nodes, in one
// transaction.
func (w *writeTx) Commit(ctx context.Context, recs []store.Record) error {
	if w.done {
		return fmt.Errorf("%w: postgres: the transaction has ended", store.ErrInvalidWrite)
	}
	err := w.commit(ctx, recs)
	w.end(err)
	if err != nil {
		return unavailable("committing", err)
	}
	return nil
}

// execer runs statements on the transaction's connection, or queues them
// on a batch sent at the end (small commits).
type execer struct {
	c     *pgx.Conn
	batch *pgx.Batch
}

func (x *execer) exec(ctx context.Context, sql string, args ...any) error {
	if x.batch != nil {
		x.batch.Queue(sql, args...)
		return nil
	}
	_, err := x.c.Exec(ctx, sql, args...)
	return err
}

func (w *writeTx) commit(ctx context.Context, recs []store.Record) error {
	for i := range recs {
		if recs[i].Seq != w.last+uint64(i)+1 {
			return fmt.Errorf("%w: record %d has seq %d, the sequence is at %d", store.ErrInvalidWrite, i, recs[i].Seq, w.last)
		}
	}
	x := &execer{c: w.c}
	if len(recs) < copyThreshold {
		x.batch = &pgx.Batch{}
	}
	if len(recs) > 0 {
		if err := writeRecords(ctx, w.b, x, recs); err != nil {
			return err
		}
		last := recs[len(recs)-1].Seq
		if err := x.exec(ctx, "UPDATE mg_seq SET last = $1", int64(last)); err != nil {
			return err
		}
		if err := x.exec(ctx, "SELECT pg_notify($1, $2)", w.b.channel, strconv.FormatUint(last, 10)); err != nil {
			return err
		}
	}
	if err := x.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	if x.batch != nil {
		return w.c.SendBatch(ctx, x.batch).Close()
	}
	return nil
}

// Commit implements [store.Backend] for a caller that is not a Store
// (which writes through BeginWrite): the records must follow the
// database's sequence.
func (b *Backend) Commit(ctx context.Context, recs []store.Record) error {
	tx, _, err := b.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return tx.Commit(ctx, recs)
}

// writeRecords writes the features' new state and the change-log rows.
func writeRecords(ctx context.Context, b *Backend, x *execer, recs []store.Record) error {
	type rows struct {
		ids  []string
		vals [][]any
		dels []string
		last map[string]int // id → the record that wins
	}
	per := map[string]*rows{}
	get := func(name string) *rows {
		r := per[name]
		if r == nil {
			r = &rows{last: map[string]int{}}
			per[name] = r
		}
		return r
	}
	for i := range recs {
		r := &recs[i]
		name := string(r.Layer)
		if t := tableOf(r.Layer); t != nil {
			name = t.name
		} else if !b.hasCollection(name) {
			return fmt.Errorf("%w: layer %q", geo.ErrUnknownLayer, r.Layer)
		}
		get(name).last[r.ID] = i
	}
	for i := range recs {
		r := &recs[i]
		t := tableOf(r.Layer)
		name := string(r.Layer)
		if t != nil {
			name = t.name
		}
		rs := per[name]
		if rs.last[r.ID] != i {
			continue
		}
		switch {
		case r.Value == nil:
			rs.dels = append(rs.dels, r.ID)
		case t != nil:
			rs.ids = append(rs.ids, r.ID)
			rs.vals = append(rs.vals, t.values(r.Value))
		default:
			d, ok := r.Value.(*store.Doc)
			if !ok {
				return fmt.Errorf("%w: %s %q: a collection's value must be a *store.Doc", store.ErrInvalidWrite, r.Layer, r.ID)
			}
			rs.ids = append(rs.ids, r.ID)
			rs.vals = append(rs.vals, []any{int64(d.Version), string(d.Body)})
		}
	}
	bulk := len(recs) >= copyThreshold
	if bulk {
		if err := registerGeometry(ctx, x.c); err != nil {
			return err
		}
	}
	for name, rs := range per {
		ident := pgx.Identifier{name}.Sanitize()
		if t := tableOf(geo.Layer(name)); bulk && t != nil {
			for i := 0; i < len(rs.dels); i += chunk {
				if err := x.exec(ctx, "DELETE FROM "+ident+" WHERE id = ANY($1::text[])", rs.dels[i:min(i+chunk, len(rs.dels))]); err != nil {
					return err
				}
			}
			if err := copyUpsert(ctx, x.c, t, rs.ids, rs.vals); err != nil {
				return err
			}
			continue
		}
		for i := 0; i < len(rs.dels); i += chunk {
			if err := x.exec(ctx, "DELETE FROM "+ident+" WHERE id = ANY($1::text[])", rs.dels[i:min(i+chunk, len(rs.dels))]); err != nil {
				return err
			}
		}
		t := tableOf(geo.Layer(name))
		for i := 0; i < len(rs.ids); i += chunk {
			j := min(i+chunk, len(rs.ids))
			var err error
			if t != nil {
				err = x.exec(ctx, t.upsertSQL(), t.arrays(rs.ids[i:j], rs.vals[i:j])...)
			} else {
				vers, docs := make([]int64, j-i), make([]string, j-i)
				for k := i; k < j; k++ {
					vers[k-i], docs[k-i] = rs.vals[k][0].(int64), rs.vals[k][1].(string)
				}
				err = x.exec(ctx, "INSERT INTO "+ident+" (id, version, doc) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]::json[]) ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc", rs.ids[i:j], vers, docs)
			}
			if err != nil {
				return err
			}
		}
	}
	if bulk {
		cols := []string{"seq", "time", "layer", "id", "op", "writer", "feature"}
		_, err := x.c.CopyFrom(ctx, pgx.Identifier{"mg_changes"}, cols, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			r := &recs[i]
			var writer, feat any
			if r.Writer != "" {
				writer = r.Writer
			}
			if len(r.Feature) > 0 && string(r.Feature) != "null" {
				feat = r.Feature
			}
			return []any{int64(r.Seq), r.Time, string(r.Layer), r.ID, string(r.Op), writer, feat}, nil
		}))
		return err
	}
	for i := 0; i < len(recs); i += chunk {
		part := recs[i:min(i+chunk, len(recs))]
		seqs, times := make([]int64, len(part)), make([]time.Time, len(part))
		layers, ids, ops := make([]string, len(part)), make([]string, len(part)), make([]string, len(part))
		writers, feats := make([]*string, len(part)), make([]*string, len(part))
		for k := range part {
			r := &part[k]
			seqs[k], times[k], layers[k], ids[k], ops[k] = int64(r.Seq), r.Time, string(r.Layer), r.ID, string(r.Op)
			if r.Writer != "" {
				w := r.Writer
				writers[k] = &w
			}
			if len(r.Feature) > 0 && string(r.Feature) != "null" {
				f := string(r.Feature)
				feats[k] = &f
			}
		}
		if err := x.exec(ctx, "INSERT INTO mg_changes (seq, time, layer, id, op, writer, feature) SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]::json[])",
			seqs, times, layers, ids, ops, writers, feats); err != nil {
			return err
		}
	}
	return nil
}

// copyThreshold is the size of a commit from which the features and the
// change log go through COPY (binary) rather than unnest statements.
const copyThreshold = 2000

// registerGeometry teaches the connection PostGIS's geometry type: its
// binary form is EWKB, sent as it is (see ewkb).
func registerGeometry(ctx context.Context, c *pgx.Conn) error {
	if _, ok := c.TypeMap().TypeForName("geometry"); ok {
		return nil
	}
	var oid uint32
	if err := c.QueryRow(ctx, "SELECT 'geometry'::regtype::oid").Scan(&oid); err != nil {
		return err
	}
	c.TypeMap().RegisterType(&pgtype.Type{Name: "geometry", OID: oid, Codec: pgtype.ByteaCodec{}})
	return nil
}

// ewkb turns little-endian WKB into EWKB with SRID 4326 (what PostGIS's
// binary input of a geometry(…, 4326) column takes).
func ewkb(w []byte) []byte {
	if len(w) < 5 || w[0] != 1 {
		return w
	}
	out := make([]byte, 0, len(w)+4)
	out = append(out, 1)
	out = binary.LittleEndian.AppendUint32(out, binary.LittleEndian.Uint32(w[1:5])|0x20000000)
	out = binary.LittleEndian.AppendUint32(out, 4326)
	return append(out, w[5:]...)
}

// copyUpsert upserts rows through a temporary table filled with COPY.
func copyUpsert(ctx context.Context, tx *pgx.Conn, t *table, ids []string, vals [][]any) error {
	if len(ids) == 0 {
		return nil
	}
	tmp := "mg_in_" + t.name
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+tmp+" (LIKE "+t.name+") ON COMMIT DROP"); err != nil {
		return err
	}
	cols := []string{"id"}
	var set []string
	for _, c := range t.cols {
		cols = append(cols, c.name)
		set = append(set, c.name+" = excluded."+c.name)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{tmp}, cols, pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
		row := make([]any, 0, len(cols))
		row = append(row, ids[i])
		for ci, c := range t.cols {
			v := vals[i][ci]
			switch {
			case c.name == "geom":
				v = ewkb(v.([]byte))
			case v == nil:
			case c.expr == "%s::date":
				d, err := time.Parse("2006-01-02", v.(string))
				if err != nil {
					return nil, err
				}
				v = d
			case c.expr == "%s::integer":
				v = int32(v.(int64))
			}
			row = append(row, v)
		}
		return row, nil
	}))
	if err != nil {
		return err
	}
	list := strings.Join(cols, ", ")
	_, err = tx.Exec(ctx, "INSERT INTO "+t.name+" ("+list+") SELECT "+list+" FROM "+tmp+" ON CONFLICT (id) DO UPDATE SET "+strings.Join(set, ", "))
	return err
}

// EnsureCollection implements [store.DocBackend]: a table (id, version,
// doc json) named after the collection.
func (b *Backend) EnsureCollection(ctx context.Context, name string) error {
	if !identRe.MatchString(name) || tableOf(geo.Layer(name)) != nil || strings.HasPrefix(name, "mg_") {
		return fmt.Errorf("%w: collection name %q", store.ErrInvalidWrite, name)
	}
	b.collMu.Lock()
	defer b.collMu.Unlock()
	if b.colls[name] {
		return nil
	}
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		// nodes starting together create it once: two concurrent CREATE
		// TABLE IF NOT EXISTS can both try (a unique violation in pg_type)
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "marketgeo migrate "+b.opts.Schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+pgx.Identifier{name}.Sanitize()+" (id text PRIMARY KEY, version bigint NOT NULL, doc json NOT NULL)"); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return unavailable("creating collection "+name, err)
	}
	if b.colls == nil {
		b.colls = map[string]bool{}
	}
	b.colls[name] = true
	return nil
}

func (b *Backend) hasCollection(name string) bool {
	b.collMu.Lock()
	defer b.collMu.Unlock()
	return b.colls[name]
}

func scanDocs(rows pgx.Rows, fn func(store.Doc) error) error {
	defer rows.Close()
	for rows.Next() {
		var d store.Doc
		var ver int64
		var body string
		if err := rows.Scan(&d.ID, &ver, &body); err != nil {
			return fmt.Errorf("%w: %v", store.ErrCorrupt, err)
		}
		d.Version, d.Body = uint64(ver), json.RawMessage(body)
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LoadDocs implements [store.DocBackend].
func (b *Backend) LoadDocs(ctx context.Context, name string, fn func(store.Doc) error) error {
	if !b.hasCollection(name) {
		return fmt.Errorf("%w: collection %q", geo.ErrUnknownLayer, name)
	}
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT id, version, doc::text FROM "+pgx.Identifier{name}.Sanitize())
		if err != nil {
			return err
		}
		return scanDocs(rows, fn)
	})
	if err != nil {
		return unavailable("loading collection "+name, err)
	}
	return nil
}

// Docs implements [store.DocBackend].
func (b *Backend) Docs(ctx context.Context, name string, ids []string) ([]store.Doc, error) {
	if !b.hasCollection(name) {
		return nil, fmt.Errorf("%w: collection %q", geo.ErrUnknownLayer, name)
	}
	var out []store.Doc
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT id, version, doc::text FROM "+pgx.Identifier{name}.Sanitize()+" WHERE id = ANY($1::text[])", ids)
		if err != nil {
			return err
		}
		return scanDocs(rows, func(d store.Doc) error { out = append(out, d); return nil })
	})
	if err != nil {
		return nil, unavailable("reading collection "+name, err)
	}
	return out, nil
}
