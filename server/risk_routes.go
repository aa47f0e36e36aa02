package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/paulmach/orb"
)

// Risk classes, early warnings and the building economy (issue 18,
// docs/risk.md):
// GET /api/v1/entities/{id}/risk, PUT and DELETE
// /api/v1/entities/{id}/risk/override, GET /api/v1/risk/summary,
// GET /api/v1/warnings, GET /api/v1/buildings/{id}/economy and
// GET /api/v1/economy. None is public (the public profile never shows
// risk).

// errNoRisk answers the risk routes of a server without a risk engine.
var errNoRisk = fmt.Errorf("%w: this server has no risk engine (start it with a store)", errUnavailable)

func (s *Server) riskRoutes(api *mux.Router) {
	api.HandleFunc("/entities/{id}/risk", only(http.MethodGet, s.handle(s.entityRisk)))
	api.HandleFunc("/entities/{id}/risk/override", s.handle(s.riskOverride))
	api.HandleFunc("/risk/summary", only(http.MethodGet, s.handle(s.riskSummary)))
	api.HandleFunc("/warnings", only(http.MethodGet, s.handle(s.warnings)))
	api.HandleFunc("/buildings/{id}/economy", only(http.MethodGet, s.handle(s.buildingEconomy)))
	api.HandleFunc("/economy", only(http.MethodGet, s.handle(s.economy)))
}

func (s *Server) riskEngine() (*risk.Engine, error) {
	if s.deps.Risk == nil {
		return nil, errNoRisk
	}
	return s.deps.Risk, nil
}

func routeEntityID(r *http.Request) (string, error) {
	id := strings.ToUpper(strings.TrimSpace(mux.Vars(r)["id"]))
	if err := geo.ValidateUSCC(id); err != nil {
		return "", err
	}
	return id, nil
}

func (s *Server) entityRisk(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	id, err := routeEntityID(r)
	if err != nil {
		return err
	}
	a, err := eng.AssessSynced(r.Context(), id) // a record just written shows in stored_class too
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// overrideBody is the body of PUT …/risk/override.
type overrideBody struct {
	Class   string `json:"class"`
	Reason  string `json:"reason"`
	Expires string `json:"expires"`
}

func (s *Server) riskOverride(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPut && r.Method != http.MethodDelete {
		w.Header().Set("Allow", "PUT, DELETE")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed, use PUT or DELETE"})
		return nil
	}
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	id, err := routeEntityID(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodDelete {
		res, err := eng.DeleteOverride(r.Context(), id, writerOf(r))
		if err != nil {
			return err
		}
		w.Header().Set("X-Marketgeo-Seq", strconv.FormatUint(res.Seq, 10))
		a, err := eng.AssessSynced(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a)
		return nil
	}
	var b overrideBody
	if err := decodeBody(r, s.opts.MaxBodyBytes, &b); err != nil {
		return err
	}
	class, err := geo.ParseRisk(b.Class)
	if err != nil {
		return err
	}
	res, err := eng.SetOverride(r.Context(), risk.Override{EntityID: id, Class: class, Reason: b.Reason, Expires: b.Expires}, writerOf(r))
	if err != nil {
		return err
	}
	w.Header().Set("X-Marketgeo-Seq", strconv.FormatUint(res.Seq, 10))
	a, err := eng.AssessSynced(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// maxAreaDeg caps the side of a bbox= (degrees).
const maxAreaDeg = 10

// riskArea reads zone= (a zone's ID, any layer) or bbox=minLon,minLat,
// maxLon,maxLat (WGS-84); at most one. Without either the area is
// everywhere, unless required.
func (s *Server) riskArea(r *http.Request, required bool) (risk.Area, error) {
	q := r.URL.Query()
	zone, box := strings.TrimSpace(q.Get("zone")), strings.TrimSpace(q.Get("bbox"))
	switch {
	case zone != "" && box != "":
		return risk.Area{}, badParam("give zone= or bbox=, not both")
	case zone != "":
		z, ok := s.deps.Index.Snapshot().Zone(zone)
		if !ok {
			return risk.Area{}, &notFoundError{what: "zone " + truncateString(zone, 80)}
		}
		return risk.Area{Bound: z.Geometry.Bound(), Polygon: z.Geometry, Key: "zone:" + z.ID + "@" + strconv.FormatUint(z.Version, 10)}, nil
	case box != "":
		parts := strings.Split(box, ",")
		if len(parts) != 4 {
			return risk.Area{}, badParam("bbox=%q: want minLon,minLat,maxLon,maxLat", truncateString(box, 80))
		}
		var v [4]float64
		for i, p := range parts {
			f, ok := decimalNumber(strings.TrimSpace(p))
			if !ok {
				return risk.Area{}, badParam("bbox=%q: %q is not a decimal number", truncateString(box, 80), truncateString(p, 40))
			}
			v[i] = f
		}
		if v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] >= v[2] || v[1] >= v[3] {
			return risk.Area{}, badParam("bbox=%q: want minLon < maxLon in [-180, 180] and minLat < maxLat in [-90, 90]", truncateString(box, 80))
		}
		if v[2]-v[0] > maxAreaDeg || v[3]-v[1] > maxAreaDeg {
			return risk.Area{}, badParam("bbox=%q: at most %d degrees a side", truncateString(box, 80), maxAreaDeg)
		}
		return risk.Area{Bound: orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}}, nil
	case required:
		return risk.Area{}, badParam("zone= or bbox= is required")
	}
	return risk.Area{}, nil
}

func (s *Server) riskSummary(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	a, err := s.riskArea(r, true)
	if err != nil {
		return err
	}
	sum, err := eng.Summary(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

func (s *Server) warnings(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	a, err := s.riskArea(r, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	wq := risk.WarningQuery{Area: a, Since: strings.TrimSpace(q.Get("since"))}
	if t := strings.TrimSpace(q.Get("type")); t != "" {
		wq.Types = strings.Split(t, ",")
		if len(wq.Types) > 10 {
			return badParam("type: at most 10 types")
		}
	}
	limit := 1000
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return badParam("limit %q (want 1-10000)", truncateString(l, 20))
		}
		limit = n
	}
	ws, err := eng.Warnings(r.Context(), wq)
	if err != nil {
		return err
	}
	byType := map[string]int{}
	for _, x := range ws {
		byType[x.Type]++
	}
	total := len(ws)
	if len(ws) > limit {
		ws = ws[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "by_type": byType, "truncated": total > len(ws), "as_of": eng.Now().Format("2006-01-02"), "warnings": ws})
	return nil
}

func (s *Server) buildingEconomy(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	id := strings.TrimSpace(mux.Vars(r)["id"])
	if id == "" || len(id) > 200 {
		return badParam("building id: 1-200 characters")
	}
	ec, err := eng.BuildingEconomy(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ec)
	return nil
}

func (s *Server) economy(w http.ResponseWriter, r *http.Request) error {
	eng, err := s.riskEngine()
	if err != nil {
		return err
	}
	a, err := s.riskArea(r, true)
	if err != nil {
		return err
	}
	limit := 1000
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return badParam("limit %q (want 1-10000)", truncateString(l, 20))
		}
		limit = n
	}
	ec, err := eng.Economy(r.Context(), a, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ec)
	return nil
}
