package addressmatch

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"
	"sync"
)

// modelFS holds the learned models and their provenance. A missing model
// file is not an error: the parser then works with the rules alone.
//
//go:embed model
var modelFS embed.FS

// parseModelFile is the embedded parse model, written by
// cmd/addresseval train-parse.
const parseModelFile = "model/parse.bin.gz"

// modelSet is a parser's learned models, decoded once on first use. It is
// owned by one Parser and never changes after decoding.
type modelSet struct {
	fixed *ParseModel // set by Options.ParseModel: no decoding

	once sync.Once
	pm   *ParseModel
	err  error
}

// parse returns the parse model, nil when there is none (or ms is nil).
func (ms *modelSet) parse() *ParseModel {
	if ms == nil {
		return nil
	}
	if ms.fixed != nil {
		return ms.fixed
	}
	ms.once.Do(func() {
		b, err := modelFS.ReadFile(parseModelFile)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			ms.err = err
			return
		}
		ms.pm, ms.err = ReadParseModel(bytes.NewReader(b))
	})
	return ms.pm
}

// ModelStatus reports whether p's Parse uses a learned model and, when the
// embedded model could not be decoded (Parse then uses the rules alone),
// the error.
func (p *Parser) ModelStatus() (bool, error) {
	m := p.models.parse()
	if p.models == nil {
		return false, nil
	}
	return m != nil, p.models.err
}

// compareModelFile is the embedded compare model, written by
// cmd/addresseval train-compare.
const compareModelFile = "model/compare.bin.gz"

// cmpModel is a parser's compare model, decoded once on first use, and a
// pool of feature buffers. It is owned by one Parser; the model never
// changes after decoding.
type cmpModel struct {
	fixed *CompareModel // set by Options.CompareModel: no decoding

	once  sync.Once
	m     *CompareModel
	err   error
	feats sync.Pool // *pairFeats
	tags  tagCache  // the parse tagger's readings of recent addresses
	ents  entCache  // the rule entities of recent addresses (cmpcache.go)
}

func newCmpModel(fixed *CompareModel) *cmpModel {
	c := &cmpModel{fixed: fixed}
	c.feats.New = func() any { return &pairFeats{keys: make([]uint64, 0, 96), vals: make([]float32, 0, 96)} }
	return c
}

// model returns the compare model, nil when there is none (or cm is nil).
func (cm *cmpModel) model() *CompareModel {
	if cm == nil {
		return nil
	}
	if cm.fixed != nil {
		return cm.fixed
	}
	cm.once.Do(func() {
		b, err := modelFS.ReadFile(compareModelFile)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			cm.err = err
			return
		}
		cm.m, cm.err = ReadCompareModel(bytes.NewReader(b))
	})
	return cm.m
}

// CompareModelStatus reports whether p's Compare uses a learned model and,
// when the embedded model could not be decoded (Compare then uses the rules
// alone), the error.
func (p *Parser) CompareModelStatus() (bool, error) {
	if p.cmp == nil {
		return false, nil
	}
	m := p.cmp.model()
	return m != nil, p.cmp.err
}
