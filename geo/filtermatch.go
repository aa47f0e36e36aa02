package geo

// EntityMatcher returns a function reporting whether an entity passes the
// filter: the same rule the queries apply while they traverse the index
// (industry prefixes, risk classes, statuses), for callers that scan
// entities themselves (a spot-check draw over every entity). The function
// is safe for concurrent use.
func (f Filter) EntityMatcher() func(*Entity) bool {
	c := Query{Filter: f}.compile()
	return func(e *Entity) bool { return c.bitsOK(entityBits(e)) && c.entityOK(e) }
}

// ScanEntitiesWhere calls fn for every entity that passes f, in ID order,
// until fn returns false. It reads the risk and status of every entity
// from the spatial tree (without touching the entity), tests the industry
// of those that pass, and walks the ID order touching only the entities
// that passed: much faster than ScanEntities with EntityMatcher on large
// indexes (a spot-check draw over a million entities). Safe for
// concurrent use.
func (s *Snapshot) ScanEntitiesWhere(f Filter, fn func(*Entity) bool) {
	c := Query{Filter: f}.compile()
	tb, ok := s.entities.tree.bounds()
	if !ok {
		return
	}
	pass := make([]uint64, (s.entities.slots.next+63)/64)
	s.entities.tree.search(tb.Min, tb.Max, func(_ [2]float64, it pitem) bool {
		if c.bitsOK(it.bits) && (len(c.industry) == 0 || c.entityOK(s.entities.slots.get(it.slot))) {
			pass[it.slot>>6] |= 1 << (it.slot & 63)
		}
		return true
	})
	s.entities.ids.Scan(func(_ string, i uint32) bool {
		if pass[i>>6]&(1<<(i&63)) == 0 {
			return true
		}
		return fn(s.entities.slots.get(i))
	})
}
