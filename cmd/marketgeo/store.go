package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
)

// defaultStorePath is the store file when --store is not given: the XDG
// data directory ($XDG_DATA_HOME, else ~/.local/share) on Unix, the user
// configuration directory elsewhere (%AppData%, ~/Library/Application
// Support), under marketgeo/.
func defaultStorePath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "marketgeo", "marketgeo.gpkg"), nil
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("store: no home directory for the default store (give --store): %w", err)
		}
		return filepath.Join(home, ".local", "share", "marketgeo", "marketgeo.gpkg"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("store: no user directory for the default store (give --store): %w", err)
	}
	return filepath.Join(d, "marketgeo", "marketgeo.gpkg"), nil
}

// openStore opens the configured store and fills idx from it (and the
// collections' consumers from their documents). A new store
// is seeded with --data or the embedded demo region; --data on a store
// that holds data is imported into it, unless the store has imported the
// same directory with the same files (names, sizes, times) before.
func openStore(ctx context.Context, idx *geo.Index, cfg server.FileConfig, log *slog.Logger, colls ...store.Collection) (*store.Store, error) {
	st, _, err := openSeed(ctx, idx, cfg, log, colls...)
	return st, err
}

// openSeed is openStore; seeded reports that the store was seeded or
// imported into by this call and its snapshot written.
func openSeed(ctx context.Context, idx *geo.Index, cfg server.FileConfig, log *slog.Logger, colls ...store.Collection) (st *store.Store, seeded bool, err error) {
	path := cfg.Store
	if path == "" {
		if path, err = defaultStorePath(); err != nil {
			return nil, false, err
		}
	}
	start := time.Now()
	if postgres.IsURL(path) { // several nodes over PostgreSQL (postgres.go)
		var unlock func()
		if st, unlock, err = openPostgres(ctx, path, cfg.Data != "", idx, log, colls); err != nil {
			return nil, false, err
		}
		defer unlock()
	} else {
		if st, err = store.Open(ctx, path, idx, store.Options{Logger: log, Collections: colls}); err != nil {
			return nil, false, fmt.Errorf("store %s: %w", path, err)
		}
		log.Info("store opened", "path", path, "seq", st.Seq(), "took", time.Since(start).Round(time.Millisecond))
	}
	fresh := st.Empty()
	if !fresh && cfg.Data == "" {
		return st, false, nil
	}
	var key, print string
	if cfg.Data != "" {
		abs, err := filepath.Abs(cfg.Data)
		if err != nil {
			st.Close()
			return nil, false, err
		}
		key = "import:" + abs
		if print, err = dirFingerprint(abs); err != nil {
			st.Close()
			return nil, false, err
		}
		if !fresh {
			if was, err := st.Backend().Meta(ctx, key); err == nil && was == print {
				log.Info("data directory already imported, unchanged", "dir", abs)
				return st, false, nil
			}
		}
	}
	// Read the data into a scratch index (validated as any load), then
	// write it through the store: durable first, then in idx.
	scratch, err := geo.New(idx.Options())
	if err != nil {
		st.Close()
		return nil, false, err
	}
	if err := loadData(scratch, cfg.Data, cfg.CRS, cfg.Strict, log); err != nil {
		st.Close()
		return nil, false, err
	}
	t := time.Now()
	writer := "import:demo"
	if cfg.Data != "" {
		writer = key
	}
	res, err := st.Import(ctx, writer, scratch.Snapshot())
	if err != nil {
		st.Close()
		return nil, false, fmt.Errorf("importing into the store: %w", err)
	}
	if key != "" {
		if err := st.Backend().SetMeta(ctx, key, print); err != nil {
			st.Close()
			return nil, false, err
		}
	} else if err := st.Backend().SetMeta(ctx, seededKey, "demo"); err != nil { // the demo's department tables follow (departments.go)
		st.Close()
		return nil, false, err
	}
	log.Info("imported into the store", "changes", res.Changes, "seq", res.Seq, "took", time.Since(t).Round(time.Millisecond))
	// the next start reads the snapshot rather than every row
	t = time.Now()
	if err := st.WriteSnapshot(ctx); err != nil {
		log.Warn("snapshot not written", "err", err)
		return st, false, nil
	}
	log.Info("snapshot written", "took", time.Since(t).Round(time.Millisecond))
	return st, true, nil
}

// openServeStore is openStore for serve, with an index of its own: when
// the embedded store was just seeded (or a data directory imported into
// it) and its snapshot written, the store is closed and opened again on a
// new index, which reads that snapshot as every later start does. The
// features are then the snapshot decoder's (packed in slabs, strings and
// attribute values shared) instead of the seed's copies of the loader's
// objects with the loader's garbage among them: the 79k demo's first start
// held ~60 MiB more than a restart of the same store (docs/memory.md).
func openServeStore(ctx context.Context, cfg server.FileConfig, log *slog.Logger, colls ...store.Collection) (*geo.Index, *store.Store, error) {
	idx, err := geo.New(cfg.GeoOptions())
	if err != nil {
		return nil, nil, err
	}
	st, seeded, err := openSeed(ctx, idx, cfg, log, colls...)
	if err != nil || !seeded || postgres.IsURL(cfg.Store) || st.Options().SnapshotPath == "" {
		return idx, st, err
	}
	if err := st.Close(); err != nil {
		return nil, nil, err
	}
	if idx, err = geo.New(cfg.GeoOptions()); err != nil {
		return nil, nil, err
	}
	if st, err = openStore(ctx, idx, cfg, log, colls...); err != nil {
		return nil, nil, err
	}
	return idx, st, nil
}

// dirFingerprint hashes the names, sizes and modification times of the
// files of dir.
func dirFingerprint(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	h := sha256.New()
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
