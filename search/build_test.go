package search

import "testing"

// TestOneSubmitterSame: an index whose large batches are submitted one
// at a time (to bound the build's memory) answers every query exactly as
// one built by several submitters, and as one built in other batch
// sizes; the submitter rule picks one submitter only for large batches.
func TestOneSubmitterSame(t *testing.T) {
	f := newPersistFixture(t)
	open := func(batch int) *Index { return f.openWith(t, Options{BatchSize: batch}) }
	def := open(0) // the default 20,000 a batch: one batch for the fixture
	n := def.Stats().Docs
	if s := batchSize(n, def.opts.BatchSize); submitters(s, def.opts.BatchSize) != buildWorkers() {
		t.Fatalf("%d docs in batches of %d: %d submitters, want %d", n, s, submitters(s, def.opts.BatchSize), buildWorkers())
	}
	small := n / 100 // batches of n/(4 workers) >= 4x small: one submitter
	if s := batchSize(n, small); submitters(s, small) != 1 {
		t.Fatalf("%d docs in batches of %d (smallest %d): %d submitters, want 1", n, s, small, submitters(s, small))
	}
	mid := n / 6 // batches of mid < 4x mid: every worker
	if s := batchSize(n, mid); submitters(s, mid) != buildWorkers() || s != mid {
		t.Fatalf("%d docs, smallest %d: batches of %d, %d submitters", n, mid, s, submitters(s, mid))
	}
	one := open(small)
	several := open(mid)
	sameAnswers(t, one, def, f.queries)
	sameAnswers(t, several, def, f.queries)
	queries := append(f.queries, f.write(t, 1)...) // live updates on each
	sameAnswers(t, one, def, queries)
	sameAnswers(t, several, def, queries)
}
