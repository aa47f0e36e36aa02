package addressmatch

import (
	"sync"
)

// The compare model also reads both addresses as the learned parse tagger
// labels them (the rules' parse stays the base of the comparison and of its
// vetoes). Tagging costs about as much as the rest of a comparison, so a
// parser keeps the readings of the addresses it compared last (a query is
// compared with several candidates, a registered address with many
// queries) in a small bounded cache of its own.

// tagViewLabels are the labels whose first span the compare model reads
// from the tagger.
var tagViewLabels = [...]Label{LabelDistrict, LabelTown, LabelCommunity, LabelDevzone, LabelRoad, LabelRoadNo,
	LabelPOI, LabelSubPOI, LabelHouseNo, LabelCellNo, LabelFloorNo, LabelIntersection, LabelAssist, LabelDistance}

// tagView is the tagger's reading of one address: the first span of each
// label of tagViewLabels and the last poi or subpoi (its finest name).
type tagView struct {
	first [len(tagViewLabels)]string
	last  string
	spans int
}

// tagCacheSize bounds a parser's cache of tagger readings.
const tagCacheSize = 4096

// tagCache maps a normalised address to its tagger reading. It is owned by
// one parser; it only memoises a pure function, so what it holds never
// changes a result.
type tagCache struct {
	mu sync.Mutex
	m  map[string]*tagView
}

func (c *tagCache) get(s string) *tagView {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[s]
}

func (c *tagCache) put(s string, v *tagView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tagCacheSize {
		c.m = make(map[string]*tagView, tagCacheSize)
	}
	c.m[s] = v
}

// tagViewOf returns the tagger's reading of the address s (main part,
// normalised), nil when p has no parse model.
func (p *Parser) tagViewOf(s string) *tagView {
	m := p.models.parse()
	if m == nil {
		return nil
	}
	var c *tagCache
	if p.cmp != nil {
		c = &p.cmp.tags
		if v := c.get(s); v != nil {
			return v
		}
	}
	st := p.parseRules(s)
	spans := m.relabel(p, st)
	v := &tagView{spans: len(spans)}
	for _, sp := range spans {
		for k, l := range tagViewLabels {
			if sp.Label == l && v.first[k] == "" {
				v.first[k] = sp.Text
			}
		}
		if sp.Label == LabelPOI || sp.Label == LabelSubPOI {
			v.last = sp.Text
		}
	}
	if c != nil {
		c.put(s, v)
	}
	return v
}

// tagDenseNames names the dense features tagFeatures adds.
var tagDenseNames = func() []string {
	var out []string
	for _, l := range tagViewLabels {
		out = append(out, "tag:"+string(l))
	}
	return append(out, "tag:lastRel", "tag:lastBinA", "tag:lastAinB", "tag:spansA", "tag:spansB")
}()

// tagFeatures adds the features of the tagger's readings of both sides (a
// and b: main parts, normalised; ra, rb their runes) to f. Without a parse
// model every dense value is -2.
func (p *Parser) tagFeatures(a, b string, ra, rb []rune, f *pairFeats) {
	va, vb := p.tagViewOf(a), p.tagViewOf(b)
	if va == nil || vb == nil {
		for range tagDenseNames {
			f.dense = append(f.dense, -2)
		}
		return
	}
	poiS := func(x, y string) bool { eq, _ := poiSim(x, y); return eq }
	var states [len(tagViewLabels)]string
	for k, l := range tagViewLabels {
		x, y := va.first[k], vb.first[k]
		var s string
		switch l {
		case LabelRoadNo, LabelHouseNo, LabelCellNo, LabelFloorNo:
			s = numState(numKey(x), numKey(y))
		case LabelPOI, LabelSubPOI, LabelCommunity, LabelDevzone:
			s = nameState(x, y, poiS)
		case LabelRoad:
			s = nameState(x, y, func(x, y string) bool { return roadTypoEq(x, y) || sameRoad(x, y) })
		default:
			s = nameState(x, y, nil)
		}
		states[k] = s
		f.add("tag:"+string(l), s)
		f.dense = append(f.dense, float32(stateCode(s)))
	}
	// road, road number, poi, subpoi, house number together
	f.add("tag:anchor", states[4]+states[5]+states[6]+states[7]+states[8])
	rel := p.nameRel(va.last, vb.last)
	f.add("tag:lastRel", string(rune('0'+rel)))
	binA, ainB := float32(-1), float32(-1)
	if vb.last != "" {
		rn := []rune(vb.last)
		binA = float32(lcsLen(rn, ra)) / float32(len(rn))
		f.add("tag:lastBinA", bin(float64(binA), 5))
	}
	if va.last != "" {
		rn := []rune(va.last)
		ainB = float32(lcsLen(rn, rb)) / float32(len(rn))
		f.add("tag:lastAinB", bin(float64(ainB), 5))
	}
	f.dense = append(f.dense, float32(rel), binA, ainB, float32(va.spans), float32(vb.spans))
}
