package addressmatch

import "sync"

// entCacheSize bounds the entities a parser keeps for Compare: when full,
// the cache starts over (a Compare of a pair it holds skips both parses).
const entCacheSize = 4096

// entCache holds the rule entities (parse, fields, names, roads) of the
// addresses Compare saw last. Entities are never modified after entityOf
// builds them, so one may be shared by concurrent comparisons.
type entCache struct {
	mu sync.Mutex
	m  map[string]*entity
}

// entityCached is entityOf through p's cache of recent addresses. Safe for
// concurrent use.
func (p *Parser) entityCached(s string) entity {
	if p.cmp == nil {
		return p.entityOf(s)
	}
	c := &p.cmp.ents
	c.mu.Lock()
	e, ok := c.m[s]
	c.mu.Unlock()
	if ok {
		return *e
	}
	v := p.entityOf(s)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= entCacheSize {
		c.m = make(map[string]*entity, 64)
	}
	c.m[s] = &v
	c.mu.Unlock()
	return v
}
