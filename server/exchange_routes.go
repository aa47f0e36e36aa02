package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/geojson"
)

// The department data exchange (issue 17, docs/exchange.md):
// POST /api/v1/exchange/{dept}?kind= imports a department's table,
// GET /api/v1/exchange/jobs/{id} follows an import,
// GET /api/v1/entities/{id}/records lists an entity's records, and
// GET /api/v1/entities/{id}?include=records_summary adds their summary.

// errNoExchange answers the exchange routes of a server without one.
var errNoExchange = fmt.Errorf("%w: this server has no department exchange (start it with a store)", errUnavailable)

// maxNotAttached caps the rows not attached that an import's answer lists.
const maxNotAttached = 1000

func (s *Server) exchangeRoutes(api *mux.Router) {
	api.HandleFunc("/entities/{id}/records", only(http.MethodGet, s.handle(s.entityRecords)))
	api.HandleFunc("/exchange/jobs/{job}", only(http.MethodGet, s.handle(s.exchangeJob)))
	api.HandleFunc("/exchange/{dept}", only(http.MethodPost, s.handle(s.exchangeImport)))
}

func (s *Server) entityRecords(w http.ResponseWriter, r *http.Request) error {
	ex := s.deps.Exchange
	if ex == nil {
		return errNoExchange
	}
	id := mux.Vars(r)["id"]
	if err := geo.ValidateUSCC(id); err != nil {
		return err
	}
	if _, ok := s.deps.Index.Snapshot().Feature(geo.LayerEntities, id); !ok {
		return &notFoundError{what: "entity " + id}
	}
	q := r.URL.Query()
	f := exchange.Filter{Dept: q.Get("dept"), From: q.Get("from"), To: q.Get("to")}
	if k := q.Get("kind"); k != "" {
		kind, err := exchange.ParseKind(k)
		if err != nil {
			return err
		}
		f.Kind = kind
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return badParam("limit %q (want 1-10000)", l)
		}
		f.Limit = n
	}
	recs, err := ex.Records(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entity_id": id, "count": len(recs), "records": recs})
	return nil
}

// includeRecords adds the records summary to an entity's Feature when the
// request asks (?include=records_summary).
func (s *Server) includeRecords(r *http.Request, layer geo.Layer, id string, f *geojson.Feature) error {
	if layer != geo.LayerEntities || s.public() || !strings.Contains(r.URL.Query().Get("include"), "records_summary") {
		return nil // the public profile never shows records
	}
	ex := s.deps.Exchange
	if ex == nil {
		return nil // a server without the exchange: the feature as it is
	}
	sum, err := ex.Summarize(r.Context(), id)
	if err != nil {
		return err
	}
	if f.Properties == nil {
		f.Properties = geojson.Properties{}
	}
	f.Properties["records_summary"] = sum
	return nil
}

func (s *Server) exchangeJob(w http.ResponseWriter, r *http.Request) error {
	ex := s.deps.Exchange
	if ex == nil {
		return errNoExchange
	}
	j, ok := ex.Job(mux.Vars(r)["job"])
	if !ok {
		return &notFoundError{what: "import job " + mux.Vars(r)["job"]}
	}
	writeJSON(w, http.StatusOK, j.State())
	return nil
}

// exchangeImport takes a table as a multipart upload (part "file", and an
// optional part "mapping" with the YAML mapping) or as the body
// (Content-Type text/csv; charset=gbk …, or an xlsx type). The import runs
// as a job: the answer is its report when it ends within the request's
// time, else 202 with the job's ID. Accept: application/x-ndjson streams
// progress lines and then the report; ?feedback=csv|xlsx answers the
// department's table with the feedback columns instead.
func (s *Server) exchangeImport(w http.ResponseWriter, r *http.Request) error {
	ex := s.deps.Exchange
	if ex == nil || s.deps.Store == nil {
		return errNoExchange
	}
	q := r.URL.Query()
	o := exchange.ImportOptions{Dept: mux.Vars(r)["dept"], Kind: q.Get("kind"), DryRun: q.Get("dry_run") == "1" || q.Get("dry_run") == "true"}
	o.Writer = writerOf(r) + " via exchange:" + o.Dept // the token's name, as every write records it
	o.Read.Sheet, o.Read.Charset = q.Get("sheet"), q.Get("charset")
	if err := exchange.ValidateDept(o.Dept); err != nil {
		return err
	}
	if o.Kind != "" {
		if _, err := exchange.ParseKind(o.Kind); err != nil {
			return err
		}
	}
	fb := q.Get("feedback")
	if fb != "" && fb != "csv" && fb != "xlsx" {
		return badParam("feedback %q (want csv or xlsx)", fb)
	}
	limit := s.opts.MaxBulkBodyBytes
	body := http.MaxBytesReader(w, r.Body, limit)
	name := q.Get("name")
	var data []byte
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return bodyError(err, limit)
			}
			switch p.FormName() {
			case "file":
				if name == "" {
					name = p.FileName()
				}
				if pmt, pp, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err == nil {
					setFormat(&o, pmt, pp)
				}
				if data, err = io.ReadAll(p); err != nil {
					return bodyError(err, limit)
				}
			case "mapping":
				m, err := exchange.ParseMapping(p)
				if err != nil {
					return err
				}
				o.Mapping = m
			case "kind":
				b, _ := io.ReadAll(io.LimitReader(p, 200))
				o.Kind = strings.TrimSpace(string(b))
			}
		}
		if data == nil {
			return badParam("the multipart upload has no part named \"file\"")
		}
	default:
		setFormat(&o, mt, params)
		var err error
		if data, err = io.ReadAll(body); err != nil {
			return bodyError(err, limit)
		}
	}
	if len(data) == 0 {
		return badParam("empty table: send the file as the body or as the multipart part \"file\"")
	}
	if name == "" {
		name = "upload." + map[bool]string{true: "xlsx", false: "csv"}[bytes.HasPrefix(data, []byte("PK\x03\x04"))]
	}
	job := ex.Start(data, name, o)
	if strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		return s.streamImport(w, r, job)
	}
	select {
	case <-job.Done():
	case <-r.Context().Done():
		writeJSON(w, http.StatusAccepted, map[string]string{"job": job.ID, "status": "running", "status_url": "/api/v1/exchange/jobs/" + job.ID})
		return nil
	}
	rep, t, err := job.Result()
	if err != nil && rep == nil {
		return err
	}
	w.Header().Set("X-Marketgeo-Seq", strconv.FormatUint(rep.Seq, 10))
	w.Header().Set("X-Marketgeo-Job", job.ID)
	if fb != "" && err == nil {
		for k, v := range map[string]int{"Attached": rep.Attached, "Unchanged": rep.Unchanged, "Unmatched": rep.Unmatched, "Ambiguous": rep.Ambiguous, "Rejected": rep.Rejected} {
			w.Header().Set("X-Marketgeo-Rows-"+k, strconv.Itoa(v))
		}
		ct := "text/csv; charset=utf-8"
		if fb == "xlsx" {
			ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "feedback."+fb))
		var buf bytes.Buffer
		if err := exchange.WriteFeedback(&buf, fb, t, rep); err != nil {
			return err
		}
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	if err != nil { // written up to a failed commit: the report says what was stored
		writeJSON(w, statusOf(err), importAnswer(rep, err))
		return nil
	}
	writeJSON(w, http.StatusOK, importAnswer(rep, nil))
	return nil
}

func setFormat(o *exchange.ImportOptions, mt string, params map[string]string) {
	switch {
	case strings.Contains(mt, "spreadsheetml") || strings.Contains(mt, "ms-excel"):
		o.Read.Format = "xlsx"
	case mt == "text/csv" || mt == "text/plain":
		o.Read.Format = "csv"
	}
	if cs := params["charset"]; cs != "" && o.Read.Charset == "" {
		o.Read.Charset = cs
	}
}

func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: the table is larger than %d bytes", errTooLarge, limit)
	}
	return badParam("reading the upload: %v", err)
}

// importAnswer is the JSON answer of an import: the report and the rows
// not attached (up to maxNotAttached).
func importAnswer(rep *exchange.Report, err error) map[string]any {
	var not []exchange.Outcome
	for _, o := range rep.Outcomes {
		switch o.Status {
		case exchange.StatusUnmatched, exchange.StatusAmbiguous, exchange.StatusRejected:
			if len(not) < maxNotAttached {
				not = append(not, o)
			}
		}
	}
	ans := map[string]any{"report": rep, "seq": rep.Seq, "not_attached": not}
	if err != nil {
		ans["error"] = err.Error()
	}
	return ans
}

// streamImport writes the job's progress as NDJSON lines, then its
// report; when the request's time runs out first, a last line names the
// running job.
func (s *Server) streamImport(w http.ResponseWriter, r *http.Request, job *exchange.Job) error {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Marketgeo-Job", job.ID)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-job.Done():
			rep, _, err := job.Result()
			if rep == nil {
				_ = enc.Encode(map[string]string{"error": err.Error()})
			} else {
				_ = enc.Encode(importAnswer(rep, err))
			}
			flush()
			return nil
		case <-r.Context().Done():
			_ = enc.Encode(map[string]string{"job": job.ID, "status": "running", "status_url": "/api/v1/exchange/jobs/" + job.ID})
			flush()
			return nil
		case <-tick.C:
			_ = enc.Encode(job.State().Progress)
			flush()
		}
	}
}
