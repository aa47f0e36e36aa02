package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// docBuilder turns docs into Bleve documents without the index mapping:
// the fields are built directly (no map[string]any per document, no
// reflection walk) and the precomputed term lists (whole names, pinyin
// prefixes, layer) skip text analysis altogether. The CJK fields are
// analysed by the same analyzers the mapping registers, so the index holds
// exactly the terms the mapping would give.
type docBuilder struct {
	name, addr analysis.Analyzer
	mode       CJKMode
	textOpts   index.FieldIndexingOptions // name and address
}

func newDocBuilder(name, addr analysis.Analyzer, mode CJKMode) *docBuilder {
	b := &docBuilder{name: name, addr: addr, mode: mode, textOpts: index.IndexField}
	if mode == CJKUnigram {
		b.textOpts |= index.IncludeTermVectors // phrase queries need positions
	}
	return b
}

// termsField is an indexed, unstored field whose terms are given: the
// equivalent of a whitespace-analysed text field without the tokenizer.
type termsField struct {
	name   string
	terms  []string
	length int
	freqs  index.TokenFrequencies
}

var _ document.Field = (*termsField)(nil)

func (f *termsField) Name() string                                     { return f.name }
func (f *termsField) ArrayPositions() []uint64                         { return nil }
func (f *termsField) Options() index.FieldIndexingOptions              { return index.IndexField }
func (f *termsField) Value() []byte                                    { return nil }
func (f *termsField) EncodedFieldType() byte                           { return 't' }
func (f *termsField) AnalyzedLength() int                              { return f.length }
func (f *termsField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

func (f *termsField) NumPlainTextBytes() uint64 {
	n := 0
	for _, t := range f.terms {
		n += len(t)
	}
	return uint64(n)
}

func (f *termsField) Size() int { return 64 + 16*len(f.terms) }

// Analyze counts the terms: one slab of TokenFreq and one buffer of term
// bytes per field.
func (f *termsField) Analyze() {
	f.length = len(f.terms)
	f.freqs = make(index.TokenFrequencies, len(f.terms))
	slab := make([]index.TokenFreq, len(f.terms))
	buf := make([]byte, 0, f.NumPlainTextBytes())
	for i, t := range f.terms {
		if tf := f.freqs[t]; tf != nil {
			tf.SetFrequency(tf.Frequency() + 1)
			continue
		}
		tf := &slab[i]
		start := len(buf)
		buf = append(buf, t...)
		tf.Term = buf[start:len(buf):len(buf)]
		tf.SetFrequency(1)
		f.freqs[t] = tf
	}
}

// document is the Bleve document of d. Only the names people type are
// analysed: the short names, cores, aliases and place names, not the
// registered names of entities, whose region prefix and legal form
// (重庆市…有限公司) are in every document and carry no signal; the registered
// name stays in the doc for ranking and in the exact-name map. Names that
// are part of another indexed name add no bigram and are left out. In the
// bigram modes the terms are computed by textTerms (the analysis the
// mapping would apply, without its allocations); pinyin is in the lexicon,
// not in Bleve.
func (b *docBuilder) document(d *doc, stop stopSet) *document.Document {
	bd := document.NewDocument(d.key)
	bd.AddField(&termsField{name: fLayer, terms: []string{string(d.layer)}})
	var names []string // text of the indexed names
	for i, v := range d.names {
		if !v.short {
			continue
		}
		inside := false
		for j, o := range d.names {
			if j != i && o.short && len(o.text) > len(v.text) && strings.Contains(o.text, v.text) {
				inside = true
				break
			}
		}
		if !inside {
			names = append(names, v.text)
		}
	}
	if b.mode == CJKUnigram {
		// Phrase queries need positions: the analyzer path.
		bd.AddField(document.NewTextFieldCustom(fName, nil, []byte(strings.Join(names, " ")), b.textOpts, b.name))
		if d.addr != "" {
			bd.AddField(document.NewTextFieldCustom(fAddr, nil, []byte(d.addr), b.textOpts, b.addr))
		}
		return bd
	}
	terms := make([]string, 0, 2*len(names)*8)
	for _, n := range names {
		terms = textTerms(terms, n, nil)
	}
	if len(terms) > 0 {
		bd.AddField(&termsField{name: fName, terms: terms})
	}
	if d.addr != "" {
		if at := stop.filter(textTerms(make([]string, 0, len(d.addr)/3+2), d.addr, nil)); len(at) > 0 {
			bd.AddField(&termsField{name: fAddr, terms: at})
		}
	}
	return bd
}

// stopSet holds the address terms found in so many documents that no
// query ever looks them up (重庆, 庆市, 渝北, 大道…: see pruneTerms and
// maxAddrFallbackShare). Leaving them out of the index loses no answer
// and saved 40% of the address postings on the demo region.
type stopSet map[string]struct{}

// minStopDocs is the smallest index whose common address terms are
// stopped: below it the shares say little.
const minStopDocs = 2000

// addrStopTerms returns the address terms found in more than
// maxAddrFallbackShare of docs' addresses, estimated on a sample of about
// 20,000 of them.
func addrStopTerms(docs []*doc) stopSet {
	if len(docs) < minStopDocs {
		return nil
	}
	step := max(1, len(docs)/20000)
	df := map[string]int{}
	n := 0
	var terms []string
	for i := 0; i < len(docs); i += step {
		n++
		if docs[i].addr == "" {
			continue
		}
		terms = dedupe(textTerms(terms[:0], docs[i].addr, nil))
		for _, t := range terms {
			df[t]++
		}
	}
	stop := stopSet{}
	for t, c := range df {
		// A margin over the share: the sample is an estimate.
		if float64(c) > (maxAddrFallbackShare+0.05)*float64(n) {
			stop[t] = struct{}{}
		}
	}
	return stop
}

// filter removes the stop terms from terms, in place.
func (s stopSet) filter(terms []string) []string {
	if len(s) == 0 {
		return terms
	}
	out := terms[:0]
	for _, t := range terms {
		if _, ok := s[t]; !ok {
			out = append(out, t)
		}
	}
	return out
}

// exactMap maps the whole folded names and place kinds of the docs to the
// docs that bear them (looked up here rather than in Bleve: a keyword field
// of 200,000 distinct terms costs Bleve seconds to build and answers
// nothing a map cannot). Entries of
// replaced or deleted docs are left in place and skipped by the reader
// (the doc in Index.docs is no longer the same pointer). Most names are
// borne by one doc: that doc is in one, the others, in the order they were
// added, in more (a map of slices was a slice header and an allocation a
// name, 3.75 million of them at 1M entities).
type exactMap struct {
	one  map[string]*doc
	more map[string][]*doc
}

func newExactMap() exactMap {
	return exactMap{one: map[string]*doc{}, more: map[string][]*doc{}}
}

func (m exactMap) add(d *doc) {
	for _, t := range d.names {
		m.addTerm(t.text, d)
	}
	for _, t := range d.kinds {
		m.addTerm(t, d)
	}
}

func (m exactMap) addTerm(t string, d *doc) {
	if _, ok := m.one[t]; !ok {
		m.one[t] = d
		return
	}
	m.more[t] = append(m.more[t], d)
}

// each calls fn with the docs of text, in the order they were added.
func (m exactMap) each(text string, fn func(*doc)) {
	d, ok := m.one[text]
	if !ok {
		return
	}
	fn(d)
	for _, d := range m.more[text] {
		fn(d)
	}
}
