package supervise

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// The draw of a spot check is fully specified here, so that anyone can
// re-run it from the published inputs on any machine and any Go version:
//
//  1. The candidates are the IDs of the entities that pass the filter,
//     sorted by byte order (strings.Compare), duplicates removed.
//  2. The pseudo-random numbers come from SplitMix64 (Steele, Lea and
//     Flood, 2014) seeded with the draw's seed: state += 0x9E3779B97F4A7C15;
//     z = state; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9; z = (z ^ z>>27) *
//     0x94D049BB133111EB; return z ^ z>>31. It is implemented here, not
//     taken from a library whose stream might change.
//  3. A number below n is drawn by rejection: t = (2^64 − n) mod n; draw x
//     until x ≥ t; return x mod n (unbiased).
//  4. The sample is a partial Fisher–Yates shuffle of the positions
//     0 … N−1: for i = 0 … k−1, j = i + below(N − i), swap positions i and
//     j; the sample is the entities at positions 0 … k−1, in that order.
//  5. Inspectors are drawn after the whole sample, entity by entity in
//     sample order, from the same stream: the pool is sorted by
//     (department, name); the eligible inspectors of an entity are those of
//     the pool not assigned to its grid when the rule excludes the own
//     grid; for a joint check (several departments) one inspector of each
//     department in sorted order is drawn first (below(number eligible in
//     that department)), then the remaining places from all eligible
//     inspectors not yet chosen by the same partial Fisher–Yates.
//
// A draw records its inputs, the number of candidates and the SHA-256 of
// the candidate list (IDs joined by "\n"), so that a re-run on data that
// has changed since is told apart from a wrong draw.

// splitMix64 is the SplitMix64 generator.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// below returns a uniform number in [0, n), n > 0.
func (s *splitMix64) below(n uint64) uint64 {
	t := -n % n // (2^64 − n) mod n
	for {
		if x := s.next(); x >= t {
			return x % n
		}
	}
}

// Inspector is one inspector of a draw's pool.
type Inspector struct {
	// Name is the inspector's name (a token's name: the inbox's owner).
	Name string `json:"name"`
	// Dept is the inspector's department (a joint check draws from several).
	Dept string `json:"dept,omitempty"`
	// Grids are the grids the inspector is assigned to (excluded from their
	// own checks when the rule asks).
	Grids []string `json:"grids,omitempty"`
}

// DrawRules are the pairing rules of a draw.
type DrawRules struct {
	// InspectorsPerEntity is how many inspectors check each entity
	// (default 2).
	InspectorsPerEntity int `json:"inspectors_per_entity"`
	// ExcludeOwnGrid: never an inspector assigned to the entity's grid.
	ExcludeOwnGrid bool `json:"exclude_own_grid"`
	// Departments, when two or more, make a joint check (多帽合一): each
	// entity gets one inspector of each department at least.
	Departments []string `json:"departments,omitempty"`
}

// Candidate is an entity that may be drawn.
type Candidate struct {
	ID   string
	Grid string
}

// Drawn is one drawn entity and its inspectors.
type Drawn struct {
	EntityID   string   `json:"entity_id"`
	Grid       string   `json:"grid,omitempty"`
	Inspectors []string `json:"inspectors"`
}

// DrawResult is the outcome of [Draw].
type DrawResult struct {
	Candidates    int     `json:"candidates"`
	CandidatesSHA string  `json:"candidates_sha256"`
	Entities      []Drawn `json:"entities"`
}

// Draw draws k of the candidates (sorted by ID here) and their inspectors
// from pool under the rules, with the documented algorithm. It fails with
// ErrInvalidRequest when an entity cannot get its inspectors under the
// rules. Pure: the same arguments give the same result everywhere.
func Draw(cands []Candidate, k int, pool []Inspector, rules DrawRules, seed uint64) (DrawResult, error) {
	if !slices.IsSortedFunc(cands, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) }) {
		cands = slices.Clone(cands)
		slices.SortFunc(cands, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) })
	}
	cands = slices.CompactFunc(cands, func(a, b Candidate) bool { return a.ID == b.ID })
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for i, c := range cands {
		if len(buf)+len(c.ID)+1 > cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
		if i > 0 {
			buf = append(buf, '\n')
		}
		buf = append(buf, c.ID...)
	}
	h.Write(buf)
	res := DrawResult{Candidates: len(cands), CandidatesSHA: hex.EncodeToString(h.Sum(nil))}
	n := len(cands)
	k = min(k, n)
	rng := &splitMix64{state: seed}
	// partial Fisher–Yates over positions, sparse: only moved positions are kept
	moved := make(map[int]int, 2*k)
	at := func(i int) int {
		if v, ok := moved[i]; ok {
			return v
		}
		return i
	}
	res.Entities = make([]Drawn, k)
	for i := 0; i < k; i++ {
		j := i + int(rng.below(uint64(n-i)))
		vi, vj := at(i), at(j)
		moved[i], moved[j] = vj, vi
		c := cands[vj]
		res.Entities[i] = Drawn{EntityID: c.ID, Grid: c.Grid}
	}
	per := rules.InspectorsPerEntity
	if per <= 0 {
		per = 2
	}
	depts := slices.Clone(rules.Departments)
	slices.Sort(depts)
	depts = slices.Compact(depts)
	if len(depts) < 2 {
		depts = nil
	}
	per = max(per, len(depts))
	pool = slices.Clone(pool)
	slices.SortFunc(pool, func(a, b Inspector) int {
		if c := strings.Compare(a.Dept, b.Dept); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	pool = slices.CompactFunc(pool, func(a, b Inspector) bool { return a.Name == b.Name && a.Dept == b.Dept })
	if len(pool) == 0 && k > 0 {
		return res, fmt.Errorf("%w: the inspector pool is empty", ErrInvalidRequest)
	}
	elig := make([]int, 0, len(pool))
	for ei := range res.Entities {
		d := &res.Entities[ei]
		elig = elig[:0]
		for pi, in := range pool {
			if rules.ExcludeOwnGrid && d.Grid != "" && slices.Contains(in.Grids, d.Grid) {
				continue
			}
			elig = append(elig, pi)
		}
		chosen := make([]string, 0, per)
		taken := make(map[int]bool, per)
		for _, dept := range depts {
			var of []int
			for _, pi := range elig {
				if pool[pi].Dept == dept {
					of = append(of, pi)
				}
			}
			if len(of) == 0 {
				return res, fmt.Errorf("%w: no eligible inspector of department %q for entity %s (grid %s)", ErrInvalidRequest, dept, d.EntityID, d.Grid)
			}
			pi := of[rng.below(uint64(len(of)))]
			taken[pi] = true
			chosen = append(chosen, pool[pi].Name)
		}
		rest := make([]int, 0, len(elig))
		for _, pi := range elig {
			if !taken[pi] {
				rest = append(rest, pi)
			}
		}
		need := per - len(chosen)
		if need > len(rest) {
			return res, fmt.Errorf("%w: entity %s (grid %s) needs %d inspectors, %d are eligible", ErrInvalidRequest, d.EntityID, d.Grid, per, len(chosen)+len(rest))
		}
		for i := 0; i < need; i++ {
			j := i + int(rng.below(uint64(len(rest)-i)))
			rest[i], rest[j] = rest[j], rest[i]
			chosen = append(chosen, pool[rest[i]].Name)
		}
		d.Inspectors = chosen
	}
	return res, nil
}
