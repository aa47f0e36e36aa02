package addressmatch

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The tagger's hot path (the open-addressing feature table, the passes of
// ftab.emissions, viterbiBeam, the look-up filters of the parser) must give
// what the plain forms give: these tests hold them against those forms,
// written out here as the oracle.

// fastTestInputs returns addresses to hold the fast path against: the
// parse test cases, the bench inputs, and the lines of parse_train.jsonl
// when the development data is present (every fifth line, so that the
// suite stays short under -race; the full file was checked when the fast
// path landed: each line as given, with its masked digits filled in, and
// cut in half, so that real digits and ragged ends are seen too).
func fastTestInputs(t *testing.T) []string {
	t.Helper()
	in := append([]string(nil), benchAddrs...)
	for _, name := range []string{"全国.tsv", "重庆.tsv"} {
		b, err := os.ReadFile(filepath.Join("testdata", "cases", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				in = append(in, strings.SplitN(line, "\t", 2)[0])
			}
		}
	}
	if _, err := os.Stat(filepath.Join(devDir, "parse_train.jsonl")); err == nil {
		for k, r := range readJSONL[parseDevRecord](t, "parse_train.jsonl") {
			if k%5 != 0 {
				continue
			}
			rs := []rune(r.Text)
			for i := range rs {
				if rs[i] == '0' {
					rs[i] = rune('0' + (i*7+k)%10)
				}
			}
			in = append(in, r.Text, string(rs), string(rs[:len(rs)/2]))
		}
	}
	return in
}

// refEmissions scores the features of every rune through the model's map
// index, one feature at a time.
func refEmissions(m *ParseModel, buf []uint64, offs []int32, n int) []float32 {
	em := make([]float32, n*numTags)
	for i := 0; i < n; i++ {
		row := em[i*numTags : (i+1)*numTags]
		for _, h := range buf[offs[i]:offs[i+1]] {
			v, ok := m.index[h]
			if !ok {
				continue
			}
			for _, e := range m.ents[v>>8 : v>>8+v&0xff] {
				row[e.tag] += e.w
			}
		}
	}
	return em
}

// TestFastPathSameTags: for every input, the emission scores of the table
// equal those of the map bit for bit, and viterbiBeam picks the path of
// viterbi (beam on); so Parse gives what the plain forms give.
func TestFastPathSameTags(t *testing.T) {
	p := testParser(t)
	m := p.models.parse()
	if m == nil {
		t.Skip("no embedded parse model")
	}
	in := fastTestInputs(t)
	var sc scratch
	for _, s := range in {
		st := p.parseRules(s)
		n := len(st.f)
		if n == 0 || n > 512 {
			continue
		}
		sc.buf, sc.offs = p.features(st, &sc.fs, sc.buf[:0], sc.offs[:0])
		want := refEmissions(m, sc.buf, sc.offs, n)
		em := make([]float32, n*numTags)
		sc.sv, sc.ro = m.tab.emissions(sc.buf, sc.offs, em, sc.sv, sc.ro)
		for k := range em {
			if math.Float32bits(em[k]) != math.Float32bits(want[k]) {
				t.Fatalf("%q: emission %d = %v, map gives %v", s, k, em[k], want[k])
			}
		}
		back := make([]uint8, n*numTags)
		ref := viterbi(slices.Clone(want), n, &m.trans, &m.pw, true, back, nil)
		got := viterbiBeam(em, n, &m.trans, &m.transT, back, nil)
		if !slices.Equal(got, ref) {
			t.Fatalf("%q: viterbiBeam %v, viterbi %v", s, got, ref)
		}
	}
	t.Logf("%d inputs", len(in))
}

// TestViterbiBeamRandom: on random scores (ties included: scores drawn
// from a few values), viterbiBeam and viterbi (beam on) pick the same path.
func TestViterbiBeamRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var trans [numTags + 1][numTags]float32
	for a := range trans {
		for b := range trans[a] {
			trans[a][b] = float32(rng.IntN(7) - 3)
		}
	}
	m := &ParseModel{trans: trans, index: map[uint64]uint64{}}
	m.pw = prevWeights(&m.trans)
	m.buildTable()
	for it := 0; it < 500; it++ {
		n := 1 + rng.IntN(40)
		em := make([]float32, n*numTags)
		for k := range em {
			em[k] = float32(rng.IntN(9)-4) / 2
		}
		back := make([]uint8, n*numTags)
		ref := viterbi(slices.Clone(em), n, &m.trans, &m.pw, true, back, nil)
		got := viterbiBeam(em, n, &m.trans, &m.transT, back, nil)
		if !slices.Equal(got, ref) {
			t.Fatalf("n=%d: viterbiBeam %v, viterbi %v", n, got, ref)
		}
	}
}

// TestLookupFilters: every administrative name and suffix word that the
// dictionaries hold at a position is within the parser's filters there
// (brute force over every length), so the filtered look-ups miss nothing.
func TestLookupFilters(t *testing.T) {
	p := testParser(t)
	in := fastTestInputs(t)
	for _, s := range in {
		st := p.parseRules(s)
		n := len(st.f)
		for k := 0; k < n; k++ {
			top := p.admTop(st, k, n)
			for L := 2; k+L <= n; L++ {
				if _, ok := p.dict.names[st.ftext(k, k+L)]; ok && L > top {
					t.Fatalf("%q: admin name %q at %d longer than the filter's %d", s, st.ftext(k, k+L), k, top)
				}
			}
			sm := int(p.sufMax[uint32(st.f[k])%uint32(len(p.sufMax))])
			for L := 1; L <= k+1; L++ {
				if _, ok := p.suffix[st.ftext(k-L+1, k+1)]; ok && L > sm {
					t.Fatalf("%q: suffix %q ending at %d longer than the filter's %d", s, st.ftext(k-L+1, k+1), k, sm)
				}
			}
		}
	}
	// the filters do filter: most bigrams start no name
	zero := 0
	for _, v := range p.admMax {
		if v == 0 {
			zero++
		}
	}
	if zero < len(p.admMax)/4 {
		t.Errorf("admMax: only %d of %d slots empty", zero, len(p.admMax))
	}
	if utf8.RuneCountInString("街道办事处") > int(p.sufMax[uint32('处')%uint32(len(p.sufMax))]) {
		t.Error("sufMax misses 街道办事处")
	}
}

// TestFeatureHashes: the fixed-arity hashes equal the variadic one.
func TestFeatureHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 1000; it++ {
		tm, a, b, c, d := rng.Uint64N(64), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()
		if fh0(tm) != fhash(tm) || fh1(tm, a) != fhash(tm, a) || fh2(tm, a, b) != fhash(tm, a, b) ||
			fh3(tm, a, b, c) != fhash(tm, a, b, c) || fh4(tm, a, b, c, d) != fhash(tm, a, b, c, d) {
			t.Fatalf("fixed-arity hash differs for %d %d %d %d %d", tm, a, b, c, d)
		}
	}
}

// TestAddWeightsEveryFeature: the table's one-by-one look-up (the path
// ftab.emissions takes when two keys share their upper half) gives, for
// every feature of the model, the weights of the map bit for bit.
func TestAddWeightsEveryFeature(t *testing.T) {
	m := testParser(t).models.parse()
	if m == nil {
		t.Skip("no embedded parse model")
	}
	got := make([]float32, numTags)
	want := make([]float32, numTags)
	for h, v := range m.index {
		clear(got)
		clear(want)
		m.tab.addWeights(h, got)
		for _, e := range m.ents[v>>8 : v>>8+v&0xff] {
			want[e.tag] += e.w
		}
		for k := range got {
			if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
				t.Fatalf("feature %x tag %d: table %v, map %v", h, k, got[k], want[k])
			}
		}
	}
	clear(got)
	m.tab.addWeights(0x5eed, got) // a key not in the model adds nothing
	if _, ok := m.index[0x5eed]; !ok && slices.ContainsFunc(got, func(w float32) bool { return w != 0 }) {
		t.Fatalf("an absent feature added weights: %v", got)
	}
}

// TestParseReusedStateSameAsFresh holds Parse, which reuses the rule
// parse's state and buffers from the model's scratch pool, against the
// same steps on fresh state (parseRules, relabel, finish: the form before
// the pool), input by input in a shuffled order and from several
// goroutines at once (run under -race): the same Components, nil and
// empty slices told apart, and no span of one call changed by the next.
func TestParseReusedStateSameAsFresh(t *testing.T) {
	p := testParser(t)
	m := p.models.parse()
	if m == nil {
		t.Skip("no embedded parse model")
	}
	in := fastTestInputs(t)
	in = append(in, "", "   ", "附3号", strings.Repeat("重庆市渝北区金开大道68号", 50)) // empty, spaces, > 512 runes
	want := make([]Components, len(in))
	for i, s := range in {
		st := p.parseRules(s)
		st.spans = m.relabel(p, st)
		want[i] = p.finish(st)
	}
	check := func(order []int) []Components {
		got := make([]Components, len(in))
		for _, i := range order {
			got[i] = p.Parse(in[i])
		}
		return got
	}
	order := make([]int, len(in))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(14, 14))
	const workers = 4
	res := make([][]Components, workers)
	done := make(chan int)
	for w := 0; w < workers; w++ {
		o := slices.Clone(order)
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		go func() {
			res[w] = check(o)
			done <- w
		}()
	}
	for range workers {
		<-done
	}
	for w, got := range res {
		for i := range in {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("worker %d, %q:\n got %+v\nwant %+v", w, in[i], got[i], want[i])
			}
		}
	}
}
