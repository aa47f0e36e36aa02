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
