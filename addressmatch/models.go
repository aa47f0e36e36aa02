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
