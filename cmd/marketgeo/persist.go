package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store/postgres"
)

// persistEvery is how often serve saves the search index and the parsed
// addresses when they changed (besides after their first build and at a
// clean shutdown): a restart after a crash re-indexes what changed since.
const persistEvery = 10 * time.Minute

// indexPersister keeps the search index and the address database's parses
// beside an embedded store (PATH.search/ and PATH.addresses), so that a
// restart opens them instead of building them again (issue 13 item 6). It
// does nothing for `--store :memory:` and PostgreSQL nodes.
type indexPersister struct {
	searchDir, addrFile string
	fingerprint         string
	log                 *slog.Logger

	mu sync.Mutex
	si *search.Index
	db *addressmatch.DB
}

// newIndexPersister returns the persister of cfg's store; its methods are
// no-ops when the store is not a file.
func newIndexPersister(cfg server.FileConfig, log *slog.Logger) *indexPersister {
	p := &indexPersister{log: log}
	path := cfg.Store
	if path == "" {
		path, _ = defaultStorePath()
	}
	if path == "" || path == ":memory:" || postgres.IsURL(path) {
		return p
	}
	fp, err := buildFingerprint(cfg)
	if err != nil {
		log.Warn("search index and addresses not persisted", "err", err)
		return p
	}
	p.searchDir, p.addrFile, p.fingerprint = path+".search", path+".addresses", fp
	return p
}

// buildFingerprint identifies what the persisted indexes depend on
// besides the data: this executable (its code, dictionaries and models)
// and the configuration of search, the parser and the region.
func buildFingerprint(cfg server.FileConfig) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	conf, err := json.Marshal([]any{cfg.SearchOptions(), cfg.ParserOptions(), cfg.Region})
	if err != nil {
		return "", err
	}
	h.Write(conf)
	if cfg.Region != "" { // the region's files: names and communities the parse and search use
		_ = filepath.WalkDir(cfg.Region, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(path); err == nil {
					h.Write([]byte(path))
					h.Write(b)
				}
			}
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// searchPersist is the search index's Persist option (nil: not persisted).
func (p *indexPersister) searchPersist() *search.Persist {
	if p.searchDir == "" {
		return nil
	}
	return &search.Persist{Dir: p.searchDir, Fingerprint: p.fingerprint, Reopened: func() {
		// The save reopened the index from disk: its segments built in
		// memory are garbage now (docs/memory.md).
		debug.FreeOSMemory()
		p.log.Info("search index saved and reopened from disk", "dir", p.searchDir)
	}}
}

// searchReady is called once the search index answers: a built (not
// restored) index is saved in the background.
func (p *indexPersister) searchReady(si *search.Index) {
	if p.searchDir == "" {
		return
	}
	p.mu.Lock()
	p.si = si
	p.mu.Unlock()
	st := si.Stats()
	if st.Restored {
		p.log.Info("search index restored", "dir", p.searchDir)
		return
	}
	if st.RestoreErr != "" {
		p.log.Info("search index built, not restored", "why", st.RestoreErr)
	}
	go p.saveSearch(context.Background())
}

// loadParsed gives db the parses saved by the last run, when usable; it
// reports whether it did.
func (p *indexPersister) loadParsed(db *addressmatch.DB) bool {
	if p.addrFile == "" {
		return false
	}
	f, err := os.Open(p.addrFile)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			p.log.Warn("saved address parses not read", "err", err)
		}
		return false
	}
	defer f.Close()
	c, err := addressmatch.ReadParsed(f, p.fingerprint)
	if err == nil {
		err = db.UseParsed(c)
	}
	if err != nil {
		p.log.Info("saved address parses not used", "why", err)
		return false
	}
	p.log.Info("address parses read", "addresses", c.Len())
	return true
}

// addressesReady is called once the address database is filled: its
// parses are saved in the background unless they were read from the file.
func (p *indexPersister) addressesReady(db *addressmatch.DB, loaded bool) {
	if p.addrFile == "" {
		return
	}
	_ = db.UseParsed(nil) // the cache is not needed any more
	p.mu.Lock()
	p.db = db
	p.mu.Unlock()
	if !loaded {
		go p.saveAddresses(context.Background())
	}
}

func (p *indexPersister) saveSearch(ctx context.Context) {
	p.mu.Lock()
	si := p.si
	p.mu.Unlock()
	if si == nil {
		return
	}
	t := time.Now()
	if err := si.Save(ctx); err != nil {
		p.log.Warn("search index not saved", "err", err)
		return
	}
	p.log.Debug("search index saved", "dir", p.searchDir, "took", time.Since(t).Round(time.Millisecond))
}

// saveAddresses writes the parses to a temporary file and renames it over
// the last one once synced.
func (p *indexPersister) saveAddresses(ctx context.Context) {
	p.mu.Lock()
	db := p.db
	p.mu.Unlock()
	if db == nil {
		return
	}
	tmp := p.addrFile + ".tmp"
	err := func() error {
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		_, err = db.SaveParsed(ctx, f, p.fingerprint)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, p.addrFile)
		}
		return err
	}()
	if err != nil {
		_ = os.Remove(tmp)
		p.log.Warn("address parses not saved", "err", err)
	}
}

// run saves the search index every persistEvery (when it changed) until
// ctx is done. The address parses are saved after the first fill and at
// shutdown only: an address written since is parsed again at the restart.
func (p *indexPersister) run(ctx context.Context) {
	if p.searchDir == "" {
		return
	}
	tick := time.NewTicker(persistEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.saveSearch(ctx)
		}
	}
}

// shutdown saves both (a clean stop: the next start patches nothing).
func (p *indexPersister) shutdown() {
	if p.searchDir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p.saveSearch(ctx)
	p.saveAddresses(ctx)
}
