package store

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configure a [Store]. Zero values mean the defaults given.
type Options struct {
	// MaxWrites caps the writes of one Apply (a bulk request). Default 100,000.
	MaxWrites int
	// MaxLineBytes caps one NDJSON line of [DecodeBulk]. Default 4 MiB.
	MaxLineBytes int
	// MaxVertices caps the vertices of one geometry in decoded writes.
	// Default: the index's geo.Options.MaxVertices.
	MaxVertices int
	// SnapshotPath is the file of the restart snapshot (see
	// [Store.WriteSnapshot]). Default: none for New; the store file's path
	// plus ".snapshot" for Open (none for ":memory:").
	SnapshotPath string
	// NoSnapshot disables the snapshot, also Open's default one.
	NoSnapshot bool
	// SnapshotEvery writes a new snapshot in the background once this many
	// changes were committed since the last (checked every minute), and on
	// Close. Default 100,000; a snapshot of 1M entities takes a few seconds
	// and as many hundred MB on disk.
	SnapshotEvery int
	// Collections registers the collections of JSON documents the store
	// keeps beside the geo layers (see [Collection]). The backend must
	// implement [DocBackend] when there are any.
	Collections []Collection
	// GroupWrites caps the writes of one group commit: concurrent Apply
	// calls waiting for the committer are committed together, in one
	// backend transaction and one index commit, up to this many writes in
	// all (a larger request is committed alone). Default 1,000; 1 commits
	// every request alone.
	GroupWrites int
	// GroupWait is how long the committer waits for more requests before
	// committing a group that is not full. Default 0: a group is whatever
	// queued while the previous commit ran, so a lone writer never waits.
	GroupWait time.Duration
	// ImportChunk is the number of writes of one commit of [Store.Import]
	// on a [Shared] backend (PostgreSQL), which commits a larger import in
	// chunks, each its own transaction. Default 20,000. The embedded store
	// commits an import whole.
	ImportChunk int
	// Logger receives the store's informational messages (load times);
	// nil discards. Errors are returned, never logged.
	Logger *slog.Logger
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{MaxWrites: 100_000, MaxLineBytes: 4 << 20, SnapshotEvery: 100_000, GroupWrites: 1000, ImportChunk: 20_000}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxWrites == 0 {
		o.MaxWrites = d.MaxWrites
	}
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = d.MaxLineBytes
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = d.SnapshotEvery
	}
	if o.GroupWrites == 0 {
		o.GroupWrites = d.GroupWrites
	}
	if o.ImportChunk == 0 {
		o.ImportChunk = d.ImportChunk
	}
	if o.NoSnapshot {
		o.SnapshotPath = ""
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.MaxWrites < 0 || o.MaxLineBytes < 0 || o.MaxVertices < 0 || o.SnapshotEvery < 0 || o.GroupWrites < 0 || o.GroupWait < 0 || o.ImportChunk < 0 {
		return fmt.Errorf("%w: options must not be negative", ErrInvalidWrite)
	}
	return validateCollections(o.Collections)
}
