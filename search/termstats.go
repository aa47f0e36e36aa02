package search

import (
	"context"
	"sync"

	index "github.com/blevesearch/bleve_index_api"
)

// maxTermStats bounds the document frequencies a termStats keeps: when
// full it starts again empty.
const maxTermStats = 1 << 16

// termStats caches the document frequencies of the Bleve index's terms
// that pruneTerms reads for every query (a posting-list look-up in every
// segment per term and field: the same common bigrams, 公司, 有限, come
// back in most queries). It belongs to one generation (a lexicon) and
// holds the figures of one state of its Bleve index, tagged with the
// number of live-update commits applied to it (buildState.updates): a
// look-up with another tag empties it first. Goroutine-safe; the zero
// value is ready.
type termStats struct {
	mu   sync.Mutex
	tag  int
	docs uint64 // the index's document count; 0: not read yet
	df   map[termKey]uint64
}

type termKey struct{ field, term string }

// docCount returns the document count of the state tagged tag, read from
// r when not cached.
func (s *termStats) docCount(r index.IndexReader, tag int) (uint64, error) {
	s.mu.Lock()
	s.retag(tag)
	n := s.docs
	s.mu.Unlock()
	if n != 0 {
		return n, nil
	}
	n, err := r.DocCount()
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.tag == tag {
		s.docs = n
	}
	s.mu.Unlock()
	return n, nil
}

// docFreq returns the number of documents whose field has term in the
// state tagged tag, read from r when not cached.
func (s *termStats) docFreq(ctx context.Context, r index.IndexReader, tag int, field, term string) (uint64, error) {
	k := termKey{field, term}
	s.mu.Lock()
	s.retag(tag)
	df, ok := s.df[k]
	s.mu.Unlock()
	if ok {
		return df, nil
	}
	df, err := readDocFreq(ctx, r, field, term)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.tag == tag {
		if s.df == nil || len(s.df) >= maxTermStats {
			s.df = make(map[termKey]uint64)
		}
		s.df[k] = df
	}
	s.mu.Unlock()
	return df, nil
}

// retag empties s when its figures are of another state. s.mu is held.
func (s *termStats) retag(tag int) {
	if s.tag != tag {
		s.tag, s.docs, s.df = tag, 0, nil
	}
}

// readDocFreq reads the document frequency of term in field from r.
func readDocFreq(ctx context.Context, r index.IndexReader, field, term string) (uint64, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0, err
	}
	df := tfr.Count()
	_ = tfr.Close()
	return df, nil
}
