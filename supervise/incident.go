package supervise

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// IncidentKinds are the kinds of emergencies an incident may be.
func IncidentKinds() []string {
	return []string{"fire", "explosion", "chemical_leak", "food_poisoning", "product_safety", "flood", "collapse", "public_health", "other"}
}

// ResourceKinds are the kinds of the resources layer.
func ResourceKinds() []string { return []string{"station", "team", "warehouse"} }

// Resource is a response resource (a fire or police station, a rescue
// team, a supplies warehouse): the documents of the resources collection.
type Resource struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Location [2]float64        `json:"location"`
	Props    map[string]string `json:"props,omitempty"`
}

// Validate checks a resource.
func (r *Resource) Validate() error {
	if err := checkText("id", r.ID, 64, true); err != nil {
		return err
	}
	if err := checkText("name", r.Name, maxNameRunes, true); err != nil {
		return err
	}
	if !slices.Contains(ResourceKinds(), r.Kind) {
		return invalid("kind", "%q is not one of %s", r.Kind, strings.Join(ResourceKinds(), ", "))
	}
	if err := geo.ValidatePoint(orb.Point(r.Location)); err != nil {
		return invalid("location", "%v", err)
	}
	if len(r.Props) > 50 {
		return invalid("props", "at most 50")
	}
	return nil
}

// PutResources stores resources (the resources layer), replacing those
// with the same IDs, in one commit.
func (s *Service) PutResources(ctx context.Context, writer string, rs []Resource) (store.Result, error) {
	if len(rs) == 0 || len(rs) > 100_000 {
		return store.Result{}, invalid("resources", "1 to 100,000 resources, got %d", len(rs))
	}
	ws := make([]store.Write, len(rs))
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return store.Result{}, fmt.Errorf("resource %d: %w", i, err)
		}
		ws[i] = store.Write{Layer: CollResources, ID: rs[i].ID, Feature: &rs[i]}
	}
	return s.apply(ctx, writer, func() ([]store.Write, error) { return ws, nil })
}

// Resources returns the resources layer, by ID.
func (s *Service) Resources() []Resource {
	docs := s.resources.All()
	out := make([]Resource, 0, len(docs))
	for _, d := range docs {
		var r Resource
		if json.Unmarshal(d.Body, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// SyntheticResources places a deterministic, synthetic resources layer
// over the zones of layer (e.g. the streets): for each zone in ID order, a
// station at the centre of its bounding box, and for every third zone a
// rescue team and for every fifth a warehouse, offset from it. For demos
// only: these are not real facilities.
func SyntheticResources(snap *geo.Snapshot, layer string) []Resource {
	var zs []*geo.Zone
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer == layer {
			zs = append(zs, z)
		}
		return true
	})
	sort.Slice(zs, func(i, j int) bool { return zs[i].ID < zs[j].ID })
	var out []Resource
	for i, z := range zs {
		c := z.Geometry.Bound().Center()
		out = append(out, Resource{ID: "RS-" + z.ID, Name: z.Name + "应急救援站", Kind: "station", Location: [2]float64{round7(c[0]), round7(c[1])},
			Props: map[string]string{"synthetic": "true", "zone": z.ID}})
		if i%3 == 0 {
			out = append(out, Resource{ID: "RT-" + z.ID, Name: z.Name + "应急救援队", Kind: "team", Location: [2]float64{round7(c[0] + 0.004), round7(c[1] + 0.003)},
				Props: map[string]string{"synthetic": "true", "zone": z.ID, "members": fmt.Sprint(12 + i%20)}})
		}
		if i%5 == 0 {
			out = append(out, Resource{ID: "RW-" + z.ID, Name: z.Name + "应急物资储备库", Kind: "warehouse", Location: [2]float64{round7(c[0] - 0.005), round7(c[1] - 0.002)},
				Props: map[string]string{"synthetic": "true", "zone": z.ID}})
		}
	}
	return out
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// IncidentRequest registers an emergency.
type IncidentRequest struct {
	Kind  string `json:"kind"`
	Title string `json:"title,omitempty"`
	// A point and radius (metres), or a polygon.
	Lon     *float64    `json:"lon,omitempty"`
	Lat     *float64    `json:"lat,omitempty"`
	RadiusM float64     `json:"radius,omitempty"`
	Polygon orb.Polygon `json:"polygon,omitempty"`
}

// Incident is a stored incident with its affected area's counts.
type Incident struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Title     string         `json:"title,omitempty"`
	Center    [2]float64     `json:"center"`
	RadiusM   float64        `json:"radius,omitempty"`
	Polygon   orb.Polygon    `json:"polygon,omitempty"`
	Entities  AreaCounts     `json:"entities"`
	Places    map[string]int `json:"places"`
	Buildings int            `json:"buildings"`
	Resources []ResourceHit  `json:"resources"`
	// Grids are the grids with entities in the area or containing its
	// centre; Inspectors their inspectors (whose inboxes hear of it).
	Grids      []string     `json:"grids"`
	Inspectors []string     `json:"inspectors"`
	Log        []StatusStep `json:"log"`
	CreatedBy  string       `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	Version    uint64       `json:"version,omitempty"`
}

// AreaCounts counts the entities of an area.
type AreaCounts struct {
	Total int `json:"total"`
	// ByIndustry by GB/T 4754 section letter; ByRisk by class ("" unrated).
	ByIndustry map[string]int `json:"by_industry"`
	ByRisk     map[string]int `json:"by_risk"`
}

// ResourceHit is a resource and its distance from the incident's centre.
type ResourceHit struct {
	Resource
	DistanceM float64 `json:"distance_m"`
}

func (r *IncidentRequest) validate(maxRadius float64) error {
	if !slices.Contains(IncidentKinds(), r.Kind) {
		return invalid("kind", "%q is not one of %s", r.Kind, strings.Join(IncidentKinds(), ", "))
	}
	if err := checkText("title", r.Title, maxNameRunes, false); err != nil {
		return err
	}
	hasPoint := r.Lon != nil || r.Lat != nil
	switch {
	case hasPoint && len(r.Polygon) > 0:
		return invalid("polygon", "give a point and radius, or a polygon, not both")
	case hasPoint:
		if r.Lon == nil || r.Lat == nil {
			return invalid("lon", "give both lon and lat")
		}
		if err := geo.ValidatePoint(orb.Point{*r.Lon, *r.Lat}); err != nil {
			return invalid("lon", "%v", err)
		}
		if !(r.RadiusM > 0 && r.RadiusM <= maxRadius) {
			return invalid("radius", "%v is not in (0, %v] metres", r.RadiusM, maxRadius)
		}
	case len(r.Polygon) > 0:
		if r.RadiusM != 0 {
			return invalid("radius", "a polygon has no radius")
		}
		return validPolygon(r.Polygon)
	default:
		return invalid("lon", "give lon, lat and radius, or a polygon")
	}
	return nil
}

// area is an incident's area: a point test and a bound.
type area struct {
	center orb.Point
	radius float64
	poly   orb.Polygon
	pa     *geo.PreparedArea
}

func (a *area) contains(p orb.Point) bool {
	if a.pa != nil {
		return a.pa.Contains(p)
	}
	return geo.DistanceM(a.center, p) <= a.radius
}

// Assess counts what an incident's area holds (without storing it).
func (s *Service) Assess(ctx context.Context, snap *geo.Snapshot, req IncidentRequest) (*Incident, error) {
	if err := req.validate(s.opts.MaxRadiusM); err != nil {
		return nil, err
	}
	inc := &Incident{Kind: req.Kind, Title: req.Title, RadiusM: req.RadiusM, Polygon: req.Polygon, Places: map[string]int{},
		Entities: AreaCounts{ByIndustry: map[string]int{}, ByRisk: map[string]int{}}}
	var a area
	if len(req.Polygon) > 0 {
		a.poly, a.pa = req.Polygon, geo.Prepare(orb.MultiPolygon{req.Polygon})
		a.center = a.pa.Bound().Center()
	} else {
		a.center, a.radius = orb.Point{*req.Lon, *req.Lat}, req.RadiusM
	}
	inc.Center = [2]float64{a.center[0], a.center[1]}
	grids := map[string]bool{}
	if g := snap.GridAt(a.center); g != "" {
		grids[g] = true
	}
	hits, err := s.inArea(ctx, snap, geo.LayerEntities, &a)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		e := h.Entity
		inc.Entities.Total++
		sec := ""
		if e.Industry != "" {
			sec = e.Industry[:1]
		}
		inc.Entities.ByIndustry[sec]++
		inc.Entities.ByRisk[string(e.Risk)]++
		if e.GridID != "" {
			grids[e.GridID] = true
		}
	}
	if hits, err = s.inArea(ctx, snap, geo.LayerPlaces, &a); err != nil {
		return nil, err
	}
	for _, h := range hits {
		inc.Places[h.Place.Kind]++
	}
	if hits, err = s.inArea(ctx, snap, geo.LayerBuildings, &a); err != nil {
		return nil, err
	}
	inc.Buildings = len(hits)
	gi := s.grids(snap)
	for g := range grids {
		inc.Grids = append(inc.Grids, g)
		if in := gi.inspector[g]; in != "" && !slices.Contains(inc.Inspectors, in) {
			inc.Inspectors = append(inc.Inspectors, in)
		}
	}
	sort.Strings(inc.Grids)
	sort.Strings(inc.Inspectors)
	inc.Resources = s.nearestResources(a.center, s.opts.NearestResources)
	return inc, nil
}

// inArea returns the features of layer in the area (entities and places
// by location, buildings by footprint centre: the index's rule), every
// one: through the index while the answer fits its limit, else by a scan.
func (s *Service) inArea(ctx context.Context, snap *geo.Snapshot, layer geo.Layer, a *area) ([]geo.Hit, error) {
	q := geo.Query{Limit: 10000}
	var res geo.Result
	var err error
	if a.pa != nil {
		res, err = snap.Within(ctx, layer, orb.MultiPolygon{a.poly}, q)
	} else {
		res, err = snap.Nearby(ctx, layer, a.center, a.radius, q)
	}
	if err == nil && !res.Truncated {
		return res.Hits, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var out []geo.Hit
	switch layer {
	case geo.LayerEntities:
		snap.ScanEntities(func(e *geo.Entity) bool {
			if a.contains(e.Location) {
				out = append(out, geo.Hit{Entity: e})
			}
			return true
		})
	case geo.LayerPlaces:
		snap.ScanPlaces(func(p *geo.Place) bool {
			if a.contains(p.Location) {
				out = append(out, geo.Hit{Place: p})
			}
			return true
		})
	case geo.LayerBuildings:
		snap.ScanBuildings(func(b *geo.Building) bool {
			if a.contains(b.Center()) {
				out = append(out, geo.Hit{Building: b})
			}
			return true
		})
	}
	return out, ctx.Err()
}

// nearestResources returns the k resources nearest to p.
func (s *Service) nearestResources(p orb.Point, k int) []ResourceHit {
	rs := s.Resources()
	out := make([]ResourceHit, len(rs))
	for i, r := range rs {
		out[i] = ResourceHit{Resource: r, DistanceM: math.Round(geo.DistanceM(p, orb.Point(r.Location))*10) / 10}
	}
	slices.SortStableFunc(out, func(a, b ResourceHit) int {
		if a.DistanceM != b.DistanceM {
			if a.DistanceM < b.DistanceM {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out[:min(k, len(out))]
}

// CreateIncident assesses and stores an incident.
func (s *Service) CreateIncident(ctx context.Context, writer string, req IncidentRequest) (*Incident, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	inc, err := s.Assess(ctx, st.Index().Snapshot(), req)
	if err != nil {
		return nil, err
	}
	inc.ID = s.newID("I")
	inc.CreatedBy, inc.CreatedAt = writer, s.now()
	inc.Log = []StatusStep{{Status: "registered", By: writer, At: inc.CreatedAt}}
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		return []store.Write{{Layer: CollIncidents, ID: inc.ID, Feature: inc, IfAbsent: true}}, nil
	})
	if err != nil {
		return nil, err
	}
	inc.Version = res.Versions[0]
	return inc, nil
}

// Incident returns a stored incident.
func (s *Service) Incident(id string) (*Incident, error) {
	var inc Incident
	v, err := getDoc(s.incidents, id, "incident", &inc)
	if err != nil {
		return nil, err
	}
	inc.Version = v
	return &inc, nil
}

// Incidents lists incidents, newest first, without their logs.
func (s *Service) Incidents(limit int) []Incident {
	var out []Incident
	for _, d := range s.incidents.All() {
		var inc Incident
		if json.Unmarshal(d.Body, &inc) != nil {
			continue
		}
		inc.Version = d.Version
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b Incident) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(limit, len(out))]
}

// LogStep is a dispatch step of an incident.
type LogStep struct {
	Step string `json:"step"`
	Note string `json:"note,omitempty"`
	// Resource dispatched (an ID of the resources layer), optional.
	Resource string `json:"resource,omitempty"`
}

// LogIncident appends a dispatch step to an incident's log.
func (s *Service) LogIncident(ctx context.Context, writer, id string, step LogStep) (*Incident, error) {
	if err := checkText("step", step.Step, maxNameRunes, true); err != nil {
		return nil, err
	}
	if err := checkText("note", step.Note, maxTextRunes, false); err != nil {
		return nil, err
	}
	if step.Resource != "" {
		if _, ok := s.resources.Get(step.Resource); !ok {
			return nil, invalid("resource", "no resource %q", step.Resource)
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var inc *Incident
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		var err error
		if inc, err = s.Incident(id); err != nil {
			return nil, err
		}
		if len(inc.Log) >= 1000 {
			return nil, invalid("step", "incident %s has 1,000 log steps, the most", id)
		}
		note := step.Note
		if step.Resource != "" {
			note = strings.TrimSpace("resource " + step.Resource + " " + note)
		}
		inc.Log = append(inc.Log, StatusStep{Status: step.Step, By: writer, At: s.now(), Note: note})
		v := inc.Version
		inc.Version = 0
		return []store.Write{{Layer: CollIncidents, ID: id, Feature: inc, IfVersion: v}}, nil
	})
	if err != nil {
		return nil, err
	}
	inc.Version = res.Versions[0]
	return inc, nil
}
