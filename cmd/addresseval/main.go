// Command addresseval scores the address parser and comparer of package
// addressmatch on JSONL files in the format of the address-dev data
// (CCKS 2021 / GeoGLUE; see ../shared/data/address-dev/README.md).
//
//	addresseval parse   [-rules | -model M | -train T.jsonl] FILE.jsonl
//	addresseval compare [-rules | -cmodel M | -ctrain T.jsonl] FILE.jsonl
//	addresseval kfold-parse [-k 5] FILE.jsonl
//	addresseval kfold-compare [-k 5] FILE.jsonl
//	addresseval train-parse -out M FILE.jsonl
//	addresseval train-compare -out M FILE.jsonl
//
// parse prints span micro-F1 and per-label F1; compare prints macro-F1 over
// match/partial/none and the confusion matrix. By default the parser uses
// its embedded model; -rules scores the rules alone, -model a model file,
// -train a model trained on T.jsonl first (train → dev). kfold-parse splits
// FILE into k folds (by sha1 of the id), trains on k-1 and scores the held
// fold, and prints the pooled figures beside the rules' on the same lines.
// train-parse writes the model that addressmatch embeds
// (addressmatch/model/parse.bin.gz); -seed and -epochs (defaults 1 and 8)
// make it reproducible bit for bit; -ens n merges n models trained with
// seeds seed … seed+n-1.
//
// compare scores the embedded compare model by default; -rules scores the
// rules alone, -cmodel a compare model file, -ctrain a model trained on
// T.jsonl first (train → dev). kfold-compare splits FILE into k folds by
// the sha1 of the query id (all candidates of a query stay in one fold),
// trains on k-1 and scores the held fold, beside the rules on the same
// pairs (-j N trains N folds at a time). train-compare writes the compare
// model that addressmatch embeds (addressmatch/model/compare.bin.gz): a
// logistic regression over sparse pair features with gradient-boosted
// trees stacked on it, whose depth (-depths), number of rounds (at most
// -trees) and decision weights are chosen on -inner folds of the training
// file itself, never on another file; -v prints those inner-fold results;
// -tag adds the parse tagger's readings of both addresses to the features.
// The same flags and seed reproduce it bit for bit.
//
// Parse records carry "text" and "spans" ([label, text, start, end) in code
// points); compare records carry "a", "b", "label" and "qid". Report only figures measured on
// lines that were not used for tuning.
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "addresseval:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  addresseval parse   [-rules | -model M | -train T.jsonl] FILE.jsonl
  addresseval compare [-rules | -cmodel M | -ctrain T.jsonl] FILE.jsonl
  addresseval kfold-parse [-k 5] [-seed 1] [-epochs 8] [-mincount 2] [-prune 0] [-ens 1] FILE.jsonl
  addresseval kfold-compare [-k 5] [-j 1] [-seed 1] [-trees 300] [-depths 4] [-inner 3] [-tag] [-noidf] [-v] FILE.jsonl
  addresseval train-parse [-seed 1] [-epochs 8] [-mincount 2] [-prune 0] [-ens 1] -out M FILE.jsonl
  addresseval train-compare [-seed 1] [-trees 300] [-depths 4] [-inner 3] [-tag] [-noidf] [-v] -out M FILE.jsonl`

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	rules := fs.Bool("rules", false, "score the rules alone (no learned model)")
	modelFile := fs.String("model", "", "parse model file to score instead of the embedded one")
	trainFile := fs.String("train", "", "train a parse model on this JSONL first, then score")
	k := fs.Int("k", 5, "number of folds")
	seed := fs.Uint64("seed", 1, "training seed")
	epochs := fs.Int("epochs", 8, "training epochs")
	outFile := fs.String("out", "", "model file to write")
	minCount := fs.Int("mincount", 2, "drop features seen in fewer training lines")
	prune := fs.Float64("prune", 0, "parse training: drop averaged weights smaller than this (0: the package default, 1e-3)")
	dump := fs.Bool("dump", false, "parse, compare: print the lines or pairs the parser gets wrong (gold, then predicted)")
	only := fs.Int("folds", 0, "kfold-parse, kfold-compare: run only the first N folds (0: all)")
	cmodelFile := fs.String("cmodel", "", "compare model file to score instead of the embedded one")
	ctrainFile := fs.String("ctrain", "", "train a compare model on this JSONL first, then score")
	cepochs := fs.Int("cepochs", 0, "compare training epochs (0: the package default)")
	cminCount := fs.Int("cmincount", 0, "compare: drop features seen in fewer training pairs (0: the package default)")
	l2 := fs.Float64("l2", 0, "compare: L2 penalty (0: the package default)")
	rate := fs.Float64("rate", 0, "compare: AdaGrad rate (0: the package default)")
	mw := fs.Float64("mw", 0, "compare: weight of the match class in the loss (0: the package default)")
	trees := fs.Int("trees", 0, "compare: most boosting rounds of the trees (0: the package default; -1: logistic regression alone)")
	depths := fs.String("depths", "", "compare: comma-separated tree depths tried on the inner folds (empty: the package default)")
	shrink := fs.Float64("shrink", 0, "compare: learning rate of the boosting (0: the package default)")
	inner := fs.Int("inner", 0, "compare: inner folds for stacking and choosing the trees (0: the package default)")
	jobs := fs.Int("j", 1, "kfold-compare: folds trained in parallel")
	verbose := fs.Bool("v", false, "compare training: print the inner-fold results to stderr")
	ens := fs.Int("ens", 1, "parse training: merge this many models trained with seeds seed, seed+1, …")
	tag := fs.Bool("tag", false, "compare training: add the parse tagger's readings of both addresses to the features")
	noCtx := fs.Bool("noctx", false, "compare training: no query-context stage (CompareCandidates then equals Compare)")
	noIDF := fs.Bool("noidf", false, "compare training: no learned bigram rarity (idf) features")
	vetoW := fs.Bool("vetoweights", false, "compare training: choose the decision's class weights with the vetoes applied")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(usage)
	}
	topts := addressmatch.TrainOptions{Seed: *seed, Epochs: *epochs, MinCount: *minCount, Prune: *prune}
	copts := addressmatch.CompareTrainOptions{Seed: *seed, Epochs: *cepochs, MinCount: *cminCount, L2: *l2, Rate: *rate, MatchWeight: *mw,
		Trees: *trees, Shrinkage: *shrink, InnerFolds: *inner, Tagger: *tag, NoContext: *noCtx, NoIDF: *noIDF, VetoWeights: *vetoW}
	if *depths != "" {
		for _, f := range strings.Split(*depths, ",") {
			d, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-depths: %w", err)
			}
			copts.Depths = append(copts.Depths, d)
		}
	}
	if *verbose {
		copts.Log = os.Stderr
	}
	// the rules alone: the base of every trained model
	ruleOpts := addressmatch.DefaultOptions()
	ruleOpts.NoModel = true
	rp, err := addressmatch.NewParser(ruleOpts)
	if err != nil {
		return fmt.Errorf("parser: %w", err)
	}
	// compare models are trained on the rules' comparison and the embedded
	// parse tagger's readings
	topt := addressmatch.DefaultOptions()
	topt.NoCompareModel = true
	tp, err := addressmatch.NewParser(topt)
	if err != nil {
		return fmt.Errorf("parser: %w", err)
	}
	opts := addressmatch.DefaultOptions()
	switch {
	case *rules:
		opts.NoModel = true
	case *modelFile != "":
		f, err := os.Open(*modelFile)
		if err != nil {
			return fmt.Errorf("model: %w", err)
		}
		m, err := addressmatch.ReadParseModel(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("model %s: %w", *modelFile, err)
		}
		opts.ParseModel = m
	case *trainFile != "":
		recs, err := readJSONL[parseRecord](*trainFile)
		if err != nil {
			return err
		}
		m, err := rp.TrainParseEnsemble(examples(recs), topts, *ens)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		opts.ParseModel = m
	}
	switch {
	case *rules:
	case *cmodelFile != "":
		f, err := os.Open(*cmodelFile)
		if err != nil {
			return fmt.Errorf("compare model: %w", err)
		}
		m, err := addressmatch.ReadCompareModel(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("compare model %s: %w", *cmodelFile, err)
		}
		opts.CompareModel = m
	case *ctrainFile != "":
		recs, err := readJSONL[matchRecord](*ctrainFile)
		if err != nil {
			return err
		}
		m, err := tp.TrainCompareModel(pairs(recs), copts)
		if err != nil {
			return fmt.Errorf("train compare: %w", err)
		}
		opts.CompareModel = m
	}
	p, err := addressmatch.NewParser(opts)
	if err != nil {
		return fmt.Errorf("parser: %w", err)
	}
	switch args[0] {
	case "parse":
		recs, err := readJSONL[parseRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		if on, err := p.ModelStatus(); err != nil {
			return fmt.Errorf("embedded model: %w", err)
		} else if !on {
			fmt.Fprintln(out, "(rules alone)")
		}
		if *dump {
			dumpParse(out, p, recs)
		}
		s := scoreParse(p, recs)
		s.print(out, fmt.Sprintf("parse %s (%d lines)", fs.Arg(0), len(recs)))
	case "compare":
		recs, err := readJSONL[matchRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		if on, err := p.CompareModelStatus(); err != nil {
			return fmt.Errorf("embedded compare model: %w", err)
		} else if !on {
			fmt.Fprintln(out, "(compare: rules alone)")
		}
		if *dump {
			for _, r := range recs {
				if res := p.Compare(r.A, r.B); string(res.Label) != r.Label {
					fmt.Fprintf(out, "gold %-7s pred %-7s %.2f %s | %s\n", r.Label, res.Label, res.Score, r.A, r.B)
				}
			}
		}
		c := scoreCompare(p, recs)
		c.print(out, fmt.Sprintf("compare %s (%d pairs)", fs.Arg(0), len(recs)))
		scoreCandidates(p, recs).print(out, fmt.Sprintf("compare %s, each query's candidates together (CompareCandidates)", fs.Arg(0)))
	case "kfold-compare":
		recs, err := readJSONL[matchRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		if *k < 2 {
			return errors.New("-k must be at least 2")
		}
		nf := *k
		if *only > 0 && *only < nf {
			nf = *only
		}
		type foldResult struct {
			ms, bs, cs confusion
			dump       string
			line       string
			err        error
		}
		res := make([]foldResult, nf)
		var wg sync.WaitGroup
		sem := make(chan struct{}, max(1, *jobs))
		for f := 0; f < nf; f++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				var train, test []matchRecord
				for _, r := range recs {
					if fold(r.QID, *k) == f {
						test = append(test, r)
					} else {
						train = append(train, r)
					}
				}
				t0 := time.Now()
				m, err := tp.TrainCompareModel(pairs(train), copts)
				if err != nil {
					res[f].err = fmt.Errorf("fold %d: %w", f, err)
					return
				}
				took := time.Since(t0)
				mo := addressmatch.DefaultOptions()
				mo.CompareModel = m
				mp, err := addressmatch.NewParser(mo)
				if err != nil {
					res[f].err = fmt.Errorf("parser: %w", err)
					return
				}
				ms, bs, cs := scoreCompare(mp, test), scoreCompare(rp, test), scoreCandidates(mp, test)
				if *dump {
					var sb strings.Builder
					for _, r := range test {
						if res := mp.Compare(r.A, r.B); string(res.Label) != r.Label {
							fmt.Fprintf(&sb, "fold %d gold %-7s pred %-7s %.2f %s | %s\n", f, r.Label, res.Label, res.Score, r.A, r.B)
						}
					}
					res[f].dump = sb.String()
				}
				mf, _ := ms.macroF1()
				bf, _ := bs.macroF1()
				res[f] = foldResult{ms: ms, bs: bs, cs: cs, dump: res[f].dump, line: fmt.Sprintf("fold %d: %d held-out pairs, model %.4f, rules %.4f (%d features, %d rounds of trees, trained in %s)\n",
					f, len(test), mf, bf, m.Features(), m.Trees(), took.Round(time.Second))}
			}()
		}
		wg.Wait()
		model, base, cands := confusion{}, confusion{}, confusion{}
		for _, r := range res {
			if r.err != nil {
				return r.err
			}
			fmt.Fprint(out, r.dump)
			fmt.Fprint(out, r.line)
			model.add(r.ms)
			base.add(r.bs)
			cands.add(r.cs)
		}
		base.print(out, fmt.Sprintf("rules alone, the same held-out pairs (%d)", len(recs)))
		model.print(out, fmt.Sprintf("model, %d-fold held-out by query (%d pairs)", *k, len(recs)))
		cands.print(out, fmt.Sprintf("model, each query's candidates together (CompareCandidates), %d-fold held-out by query", *k))
	case "train-compare":
		if *outFile == "" {
			return errors.New("train-compare needs -out")
		}
		recs, err := readJSONL[matchRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		t0 := time.Now()
		m, err := tp.TrainCompareModel(pairs(recs), copts)
		if err != nil {
			return fmt.Errorf("train compare: %w", err)
		}
		took := time.Since(t0)
		f, err := os.Create(*outFile)
		if err != nil {
			return fmt.Errorf("write compare model: %w", err)
		}
		if _, err := m.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write compare model: %w", err)
		}
		fmt.Fprintf(out, "wrote %s: %d features, %d rounds of trees, trained on %d pairs (seed %d) in %s\n",
			*outFile, m.Features(), m.Trees(), len(recs), *seed, took.Round(time.Second))
	case "kfold-parse":
		recs, err := readJSONL[parseRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		if *k < 2 {
			return errors.New("-k must be at least 2")
		}
		model, base := newParseScore(), newParseScore()
		for f := 0; f < *k; f++ {
			if *only > 0 && f >= *only {
				break
			}
			var train, test []parseRecord
			for _, r := range recs {
				if fold(r.ID, *k) == f {
					test = append(test, r)
				} else {
					train = append(train, r)
				}
			}
			m, err := rp.TrainParseEnsemble(examples(train), topts, *ens)
			if err != nil {
				return fmt.Errorf("fold %d: %w", f, err)
			}
			mo := addressmatch.DefaultOptions()
			mo.ParseModel = m
			mp, err := addressmatch.NewParser(mo)
			if err != nil {
				return fmt.Errorf("parser: %w", err)
			}
			if *dump {
				dumpParse(out, mp, test)
			}
			ms, bs := scoreParse(mp, test), scoreParse(rp, test)
			fmt.Fprintf(out, "fold %d: %d held-out lines, model %.4f, rules %.4f\n", f, len(test), ms.total.f1(), bs.total.f1())
			model.add(ms)
			base.add(bs)
		}
		base.print(out, fmt.Sprintf("rules alone, the same held-out lines (%d)", len(recs)))
		model.print(out, fmt.Sprintf("model, %d-fold held-out (%d lines)", *k, len(recs)))
	case "train-parse":
		if *outFile == "" {
			return errors.New("train-parse needs -out")
		}
		recs, err := readJSONL[parseRecord](fs.Arg(0))
		if err != nil {
			return err
		}
		m, err := rp.TrainParseEnsemble(examples(recs), topts, *ens)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		f, err := os.Create(*outFile)
		if err != nil {
			return fmt.Errorf("write model: %w", err)
		}
		if _, err := m.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write model: %w", err)
		}
		fmt.Fprintf(out, "wrote %s: %d features, trained on %d lines (seed %d, %d epochs)\n", *outFile, m.Features(), len(recs), *seed, *epochs)
	default:
		return errors.New(usage)
	}
	return nil
}

// fold assigns a record to one of k folds by the sha1 of its id.
func fold(id string, k int) int {
	h := sha1.Sum([]byte(id))
	return int(binary.BigEndian.Uint32(h[:4]) % uint32(k))
}

// examples converts gold records to training examples.
func examples(recs []parseRecord) []addressmatch.ParseExample {
	out := make([]addressmatch.ParseExample, len(recs))
	for k, r := range recs {
		sp := make([]addressmatch.Span, len(r.Spans))
		for i, g := range r.Spans {
			sp[i] = addressmatch.Span{Label: addressmatch.Label(g.Label), Start: g.Start, End: g.End}
		}
		out[k] = addressmatch.ParseExample{Text: r.Text, Spans: sp}
	}
	return out
}

// pairs converts labelled match records to compare training examples.
func pairs(recs []matchRecord) []addressmatch.CompareExample {
	out := make([]addressmatch.CompareExample, len(recs))
	for k, r := range recs {
		out[k] = addressmatch.CompareExample{A: r.A, B: r.B, Label: addressmatch.MatchLabel(r.Label)}
	}
	return out
}

// parseRecord is one line of parse_*.jsonl.
type parseRecord struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Spans []goldSpan
}

// goldSpan is [label, text, start, end).
type goldSpan struct {
	Label      string
	Start, End int
}

// UnmarshalJSON reads the 4-element array form.
func (g *goldSpan) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("span: %w", err)
	}
	if len(a) != 4 {
		return fmt.Errorf("span: %d elements, want 4", len(a))
	}
	if err := json.Unmarshal(a[0], &g.Label); err != nil {
		return fmt.Errorf("span label: %w", err)
	}
	if err := json.Unmarshal(a[2], &g.Start); err != nil {
		return fmt.Errorf("span start: %w", err)
	}
	if err := json.Unmarshal(a[3], &g.End); err != nil {
		return fmt.Errorf("span end: %w", err)
	}
	return nil
}

// matchRecord is one line of match_*.jsonl.
type matchRecord struct {
	QID   string `json:"qid"`
	A     string `json:"a"`
	B     string `json:"b"`
	Label string `json:"label"`
}

func readJSONL[T any](name string) ([]T, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, ln, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// prf counts true positives, false positives and false negatives.
type prf struct{ tp, fp, fn int }

func (c prf) f1() float64 {
	if c.tp == 0 {
		return 0
	}
	p := float64(c.tp) / float64(c.tp+c.fp)
	r := float64(c.tp) / float64(c.tp+c.fn)
	return 2 * p * r / (p + r)
}

func (c *prf) add(o prf) { c.tp += o.tp; c.fp += o.fp; c.fn += o.fn }

// parseScore is the span-level tally of a parse evaluation.
type parseScore struct {
	total prf
	per   map[string]*prf
}

func newParseScore() parseScore { return parseScore{per: map[string]*prf{}} }

func (s parseScore) get(l string) *prf {
	if s.per[l] == nil {
		s.per[l] = &prf{}
	}
	return s.per[l]
}

func (s *parseScore) add(o parseScore) {
	s.total.add(o.total)
	for l, c := range o.per {
		s.get(l).add(*c)
	}
}

type spanKey struct {
	label      string
	start, end int
}

// scoreOne tallies one record: an exact span is the same label, start and end.
func (s *parseScore) scoreOne(gold []goldSpan, pred []addressmatch.Span) {
	g := make(map[spanKey]bool, len(gold))
	for _, sp := range gold {
		g[spanKey{sp.Label, sp.Start, sp.End}] = true
	}
	q := make(map[spanKey]bool, len(pred))
	for _, sp := range pred {
		q[spanKey{string(sp.Label), sp.Start, sp.End}] = true
	}
	for k := range q {
		if g[k] {
			s.total.tp++
			s.get(k.label).tp++
		} else {
			s.total.fp++
			s.get(k.label).fp++
		}
	}
	for k := range g {
		if !q[k] {
			s.total.fn++
			s.get(k.label).fn++
		}
	}
}

func scoreParse(p *addressmatch.Parser, recs []parseRecord) parseScore {
	s := newParseScore()
	for _, r := range recs {
		s.scoreOne(r.Spans, p.Parse(r.Text).Spans)
	}
	return s
}

// dumpParse prints every record whose spans differ from the gold ones.
func dumpParse(w io.Writer, p *addressmatch.Parser, recs []parseRecord) {
	for _, r := range recs {
		var s parseScore = newParseScore()
		pred := p.Parse(r.Text).Spans
		s.scoreOne(r.Spans, pred)
		if s.total.fp+s.total.fn == 0 {
			continue
		}
		fmt.Fprintf(w, "%s\n  gold:", r.Text)
		rs := []rune(r.Text)
		for _, g := range r.Spans {
			fmt.Fprintf(w, " %s:%s", g.Label, string(rs[g.Start:g.End]))
		}
		fmt.Fprint(w, "\n  pred:")
		for _, q := range pred {
			fmt.Fprintf(w, " %s:%s", q.Label, q.Text)
		}
		fmt.Fprintln(w)
	}
}

func (s parseScore) print(w io.Writer, title string) {
	fmt.Fprintf(w, "%s\n  span micro-F1 %.4f (tp %d fp %d fn %d)\n", title, s.total.f1(), s.total.tp, s.total.fp, s.total.fn)
	labels := make([]string, 0, len(s.per))
	for l := range s.per {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		c := s.per[l]
		fmt.Fprintf(w, "  %-14s F1 %.3f (tp %5d fp %5d fn %5d)\n", l, c.f1(), c.tp, c.fp, c.fn)
	}
}

// classes are the compare labels in reporting order.
var classes = []string{"match", "partial", "none"}

// confusion counts gold → predicted compare labels.
type confusion map[[2]string]int

func scoreCompare(p *addressmatch.Parser, recs []matchRecord) confusion {
	c := confusion{}
	for _, r := range recs {
		c[[2]string{r.Label, string(p.Compare(r.A, r.B).Label)}]++
	}
	return c
}

// scoreCandidates scores CompareCandidates: the pairs of one query (qid, or
// the same first address when there is none) passed together.
func scoreCandidates(p *addressmatch.Parser, recs []matchRecord) confusion {
	at := map[string]int{}
	var groups [][]matchRecord
	for _, r := range recs {
		q := r.QID
		if q == "" {
			q = "a:" + r.A
		}
		g, ok := at[q]
		if !ok {
			g = len(groups)
			at[q] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], r)
	}
	c := confusion{}
	for _, g := range groups {
		bs := make([]string, len(g))
		for i, r := range g {
			bs[i] = r.B
		}
		for i, res := range p.CompareCandidates(g[0].A, bs) {
			c[[2]string{g[i].Label, string(res.Label)}]++
		}
	}
	return c
}

func (c confusion) add(o confusion) {
	for k, v := range o {
		c[k] += v
	}
}

// macroF1 returns the macro-F1 over the three classes and the per-class F1.
func (c confusion) macroF1() (float64, [3]float64) {
	var per [3]float64
	macro := 0.0
	for i, l := range classes {
		var t prf
		for k, n := range c {
			switch {
			case k[0] == l && k[1] == l:
				t.tp += n
			case k[0] == l:
				t.fn += n
			case k[1] == l:
				t.fp += n
			}
		}
		per[i] = t.f1()
		macro += per[i] / 3
	}
	return macro, per
}

func (c confusion) print(w io.Writer, title string) {
	m, per := c.macroF1()
	fmt.Fprintf(w, "%s\n  macro-F1 %.4f (match %.3f partial %.3f none %.3f)\n  confusion gold→pred:\n", title, m, per[0], per[1], per[2])
	for _, g := range classes {
		fmt.Fprintf(w, "    %-8s", g)
		for _, q := range classes {
			fmt.Fprintf(w, " %s %5d", q, c[[2]string{g, q}])
		}
		fmt.Fprintln(w)
	}
}
