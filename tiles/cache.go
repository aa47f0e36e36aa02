package tiles

import (
	"container/list"
	"sync"

	"github.com/paulmach/orb"
)

// cache is an LRU of rendered tiles with a byte cap. Entries know their tile
// bounds (with buffer) so that a live update drops only the tiles that
// contain the changed feature. All methods are goroutine-safe.
type cache struct {
	mu      sync.Mutex
	cap     int64
	size    int64
	ll      *list.List
	m       map[cacheKey]*list.Element
	inval   map[string]uint64 // layer → version of its latest invalidation
	hits    uint64
	misses  uint64
	dropped uint64
}

// cacheKey identifies a cached tile: layer, z/x/y and the canonical query.
type cacheKey struct {
	layer   string
	z, x, y int
	q       string
}

type cacheEntry struct {
	key    cacheKey
	bound  orb.Bound // tile bounds with the buffer, WGS-84
	tile   Tile
	weight int64
}

func newCache(capBytes int64) *cache {
	return &cache{cap: capBytes, ll: list.New(), m: map[cacheKey]*list.Element{}, inval: map[string]uint64{}}
}

// weight counts the raw bytes plus a gzip allowance and a fixed overhead.
func weightOf(t Tile) int64 { return int64(len(t.Data))*3/2 + 256 }

func (c *cache) get(key cacheKey) (Tile, bool) {
	if c == nil {
		return Tile{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		c.ll.MoveToFront(el)
		c.hits++
		return el.Value.(*cacheEntry).tile, true
	}
	c.misses++
	return Tile{}, false
}

// put stores a tile rendered from a snapshot of the given version, unless
// the layer was invalidated by a later commit meanwhile (the tile could be
// stale) or fresh (when not nil; called under the cache's lock) says that
// what the tile was rendered from changed meanwhile.
func (c *cache) put(key cacheKey, bound orb.Bound, t Tile, version uint64, fresh func() bool) {
	if c == nil {
		return
	}
	w := weightOf(t)
	if w > c.cap/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inval[key.layer] > version || fresh != nil && !fresh() {
		return
	}
	if el, ok := c.m[key]; ok {
		c.removeElement(el)
	}
	el := c.ll.PushFront(&cacheEntry{key: key, bound: bound, tile: t, weight: w})
	c.m[key] = el
	c.size += w
	for c.size > c.cap {
		c.removeElement(c.ll.Back())
	}
}

func (c *cache) removeElement(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.m, e.key)
	c.size -= e.weight
}

// invalidate drops the tiles of layer whose bounds intersect any of the
// given bounds, and records version so that renders from older snapshots
// are not cached. With a nil bounds slice the whole layer is dropped.
func (c *cache) invalidate(layer string, bounds []orb.Bound, all bool, version uint64) int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version > c.inval[layer] {
		c.inval[layer] = version
	}
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cacheEntry)
		if e.key.layer == layer {
			drop := all
			for i := 0; !drop && i < len(bounds); i++ {
				drop = e.bound.Intersects(bounds[i])
			}
			if drop {
				c.removeElement(el)
				n++
			}
		}
		el = next
	}
	c.dropped += uint64(n)
	return n
}

// CacheStats are counters of the tile cache.
type CacheStats struct {
	Entries     int    `json:"entries"`
	Bytes       int64  `json:"bytes"`
	CapBytes    int64  `json:"cap_bytes"`
	Hits        uint64 `json:"hits"`
	Misses      uint64 `json:"misses"`
	Invalidated uint64 `json:"invalidated"`
}

func (c *cache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.m), Bytes: c.size, CapBytes: c.cap, Hits: c.hits, Misses: c.misses, Invalidated: c.dropped}
}
