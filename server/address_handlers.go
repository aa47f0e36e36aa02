package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/paulmach/orb"
)

// decodeBody reads a JSON body of at most limit bytes into v, rejecting
// unknown fields, trailing data and oversized bodies.
func decodeBody(r *http.Request, limit int64, v any) error {
	if r.ContentLength > limit {
		return fmt.Errorf("%w: request body exceeds %d bytes", errTooLarge, limit)
	}
	// Decoded as it streams in (no copy of the whole body); the limit is
	// counted on the way.
	lr := &limitReader{r: r.Body, left: limit}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if lr.over || errors.As(err, &mbe) {
			return fmt.Errorf("%w: request body exceeds %d bytes", errTooLarge, limit)
		}
		if !utf8.ValidString(err.Error()) {
			return badParam("body is not the expected JSON")
		}
		return badParam("body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return badParam("body has data after the JSON object")
	}
	return nil
}

// limitReader reads at most left bytes, then fails and sets over.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// batchSlot takes one of the Options.MaxConcurrentBatches slots of batch
// work, before the batch's body is read; when all are taken the batch is
// refused (503, Retry-After) rather than queued with its body in memory.
func (s *Server) batchSlot(w http.ResponseWriter) (release func(), err error) {
	select {
	case s.batches <- struct{}{}:
		return func() { <-s.batches }, nil
	default:
		w.Header().Set("Retry-After", "2")
		return nil, fmt.Errorf("%w: %d batches are being worked on, the most at once; retry shortly", errUnavailable, cap(s.batches))
	}
}

// batchSummary ends an NDJSON batch answer: a last line
// {"summary": {"done", "total", "complete", "error"}} and the trailers
// X-Marketgeo-Done and X-Marketgeo-Complete (declared by beginBatch). A
// client that reads the summary (or the trailer) knows whether every item
// was answered: a batch cut short by the request timeout says so here,
// the status having been sent as 200 with the first lines.
func batchSummary(w http.ResponseWriter, bw *bufio.Writer, done, total int, err error) error {
	sum := map[string]any{"done": done, "total": total, "complete": done == total && err == nil}
	if err != nil {
		sum["error"] = "stopped after " + strconv.Itoa(done) + " of " + strconv.Itoa(total) + ": " + err.Error()
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"summary": sum})
	ferr := bw.Flush()
	w.Header().Set("X-Marketgeo-Done", strconv.Itoa(done))
	w.Header().Set("X-Marketgeo-Complete", strconv.FormatBool(done == total && err == nil))
	return ferr
}

// beginBatch sends the 200 of an NDJSON batch, declaring its trailers.
func beginBatch(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Trailer", "X-Marketgeo-Done, X-Marketgeo-Complete")
	w.WriteHeader(http.StatusOK)
}

// checkAddress rejects an empty address and one longer than the address
// parser's limit (addressmatch.Options.MaxRunes, the one source of the
// limit: config key parser.max_runes).
func (s *Server) checkAddress(field, a string) error {
	if strings.TrimSpace(a) == "" {
		return badParam("%s is empty", field)
	}
	limit := addressmatch.DefaultOptions().MaxRunes
	if db := s.addrDB.Load(); db != nil {
		limit = db.Parser().MaxRunes()
	}
	if n := utf8.RuneCountInString(a); n > limit {
		return badParam("%s has %d characters, the limit is %d", field, n, limit)
	}
	return nil
}

func (s *Server) addresses() (*addressmatch.DB, error) {
	db := s.addrDB.Load()
	if db == nil {
		return nil, fmt.Errorf("%w: the address database is not ready (still building, or not configured)", errUnavailable)
	}
	return db, nil
}

type addressReq struct {
	Address string `json:"address"`
}

type candidateJSON struct {
	Address     string    `json:"address"`
	Score       float64   `json:"score"`
	Level       string    `json:"level"`
	EntityCount int       `json:"entity_count"`
	Location    []float64 `json:"location"`
}

type checkJSON struct {
	Verdict    string          `json:"verdict"`
	Normalized string          `json:"normalized"`
	Components map[string]any  `json:"components"`
	Candidates []candidateJSON `json:"candidates"`
	Location   []float64       `json:"location"`
	Message    string          `json:"message"`
	Reason     string          `json:"reason,omitempty"`
}

func lonLat(p orb.Point) []float64 {
	if p == (orb.Point{}) {
		return nil
	}
	return []float64{roundTo(p[0], 7), roundTo(p[1], 7)}
}

// componentsJSON flattens parsed components to label → text (the first of
// each label), plus the resolved administrative chain and any issues.
func componentsJSON(c addressmatch.Components) map[string]any {
	m := map[string]any{}
	for _, sp := range c.Spans {
		if _, seen := m[string(sp.Label)]; !seen {
			m[string(sp.Label)] = sp.Text
		}
	}
	if c.Remainder != "" {
		m["remainder"] = c.Remainder
	}
	m["admin"] = c.Admin
	if len(c.Issues) > 0 {
		m["issues"] = c.Issues
	}
	return m
}

func toCheckJSON(res addressmatch.CheckResult) checkJSON {
	out := checkJSON{Verdict: string(res.Verdict), Normalized: res.Normalized, Components: componentsJSON(res.Components),
		Location: lonLat(res.Location), Message: res.Message, Reason: res.Reason, Candidates: []candidateJSON{}}
	for _, c := range res.Candidates {
		out.Candidates = append(out.Candidates, candidateJSON{Address: c.Address, Score: roundTo(c.Score, 4), Level: string(c.Level), EntityCount: c.EntityCount, Location: lonLat(c.Location)})
	}
	return out
}

// addressRequest reads the {"address": "..."} body of the single-address
// endpoints, once the address database is ready.
func (s *Server) addressRequest(r *http.Request) (*addressmatch.DB, addressReq, error) {
	var req addressReq
	db, err := s.addresses()
	if err != nil {
		return nil, req, err
	}
	if err := decodeBody(r, s.opts.MaxBodyBytes, &req); err != nil {
		return nil, req, err
	}
	return db, req, s.checkAddress("address", req.Address)
}

// addressCheck: POST /api/v1/address/check {"address": "..."}
func (s *Server) addressCheck(w http.ResponseWriter, r *http.Request) error {
	db, req, err := s.addressRequest(r)
	if err != nil {
		return err
	}
	res, err := db.Check(r.Context(), req.Address)
	if err != nil && !errors.Is(err, addressmatch.ErrEmpty) && !errors.Is(err, addressmatch.ErrTooLong) {
		return err
	}
	writeJSON(w, http.StatusOK, toCheckJSON(res))
	return nil
}

// addressParse: POST /api/v1/address/parse {"address": "..."}
func (s *Server) addressParse(w http.ResponseWriter, r *http.Request) error {
	db, req, err := s.addressRequest(r)
	if err != nil {
		return err
	}
	p := db.Parser()
	c := p.Parse(req.Address)
	writeJSON(w, http.StatusOK, map[string]any{"normalized": addressmatch.Normalize(req.Address), "filled": p.Canonical(req.Address), "components": componentsJSON(c), "spans": c.Spans})
	return nil
}

// addressCompare: POST /api/v1/address/compare {"a": "...", "b": "..."}
func (s *Server) addressCompare(w http.ResponseWriter, r *http.Request) error {
	db, err := s.addresses()
	if err != nil {
		return err
	}
	var req struct {
		A string `json:"a"`
		B string `json:"b"`
	}
	if err := decodeBody(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := s.checkAddress("a", req.A); err != nil {
		return err
	}
	if err := s.checkAddress("b", req.B); err != nil {
		return err
	}
	res := db.Parser().Compare(req.A, req.B)
	diff := res.Diff
	if diff == nil {
		diff = []addressmatch.FieldDiff{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"label": res.Label, "level": res.Level, "score": roundTo(res.Score, 4), "diff": diff})
	return nil
}

// addressGeocode: POST /api/v1/address/geocode {"address": "..."}
func (s *Server) addressGeocode(w http.ResponseWriter, r *http.Request) error {
	db, req, err := s.addressRequest(r)
	if err != nil {
		return err
	}
	g, err := db.Geocode(r.Context(), req.Address)
	if err != nil && !errors.Is(err, addressmatch.ErrNotFound) && !errors.Is(err, addressmatch.ErrNotAddress) {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"location": lonLat(g.Location), "precision": g.Precision, "address": g.Address})
	return nil
}

// maxBatchAddresses caps /address/batch.
const maxBatchAddresses = 10000

// addressBatch: POST /api/v1/address/batch {"addresses": ["...", ...]} →
// NDJSON, one check result per line in input order, each with its index.
func (s *Server) addressBatch(w http.ResponseWriter, r *http.Request) error {
	db, err := s.addresses()
	if err != nil {
		return err
	}
	release, err := s.batchSlot(w)
	if err != nil {
		return err
	}
	defer release()
	var req struct {
		Addresses []string `json:"addresses"`
	}
	if err := decodeBody(r, s.opts.MaxBatchBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Addresses) == 0 {
		return badParam("addresses is empty")
	}
	if len(req.Addresses) > maxBatchAddresses {
		return fmt.Errorf("%w: %d addresses, the limit is %d", errTooLarge, len(req.Addresses), maxBatchAddresses)
	}
	beginBatch(w)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	flusher, _ := w.(http.Flusher)
	done := 0
	for i, a := range req.Addresses {
		if err := r.Context().Err(); err != nil {
			return batchSummary(w, bw, done, len(req.Addresses), err)
		}
		line := struct {
			Index int `json:"index"`
			checkJSON
			Error string `json:"error,omitempty"`
		}{Index: i}
		if err := s.checkAddress("address", a); err != nil {
			line.Verdict, line.Error = string(addressmatch.Invalid), err.Error()
		} else {
			res, err := db.Check(r.Context(), a)
			line.checkJSON = toCheckJSON(res)
			if err != nil {
				line.Error = err.Error()
			}
		}
		if line.Error != "" && r.Context().Err() != nil {
			return batchSummary(w, bw, done, len(req.Addresses), r.Context().Err())
		}
		_ = enc.Encode(line)
		done++
		if i%256 == 255 {
			_ = bw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	return batchSummary(w, bw, done, len(req.Addresses), nil)
}
