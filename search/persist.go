package search

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
)

// ErrBadPersisted means the persisted index in Persist.Dir cannot be used
// (missing, truncated, corrupt, of another format, build or configuration,
// or built with other stop terms than the documents give today): the index
// is built from the documents instead. Stats.RestoreErr wraps it.
var ErrBadPersisted = errors.New("search: persisted index unusable")

// Persist keeps the Bleve index on disk between runs, so that a restart
// opens it and re-indexes only the documents that changed instead of
// building it again (at a million documents the build is most of a
// restart's time).
//
// Dir holds the last complete save (current/: the Bleve index and a
// manifest listing every document it holds with a hash of its indexed
// content), the working copy the running index writes to (work/), and
// saves in progress (tmp-*/). A save is written beside the current one and
// renamed over it, so a crash leaves the previous save whole. On restart
// every document's hash is compared with the manifest: documents written
// since the save (or while it was written) are indexed again, those deleted
// are deleted, so the persisted index needs no sequence number and a crash
// between a store's commit and a save loses nothing.
type Persist struct {
	// Dir is the directory of the persisted index, created when missing.
	// Required.
	Dir string
	// Fingerprint identifies what the documents' terms depend on besides
	// their text: the program's build and its configuration. A save with
	// another fingerprint is not used (the index is built again). Required.
	Fingerprint string
	// Reopened, when not nil, is called after a save has reopened from
	// disk a Bleve index that was held in memory (after the first build
	// and after each compaction), in the goroutine of the save: the
	// memory of the in-memory segments is garbage from then on, and a
	// process may want to return it to the system.
	Reopened func()
}

// manifestMagic starts a manifest; its last digit is the format version.
const manifestMagic = "MGSEARCH1\n"

// Layout of Persist.Dir.
const (
	dirCurrent   = "current"
	dirWork      = "work"
	dirOld       = "old"
	dirBleve     = "bleve"
	fileManifest = "manifest"
)

// persistState is the bookkeeping of restores and saves, guarded by
// Index.mu.
type persistState struct {
	run        sync.Mutex          // serialises saves (taken before Index.mu)
	touched    map[string]struct{} // keys written while a save runs (nil otherwise)
	saving     bool
	closeAfter []generation // generations replaced or closed during a save's copy
	unsaved    bool         // the index differs from the last save (or there is none)
	restored   bool
	restoreErr error // why the persisted index was not used
	saveErr    error // of the last failed save
}

// noteChange records that the document of key changed.
func (ps *persistState) noteChange(key string) {
	ps.unsaved = true
	if ps.touched != nil {
		ps.touched[key] = struct{}{}
	}
}

// built records a new generation: restored from the save (and changed
// since it when replayed is set) or built.
func (ps *persistState) built(restored, replayed bool) {
	ps.restored = ps.restored || restored
	if !restored || replayed {
		ps.unsaved = true
	}
}

// restoreOrBuild returns the first generation restored from the persisted
// index when there is a usable one (restored true), else built from docs.
// Why a persisted index was not used is kept for Stats.
func (ix *Index) restoreOrBuild(ctx context.Context, docs []*doc) (generation, bool, error) {
	ix.mu.RLock()
	first := !ix.build.ready
	ix.mu.RUnlock()
	if p := ix.opts.Persist; p != nil && first {
		gen, err := ix.restore(ctx, p, docs)
		if err == nil {
			return gen, true, nil
		}
		ix.mu.Lock()
		ix.persist.restoreErr = err
		ix.mu.Unlock()
		if ctx.Err() != nil {
			return generation{}, false, err
		}
	}
	gen, err := ix.newGeneration(ctx, docs)
	return gen, false, err
}

// docHash is the hash of what d's Bleve document is made of (document):
// its key, layer, short names and address.
func docHash(d *doc) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, d.key)
	_, _ = h.Write([]byte{0, byte(len(d.layer))})
	_, _ = io.WriteString(h, string(d.layer))
	for _, v := range d.names {
		if v.short {
			_, _ = h.Write([]byte{1})
			_, _ = io.WriteString(h, v.text)
		}
	}
	_, _ = h.Write([]byte{2})
	_, _ = io.WriteString(h, d.addr)
	return h.Sum64()
}

// manifest is what a save says of its Bleve index.
type manifest struct {
	fingerprint string
	mode        CJKMode
	stop        []string        // sorted
	entries     []manifestEntry // sorted by key
}

// manifestEntry is one document of a save; dirty means it may or may not
// be in the saved index as it is (written while the save ran).
type manifestEntry struct {
	key   string
	hash  uint64
	dirty bool
}

func (m *manifest) encode(w io.Writer) error {
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	str(manifestMagic)
	str(m.fingerprint)
	str(string(m.mode))
	b = binary.AppendUvarint(b, uint64(len(m.stop)))
	for _, s := range m.stop {
		str(s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.entries)))
	for _, e := range m.entries {
		str(e.key)
		b = binary.LittleEndian.AppendUint64(b, e.hash)
		if e.dirty {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	_, err := w.Write(b)
	return err
}

func decodeManifest(data []byte) (*manifest, error) {
	if len(data) < 4 || crc32.ChecksumIEEE(data[:len(data)-4]) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%w: manifest truncated or corrupt", ErrBadPersisted)
	}
	b := data[:len(data)-4]
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if n > uint64(len(b)) {
			bad = true
			b = nil
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	if str() != manifestMagic {
		return nil, fmt.Errorf("%w: not a manifest of this version", ErrBadPersisted)
	}
	m := &manifest{fingerprint: str(), mode: CJKMode(str())}
	n := uv()
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad stop-term count", ErrBadPersisted)
	}
	m.stop = make([]string, 0, n)
	for range n {
		m.stop = append(m.stop, str())
	}
	n = uv()
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad document count", ErrBadPersisted)
	}
	m.entries = make([]manifestEntry, 0, n)
	for range n {
		e := manifestEntry{key: str()}
		if len(b) < 9 {
			bad = true
			break
		}
		e.hash, e.dirty = binary.LittleEndian.Uint64(b), b[8] == 1
		b = b[9:]
		m.entries = append(m.entries, e)
	}
	if bad || len(b) != 0 {
		return nil, fmt.Errorf("%w: manifest truncated", ErrBadPersisted)
	}
	if !slices.IsSortedFunc(m.entries, func(a, b manifestEntry) int { return strings.Compare(a.key, b.key) }) {
		return nil, fmt.Errorf("%w: manifest not in key order", ErrBadPersisted)
	}
	return m, nil
}

func sortedStop(s stopSet) []string {
	out := make([]string, 0, len(s))
	for t := range s {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Save writes the index's Bleve index and its manifest to Persist.Dir,
// replacing the previous save once complete. It does nothing when the
// index has no Persist option, is not ready yet, or nothing changed since
// the last save; a Save while another runs waits for it first. Writers are
// held up only while the documents are listed (pointers, not copies); the
// copy of the Bleve index and the manifest are written meanwhile. A Bleve
// index held in memory (built, not restored) is then reopened from the
// save, which holds writers and searches up while it opens (Stats.OnDisk);
// a failure to reopen is returned (and kept in Stats.SaveErr) with the save
// complete and the index still answering from memory.
// Goroutine-safe.
func (ix *Index) Save(ctx context.Context) error {
	p := ix.opts.Persist
	if p == nil {
		return nil
	}
	ix.persist.run.Lock()
	defer ix.persist.run.Unlock()
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return ErrClosed
	}
	if !ix.build.ready || !ix.persist.unsaved {
		ix.mu.Unlock()
		return nil
	}
	ix.persist.saving, ix.persist.unsaved = true, false
	ix.persist.touched = map[string]struct{}{}
	docs := make([]*doc, 0, len(ix.docs.byKey))
	for _, d := range ix.docs.byKey {
		docs = append(docs, d)
	}
	bi, stop := ix.gen.bi, sortedStop(ix.gen.stop)
	ix.mu.Unlock()

	err := ix.save(ctx, p, bi, docs, stop)
	ix.mu.Lock()
	touched, closeAfter := ix.persist.touched, ix.persist.closeAfter
	// An index held in memory is reopened from the save once it is
	// complete: the keys written until then are still recorded (reopen
	// indexes them again), the manifest gets a copy of those written so far.
	reopen := err == nil && ix.gen.bi == bi && !ix.gen.disk && !ix.closed
	if reopen {
		touched = maps.Clone(touched)
	} else {
		ix.persist.touched = nil
	}
	ix.persist.closeAfter, ix.persist.saving = nil, false
	ix.mu.Unlock()
	for _, g := range closeAfter {
		g.close()
	}
	if err == nil {
		err = ix.finishSave(p, docs, stop, touched)
	}
	var reopenErr error
	if reopen {
		reopenErr = ix.reopen(p, bi, err == nil)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err != nil {
		ix.persist.unsaved = true
		ix.persist.saveErr = fmt.Errorf("search: saving the index to %s: %w", p.Dir, err)
		return ix.persist.saveErr
	}
	if reopenErr != nil {
		// The save is complete; the index stays in memory.
		ix.persist.saveErr = fmt.Errorf("search: reopening the index saved in %s: %w", p.Dir, reopenErr)
		return ix.persist.saveErr
	}
	ix.persist.saveErr = nil
	return nil
}

// reopen replaces the generation's Bleve index held in memory (saved, the
// index just copied to p.Dir) by the save on disk, when saved is still the
// current one: its segments are then read from the files (mapped, as after
// a restore) instead of held on the heap, where the build left them and
// the garbage of building them. The keys written since the save listed its
// documents are indexed again (or deleted) in the reopened index, so it
// holds what the one it replaces holds. With ok false (the save failed) it
// only stops recording the written keys.
func (ix *Index) reopen(p *Persist, saved bleve.Index, ok bool) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	touched := ix.persist.touched
	ix.persist.touched = nil
	if !ok || ix.closed || ix.gen.bi != saved || ix.gen.disk {
		return nil
	}
	work := filepath.Join(p.Dir, dirWork)
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := linkTree(filepath.Join(p.Dir, dirCurrent, dirBleve), work); err != nil {
		return err
	}
	bi, err := bleve.OpenUsing(work, map[string]any{"unsafe_batch": true})
	if err != nil {
		return err
	}
	if len(touched) > 0 {
		batch := bi.NewBatch()
		for key := range touched {
			if d, ok := ix.docs.byKey[key]; ok {
				_ = batch.IndexAdvanced(ix.builder.document(d, ix.gen.stop))
			} else {
				batch.Delete(key)
			}
		}
		if err := bi.Batch(batch); err != nil {
			_ = bi.Close()
			return err
		}
	}
	old := ix.gen.bi
	ix.gen.bi, ix.gen.disk = bi, true
	_ = old.Close()
	if p.Reopened != nil {
		defer p.Reopened() // after the lock
	}
	return nil
}

// save copies bi into a new temporary directory of p.Dir.
func (ix *Index) save(ctx context.Context, p *Persist, bi bleve.Index, docs []*doc, stop []string) error {
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(p.Dir, "tmp-save")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	adv, err := bi.Advanced()
	if err != nil {
		return err
	}
	ci, ok := adv.(index.CopyIndex)
	if !ok {
		return fmt.Errorf("the Bleve index cannot be copied")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cr := ci.CopyReader()
	if cr == nil {
		return fmt.Errorf("the Bleve index is closed")
	}
	bdir := filepath.Join(tmp, dirBleve)
	err = cr.CopyTo(bleve.FileSystemDirectory(bdir))
	if cerr := cr.CloseCopyReader(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bdir, "index_meta.json"), []byte(`{"storage":"scorch","index_type":"scorch"}`), 0o644)
}

// finishSave writes the manifest of the saved docs (the keys written
// during the copy marked dirty), syncs the save and renames it over the
// current one.
func (ix *Index) finishSave(p *Persist, docs []*doc, stop []string, touched map[string]struct{}) error {
	m := manifest{fingerprint: p.Fingerprint, mode: ix.opts.CJK, stop: stop, entries: make([]manifestEntry, 0, len(docs)+len(touched))}
	for _, d := range docs {
		_, dirty := touched[d.key]
		delete(touched, d.key)
		m.entries = append(m.entries, manifestEntry{key: d.key, hash: docHash(d), dirty: dirty})
	}
	for k := range touched { // added during the copy: in the copy or not
		m.entries = append(m.entries, manifestEntry{key: k, dirty: true})
	}
	slices.SortFunc(m.entries, func(a, b manifestEntry) int { return strings.Compare(a.key, b.key) })
	tmp := filepath.Join(p.Dir, "tmp-save")
	f, err := os.Create(filepath.Join(tmp, fileManifest))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = m.encode(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	cur, old := filepath.Join(p.Dir, dirCurrent), filepath.Join(p.Dir, dirOld)
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(cur, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, cur); err != nil {
		return err
	}
	if err := syncDir(p.Dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// syncTree fsyncs every file and directory under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// restore opens the saved index of p for docs (sorted by key), brings it
// up to date with them and returns it as a generation, or an error
// wrapping ErrBadPersisted when the save cannot be used.
func (ix *Index) restore(ctx context.Context, p *Persist, docs []*doc) (generation, error) {
	cur := filepath.Join(p.Dir, dirCurrent)
	data, err := os.ReadFile(filepath.Join(cur, fileManifest))
	if err != nil {
		return generation{}, fmt.Errorf("%w: %w", ErrBadPersisted, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return generation{}, err
	}
	data = nil
	if m.fingerprint != p.Fingerprint {
		return generation{}, fmt.Errorf("%w: saved by another build or configuration", ErrBadPersisted)
	}
	if m.mode != ix.opts.CJK {
		return generation{}, fmt.Errorf("%w: saved with CJK mode %q, not %q", ErrBadPersisted, m.mode, ix.opts.CJK)
	}
	stop := addrStopTerms(docs)
	if !slices.Equal(sortedStop(stop), m.stop) {
		return generation{}, fmt.Errorf("%w: the documents' common address terms changed since the save", ErrBadPersisted)
	}
	// What to index again and what to delete: a merge of two key-sorted lists.
	var put []*doc
	var del []string
	clean := 0
	i, j := 0, 0
	for i < len(docs) || j < len(m.entries) {
		switch {
		case j == len(m.entries) || (i < len(docs) && docs[i].key < m.entries[j].key):
			put = append(put, docs[i])
			i++
		case i == len(docs) || m.entries[j].key < docs[i].key:
			del = append(del, m.entries[j].key)
			j++
		default:
			if e := m.entries[j]; e.dirty || e.hash != docHash(docs[i]) {
				put = append(put, docs[i])
			} else {
				clean++
			}
			i, j = i+1, j+1
		}
	}
	if len(put) > 0 || len(del) > 0 { // the restored index differs from the save
		ix.mu.Lock()
		ix.persist.unsaved = true
		ix.mu.Unlock()
	}
	work := filepath.Join(p.Dir, dirWork)
	if err := os.RemoveAll(work); err != nil {
		return generation{}, fmt.Errorf("%w: %w", ErrBadPersisted, err)
	}
	if err := linkTree(filepath.Join(cur, dirBleve), work); err != nil {
		return generation{}, fmt.Errorf("%w: %w", ErrBadPersisted, err)
	}
	bi, err := bleve.OpenUsing(work, map[string]any{"unsafe_batch": true})
	if err != nil {
		return generation{}, fmt.Errorf("%w: %w", ErrBadPersisted, err)
	}
	gen := generation{bi: bi, exact: newExactMap(), stop: stop, disk: true}
	fail := func(err error) (generation, error) {
		_ = bi.Close()
		return generation{}, fmt.Errorf("%w: %w", ErrBadPersisted, err)
	}
	dirty := len(m.entries) - clean - len(del)
	if n, err := bi.DocCount(); err != nil {
		return fail(err)
	} else if int(n) < clean || int(n) > len(m.entries) {
		return fail(fmt.Errorf("the index holds %d documents, the manifest %d (%d of them possibly not)", n, len(m.entries), dirty))
	}
	m = nil
	sideDone := make(chan struct{})
	go func() {
		defer close(sideDone)
		for _, d := range docs {
			gen.exact.add(d)
		}
		gen.lex = buildLexicon(docs, ix.opts.CJK == CJKBigramUnigram)
	}()
	err = ix.patch(ctx, bi, put, del, stop)
	<-sideDone
	if err != nil {
		return fail(err)
	}
	return gen, nil
}

// patch indexes put and deletes del in bi, in batches on every build worker.
func (ix *Index) patch(ctx context.Context, bi bleve.Index, put []*doc, del []string, stop stopSet) error {
	if len(del) > 0 {
		b := bi.NewBatch()
		for _, k := range del {
			b.Delete(k)
		}
		if err := bi.Batch(b); err != nil {
			return err
		}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan []*doc)
	)
	for range buildWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				b := bi.NewBatch()
				for _, d := range chunk {
					_ = b.IndexAdvanced(ix.builder.document(d, stop))
				}
				if err := bi.Batch(b); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	size := max(ix.opts.BatchSize, (len(put)+4*buildWorkers()-1)/(4*buildWorkers()))
	for i := 0; i < len(put) && ctx.Err() == nil; i += size {
		next <- put[i:min(i+size, len(put))]
	}
	close(next)
	wg.Wait()
	return cmpOr(firstErr, ctx.Err())
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// linkTree makes dst a copy of the directory src: the segment files
// (immutable once written) as hard links where the file system allows,
// every other file (the root file Bleve rewrites) copied.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if strings.HasSuffix(path, ".zap") && os.Link(path, to) == nil {
			return nil
		}
		return copyFile(path, to)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
