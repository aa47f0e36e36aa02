package server

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
)

type zoneRef struct {
	Layer string `json:"layer"`
	ID    string `json:"id"`
	Name  string `json:"name"`
}

type ftzJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	AreaKm2 string `json:"area_km2,omitempty"`
}

type gridJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Inspector string `json:"inspector"`
	Team      string `json:"team"`
	Street    string `json:"street,omitempty"`
}

func gridOf(z *geo.Zone) *gridJSON {
	if z == nil {
		return nil
	}
	return &gridJSON{ID: z.ID, Name: z.Name, Inspector: z.Props["inspector"], Team: z.Props["team"], Street: z.Props["street"]}
}

func ftzOf(z *geo.Zone) *ftzJSON {
	if z == nil {
		return nil
	}
	return &ftzJSON{ID: z.ID, Name: z.Name, AreaKm2: z.Props["area_km2"]}
}

// outPoint renders a WGS-84 point in the output CRS (nil for none).
func outPoint(p orb.Point, c crs.CRS) []float64 {
	if p == (orb.Point{}) {
		return nil
	}
	return lonLat(project(p, c).(orb.Point))
}

// appendOutPoint appends outPoint(p, c) as JSON (null for none) without
// allocating it.
func appendOutPoint(b []byte, p orb.Point, c crs.CRS) []byte {
	if p == (orb.Point{}) {
		return append(b, "null"...)
	}
	lon, lat := crs.FromWGS84(c, p[0], p[1])
	return geojsonw.AppendPoint(b, roundTo(lon, 7), roundTo(lat, 7))
}

// geocode locates an address with the attached address database (503
// while it is not ready).
func (s *Server) geocode(r *http.Request, address string) (zoneid.Geocoded, error) {
	db, err := s.addresses()
	if err != nil {
		return zoneid.Geocoded{}, err
	}
	return AddressGeocoder(db).Geocode(r.Context(), address)
}

// zonesAt: GET /api/v1/zones?lon=&lat=&crs= or ?address=&crs= (crs is the
// CRS of lon/lat and of the returned location).
func (s *Server) zonesAt(w http.ResponseWriter, r *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	var res zoneid.Result
	if a := query(r).Get("address"); a != "" {
		if query(r).Has("lon") || query(r).Has("lat") {
			return badParam("give either address= or lon= and lat=, not both")
		}
		if err := s.checkAddress("address", a); err != nil {
			return err
		}
		var g zoneid.Geocoded
		if g, err = s.geocode(r, a); err != nil {
			return err
		}
		res, err = zi.IdentifyGeocoded(r.Context(), g)
	} else {
		var p orb.Point
		if p, err = queryPoint(r, c); err != nil {
			return err
		}
		res, err = zi.Identify(r.Context(), p)
	}
	if err != nil {
		return err
	}
	a := newAnswer(w, r)
	if s.public() {
		a.buf = append(appendPublicZonesAnswer(a.buf, res, c), '\n') // fields.go: no inspector, no team
	} else {
		a.buf = append(appendZonesAnswer(a.buf, res, c), '\n')
	}
	_ = a.finish()
	return nil
}

// appendZonesAnswer appends the zones answer: the members of zonesJSON,
// written directly (decodes to the same value as toZonesJSON's encoding).
func appendZonesAnswer(b []byte, res zoneid.Result, c crs.CRS) []byte {
	b = append(b, `{"in_ftz":`...)
	switch res.InFTZ {
	case zoneid.Inside:
		b = append(b, "true"...)
	case zoneid.Outside:
		b = append(b, "false"...)
	default:
		b = append(b, "null"...)
	}
	b = append(b, `,"ftz_area":`...)
	b = appendFTZ(b, res.FTZ)
	b = append(b, `,"grid":`...)
	b = appendGrid(b, res.Grid)
	b = append(b, `,"zones":[`...)
	for i, z := range res.Zones {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendZoneRef(b, z)
	}
	b = append(b, `],"precision":`...)
	b = geojsonw.AppendString(b, string(res.Precision))
	b = append(b, `,"location":`...)
	b = appendOutPoint(b, res.Point, c)
	b = append(b, `,"crs":`...)
	b = geojsonw.AppendString(b, string(c))
	if res.Address != "" {
		b = append(b, `,"address":`...)
		b = geojsonw.AppendString(b, res.Address)
	}
	if res.FTZBoundaryM >= 0 && res.FTZBoundaryM < 1e12 {
		b = append(b, `,"ftz_boundary_m":`...)
		b = geojsonw.AppendFloat(b, roundTo(res.FTZBoundaryM, 1))
	}
	return append(b, '}')
}

// appendZoneRef appends {"layer","id","name"} of a zone (zoneRef).
func appendZoneRef(b []byte, z *geo.Zone) []byte {
	b = append(b, `{"layer":`...)
	b = geojsonw.AppendString(b, z.Layer)
	b = append(b, `,"id":`...)
	b = geojsonw.AppendString(b, z.ID)
	b = append(b, `,"name":`...)
	b = geojsonw.AppendString(b, z.Name)
	return append(b, '}')
}

// appendFTZ appends an FTZ area as ftzJSON (null for none).
func appendFTZ(b []byte, z *geo.Zone) []byte {
	if z == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = geojsonw.AppendString(b, z.ID)
	b = append(b, `,"name":`...)
	b = geojsonw.AppendString(b, z.Name)
	if a := z.Props["area_km2"]; a != "" {
		b = append(b, `,"area_km2":`...)
		b = geojsonw.AppendString(b, a)
	}
	return append(b, '}')
}

// appendGrid appends a grid as gridJSON (null for none).
func appendGrid(b []byte, z *geo.Zone) []byte {
	if z == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = geojsonw.AppendString(b, z.ID)
	b = append(b, `,"name":`...)
	b = geojsonw.AppendString(b, z.Name)
	b = append(b, `,"inspector":`...)
	b = geojsonw.AppendString(b, z.Props["inspector"])
	b = append(b, `,"team":`...)
	b = geojsonw.AppendString(b, z.Props["team"])
	if st := z.Props["street"]; st != "" {
		b = append(b, `,"street":`...)
		b = geojsonw.AppendString(b, st)
	}
	return append(b, '}')
}

type entityBrief struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Industry string    `json:"industry,omitempty"`
	Status   string    `json:"status,omitempty"`
	Risk     string    `json:"risk,omitempty"`
	Address  string    `json:"address,omitempty"`
	GridID   string    `json:"grid_id,omitempty"`
	Location []float64 `json:"location"`
}

func briefOf(e *geo.Entity, c crs.CRS) entityBrief {
	return entityBrief{ID: e.ID, Name: e.Name, Industry: e.Industry, Status: string(e.Status), Risk: string(e.Risk), Address: e.Address, GridID: e.GridID, Location: outPoint(e.Location, c)}
}

// gridSummary: GET /api/v1/grids/{id}/summary?crs=
func (s *Server) gridSummary(w http.ResponseWriter, r *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	gs, err := zi.GridSummary(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	sup := make([]entityBrief, 0, len(gs.Supervise))
	for _, e := range gs.Supervise {
		sup = append(sup, briefOf(e, c))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"grid":       gridOf(gs.Grid),
		"entities":   gs.Entities,
		"by_risk":    gs.ByRisk,
		"by_status":  gs.ByStatus,
		"by_section": gs.BySection,
		"supervise":  sup,
		"crs":        c,
	})
	return nil
}

// rulesList: GET /api/v1/rules → the rules in force.
func (s *Server) rulesList(w http.ResponseWriter, _ *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, zi.Rules())
	return nil
}

type ruleRef struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	MinDistanceM float64 `json:"min_distance_m"`
	Basis        string  `json:"basis,omitempty"`
}

type placeDist struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	DistanceM float64   `json:"distance_m"`
	Location  []float64 `json:"location"`
}

type violationJSON struct {
	Rule   ruleRef      `json:"rule"`
	Entity *entityBrief `json:"entity,omitempty"`
	Places []placeDist  `json:"places"`
}

func toViolationJSON(v zoneid.Violation, c crs.CRS) violationJSON {
	out := violationJSON{Rule: ruleRef{ID: v.Rule.ID, Name: v.Rule.Name, MinDistanceM: v.Rule.MinDistanceM, Basis: v.Rule.Basis}, Places: make([]placeDist, 0, len(v.Places))}
	if v.Entity != nil {
		b := briefOf(v.Entity, c)
		out.Entity = &b
	}
	for _, p := range v.Places {
		out.Places = append(out.Places, placeDist{ID: p.Place.ID, Name: p.Place.Name, Kind: p.Place.Kind, DistanceM: roundTo(p.DistanceM, 1), Location: outPoint(p.Place.Location, c)})
	}
	return out
}

// rulesCheck: POST /api/v1/rules/check {"address": "..." | "lon": …, "lat": …, "industry": "R9013", "crs": "gcj02"}
func (s *Server) rulesCheck(w http.ResponseWriter, r *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	var req struct {
		Address  string   `json:"address"`
		Lon      *float64 `json:"lon"`
		Lat      *float64 `json:"lat"`
		Industry string   `json:"industry"`
		CRS      string   `json:"crs"`
	}
	if err := decodeBody(r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	c, err := crs.Parse(req.CRS)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Industry) == "" {
		return badParam("industry is required (a GB/T 4754 class such as R9013)")
	}
	industry, err := geo.ParseIndustry(req.Industry)
	if err != nil {
		return err
	}
	out := map[string]any{"industry": industry, "crs": c}
	var vs []zoneid.Violation
	switch {
	case req.Address != "" && (req.Lon != nil || req.Lat != nil):
		return badParam("give either address or lon and lat, not both")
	case req.Address != "":
		if err := s.checkAddress("address", req.Address); err != nil {
			return err
		}
		g, err := s.geocode(r, req.Address)
		if err != nil {
			return err
		}
		checked, v, err := zi.CheckSiteGeocoded(r.Context(), g, req.Industry)
		if err != nil {
			return err
		}
		vs = v
		out["precision"], out["location"], out["matched_address"] = g.Precision, outPoint(g.Location, c), g.Address
		if !checked {
			out["allowed"] = nil
			out["violations"] = []violationJSON{}
			out["message"] = "the address is located only to " + string(g.Precision) + " level: too coarse to check distances; give a full address or coordinates"
			writeJSON(w, http.StatusOK, out)
			return nil
		}
	case req.Lon != nil && req.Lat != nil:
		lon, lat := *req.Lon, *req.Lat
		if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
			return badParam("lon=%v, lat=%v is outside [-180, 180] × [-90, 90]", lon, lat)
		}
		lon, lat = crs.ToWGS84(c, lon, lat)
		p := orb.Point{lon, lat}
		vs, err = zi.CheckSite(r.Context(), p, req.Industry)
		if err != nil {
			return err
		}
		out["precision"], out["location"] = geo.PrecisionPoint, outPoint(p, c)
	default:
		return badParam("give address, or lon and lat")
	}
	vj := make([]violationJSON, 0, len(vs))
	for _, v := range vs {
		vj = append(vj, toViolationJSON(v, c))
	}
	out["allowed"] = len(vs) == 0
	out["violations"] = vj
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rulesViolations: GET /api/v1/rules/violations?rule=&limit=&crs= →
// existing entities (status 存续/在业 unless the rule says otherwise) that
// break a rule, in entity ID order.
func (s *Server) rulesViolations(w http.ResponseWriter, r *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	opts := s.deps.Index.Options()
	limit, err := queryInt(r, "limit", opts.DefaultLimit, 1, opts.MaxLimit)
	if err != nil {
		return err
	}
	rule := strings.TrimSpace(query(r).Get("rule"))
	vj := []violationJSON{}
	total := 0
	byRule := map[string]int{}
	err = zi.Violations(r.Context(), rule, func(v zoneid.Violation) bool {
		total++
		byRule[v.Rule.ID]++
		if len(vj) < limit {
			vj = append(vj, toViolationJSON(v, c))
		}
		return true
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "truncated": total > len(vj), "by_rule": byRule, "violations": vj, "crs": c})
	return nil
}
