package store

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/geojson"
)

// A snapshot is a cache of the index's state at one sequence number,
// written beside the store file so that a restart does not read a million
// rows through SQLite: the state is decoded from the snapshot and the
// change log after it is replayed. It is never the only copy of anything:
// without it (or with one from another store, or newer than the store's
// log) the store loads from the backend as before.

const snapshotMagic = "marketgeo-snapshot-1"

// snapshotHeader is what a snapshot says of itself before its features
// (after the magic; the file also records when it was written, which the
// reader skips).
type snapshotHeader struct {
	StoreID string
	Seq     uint64
	Counts  [4]int // entities, buildings, places, zones
}

// storeIDKey is the metadata key of the store's random identity, which
// ties a snapshot to its store.
const storeIDKey = "store_id"

func ensureStoreID(ctx context.Context, be Backend) (string, error) {
	id, err := be.Meta(ctx, storeIDKey)
	if err != nil || id != "" {
		return id, err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id = hex.EncodeToString(b[:])
	return id, be.SetMeta(ctx, storeIDKey, id)
}

// WriteSnapshot writes the index's current state to the snapshot file
// (Options.SnapshotPath), atomically (a temporary file, synced, renamed).
// It is a no-op without a snapshot path, and fails with ErrConflict when a
// write is being published at that moment (try again) or when the index
// was written outside the store.
func (s *Store) WriteSnapshot(ctx context.Context) error {
	if s.opts.SnapshotPath == "" {
		return nil
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	snap := s.ix.Snapshot()
	s.mu.Lock()
	seq, ver, id := s.last, s.lastVersion, s.id
	s.mu.Unlock()
	if snap.Version() != ver {
		return fmt.Errorf("%w: the index is at version %d, the store's last commit made %d", ErrConflict, snap.Version(), ver)
	}
	if seq == s.snapSeq && s.snapSeq > 0 {
		return nil // nothing new
	}
	tmp := s.opts.SnapshotPath + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrUnavailable, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := &snapWriter{w: bw}
	c := snap.Counts()
	w.str(snapshotMagic)
	w.str(id)
	w.uvarint(seq)
	for _, n := range []int{c.Entities, c.Buildings, c.Places, c.Zones} {
		w.uvarint(uint64(n))
	}
	w.varint(time.Now().Unix())
	var encErr error
	n := 0
	put := func(v any) bool {
		if n++; n&4095 == 0 && ctx.Err() != nil {
			encErr = ctx.Err()
			return false
		}
		w.feature(v)
		encErr = w.err
		return encErr == nil
	}
	snap.ScanZones(func(z *geo.Zone) bool { return put(z) })
	if encErr == nil {
		snap.ScanBuildings(func(b *geo.Building) bool { return put(b) })
	}
	if encErr == nil {
		snap.ScanPlaces(func(p *geo.Place) bool { return put(p) })
	}
	if encErr == nil {
		snap.ScanEntities(func(e *geo.Entity) bool { return put(e) })
	}
	if encErr != nil {
		return fmt.Errorf("snapshot: %w", encErr)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrUnavailable, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrUnavailable, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrUnavailable, err)
	}
	if err := os.Rename(tmp, s.opts.SnapshotPath); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrUnavailable, err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(s.opts.SnapshotPath)); err == nil {
		d.Sync()
		d.Close()
	}
	s.snapSeq = seq
	return nil
}

type fkey struct {
	layer geo.Layer
	id    string
}

// loadSnapshot fills b with the state of the snapshot at path, brought up
// to the store's last sequence number by the change log. It returns false
// (and leaves b empty) when there is no usable snapshot.
func loadSnapshot(ctx context.Context, path, storeID string, last uint64, be Backend, b *geo.Batch) (uint64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	r := &snapReader{r: bufio.NewReaderSize(f, 1<<20), intern: map[string]string{}}
	if magic := r.str(); r.err != nil || magic != snapshotMagic {
		return 0, false, fmt.Errorf("%w: %s is not a snapshot", ErrCorrupt, path)
	}
	var h snapshotHeader
	h.StoreID, h.Seq = r.str(), r.uvarint()
	for i := range h.Counts {
		h.Counts[i] = r.n()
	}
	r.varint() // when it was written
	if r.err != nil {
		return 0, false, fmt.Errorf("%w: %s: header: %v", ErrCorrupt, path, r.err)
	}
	if h.StoreID != storeID {
		return 0, false, fmt.Errorf("%w: the snapshot %s belongs to another store", ErrCorrupt, path)
	}
	if h.Seq > last {
		return 0, false, fmt.Errorf("%w: the snapshot %s is at seq %d, past the store's last change %d", ErrCorrupt, path, h.Seq, last)
	}
	// the changes after the snapshot win over its features
	changed := map[fkey]any{}
	for since := h.Seq; since < last; {
		list, err := be.Changes(ctx, since, 10000)
		if err != nil {
			return 0, false, err
		}
		if len(list) == 0 {
			return 0, false, fmt.Errorf("%w: the change log stops at %d, before the store's last change %d", ErrCorrupt, since, last)
		}
		for i := range list {
			c := &list[i]
			if c.Seq != since+1 {
				return 0, false, fmt.Errorf("%w: gap in the change log after %d", ErrCorrupt, since)
			}
			since = c.Seq
			if _, err := geo.ParseLayer(string(c.Layer)); err != nil {
				continue // a collection's document: loaded from its table
			}
			k := fkey{c.Layer, c.ID}
			if c.Op == OpDelete {
				changed[k] = nil
				continue
			}
			v, err := featureFromChange(c)
			if err != nil {
				return 0, false, err
			}
			changed[k] = v
		}
	}
	counts := h.Counts
	b.Grow(counts[0] + counts[1] + counts[2] + counts[3] + len(changed))
	layers := []geo.Layer{geo.LayerZones, geo.LayerBuildings, geo.LayerPlaces, geo.LayerEntities}
	want := []int{counts[3], counts[1], counts[2], counts[0]}
	for li, l := range layers {
		for range want[li] {
			v, id := r.feature(l)
			if r.err != nil {
				return 0, false, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, path, r.err)
			}
			if _, ok := changed[fkey{l, id}]; ok {
				continue
			}
			if err := b.Adopt(v); err != nil {
				return 0, false, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, path, err)
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
	}
	if _, err := r.r.ReadByte(); err != io.EOF {
		return 0, false, fmt.Errorf("%w: snapshot %s: trailing data", ErrCorrupt, path)
	}
	for _, v := range changed {
		if v != nil {
			if err := b.Adopt(v); err != nil {
				return 0, false, fmt.Errorf("%w: change log: %v", ErrCorrupt, err)
			}
		}
	}
	return h.Seq, true, nil
}

// featureFromChange decodes the feature of a put in the change log, with
// its version.
func featureFromChange(c *Change) (any, error) {
	var f geojson.Feature
	if err := json.Unmarshal(c.Feature, &f); err != nil {
		return nil, fmt.Errorf("%w: change %d: %v", ErrCorrupt, c.Seq, err)
	}
	v, err := geo.ParseFeature(c.Layer, &f, geo.LoadOptions{MaxVertices: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("%w: change %d: %v", ErrCorrupt, c.Seq, err)
	}
	setVersion(v, c.Seq)
	return v, nil
}
