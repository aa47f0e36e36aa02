package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/marketgeo/marketgeo/store"
)

// Several nodes over one database (issue 20): a client that wrote on node
// A and reads on node B passes the write's sequence number (its
// X-Marketgeo-Seq) as X-Marketgeo-Min-Seq or ?min_seq=; B waits, bounded,
// until it has applied it. /readyz reports the node's replication and
// /metrics its lag.

// minSeqHeader is the header of a read that must see a given write.
const minSeqHeader = "X-Marketgeo-Min-Seq"

// maxMinSeqWait bounds the wait for min_seq (the request's own timeout
// bounds it too).
const maxMinSeqWait = 5 * time.Second

// awaitMinSeq waits until the store has applied the sequence number the
// request asks for (header or query), at most maxMinSeqWait; it answers
// 400 for a malformed value and 503 (Retry-After 1) when the node is still
// behind, and reports whether the request may go on.
func (s *Server) awaitMinSeq(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get(minSeqHeader)
	if v == "" {
		v = query(r).Get("min_seq") // parsed once for the handler too
		if v == "" {
			return true
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.writeError(w, r, badParam("min_seq (%s) = %.40q: want a sequence number (the X-Marketgeo-Seq of a write)", minSeqHeader, v))
		return false
	}
	st := s.deps.Store
	if st == nil || n == 0 {
		return true
	}
	wait := maxMinSeqWait
	if d, ok := r.Context().Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if err := st.WaitApplied(r.Context(), n, wait); err != nil {
		if errors.Is(err, store.ErrBehind) {
			w.Header().Set("Retry-After", "1")
			err = fmt.Errorf("%w: %v", errUnavailable, err)
		}
		s.writeError(w, r, err)
		return false
	}
	return true
}

// replicationCheck is the store's member of /readyz: the replication state
// of a node over a shared database (nil for the embedded store).
func (s *Server) replicationCheck() any {
	if s.deps.Store == nil {
		return nil
	}
	rep := s.deps.Store.Replication()
	if !rep.Shared {
		return nil
	}
	return rep
}
