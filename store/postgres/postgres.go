package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// Sentinel errors, beside the store's (store.ErrUnavailable wraps a
// database that cannot be reached, store.ErrCorrupt rows that cannot be
// read back).
var (
	// ErrConfig: the connection string or the options are not usable.
	ErrConfig = errors.New("postgres: invalid configuration")
	// ErrSchema: the database's marketgeo schema is newer than this build,
	// or PostGIS is missing and cannot be created.
	ErrSchema = errors.New("postgres: unusable database schema")
)

// Options configure a [Backend]. Zero values mean the defaults given.
type Options struct {
	// Schema is the PostgreSQL schema of marketgeo's tables, created when
	// missing. Default "public". Several stores can share one database in
	// different schemas (the tests do).
	Schema string
	// MaxConns caps the connections of the backend (besides the one that
	// listens for notifications). Default 8; at least 2.
	MaxConns int
	// Region, when set (digits, e.g. "50" for Chongqing, "500112" for
	// Yubei), makes Load read only the entities whose registration
	// authority's administrative division (characters 3-8 of the unified
	// social credit code, the entities.adcode column) starts with it; the
	// other layers are read whole. Default: every entity.
	Region string
	// Logger receives connection-state messages (the listener's
	// reconnects); nil discards.
	Logger *slog.Logger
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options { return Options{Schema: "public", MaxConns: 8} }

var (
	identRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	regionRe = regexp.MustCompile(`^[0-9]{1,6}$`)
)

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.Schema != "" && !identRe.MatchString(o.Schema) {
		return fmt.Errorf("%w: schema %q (want a lowercase identifier)", ErrConfig, o.Schema)
	}
	if o.MaxConns < 0 || o.MaxConns == 1 {
		return fmt.Errorf("%w: MaxConns %d (want 0 for the default, or at least 2)", ErrConfig, o.MaxConns)
	}
	if o.Region != "" && !regionRe.MatchString(o.Region) {
		return fmt.Errorf("%w: region %q (want 1 to 6 digits of an administrative division code, e.g. 50)", ErrConfig, o.Region)
	}
	return nil
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Schema == "" {
		o.Schema = d.Schema
	}
	if o.MaxConns == 0 {
		o.MaxConns = d.MaxConns
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Backend is the PostgreSQL/PostGIS [store.Backend] (and [store.Shared]:
// several marketgeo nodes write one database). It is safe for concurrent
// use.
type Backend struct {
	opts    Options
	pool    *pool
	channel string // the NOTIFY channel of the schema

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	collMu sync.Mutex
	colls  map[string]bool
	held   []func() // TryLock's locks, released by Close (under collMu)
}

var (
	_ store.Backend    = (*Backend)(nil)
	_ store.Shared     = (*Backend)(nil)
	_ store.DocBackend = (*Backend)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// IsURL reports whether a --store value names a PostgreSQL database
// (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user@host:port/db?…,
// as libpq takes it), creates the PostGIS extension when it is missing
// and the current user may, applies the migrations this build carries
// that the database lacks (under an advisory lock, so nodes starting
// together apply each once), and starts listening for other writers'
// notifications.
func Open(ctx context.Context, url string, opts Options) (*Backend, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.RuntimeParams["search_path"] = opts.Schema + ",public"
	// A node that stops answering while it holds the sequence row (a hung
	// process, a partition) must not stop every other node's writes for
	// ever: the server ends such a transaction after 5 minutes (a 1M import
	// computes for minutes between its statements), and a writer waits at
	// most 15 s for the row (then 503) — unless the URL sets them.
	for k, v := range map[string]string{"idle_in_transaction_session_timeout": "5min", "lock_timeout": "15s"} {
		if cfg.RuntimeParams[k] == "" {
			cfg.RuntimeParams[k] = v
		}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "marketgeo"
	}
	b := &Backend{opts: opts, pool: newPool(cfg, opts.MaxConns), channel: "marketgeo_" + opts.Schema, wake: make(chan struct{}, 1)}
	if err := b.migrate(ctx); err != nil {
		b.pool.close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go b.listen(lctx)
	return b, nil
}

// Close stops listening and closes the connections.
func (b *Backend) Close() error {
	b.cancel()
	<-b.done
	b.collMu.Lock()
	held := b.held
	b.held = nil
	b.collMu.Unlock()
	for _, release := range held {
		release()
	}
	b.pool.close()
	return nil
}

// unavailable wraps a database error as store.ErrUnavailable (context
// errors pass as they are).
func unavailable(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: postgres: %s: %v", store.ErrUnavailable, what, err)
}

// migrate makes the database's schema the one this build reads.
func (b *Backend) migrate(ctx context.Context) error {
	return b.pool.with(ctx, func(c *pgx.Conn) error {
		var has bool
		if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')").Scan(&has); err != nil {
			return unavailable("connecting", err)
		}
		if !has {
			if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public"); err != nil {
				return fmt.Errorf("%w: PostGIS is not installed in this database and cannot be created by this user (run CREATE EXTENSION postgis as its owner or a superuser): %v", ErrSchema, err)
			}
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			return unavailable("migrating", err)
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "marketgeo migrate "+b.opts.Schema); err != nil {
			return unavailable("migrating", err)
		}
		if b.opts.Schema != "public" {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{b.opts.Schema}.Sanitize()); err != nil {
				return unavailable("creating the schema", err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS mg_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return unavailable("migrating", err)
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, "SELECT version FROM mg_migrations")
		if err != nil {
			return unavailable("migrating", err)
		}
		newest := 0
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return unavailable("migrating", err)
			}
			applied[v], newest = true, max(newest, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return unavailable("migrating", err)
		}
		files, err := migrationFiles()
		if err != nil {
			return err
		}
		if len(files) > 0 && newest > files[len(files)-1].version {
			return fmt.Errorf("%w: the database is at migration %d, this build knows up to %d", ErrSchema, newest, files[len(files)-1].version)
		}
		for _, m := range files {
			if applied[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%w: migration %s: %v", ErrSchema, m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO mg_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return unavailable("migrating", err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return unavailable("migrating", err)
		}
		return nil
	})
}

type migration struct {
	version   int
	name, sql string
}

// migrationFiles returns the embedded migrations (NNNN_name.sql) in
// version order.
func migrationFiles() ([]migration, error) {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: migration file %s is not NNNN_name.sql", ErrSchema, e.Name())
		}
		body, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// LastSeq implements [store.Backend]: the sequence row's value.
func (b *Backend) LastSeq(ctx context.Context) (uint64, error) {
	var last int64
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT last FROM mg_seq").Scan(&last)
	})
	if err != nil {
		return 0, unavailable("reading the sequence", err)
	}
	return uint64(last), nil
}

// Meta implements [store.Backend].
func (b *Backend) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT value FROM mg_meta WHERE key = $1", key).Scan(&v)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", unavailable("metadata", err)
	}
	return v, nil
}

// SetMeta implements [store.Backend].
func (b *Backend) SetMeta(ctx context.Context, key, value string) error {
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO mg_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
		return err
	})
	if err != nil {
		return unavailable("metadata", err)
	}
	return nil
}

// TryLock takes a database-wide advisory lock named name (across every
// node) if no other session holds it, without waiting, and reports whether
// it did. The lock is held on a connection of its own until the function
// returned is called, the backend is closed or the process ends (a node
// killed lets it go with its connection): one node of several does a job
// that must not be done by all, such as writing the risk engine's classes
// (cmd/marketgeo). Safe for concurrent use.
func (b *Backend) TryLock(ctx context.Context, name string) (bool, func(), error) {
	c, err := pgx.ConnectConfig(ctx, b.pool.cfg)
	if err != nil {
		return false, nil, unavailable("locking", err)
	}
	var got bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", "marketgeo "+b.opts.Schema+" "+name).Scan(&got); err != nil || !got {
		c.Close(context.Background())
		if err != nil {
			return false, nil, unavailable("locking", err)
		}
		return false, nil, nil
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.Close(ctx) // the session's advisory locks go with it
		})
	}
	b.collMu.Lock()
	b.held = append(b.held, release)
	b.collMu.Unlock()
	return true, release, nil
}

// Lock takes a database-wide advisory lock named name (across every node),
// waiting for it; the function returned releases it. cmd/marketgeo seeds an
// empty database under it, so that nodes starting together seed it once.
func (b *Backend) Lock(ctx context.Context, name string) (func(), error) {
	c, err := b.pool.get(ctx)
	if err != nil {
		return nil, unavailable("locking", err)
	}
	key := "marketgeo " + b.opts.Schema + " " + name
	// another node may hold it for as long as a seeding import takes
	if _, err := c.Exec(ctx, "SET lock_timeout = 0; SELECT pg_advisory_lock(hashtext('"+strings.ReplaceAll(key, "'", "''")+"')); RESET lock_timeout"); err != nil {
		b.pool.put(c, err)
		return nil, unavailable("locking", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.Exec(ctx, "SELECT pg_advisory_unlock(hashtext($1))", key)
		b.pool.put(c, err)
	}, nil
}

func changesFrom(rows pgx.Rows) ([]store.Change, error) {
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var c store.Change
		var seq int64
		var layer, op string
		var writer, feat *string
		if err := rows.Scan(&seq, &c.Time, &layer, &c.ID, &op, &writer, &feat); err != nil {
			return nil, fmt.Errorf("%w: change log: %v", store.ErrCorrupt, err)
		}
		c.Seq, c.Layer, c.Op, c.Time = uint64(seq), geo.Layer(layer), store.Op(op), c.Time.UTC()
		if writer != nil {
			c.Writer = *writer
		}
		c.Feature = []byte("null")
		if feat != nil {
			c.Feature = []byte(*feat)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("change log", err)
	}
	return out, nil
}

// Changes implements [store.Backend].
func (b *Backend) Changes(ctx context.Context, since uint64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []store.Change
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT seq, time, layer, id, op, writer, feature::text FROM mg_changes WHERE seq > $1 ORDER BY seq LIMIT $2", int64(since), limit)
		if err != nil {
			return err
		}
		out, err = changesFrom(rows)
		return err
	})
	if err != nil {
		return nil, unavailable("change log", err)
	}
	return out, nil
}

// History implements [store.Backend].
func (b *Backend) History(ctx context.Context, layer geo.Layer, id string, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []store.Change
	err := b.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT seq, time, layer, id, op, writer, feature::text FROM (SELECT * FROM mg_changes WHERE layer = $1 AND id = $2 ORDER BY seq DESC LIMIT $3) h ORDER BY seq", string(layer), id, limit)
		if err != nil {
			return err
		}
		out, err = changesFrom(rows)
		return err
	})
	if err != nil {
		return nil, unavailable("history", err)
	}
	return out, nil
}

// Wakeups implements [store.Shared]: a value after every notification of
// a commit on the schema's channel, and after every (re)connection of the
// listener (changes may have been missed while it was away).
func (b *Backend) Wakeups() <-chan struct{} { return b.wake }

func (b *Backend) wakeup() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// listen holds a connection that LISTENs on the schema's channel,
// reconnecting with a backoff when it breaks.
func (b *Backend) listen(ctx context.Context) {
	defer close(b.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		c, err := pgx.ConnectConfig(ctx, b.pool.cfg)
		if err == nil {
			_, err = c.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize())
			if err == nil {
				backoff = 100 * time.Millisecond
				b.wakeup()
				for {
					if _, err = c.WaitForNotification(ctx); err != nil {
						break
					}
					b.wakeup()
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.Close(cctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		b.opts.Logger.Warn("postgres: listener disconnected, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// pool is a small pool of connections (pgxpool would bring a module of
// its own): at most max connections, idle ones kept, broken ones dropped.
type pool struct {
	cfg  *pgx.ConnConfig
	sem  chan struct{}
	mu   sync.Mutex
	idle []*pgx.Conn
}

func newPool(cfg *pgx.ConnConfig, max int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, max)}
}

func (p *pool) get(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosed() {
			p.mu.Unlock()
			return c, nil
		}
	}
	p.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return c, nil
}

// put returns a connection; after an error other than the server's answer
// to a statement (a broken connection, a timeout) it is closed.
func (p *pool) put(c *pgx.Conn, err error) {
	defer func() { <-p.sem }()
	var pgErr *pgconn.PgError
	healthy := err == nil || errors.As(err, &pgErr) || errors.Is(err, pgx.ErrNoRows)
	if !healthy || c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Close(ctx)
		cancel()
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

func (p *pool) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	p.put(c, err)
	return err
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Close(ctx)
		cancel()
	}
}
