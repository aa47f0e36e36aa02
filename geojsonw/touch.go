package geojsonw

import "github.com/marketgeo/marketgeo/geo"

// TouchAhead is how many hits a writer should [Touch] before appending
// them: enough for the memory system to fetch many features at once, few
// enough that what was fetched is still in the core's cache when it is
// written (~64 features of ~500 bytes).
const TouchAhead = 64

// Touch reads, for each hit, the memory AppendHit will read: the feature
// and the first and last bytes of its strings. It does nothing a caller can
// observe (the result means nothing); it is there for speed. The features
// of an answer lie scattered over the heap, so that writing them one after
// the other waits for a cache miss at each string (~8 a feature, the
// writer's work between them too long for the processor to run ahead to
// the next feature); a loop of independent loads lets it fetch them
// side by side, and the writing that follows finds them in the cache.
// At 1M entities this is most of the time of a full answer.
func Touch(hits []geo.Hit) byte {
	var x byte
	for i := range hits {
		x += TouchHit(&hits[i])
	}
	return x
}

// TouchHit is [Touch] of one hit.
//
//go:noinline
func TouchHit(h *geo.Hit) byte {
	var x byte
	switch {
	case h.Entity != nil:
		e := h.Entity
		x = edge(e.ID) + edge(e.Name) + edge(e.ShortName) + edge(e.Address) + edge(e.Industry) +
			edge(e.BuildingID) + edge(e.GridID) + edge(string(e.Status)) + edge(string(e.Risk))
		if len(e.FormerNames) > 0 {
			x += edge(e.FormerNames[0])
		}
		if e.Attrs != nil {
			x += byte(len(e.Attrs))
		}
	case h.Building != nil:
		b := h.Building
		x = edge(b.ID) + edge(b.Name) + edge(b.Address)
		if len(b.Footprint) > 0 && len(b.Footprint[0]) > 0 {
			x += byte(b.Footprint[0][0][0])
		}
	case h.Place != nil:
		p := h.Place
		x = edge(p.ID) + edge(p.Name) + edge(p.Kind)
	}
	return x
}

// edge reads the first and last byte of s (a string longer than a cache
// line spans two or more).
func edge(s string) byte {
	if len(s) == 0 {
		return 0
	}
	return s[0] + s[len(s)-1]
}

// idOnly is the selection of fields=id.
var idOnly = geo.NewFieldSet(geo.FieldID)

// Touch is [TouchHit] for what e writes of the hit: with fields=id (or
// fewer) only the feature and its ID, else everything; with a cache
// ([Encoder.WithCache]) the cached head of an entity instead.
func (e *Encoder) Touch(h *geo.Hit) byte {
	if e.cache != nil && h.Entity != nil {
		return e.touchCached(h)
	}
	if f := e.fields[hitLayer(h)]; f.Intersect(idOnly) == f {
		if h.Entity != nil { // the location too, in the struct's second cache line
			return TouchID(h) + byte(h.Entity.Location[0])
		}
		return TouchID(h)
	}
	return TouchHit(h)
}

// TouchID is [TouchHit] of a hit's ID alone (format=ids).
//
//go:noinline
func TouchID(h *geo.Hit) byte { return edge(h.ID()) }
