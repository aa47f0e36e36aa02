package search

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/geo"
)

// MatchCode is the match of a code: the query is an entity's unified social
// credit code (USCC), its first characters, or a former registration number
// (注册号, the attribute reg_no or 注册号).
const MatchCode = "code"

// regNoAttrs are the entity attributes holding a former registration number.
var regNoAttrs = [...]string{"reg_no", "注册号"}

// codeKind classifies a compact query: 'u' a USCC or its first characters
// (4 to 18 characters of the USCC alphabet whose first eight fit the code's
// structure: registration authority, entity type, six-digit division), 'r'
// also a former registration number (13 or 15 digits), 0 neither. Names,
// pinyin and initials never fit (the second character is a digit).
func codeKind(s string) byte {
	if len(s) < 4 || len(s) > 18 {
		return 0
	}
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		isDigit := c >= '0' && c <= '9'
		digits = digits && isDigit
		switch {
		case i == 0 && !(c >= '1' && c <= '9' || c == 'A' || c == 'N' || c == 'Y'):
			return 0
		case i >= 1 && i < 8 && !isDigit:
			return 0
		case !isDigit && strings.IndexByte("ABCDEFGHJKLMNPQRTUWXY", c) < 0:
			return 0
		}
	}
	if digits && (len(s) == 13 || len(s) == 15) {
		return 'r'
	}
	return 'u'
}

// searchCode answers a query that is a code (see MatchCode): the entity
// with that USCC (score 1), or the entities whose USCC starts with it
// (score 0.9), or whose former registration number is it (score 1), in
// USCC order, within q's radius if it has one. ok is false when the query
// is not a code or the query's layers leave out entities; then the name
// search runs. A prefix is a binary search in the sorted USCCs of the
// snapshot (codeCache).
func (ix *Index) searchCode(ctx context.Context, q Query, limit int) (hits []Hit, ok bool, err error) {
	text := strings.ToUpper(strings.Join(strings.Fields(Fold(q.Text)), ""))
	kind := codeKind(text)
	if kind == 0 || (len(q.Layers) > 0 && !slices.Contains(q.Layers, geo.LayerEntities)) {
		return nil, false, nil
	}
	snap := ix.geo.Snapshot()
	hit := func(e *geo.Entity, score float64) (Hit, bool) {
		h := Hit{Score: score, Match: MatchCode, Layer: geo.LayerEntities, ID: e.ID, Name: e.Name, Feature: geo.Hit{Entity: e}}
		if q.Center != nil {
			h.DistanceM = geo.DistanceM(*q.Center, e.Location)
			if q.RadiusM > 0 && h.DistanceM > q.RadiusM {
				return h, false
			}
			h.Feature.DistanceM = h.DistanceM
		}
		return h, true
	}
	tab, err := ix.codes.table(ctx, snap)
	if err != nil {
		return nil, true, err
	}
	add := func(id string, score float64) {
		if e, found := snap.Entity(id); found {
			if h, in := hit(e, score); in {
				hits = append(hits, h)
			}
		}
	}
	if kind == 'r' {
		for _, id := range tab.regNo[text] {
			add(id, 1)
		}
	}
	i, _ := slices.BinarySearch(tab.ids, text)
	for n := 0; i < len(tab.ids) && len(hits) < limit && strings.HasPrefix(tab.ids[i], text); i++ {
		if n++; n&255 == 0 && ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
		score := 0.9
		if len(tab.ids[i]) == len(text) {
			score = 1
		}
		add(tab.ids[i], score)
	}
	slices.SortStableFunc(hits, cmpCodeHit)
	return hits[:min(len(hits), limit)], true, nil
}

// codeCache holds the code table of the latest snapshot a code query saw.
type codeCache struct {
	mu  sync.Mutex
	tab *codeTable
}

// codeTable is the entities' USCCs in order and their former registration
// numbers, of one snapshot version.
type codeTable struct {
	version uint64
	ids     []string
	regNo   map[string][]string
}

// table returns the code table of snap, building it when the geo index
// changed since the last one (a sort of every USCC: about 10 ms at 79,000
// entities; the first code query after a write pays it).
func (c *codeCache) table(ctx context.Context, snap *geo.Snapshot) (*codeTable, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tab != nil && c.tab.version == snap.Version() {
		return c.tab, nil
	}
	t := &codeTable{version: snap.Version(), ids: make([]string, 0, snap.Counts().Entities), regNo: map[string][]string{}}
	var err error
	snap.ScanEntities(func(e *geo.Entity) bool {
		if len(t.ids)&4095 == 4095 && ctx.Err() != nil {
			err = ctx.Err()
			return false
		}
		t.ids = append(t.ids, e.ID)
		for _, k := range regNoAttrs {
			if v := strings.TrimSpace(e.Attrs[k]); v != "" {
				t.regNo[v] = append(t.regNo[v], e.ID)
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(t.ids)
	c.tab = t
	return t, nil
}

func cmpCodeHit(a, b Hit) int {
	if a.Score != b.Score {
		if a.Score > b.Score {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}
