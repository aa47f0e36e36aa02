package server

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/supervise"
)

// Supervision operations (issue 19, docs/supervise.md): spot checks,
// tasks, complaints, incidents, the resources layer and the inspectors'
// inboxes, over Deps.Supervise (nil: the routes answer 503).

var errNoSupervise = fmt.Errorf("%w: this server has no supervision service (start it with a store)", errUnavailable)

func (s *Server) superviseRoutes(api *mux.Router) {
	h := func(fn func(*supervise.Service, http.ResponseWriter, *http.Request) error) http.HandlerFunc {
		return s.handle(func(w http.ResponseWriter, r *http.Request) error {
			if s.deps.Supervise == nil {
				return errNoSupervise
			}
			return fn(s.deps.Supervise, w, r)
		})
	}
	methods := func(get, post http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && post != nil {
				post(w, r)
				return
			}
			if get != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				get(w, r)
				return
			}
			allow := []string{}
			if get != nil {
				allow = append(allow, http.MethodGet)
			}
			if post != nil {
				allow = append(allow, http.MethodPost)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed, use " + strings.Join(allow, " or ")})
		}
	}
	api.HandleFunc("/spotchecks/verify", only(http.MethodPost, h(s.spotCheckVerify)))
	api.HandleFunc("/spotchecks", methods(h(s.spotCheckList), h(s.spotCheckCreate)))
	api.HandleFunc("/spotchecks/{id}", only(http.MethodGet, h(s.spotCheckGet)))
	api.HandleFunc("/spotchecks/{id}/public", only(http.MethodGet, h(s.spotCheckPublic)))
	api.HandleFunc("/spotchecks/{id}/results", only(http.MethodPost, h(s.spotCheckResult)))
	api.HandleFunc("/tasks", methods(h(s.taskList), h(s.taskCreate)))
	api.HandleFunc("/tasks/{id}", only(http.MethodGet, h(s.taskGet)))
	api.HandleFunc("/tasks/{id}/done", only(http.MethodPost, h(s.taskDone)))
	api.HandleFunc("/complaints", methods(h(s.complaintList), h(s.complaintCreate)))
	api.HandleFunc("/complaints/{id}", only(http.MethodGet, h(s.complaintGet)))
	api.HandleFunc("/complaints/{id}/status", only(http.MethodPost, h(s.complaintStatus)))
	api.HandleFunc("/incidents", methods(h(s.incidentList), h(s.incidentCreate)))
	api.HandleFunc("/incidents/{id}", only(http.MethodGet, h(s.incidentGet)))
	api.HandleFunc("/incidents/{id}/log", only(http.MethodPost, h(s.incidentLog)))
	api.HandleFunc("/resources", methods(h(s.resourceList), h(s.resourcePut)))
	api.HandleFunc("/inbox", only(http.MethodGet, h(s.inbox)))
	api.HandleFunc("/inbox/stream", only(http.MethodGet, h(s.inboxStream)))
}

// superviseAPIRoutes are the API table's entries of these routes.
func superviseAPIRoutes() []apiRoute {
	id := func(ex string) apiParam {
		return apiParam{Name: "id", In: "path", Type: "string", Required: true, Example: ex}
	}
	body := func(desc string, props map[string]any, required ...string) *apiBody {
		return &apiBody{Media: "application/json", Desc: desc, Schema: obj(props, required...)}
	}
	arr := map[string]any{"type": "array"}
	num := map[string]any{"type": "number"}
	integer := map[string]any{"type": "integer"}
	objT := map[string]any{"type": "object"}
	boolean := map[string]any{"type": "boolean"}
	result := body("a check result", map[string]any{"entity_id": str(), "result": str(), "notes": str(), "location": arr}, "entity_id", "result")
	pLimitQ := apiParam{Name: "limit", In: "query", Type: "integer", Desc: "most items (default 100, at most 10000)"}
	return []apiRoute{
		{Method: "POST", Path: "/api/v1/spotchecks", Tag: "supervision", Summary: "draw a double-random spot check (reproducible from its seed) and store it", Scope: ScopeWrite, Status: http.StatusCreated,
			Body: body("the check items, filter, sample or ratio, seed and pairing rules", map[string]any{"items": arr, "filter": objT, "sample": integer, "ratio": num, "seed": integer,
				"inspectors_per_entity": integer, "exclude_own_grid": boolean, "departments": arr, "inspectors": arr, "title": str()}, "items")},
		{Method: "GET", Path: "/api/v1/spotchecks", Tag: "supervision", Summary: "the spot checks, newest first", Scope: ScopeRead},
		{Method: "POST", Path: "/api/v1/spotchecks/verify", Tag: "supervision", Summary: "re-run a stored draw (id) or a published notice on the current data and compare", Scope: ScopeRead,
			Body: body("a spot check's id, or a published notice", map[string]any{"id": str(), "notice": objT})},
		{Method: "GET", Path: "/api/v1/spotchecks/{id}", Tag: "supervision", Summary: "a spot check: inputs, draw, results", Scope: ScopeRead, Params: []apiParam{id("SC-20261207-0a1b2c3d")}},
		{Method: "GET", Path: "/api/v1/spotchecks/{id}/public", Tag: "supervision", Summary: "a spot check's public notice (一公开; the public profile withholds the risk filter)", Scope: ScopeRead, Public: true,
			Params: []apiParam{id("SC-20261207-0a1b2c3d")}},
		{Method: "POST", Path: "/api/v1/spotchecks/{id}/results", Tag: "supervision", Summary: "record an entity's check result (also an inspection record)", Scope: ScopeWrite,
			Params: []apiParam{id("SC-20261207-0a1b2c3d")}, Body: result},
		{Method: "POST", Path: "/api/v1/tasks", Tag: "supervision", Summary: "a task on a zone, filter or entity list, split by grid to each grid's inspector", Scope: ScopeWrite, Status: http.StatusCreated, BodyLimit: batchLimit,
			Body: body("title, kind, target and deadline", map[string]any{"title": str(), "kind": str(), "target": objT, "deadline": str()}, "title", "target", "deadline")},
		{Method: "GET", Path: "/api/v1/tasks", Tag: "supervision", Summary: "the tasks with their progress, newest first", Scope: ScopeRead},
		{Method: "GET", Path: "/api/v1/tasks/{id}", Tag: "supervision", Summary: "a task's progress by grid, overdue parts and results", Scope: ScopeRead, Params: []apiParam{id("T-20261207-0a1b2c3d"), pLimitQ}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/done", Tag: "supervision", Summary: "mark an entity of a task done with its result", Scope: ScopeWrite, Params: []apiParam{id("T-20261207-0a1b2c3d")}, Body: result},
		{Method: "POST", Path: "/api/v1/complaints", Tag: "supervision", Summary: "a hotline complaint: located, matched, routed to its grid's inspector", Scope: ScopeWrite, Status: http.StatusCreated,
			Body: body("hotline (12315, 12365, 12331, 12358), text, address or lon/lat, entity_name or uscc", map[string]any{"hotline": str(), "text": str(), "address": str(), "lon": num, "lat": num,
				"entity_name": str(), "uscc": str(), "complainant": str()}, "hotline", "text")},
		{Method: "GET", Path: "/api/v1/complaints", Tag: "supervision", Summary: "complaints, newest first", Scope: ScopeRead,
			Params: []apiParam{{Name: "status", In: "query", Type: "string", Enum: []string{"new", "assigned", "handled", "replied"}}, {Name: "inspector", In: "query", Type: "string"}, pLimitQ}},
		{Method: "GET", Path: "/api/v1/complaints/{id}", Tag: "supervision", Summary: "a complaint with its status log", Scope: ScopeRead, Params: []apiParam{id("C-20261207-0a1b2c3d")}},
		{Method: "POST", Path: "/api/v1/complaints/{id}/status", Tag: "supervision", Summary: "move a complaint to its next status (new → assigned → handled → replied)", Scope: ScopeWrite,
			Params: []apiParam{id("C-20261207-0a1b2c3d")}, Body: body("the next status", map[string]any{"status": str(), "note": str(), "inspector": str(), "grid": str(), "location": arr}, "status")},
		{Method: "POST", Path: "/api/v1/incidents", Tag: "supervision", Summary: "register an emergency: the area's entities, places, buildings and the nearest resources", Scope: ScopeWrite, Status: http.StatusCreated,
			Body: body("kind and lon/lat/radius or polygon", map[string]any{"kind": str(), "title": str(), "lon": num, "lat": num, "radius": num, "polygon": arr}, "kind")},
		{Method: "GET", Path: "/api/v1/incidents", Tag: "supervision", Summary: "incidents, newest first", Scope: ScopeRead, Params: []apiParam{pLimitQ}},
		{Method: "GET", Path: "/api/v1/incidents/{id}", Tag: "supervision", Summary: "an incident with its dispatch log", Scope: ScopeRead, Params: []apiParam{id("I-20261207-0a1b2c3d")}},
		{Method: "POST", Path: "/api/v1/incidents/{id}/log", Tag: "supervision", Summary: "append a dispatch step to an incident's log", Scope: ScopeWrite,
			Params: []apiParam{id("I-20261207-0a1b2c3d")}, Body: body("the step", map[string]any{"step": str(), "note": str(), "resource": str()}, "step")},
		{Method: "GET", Path: "/api/v1/resources", Tag: "supervision", Summary: "the response resources layer (stations, teams, warehouses)", Scope: ScopeRead},
		{Method: "POST", Path: "/api/v1/resources", Tag: "supervision", Summary: "load response resources (replacing those with the same ids)", Scope: ScopeWrite, BodyLimit: batchLimit,
			Body: body("the resources", map[string]any{"resources": arr}, "resources")},
		{Method: "GET", Path: "/api/v1/inbox", Tag: "supervision", Summary: "the calling inspector's (token name's) open complaints, task parts, spot checks and incidents", Scope: ScopeRead,
			Params: []apiParam{{Name: "inspector", In: "query", Type: "string", Desc: "whose inbox, only on a server without tokens"}}},
		{Method: "GET", Path: "/api/v1/inbox/stream", Tag: "supervision", Summary: "the calling inspector's events as Server-Sent Events (resume with Last-Event-ID)", Scope: ScopeRead, Produces: "text/event-stream",
			Params: []apiParam{{Name: "inspector", In: "query", Type: "string", Desc: "whose inbox, only on a server without tokens"}}},
	}
}

// superviseBody reads a JSON request body.
func superviseBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	return readBody(w, r, limit)
}

func (s *Server) writeCreated(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusCreated, v)
}

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, badParam("limit %q (want 1-10000)", v)
	}
	return n, nil
}

func (s *Server) spotCheckCreate(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseSpotCheckRequest(b)
	if err != nil {
		return err
	}
	sc, err := sv.CreateSpotCheck(r.Context(), writerOf(r), req)
	if err != nil {
		return err
	}
	s.writeCreated(w, sc)
	return nil
}

func (s *Server) spotCheckList(sv *supervise.Service, w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"spotchecks": nonNil(sv.SpotChecks())})
	return nil
}

func (s *Server) spotCheckGet(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	sc, err := sv.SpotCheck(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (s *Server) spotCheckPublic(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	n, err := sv.Notice(mux.Vars(r)["id"], s.public())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *Server) spotCheckVerify(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseVerifyRequest(b)
	if err != nil {
		return err
	}
	var pub *supervise.SpotCheck
	if req.Notice != nil {
		pub = supervise.NoticeToSpotCheck(req.Notice)
		pub.ID = ""
	}
	v, err := sv.VerifySpotCheck(r.Context(), req.ID, pub)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) spotCheckResult(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseResultRequest(b)
	if err != nil {
		return err
	}
	sc, err := sv.RecordSpotCheckResult(r.Context(), writerOf(r), mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": sc.ID, "entity_id": req.EntityID, "result": sc.Results[req.EntityID], "done": len(sc.Results), "sample": sc.Sample, "version": sc.Version})
	return nil
}

func (s *Server) taskCreate(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseTaskRequest(b)
	if err != nil {
		return err
	}
	t, err := sv.CreateTask(r.Context(), writerOf(r), req)
	if err != nil {
		return err
	}
	p, err := sv.TaskProgress(t.ID, 0)
	if err != nil {
		return err
	}
	s.writeCreated(w, p)
	return nil
}

func (s *Server) taskList(sv *supervise.Service, w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"tasks": nonNil(sv.Tasks())})
	return nil
}

func (s *Server) taskGet(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	p, err := sv.TaskProgress(mux.Vars(r)["id"], n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) taskDone(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseResultRequest(b)
	if err != nil {
		return err
	}
	m, err := sv.MarkDone(r.Context(), writerOf(r), mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) complaintCreate(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseComplaintRequest(b)
	if err != nil {
		return err
	}
	c, err := sv.CreateComplaint(r.Context(), writerOf(r), req)
	if err != nil {
		return err
	}
	s.writeCreated(w, c)
	return nil
}

func (s *Server) complaintList(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	st := q.Get("status")
	switch st {
	case "", supervise.StatusNew, supervise.StatusAssigned, supervise.StatusHandled, supervise.StatusReplied:
	default:
		return badParam("status %q (want new, assigned, handled or replied)", st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"complaints": nonNil(sv.Complaints(st, q.Get("inspector"), n))})
	return nil
}

func (s *Server) complaintGet(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	c, err := sv.Complaint(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) complaintStatus(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseStatusRequest(b)
	if err != nil {
		return err
	}
	c, err := sv.SetComplaintStatus(r.Context(), writerOf(r), mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) incidentCreate(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseIncidentRequest(b)
	if err != nil {
		return err
	}
	inc, err := sv.CreateIncident(r.Context(), writerOf(r), req)
	if err != nil {
		return err
	}
	s.writeCreated(w, inc)
	return nil
}

func (s *Server) incidentList(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": nonNil(sv.Incidents(n))})
	return nil
}

func (s *Server) incidentGet(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	inc, err := sv.Incident(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) incidentLog(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	step, err := supervise.ParseLogStep(b)
	if err != nil {
		return err
	}
	inc, err := sv.LogIncident(r.Context(), writerOf(r), mux.Vars(r)["id"], step)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) resourceList(sv *supervise.Service, w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"resources": nonNil(sv.Resources())})
	return nil
}

func (s *Server) resourcePut(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	b, err := superviseBody(w, r, s.opts.MaxBatchBodyBytes)
	if err != nil {
		return err
	}
	req, err := supervise.ParseResourcesRequest(b)
	if err != nil {
		return err
	}
	res, err := sv.PutResources(r.Context(), writerOf(r), req.Resources)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"stored": len(req.Resources), "seq": res.Seq})
	return nil
}

// inspectorOf is whose inbox a request asks for: the inspector the
// token's name resolves to (supervise.Service.Inspector: the name, an
// inspector_id or a grid ID); on a server without tokens, ?inspector=.
func (s *Server) inspectorOf(r *http.Request) (string, error) {
	if n := infoOf(r).who.name; n != "" {
		return s.deps.Supervise.Inspector(s.deps.Index.Snapshot(), n), nil
	}
	if s.tokens != nil && s.tokens.Len() > 0 {
		return "", badParam("the inbox is the calling inspector's: send an inspector's token")
	}
	n := strings.TrimSpace(r.URL.Query().Get("inspector"))
	if n == "" {
		return "", badParam("inspector is missing (a server without tokens names the inspector with ?inspector=)")
	}
	return n, nil
}

func (s *Server) inbox(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	who, err := s.inspectorOf(r)
	if err != nil {
		return err
	}
	ib, err := sv.Inbox(who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ib)
	return nil
}

// isInboxStream reports the inbox's SSE stream (no request timeout).
func isInboxStream(r *http.Request) bool { return r.URL.Path == "/api/v1/inbox/stream" }

// inboxStream: the inspector's events as Server-Sent Events (id: the
// store's sequence number of the commit), a comment every 15 s; resumes
// after Last-Event-ID from the events the service keeps. When the client
// falls behind, an "overflow" event ends the stream: reconnect with the
// last ID.
func (s *Server) inboxStream(sv *supervise.Service, w http.ResponseWriter, r *http.Request) error {
	who, err := s.inspectorOf(r)
	if err != nil {
		return err
	}
	var since uint64
	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
		if since, err = strconv.ParseUint(id, 10, 64); err != nil {
			return badParam("Last-Event-ID %q is not a sequence number", id)
		}
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("%w: streaming is not supported on this connection", errUnavailable)
	}
	sub, backlog := sv.Subscribe(who, since)
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, ": inbox of %s\n\n", strconv.Quote(who)); err != nil {
		return nil
	}
	send := func(ev supervise.Event) bool {
		b, _ := json.Marshal(ev)
		_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, b)
		return err == nil
	}
	for _, ev := range backlog {
		if !send(ev) {
			return nil
		}
	}
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.draining:
			return nil
		case ev, ok := <-sub.C:
			if !ok {
				_, _ = io.WriteString(w, "event: overflow\ndata: {\"error\":\"the client fell behind; reconnect with Last-Event-ID\"}\n\n")
				fl.Flush()
				return nil
			}
			if !send(ev) {
				return nil
			}
			fl.Flush()
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			fl.Flush()
		}
	}
}

// nonNil turns a nil slice into an empty one (JSON [] instead of null).
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

var _ = math.Inf
