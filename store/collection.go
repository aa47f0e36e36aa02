package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/geo"
)

// A collection is a set of non-spatial JSON documents stored beside the
// four geo layers: a department's records, manual overrides, tasks,
// complaints, spot checks. A document has an ID and a version like a
// feature, is written through [Store.Apply] (with Write.Layer set to the
// collection's name and Write.Feature to the document), in the same
// transaction as feature writes, and appears in the change log, in
// [Store.Changes] and in [Store.History] with Change.Layer = the
// collection's name.
//
// The store does not keep documents in memory: it hands them to the
// collection's [Consumer] (every stored document when the store opens,
// then every committed change), so that the domain package that owns the
// collection keeps only the compact index it needs (an exchange keeps a
// few bytes per record for 10M records, not their JSON). Full documents
// are read back from the backend with [Store.Docs]. [DocMap] is a
// consumer that keeps every document in memory, for small collections.

// Doc is one stored document of a collection.
type Doc struct {
	// ID is the document's ID, unique in its collection.
	ID string `json:"id"`
	// Version is the sequence number of the document's last write.
	Version uint64 `json:"version"`
	// Body is the document: a JSON object.
	Body json.RawMessage `json:"doc"`
}

// DocChange is one committed change of a collection, as its [Consumer]
// receives it.
type DocChange struct {
	// Seq is the change's sequence number (the document's new version).
	Seq uint64
	// ID is the document's ID.
	ID string
	// Body is the new document, nil for a delete.
	Body json.RawMessage
	// OldVersion is the version the document had before (0: it did not
	// exist).
	OldVersion uint64
}

// Consumer receives a collection's documents. The store calls it under its
// writer lock (one call at a time, in sequence order); Version is also
// called there, so its answers must reflect every Commit before it.
type Consumer interface {
	// Load receives every stored document when the store opens, in any
	// order, before any write. An error stops the store from opening.
	Load(d Doc) error
	// Version returns the current version of a document, false when the
	// document does not exist; used for Write.IfVersion, IfExists, IfAbsent
	// and to tell a create from a replace.
	Version(id string) (uint64, bool)
	// Commit receives the changes of one commit once they are durable and
	// before Apply returns. It must not fail (the changes are durable) and
	// must not call back into the store.
	Commit(changes []DocChange)
}

// Collection registers a collection with the store ([Options.Collections]).
type Collection struct {
	// Name is the collection's name: lowercase ASCII letters, digits and
	// underscores, starting with a letter, at most 40 characters; not a geo
	// layer's name, nor starting with gpkg_, mg_, rtree_ or sqlite_. It is
	// the table's name in the GeoPackage and Change.Layer in the log.
	Name string
	// Validate checks a document before it is written (after the store
	// checked that it is a JSON object); nil accepts any object. Its error
	// is wrapped in a *WriteError.
	Validate func(id string, body json.RawMessage) error
	// Consumer receives the documents; required.
	Consumer Consumer
}

// DocBackend is what a [Backend] implements to store collections: the
// embedded SQLite backend does (an attributes table per collection). A
// backend's Commit writes a [Record] whose Layer is a collection's name to
// that collection: Value is a *Doc for a put, nil for a delete.
type DocBackend interface {
	// EnsureCollection creates the collection's table when it is missing
	// (idempotent); Commit accepts records of it afterwards.
	EnsureCollection(ctx context.Context, name string) error
	// LoadDocs calls fn with every stored document of the collection, in
	// any order.
	LoadDocs(ctx context.Context, name string, fn func(Doc) error) error
	// Docs returns the stored documents with these IDs, in any order;
	// missing IDs are left out.
	Docs(ctx context.Context, name string, ids []string) ([]Doc, error)
}

var collectionName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// validateCollections checks the registered collections.
func validateCollections(cs []Collection) error {
	seen := map[string]bool{}
	for _, c := range cs {
		if !collectionName.MatchString(c.Name) {
			return fmt.Errorf("%w: collection name %q (want [a-z][a-z0-9_]*, at most 40)", ErrInvalidWrite, c.Name)
		}
		if _, err := geo.ParseLayer(c.Name); err == nil {
			return fmt.Errorf("%w: collection name %q is a geo layer", ErrInvalidWrite, c.Name)
		}
		for _, p := range []string{"gpkg_", "mg_", "rtree_", "sqlite_"} {
			if strings.HasPrefix(c.Name, p) {
				return fmt.Errorf("%w: collection name %q starts with the reserved %q", ErrInvalidWrite, c.Name, p)
			}
		}
		if seen[c.Name] {
			return fmt.Errorf("%w: collection %q registered twice", ErrInvalidWrite, c.Name)
		}
		if c.Consumer == nil {
			return fmt.Errorf("%w: collection %q has no consumer", ErrInvalidWrite, c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// collection returns the registered collection named l, or nil.
func (s *Store) collection(l geo.Layer) *Collection {
	for i := range s.opts.Collections {
		if s.opts.Collections[i].Name == string(l) {
			return &s.opts.Collections[i]
		}
	}
	return nil
}

// loadCollections creates the collections' tables and hands every stored
// document to its consumer.
func (s *Store) loadCollections(ctx context.Context) (int, error) {
	if len(s.opts.Collections) == 0 {
		return 0, nil
	}
	db, ok := s.be.(DocBackend)
	if !ok {
		return 0, fmt.Errorf("%w: the backend %T does not store collections", ErrInvalidWrite, s.be)
	}
	n := 0
	for _, c := range s.opts.Collections {
		if err := db.EnsureCollection(ctx, c.Name); err != nil {
			return n, err
		}
		err := db.LoadDocs(ctx, c.Name, func(d Doc) error {
			n++
			return c.Consumer.Load(d)
		})
		if err != nil {
			return n, fmt.Errorf("loading collection %s: %w", c.Name, err)
		}
	}
	return n, nil
}

// docBody turns a write's document into a JSON object.
func docBody(v any) (json.RawMessage, error) {
	var b []byte
	switch t := v.(type) {
	case json.RawMessage:
		b = t
	case []byte:
		b = t
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: document: %v", ErrInvalidWrite, err)
		}
		if len(b) == 0 || b[0] != '{' {
			return nil, fmt.Errorf("%w: a document must be a JSON object", ErrInvalidWrite)
		}
		return b, nil // json.Marshal's output is valid and compact
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return nil, fmt.Errorf("%w: a document must be a JSON object", ErrInvalidWrite)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("%w: document: %v", ErrInvalidWrite, err)
	}
	return buf.Bytes(), nil
}

// Docs returns the stored documents of a collection with these IDs, in
// the order of ids (missing ones left out). Safe for concurrent use.
func (s *Store) Docs(ctx context.Context, collection string, ids []string) ([]Doc, error) {
	if s.collection(geo.Layer(collection)) == nil {
		return nil, fmt.Errorf("%w: collection %q", geo.ErrUnknownLayer, collection)
	}
	db, ok := s.be.(DocBackend)
	if !ok {
		return nil, fmt.Errorf("%w: the backend %T does not store collections", ErrInvalidWrite, s.be)
	}
	docs, err := db.Docs(ctx, collection, ids)
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(ids))
	for i, id := range ids {
		if _, ok := pos[id]; !ok {
			pos[id] = i
		}
	}
	sort.Slice(docs, func(i, j int) bool { return pos[docs[i].ID] < pos[docs[j].ID] })
	return docs, nil
}

// DocMap is a [Consumer] that keeps every document of a collection in
// memory, for small collections (tasks, complaints, overrides). It is safe
// for concurrent use.
type DocMap struct {
	mu   sync.RWMutex
	docs map[string]Doc
}

// NewDocMap returns an empty DocMap.
func NewDocMap() *DocMap { return &DocMap{docs: map[string]Doc{}} }

// Load implements [Consumer].
func (m *DocMap) Load(d Doc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[d.ID] = d
	return nil
}

// Version implements [Consumer].
func (m *DocMap) Version(id string) (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.docs[id]
	return d.Version, ok
}

// Commit implements [Consumer].
func (m *DocMap) Commit(cs []DocChange) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		if c.Body == nil {
			delete(m.docs, c.ID)
			continue
		}
		m.docs[c.ID] = Doc{ID: c.ID, Version: c.Seq, Body: c.Body}
	}
}

// Get returns a document.
func (m *DocMap) Get(id string) (Doc, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.docs[id]
	return d, ok
}

// Len returns the number of documents.
func (m *DocMap) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.docs)
}

// All returns every document, sorted by ID.
func (m *DocMap) All() []Doc {
	m.mu.RLock()
	out := make([]Doc, 0, len(m.docs))
	for _, d := range m.docs {
		out = append(out, d)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
