package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/store"
)

// The write API (docs/store.md): PUT/PATCH/DELETE /api/v1/{layer}/{id},
// POST /api/v1/{layer}/bulk, GET /api/v1/{layer}/{id}/history and
// GET /api/v1/changes (NDJSON, or a live SSE stream).

// errNoStore answers writes on a server built without a store.
var errNoStore = fmt.Errorf("%w: this server has no store: writes are disabled (start it with --store)", errUnavailable)

const layerPattern = "{layer:entities|buildings|places|zones}"

func (s *Server) writeRoutes(api *mux.Router) {
	api.HandleFunc("/changes", only(http.MethodGet, s.handle(s.changes)))
	api.HandleFunc("/"+layerPattern+"/bulk", only(http.MethodPost, s.handle(s.bulk)))
	api.HandleFunc("/"+layerPattern+"/{id}/history", only(http.MethodGet, s.handle(s.history)))
	api.HandleFunc("/"+layerPattern+"/{id}", s.handle(s.feature))
}

// routeFeature reads {layer} and {id}; entity IDs (USCCs) are upper case.
func routeFeature(r *http.Request) (geo.Layer, string, error) {
	v := mux.Vars(r)
	layer, err := geo.ParseLayer(v["layer"])
	if err != nil {
		return "", "", err
	}
	id := strings.TrimSpace(v["id"])
	if layer == geo.LayerEntities {
		id = strings.ToUpper(id)
	}
	if id == "" {
		return "", "", badParam("empty id")
	}
	return layer, id, nil
}

// feature dispatches /api/v1/{layer}/{id} by method.
func (s *Server) feature(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return s.getFeature(w, r)
	case http.MethodPut:
		return s.putFeature(w, r)
	case http.MethodPatch:
		return s.patchFeature(w, r)
	case http.MethodDelete:
		return s.deleteFeature(w, r)
	}
	w.Header().Set("Allow", "GET, HEAD, PUT, PATCH, DELETE")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed, use GET, PUT, PATCH or DELETE"})
	return nil
}

func (s *Server) getFeature(w http.ResponseWriter, r *http.Request) error {
	layer, id, err := routeFeature(r)
	if err != nil {
		return err
	}
	if layer == geo.LayerEntities {
		if err := geo.ValidateUSCC(id); err != nil {
			return err
		}
	}
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	v, ok := s.deps.Index.Snapshot().Feature(layer, id)
	if !ok {
		return &notFoundError{what: strings.TrimSuffix(string(layer), "s") + " " + id}
	}
	f := store.FeatureOf(v)
	f.Geometry = project(f.Geometry, c)
	if err := s.includeRecords(r, layer, id, f); err != nil {
		return err
	}
	if s.public() {
		s.fields.filterProps(layer, f.Properties) // fields.go
	}
	setETag(w, v)
	writeJSON(w, http.StatusOK, f)
	return nil
}

func setETag(w http.ResponseWriter, v any) {
	if ver := store.VersionOf(v); ver > 0 {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(ver, 10)))
	}
}

// preconditions reads If-Match ("<version>", W/"<version>" or *) and
// If-None-Match (* only) into a write.
func preconditions(r *http.Request, w *store.Write) error {
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" {
		if im == "*" {
			w.IfExists = true
		} else {
			tag := strings.TrimPrefix(im, "W/")
			uq, err := strconv.Unquote(tag)
			if err != nil {
				uq = tag
			}
			v, err := strconv.ParseUint(uq, 10, 64)
			if err != nil || v == 0 {
				return fmt.Errorf("%w: If-Match %q is not a version (want \"<version>\" as in the ETag)", errBadParam, im)
			}
			w.IfVersion = v
		}
	}
	if inm := strings.TrimSpace(r.Header.Get("If-None-Match")); inm != "" {
		if inm != "*" {
			return fmt.Errorf("%w: If-None-Match supports only * on writes", errBadParam)
		}
		w.IfAbsent = true
	}
	return nil
}

func (s *Server) writeStore() (*store.Store, error) {
	if s.deps.Store == nil {
		return nil, errNoStore
	}
	return s.deps.Store, nil
}

// readBody reads a request body of at most max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: the body is larger than %d bytes", errTooLarge, max)
		}
		return nil, badParam("reading the body: %v", err)
	}
	return b, nil
}

// loadOptions are the loaders' options for features written with ?crs=.
func (s *Server) loadOptions(r *http.Request) (geo.LoadOptions, error) {
	c, err := queryCRS(r)
	if err != nil {
		return geo.LoadOptions{}, err
	}
	if c == "" {
		c = crs.WGS84
	}
	return geo.LoadOptions{CRS: c, MaxVertices: s.deps.Index.Options().MaxVertices}, nil
}

// writeResult answers an accepted write: the seq in the header and body,
// the feature's version as its ETag.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, status int, res store.Result, v any) {
	seq := strconv.FormatUint(res.Seq, 10)
	w.Header().Set("X-Marketgeo-Seq", seq)
	body := map[string]any{"seq": res.Seq}
	if v != nil {
		setETag(w, v)
		body["version"] = store.VersionOf(v)
		f := store.FeatureOf(v)
		if c, _ := queryCRS(r); c != "" {
			f.Geometry = project(f.Geometry, c)
		}
		body["feature"] = f
	} else {
		body["deleted"] = true
	}
	writeJSON(w, status, body)
}

// writeTarget is what every single-feature write starts with: the store,
// the feature the URL names and the request's preconditions.
func (s *Server) writeTarget(r *http.Request) (*store.Store, store.Write, error) {
	st, err := s.writeStore()
	if err != nil {
		return nil, store.Write{}, err
	}
	layer, id, err := routeFeature(r)
	if err != nil {
		return nil, store.Write{}, err
	}
	wr := store.Write{Layer: layer, ID: id}
	if err := preconditions(r, &wr); err != nil {
		return nil, store.Write{}, err
	}
	return st, wr, nil
}

func (s *Server) putFeature(w http.ResponseWriter, r *http.Request) error {
	st, wr, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	layer, id := wr.Layer, wr.ID
	lo, err := s.loadOptions(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.opts.MaxFeatureBodyBytes)
	if err != nil {
		return err
	}
	if wr.Feature, err = store.DecodeFeature(layer, id, body, lo); err != nil {
		return err
	}
	res, err := s.applyChecked(r.Context(), st, writerOf(r), []store.Write{wr}) // derived.go
	if err != nil {
		return err
	}
	v := res.Features[0] // as this write published it, not a later one
	status := http.StatusOK
	if res.Created[0] {
		status = http.StatusCreated
		w.Header().Set("Location", r.URL.Path)
	}
	s.writeResult(w, r, status, res, v)
	return nil
}

func (s *Server) patchFeature(w http.ResponseWriter, r *http.Request) error {
	st, wr, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	if wr.IfAbsent {
		return badParam("If-None-Match: * cannot apply to a PATCH (the feature must exist)")
	}
	// The body is read as an RFC 7396 merge patch whatever its Content-Type
	// says (application/merge-patch+json ideally; curl -d sends
	// x-www-form-urlencoded): a body that is not a JSON object is a 400.
	lo, err := s.loadOptions(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.opts.MaxFeatureBodyBytes)
	if err != nil {
		return err
	}
	var res store.Result
	var v any
	for attempt := 0; ; attempt++ { // derived.go: flags that follow the records
		ifVersion, guarded, err := s.patchDerived(wr.Layer, wr.ID, body, wr.IfVersion)
		if err != nil {
			return err
		}
		res, v, err = st.Patch(r.Context(), writerOf(r), wr.Layer, wr.ID, body, ifVersion, lo)
		if err == nil {
			break
		}
		if !guarded || attempt >= derivedRetries || !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	s.writeResult(w, r, http.StatusOK, res, v)
	return nil
}

func (s *Server) deleteFeature(w http.ResponseWriter, r *http.Request) error {
	st, wr, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	wr.IfExists = true
	res, err := st.Apply(r.Context(), writerOf(r), []store.Write{wr})
	if err != nil {
		return err
	}
	s.writeResult(w, r, http.StatusOK, res, nil)
	return nil
}

// bulk: POST /api/v1/{layer}/bulk, NDJSON of GeoJSON Features, all or nothing.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) error {
	st, err := s.writeStore()
	if err != nil {
		return err
	}
	layer, err := geo.ParseLayer(mux.Vars(r)["layer"])
	if err != nil {
		return err
	}
	lo, err := s.loadOptions(r)
	if err != nil {
		return err
	}
	o := st.Options()
	ws, err := store.DecodeBulk(http.MaxBytesReader(w, r.Body, s.opts.MaxBulkBodyBytes), layer, o.MaxWrites, o.MaxLineBytes, lo)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: the body is larger than %d bytes", errTooLarge, s.opts.MaxBulkBodyBytes)
		}
		var be *store.BulkError
		if errors.As(err, &be) {
			writeJSON(w, statusOf(err), map[string]any{"error": "bulk rejected, nothing written: " + be.Error(), "lines": be.Lines, "more_errors": be.More})
			return nil
		}
		return err
	}
	res, err := s.applyChecked(r.Context(), st, writerOf(r), ws) // derived.go
	if err != nil {
		var we *store.WriteError
		if errors.As(err, &we) {
			line := map[string]any{"line": we.Index + 1, "id": we.ID, "field": we.FieldName(), "reason": we.Err.Error()}
			writeJSON(w, statusOf(err), map[string]any{"error": "bulk rejected, nothing written: " + err.Error(), "lines": []any{line}})
			return nil
		}
		return err
	}
	created := 0
	for _, c := range res.Created {
		if c {
			created++
		}
	}
	w.Header().Set("X-Marketgeo-Seq", strconv.FormatUint(res.Seq, 10))
	writeJSON(w, http.StatusOK, map[string]any{"seq": res.Seq, "written": len(ws), "created": created, "changes": res.Changes})
	return nil
}

// history: GET /api/v1/{layer}/{id}/history?limit=
func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	st, err := s.writeStore()
	if err != nil {
		return err
	}
	layer, id, err := routeFeature(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100, 1, 10000)
	if err != nil {
		return err
	}
	h, err := st.History(r.Context(), layer, id, limit)
	if err != nil {
		return err
	}
	if len(h) == 0 {
		return &notFoundError{what: "history of " + string(layer) + " " + id}
	}
	type version struct {
		Version uint64          `json:"version"`
		Time    time.Time       `json:"time"`
		Writer  string          `json:"writer"`
		Op      store.Op        `json:"op"`
		Feature json.RawMessage `json:"feature"`
	}
	out := make([]version, len(h))
	for i, c := range h {
		out[i] = version{Version: c.Seq, Time: c.Time, Writer: c.Writer, Op: c.Op, Feature: c.Feature}
	}
	writeJSON(w, http.StatusOK, map[string]any{"layer": layer, "id": id, "versions": out})
	return nil
}

// isEventStream reports a request for the live change stream, which runs
// without the request timeout.
func isEventStream(r *http.Request) bool {
	return r.URL.Path == "/api/v1/changes" && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// changes: GET /api/v1/changes?since=SEQ&limit= as NDJSON, or with
// Accept: text/event-stream a live SSE stream resumable with Last-Event-ID.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) error {
	st, err := s.writeStore()
	if err != nil {
		return err
	}
	since, err := queryUint(r, "since")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 1000, 1, 100000)
	if err != nil {
		return err
	}
	if isEventStream(r) {
		if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
			if since, err = strconv.ParseUint(id, 10, 64); err != nil {
				return badParam("Last-Event-ID %q is not a sequence number", id)
			}
		}
		return s.changeStream(w, r, st, since)
	}
	list, err := st.Changes(r.Context(), since, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Marketgeo-Seq", strconv.FormatUint(st.Seq(), 10))
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range list {
		if err := enc.Encode(&list[i]); err != nil {
			return nil // the client went away
		}
	}
	return nil
}

// changeStream serves the change log as Server-Sent Events from since on,
// then every commit as it happens, with a comment every 15 s to keep
// proxies from closing the connection.
func (s *Server) changeStream(w http.ResponseWriter, r *http.Request, st *store.Store, since uint64) error {
	fl, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("%w: streaming is not supported on this connection", errUnavailable)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	ctx := r.Context()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		wait := st.Wait(since)
		list, err := st.Changes(ctx, since, 1000)
		if err != nil {
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", strconv.Quote(err.Error()))
			fl.Flush()
			return nil
		}
		for i := range list {
			b, _ := json.Marshal(&list[i])
			if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", list[i].Seq, b); err != nil {
				return nil
			}
			since = list[i].Seq
		}
		if len(list) > 0 {
			fl.Flush()
			if len(list) == 1000 {
				continue // more to catch up on
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.draining: // the server shuts down
			return nil
		case <-wait:
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			fl.Flush()
		}
	}
}

func queryUint(r *http.Request, name string) (uint64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, badParam("%s=%q is not a sequence number", name, v)
	}
	return n, nil
}
