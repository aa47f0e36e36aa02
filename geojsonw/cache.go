package geojsonw

import (
	"sync"
	"unsafe"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
)

// FeatureCache holds the constant part of entity features as an encoder
// of one CRS and one selection of entity fields writes them (the "head":
// everything but the members an answer computes, such as distance_m),
// so that an answer copies a feature's bytes instead of reading its
// scattered strings and formatting its coordinates again.
//
// It is keyed by the entity value itself (its pointer): the index never
// changes an entity it holds, a write puts a new value in its place, so a
// head found is never stale and a written entity is encoded afresh on its
// first answer. The cache is filled as answers are written and bounded in
// bytes: a shard that would pass its share of the bound is emptied (the
// next answers fill it again), which also lets go of replaced entities.
//
// A FeatureCache is safe for concurrent use.
type FeatureCache struct {
	crs      crs.CRS
	fields   geo.FieldSet
	distance bool
	shardMax int
	shards   [cacheShards]cacheShard
}

const (
	// cacheShards spreads the cache's locks.
	cacheShards = 64
	// cacheChunk is the size of the byte slabs heads are copied into.
	cacheChunk = 256 << 10
	// cacheEntryOverhead is what an entry costs beside its bytes (the
	// map's key, value and control byte), counted against the bound.
	cacheEntryOverhead = 40
)

// cacheEntry locates a head in its shard's slabs (no pointers: the
// collector does not follow the values).
type cacheEntry struct {
	slab, off, len uint32
	mark           uint32 // offset of the properties' opening brace in the head
	n              uint32 // properties written in the head
}

type cacheShard struct {
	mu    sync.RWMutex
	m     map[*geo.Entity]cacheEntry
	slabs [][]byte // heads, appended; reused once the shard is emptied
	cur   int      // the slab being filled
	bytes int
	_     [64]byte // keeps shards' locks off one cache line
}

// NewFeatureCache returns a cache of the heads that an encoder in CRS c
// ("" is WGS-84) showing fields of entities writes for answers with
// distance_m ([Extra].Distance: nearby, knearest) or without it, holding
// about maxBytes of them at most (at least 1 MiB). The memory is taken as
// answers fill the cache and kept (reused when a shard is emptied).
func NewFeatureCache(c crs.CRS, fields geo.FieldSet, distance bool, maxBytes int64) *FeatureCache {
	if c == "" {
		c = crs.WGS84
	}
	maxBytes = max(maxBytes, 1<<20)
	return &FeatureCache{crs: c, fields: fields, distance: distance, shardMax: int(maxBytes / cacheShards)}
}

// Bytes returns the bytes the cache holds now (heads and entry overhead).
func (c *FeatureCache) Bytes() int64 {
	var n int64
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += int64(s.bytes)
		s.mu.RUnlock()
	}
	return n
}

// Len returns the number of heads held.
func (c *FeatureCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

func (c *FeatureCache) shard(e *geo.Entity) *cacheShard {
	// entities are allocated at least 16 bytes apart; mix the address bits
	h := uint64(uintptr(unsafe.Pointer(e))>>4) * 0x9E3779B97F4A7C15
	return &c.shards[h>>(64-6)]
}

// appendHead appends the head of k when it is cached, returning the
// offset of its properties' brace in dst and the properties written.
func (c *FeatureCache) appendHead(dst []byte, k *geo.Entity) ([]byte, int, int, bool) {
	s := c.shard(k)
	s.mu.RLock()
	v, ok := s.m[k]
	if ok {
		mark := len(dst) + int(v.mark)
		dst = append(dst, s.slabs[v.slab][v.off:v.off+v.len]...)
		s.mu.RUnlock()
		return dst, mark, int(v.n), true
	}
	s.mu.RUnlock()
	return dst, 0, 0, false
}

// touch reads the first and last bytes of k's head (ok false when it is
// not cached).
func (c *FeatureCache) touch(k *geo.Entity) (byte, bool) {
	s := c.shard(k)
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[k]
	if !ok {
		return 0, false
	}
	b := s.slabs[v.slab]
	return b[v.off] + b[v.off+v.len-1], true
}

// put copies a head into the shard's slabs and records it.
func (c *FeatureCache) put(k *geo.Entity, head []byte, mark, n int) {
	cost := len(head) + cacheEntryOverhead
	if cost > c.shardMax/4 || len(head) > cacheChunk || len(head) == 0 {
		return // a feature this large is not worth a share of the cache
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; ok {
		return
	}
	if s.m == nil {
		s.m = make(map[*geo.Entity]cacheEntry, 64)
	}
	if s.bytes+cost > c.shardMax {
		// full: start again, keeping the memory (no reader holds a head
		// outside the lock)
		clear(s.m)
		for i := range s.slabs {
			s.slabs[i] = s.slabs[i][:0]
		}
		s.cur, s.bytes = 0, 0
	}
	for s.cur < len(s.slabs) && cap(s.slabs[s.cur])-len(s.slabs[s.cur]) < len(head) {
		s.cur++
	}
	if s.cur == len(s.slabs) {
		s.slabs = append(s.slabs, make([]byte, 0, min(cacheChunk, max(c.shardMax, len(head)))))
	}
	b := s.slabs[s.cur]
	off := len(b)
	s.slabs[s.cur] = append(b, head...)
	s.m[k] = cacheEntry{slab: uint32(s.cur), off: uint32(off), len: uint32(len(head)), mark: uint32(mark), n: uint32(n)}
	s.bytes += cost
}

// WithCache returns a copy of e that writes the heads of entity features
// from c (filling it as it goes), when c was made for e's CRS and entity
// fields; otherwise, or with a nil c, a copy of e without a cache. Only
// hits written with c's distance setting and without Extra.Search use the
// cache. The bytes written are the same either way.
func (e *Encoder) WithCache(c *FeatureCache) *Encoder {
	out := *e
	out.cache = nil
	if c != nil && c.crs == e.crs && c.fields == e.fields[0] {
		out.cache = c
	}
	return &out
}

// appendCachedEntity appends an entity hit's feature (after any comma)
// with its head from the cache, encoding and caching the head first when
// it is not there.
func (e *Encoder) appendCachedEntity(dst []byte, h *geo.Hit, x Extra) []byte {
	if out, mark, n, ok := e.cache.appendHead(dst, h.Entity); ok {
		return e.appendTail(out, props{n: n}, mark, h, x)
	}
	start := len(dst)
	dst, p, mark := e.appendHead(dst, h, x)
	e.cache.put(h.Entity, dst[start:], mark-start, p.n)
	return e.appendTail(dst, p, mark, h, x)
}

// touchCached is [Encoder.Touch] of an entity hit with a cache: the
// head's first and last bytes when it is cached, else what AppendHit will
// read to encode it.
func (e *Encoder) touchCached(h *geo.Hit) byte {
	if b, ok := e.cache.touch(h.Entity); ok {
		return b
	}
	return TouchHit(h)
}
