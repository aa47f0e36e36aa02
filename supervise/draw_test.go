package supervise

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// An independent SplitMix64 in arbitrary-precision arithmetic, mod 2^64.
func bigSplitMix(seed uint64, n int) []uint64 {
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	mul := func(a *big.Int, c uint64) *big.Int {
		r := new(big.Int).Mul(a, new(big.Int).SetUint64(c))
		return r.Mod(r, mod)
	}
	xorShift := func(a *big.Int, s uint) *big.Int { return new(big.Int).Xor(a, new(big.Int).Rsh(a, s)) }
	state := new(big.Int).SetUint64(seed)
	var out []uint64
	for i := 0; i < n; i++ {
		state.Add(state, new(big.Int).SetUint64(0x9E3779B97F4A7C15))
		state.Mod(state, mod)
		z := mul(xorShift(state, 30), 0xBF58476D1CE4E5B9)
		z = mul(xorShift(z, 27), 0x94D049BB133111EB)
		out = append(out, xorShift(z, 31).Uint64())
	}
	return out
}

func TestSplitMix64AgainstBigIntegers(t *testing.T) {
	for _, seed := range []uint64{0, 1, 20261207, 1<<64 - 1} {
		want := bigSplitMix(seed, 50)
		r := &splitMix64{state: seed}
		for i, w := range want {
			if g := r.next(); g != w {
				t.Fatalf("seed %d, output %d: %d, want %d", seed, i, g, w)
			}
		}
	}
}

func testCands(n int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		out[i] = Candidate{ID: fmt.Sprintf("E%06d", (i*7919)%n), Grid: fmt.Sprintf("G%02d", i%13)}
	}
	return out // not sorted: Draw sorts
}

func testPool() []Inspector {
	var out []Inspector
	for i := 0; i < 13; i++ {
		out = append(out, Inspector{Name: fmt.Sprintf("inspector%02d", i), Dept: []string{"市场监督管理局", "应急管理局"}[i%2], Grids: []string{fmt.Sprintf("G%02d", i)}})
	}
	return out
}

// The sparse partial Fisher–Yates equals a full Fisher–Yates over an
// explicit array driven by the same stream, and the rules hold.
func TestDrawAgainstFullShuffle(t *testing.T) {
	cands := testCands(1000)
	sorted := slices.Clone(cands)
	slices.SortFunc(sorted, func(a, b Candidate) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	for _, seed := range []uint64{1, 2, 3, 20261207} {
		for _, k := range []int{0, 1, 50, 999, 1000, 5000} {
			res, err := Draw(cands, k, testPool(), DrawRules{InspectorsPerEntity: 2, ExcludeOwnGrid: true}, seed)
			if err != nil {
				t.Fatal(err)
			}
			pos := make([]int, len(sorted))
			for i := range pos {
				pos[i] = i
			}
			r := &splitMix64{state: seed}
			kk := min(k, len(sorted))
			for i := 0; i < kk; i++ {
				j := i + int(r.below(uint64(len(pos)-i)))
				pos[i], pos[j] = pos[j], pos[i]
			}
			if len(res.Entities) != kk {
				t.Fatalf("k %d: %d drawn", k, len(res.Entities))
			}
			seen := map[string]bool{}
			for i, d := range res.Entities {
				if want := sorted[pos[i]].ID; d.EntityID != want {
					t.Fatalf("seed %d k %d position %d: %s, full shuffle %s", seed, k, i, d.EntityID, want)
				}
				if seen[d.EntityID] {
					t.Fatalf("%s drawn twice", d.EntityID)
				}
				seen[d.EntityID] = true
				if len(d.Inspectors) != 2 || d.Inspectors[0] == d.Inspectors[1] {
					t.Fatalf("%s: inspectors %v", d.EntityID, d.Inspectors)
				}
				for _, in := range d.Inspectors {
					if in == "inspector"+d.Grid[1:] {
						t.Fatalf("%s in grid %s checked by its own grid's %s", d.EntityID, d.Grid, in)
					}
				}
			}
		}
	}
}

func TestDrawJointAndErrors(t *testing.T) {
	res, err := Draw(testCands(300), 100, testPool(), DrawRules{InspectorsPerEntity: 2, ExcludeOwnGrid: true, Departments: []string{"应急管理局", "市场监督管理局"}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	dept := map[string]string{}
	for _, in := range testPool() {
		dept[in.Name] = in.Dept
	}
	for _, d := range res.Entities {
		if len(d.Inspectors) != 2 || dept[d.Inspectors[0]] == dept[d.Inspectors[1]] {
			t.Fatalf("joint check: %s has %v", d.EntityID, d.Inspectors)
		}
	}
	for name, tc := range map[string]struct {
		pool  []Inspector
		rules DrawRules
	}{
		"empty pool":          {nil, DrawRules{}},
		"too few inspectors":  {testPool()[:2], DrawRules{InspectorsPerEntity: 3}},
		"department missing":  {testPool(), DrawRules{Departments: []string{"税务局", "应急管理局"}}},
		"own grid leaves one": {[]Inspector{{Name: "a", Grids: []string{"G00"}}, {Name: "b"}}, DrawRules{InspectorsPerEntity: 2, ExcludeOwnGrid: true}},
	} {
		if _, err := Draw(testCands(13), 13, tc.pool, tc.rules, 1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Each candidate is drawn about equally often over many seeds.
func TestDrawUniform(t *testing.T) {
	cands := testCands(20)
	count := map[string]int{}
	const runs = 20000
	for seed := uint64(0); seed < runs; seed++ {
		res, err := Draw(cands, 5, testPool(), DrawRules{}, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range res.Entities {
			count[d.EntityID]++
		}
	}
	want := float64(runs*5) / 20
	chi := 0.0
	for _, c := range cands {
		d := float64(count[c.ID]) - want
		chi += d * d / want
	}
	if chi > 43.8 { // 19 degrees of freedom, p = 0.001
		t.Fatalf("chi-square %.1f over 20 candidates: not uniform (%v)", chi, count)
	}
}

// The golden draw: the same inputs give this draw on every machine and Go
// version (go test ./supervise -run Golden -update rewrites it).
func TestDrawGolden(t *testing.T) {
	res, err := Draw(testCands(500), 12, testPool(), DrawRules{InspectorsPerEntity: 2, ExcludeOwnGrid: true}, 20261207)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "draw_golden.json")
	if *update {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want DrawResult
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if want.CandidatesSHA != res.CandidatesSHA || want.Candidates != res.Candidates || len(want.Entities) != len(res.Entities) {
		t.Fatalf("draw %+v, golden %+v", res, want)
	}
	for i := range want.Entities {
		if want.Entities[i].EntityID != res.Entities[i].EntityID || !slices.Equal(want.Entities[i].Inspectors, res.Entities[i].Inspectors) {
			t.Fatalf("position %d: %+v, golden %+v", i, res.Entities[i], want.Entities[i])
		}
	}
}
