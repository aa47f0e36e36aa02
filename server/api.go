package server

import (
	"net/http"
	"regexp"
	"slices"

	"github.com/gorilla/mux"

	"github.com/marketgeo/marketgeo/tiles"
)

// The API table: every route the server has, once. It gives each route its
// scope (internal profile with tokens), whether the public profile serves
// it, its body limit, and its OpenAPI description (openapi.go renders
// /api/v1/openapi.json from it). A new route is added here with the
// router: TestOpenAPICoversRoutes fails, naming the entry to add, when a
// route of the router is missing here or an entry here has no route.

// apiRoute describes one method of one path.
type apiRoute struct {
	Method string
	// Path is the OpenAPI path: the mux template without its regexps
	// ({layer:entities|…} → {layer}).
	Path    string
	Summary string
	Tag     string
	// Scope is what a token needs (internal profile with tokens).
	Scope Scope
	// Public: served by the public profile. PublicLayers, when set,
	// restricts the {layer} of a public route.
	Public       bool
	PublicLayers []string
	// Params are the path and query parameters.
	Params []apiParam
	// Body is the request body's media type and schema (nil: none).
	Body *apiBody
	// BodyLimit returns the body cap (nil: Options.MaxBodyBytes).
	BodyLimit func(Options) int64
	// Produces is the media type of a success (default application/json)
	// and Status its status (default 200).
	Produces string
	Status   int
	// Result is the JSON schema of a JSON success (nil: an object).
	Result map[string]any
}

// apiParam is a path or query parameter.
type apiParam struct {
	Name, In, Type, Desc string
	Required             bool
	Enum                 []string
	// Example is a value the route-coverage test uses in paths.
	Example string
}

// apiBody is a request body.
type apiBody struct {
	Media  string
	Schema map[string]any
	Desc   string
}

// apiTable is the API table indexed by "METHOD /path".
type apiTable struct {
	routes []apiRoute
	byKey  map[string]*apiRoute
}

func newAPITable() apiTable {
	t := apiTable{routes: append(apiRoutes(), superviseAPIRoutes()...), byKey: map[string]*apiRoute{}}
	for i := range t.routes {
		rt := &t.routes[i]
		t.byKey[rt.Method+" "+rt.Path] = rt
	}
	return t
}

// publicFor reports whether the public profile serves this request of the
// route (its {layer} among PublicLayers when they are set).
func (rt *apiRoute) publicFor(r *http.Request) bool {
	if !rt.Public {
		return false
	}
	if len(rt.PublicLayers) == 0 {
		return true
	}
	return slices.Contains(rt.PublicLayers, mux.Vars(r)["layer"])
}

// muxVar matches {name:regexp} in a mux template.
var muxVar = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):[^{}]*(\{[^{}]*\}[^{}]*)*\}`)

// openAPIPath turns a mux path template into the table's path.
func openAPIPath(tpl string) string {
	switch tpl {
	case "/webmap/":
		return "/webmap/{file}"
	case "":
		return ""
	}
	return muxVar.ReplaceAllString(tpl, "{$1}")
}

// Parameters used by several routes.
var (
	pCRS      = apiParam{Name: "crs", In: "query", Type: "string", Enum: []string{"wgs84", "gcj02", "bd09"}, Desc: "coordinate system of lon/lat and of the answer's coordinates (default wgs84)"}
	pLon      = apiParam{Name: "lon", In: "query", Type: "number", Desc: "longitude, a decimal number in [-180, 180]"}
	pLat      = apiParam{Name: "lat", In: "query", Type: "number", Desc: "latitude, a decimal number in [-90, 90]"}
	pLimit    = apiParam{Name: "limit", In: "query", Type: "integer", Desc: "most results to return"}
	pIndustry = apiParam{Name: "industry", In: "query", Type: "string", Desc: "GB/T 4754 industry codes or prefixes (I65, i6513) or names, comma-separated; at most 64 distinct"}
	pRisk     = apiParam{Name: "risk", In: "query", Type: "string", Desc: "risk classes A–D, comma-separated (internal profile only)"}
	pStatus   = apiParam{Name: "status", In: "query", Type: "string", Desc: "statuses (存续, 在业, 吊销, 注销, 迁出, 停业 or active, operating, revoked, cancelled, moved, suspended), comma-separated"}
	pKind     = apiParam{Name: "kind", In: "query", Type: "string", Desc: "place kinds, comma-separated"}
	pLayerVar = apiParam{Name: "layer", In: "path", Type: "string", Required: true, Enum: []string{"entities", "buildings", "places", "zones"}, Example: "entities"}
	pIDVar    = apiParam{Name: "id", In: "path", Type: "string", Required: true, Desc: "feature id (an entity's USCC)", Example: "91500000MA5U000000"}
	// The area of the risk routes: zone= or bbox= (risk_routes.go).
	pZoneArea = apiParam{Name: "zone", In: "query", Type: "string", Desc: "a zone's id (any layer: FTZ area, district, street, grid)"}
	pBBoxArea = apiParam{Name: "bbox", In: "query", Type: "string", Desc: "minLon,minLat,maxLon,maxLat (WGS-84, at most 10 degrees a side)"}
	// The shape of a hits answer (render.go, queryHitsRequest).
	pFields    = apiParam{Name: "fields", In: "query", Type: "string", Desc: "properties to show, comma-separated (geo.Fields names, attrs for the free attributes); an unknown name is a 400", Example: "id,name,distance_m"}
	pFormat    = apiParam{Name: "format", In: "query", Type: "string", Enum: []string{"geojson", "ids"}, Desc: "geojson (default): a FeatureCollection; ids: {\"ids\": [...]} with the collection's other members"}
	pCountOnly = apiParam{Name: "count_only", In: "query", Type: "string", Enum: []string{"true", "false"}, Desc: "true: the collection's members (total, truncated, crs …) without the hits"}
)

func addressBody(desc string) *apiBody {
	return &apiBody{Media: "application/json", Desc: desc, Schema: obj(map[string]any{"address": str()}, "address")}
}

func obj(props map[string]any, required ...string) map[string]any {
	m := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

func str() map[string]any { return map[string]any{"type": "string"} }

func featureCollectionSchema() map[string]any {
	return obj(map[string]any{"type": str(), "features": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}, "type", "features")
}

// hitsSchema is the answer of nearby, knearest and search: a
// FeatureCollection, or with format=ids its ids, or with count_only=true
// the members alone (total, truncated, crs …).
func hitsSchema() map[string]any {
	return obj(map[string]any{"type": str(), "features": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		"ids": map[string]any{"type": "array", "items": str()}, "total": map[string]any{"type": "integer"}}, "total")
}

func batchLimit(o Options) int64   { return o.MaxBatchBodyBytes }
func featureLimit(o Options) int64 { return o.MaxFeatureBodyBytes }
func bulkLimit(o Options) int64    { return o.MaxBulkBodyBytes }

// apiRoutes is the table (a function: nothing mutable at package level).
func apiRoutes() []apiRoute {
	filters := []apiParam{pIndustry, pRisk, pStatus, pKind, pFields, pFormat, pCountOnly}
	layerQ := apiParam{Name: "layer", In: "query", Type: "string", Enum: []string{"entities", "places", "buildings"}, Desc: "layer to query (default entities)"}
	return []apiRoute{
		// Operations
		{Method: "GET", Path: "/healthz", Tag: "operations", Summary: "liveness and counts", Scope: ScopeRead, Public: true},
		{Method: "GET", Path: "/readyz", Tag: "operations", Summary: "readiness: 200 once the store is loaded and the derived indexes (search, addresses) are current, else 503", Scope: ScopeRead, Public: true},
		{Method: "GET", Path: "/metrics", Tag: "operations", Summary: "Prometheus metrics", Scope: ScopeRead, Public: true, Produces: "text/plain"},
		{Method: "GET", Path: "/api/v1/openapi.json", Tag: "operations", Summary: "this OpenAPI document (for the profile served)", Scope: ScopeRead, Public: true},
		{Method: "POST", Path: "/api/v1/admin/snapshot", Tag: "operations", Summary: "write the store's snapshot now (the next start reads it instead of every row)", Scope: ScopeAdmin},

		// Geo queries
		{Method: "GET", Path: "/api/v1/nearby", Tag: "geo", Summary: "features within a radius of a point (or of the place= a search resolves)", Scope: ScopeRead,
			Params: append([]apiParam{pLon, pLat, {Name: "place", In: "query", Type: "string", Desc: "a place name searched for the centre instead of lon/lat"},
				{Name: "radius", In: "query", Type: "number", Desc: "metres (default 200)"}, layerQ, pLimit, pCRS}, filters...), Result: hitsSchema()},
		{Method: "GET", Path: "/api/v1/knearest", Tag: "geo", Summary: "the k nearest features of a point", Scope: ScopeRead,
			Params: append([]apiParam{withRequired(pLon), withRequired(pLat), {Name: "k", In: "query", Type: "integer", Desc: "how many (default 10)"}, layerQ, pCRS}, filters...), Result: hitsSchema()},
		{Method: "GET", Path: "/api/v1/search", Tag: "geo", Summary: "full-text search of names and addresses (public: entities by name, public fields only)", Scope: ScopeRead, Public: true,
			Params: []apiParam{{Name: "q", In: "query", Type: "string", Required: true, Desc: "text, at most 256 bytes"},
				{Name: "layer", In: "query", Type: "string", Desc: "entities, places, buildings, zones or all, comma-separated"}, pLimit, pLon, pLat,
				{Name: "radius", In: "query", Type: "number", Desc: "metres around lon/lat"}, pCRS, pFields, pFormat, pCountOnly}, Result: hitsSchema()},

		// Addresses
		{Method: "POST", Path: "/api/v1/address/check", Tag: "address", Summary: "is this a real, complete address of the region", Scope: ScopeRead, Body: addressBody("the address")},
		{Method: "POST", Path: "/api/v1/address/parse", Tag: "address", Summary: "parse an address into its components", Scope: ScopeRead, Public: true, Body: addressBody("the address")},
		{Method: "POST", Path: "/api/v1/address/compare", Tag: "address", Summary: "do two addresses name the same place", Scope: ScopeRead,
			Body: &apiBody{Media: "application/json", Schema: obj(map[string]any{"a": str(), "b": str()}, "a", "b")}},
		{Method: "POST", Path: "/api/v1/address/geocode", Tag: "address", Summary: "locate an address", Scope: ScopeRead, Body: addressBody("the address")},
		{Method: "POST", Path: "/api/v1/address/batch", Tag: "address", Summary: "check up to 10,000 addresses; NDJSON, one line per address, then a summary line {\"summary\": {\"done\", \"total\", \"complete\"}} (also the X-Marketgeo-Complete trailer)", Scope: ScopeRead,
			Body:      &apiBody{Media: "application/json", Schema: obj(map[string]any{"addresses": map[string]any{"type": "array", "items": str(), "maxItems": maxBatchAddresses}}, "addresses")},
			BodyLimit: batchLimit, Produces: "application/x-ndjson"},

		// Zones and rules
		{Method: "GET", Path: "/api/v1/zones", Tag: "zones", Summary: "the zones (FTZ area, grid, district …) of a point or address (the public profile shows public fields only)", Scope: ScopeRead, Public: true,
			Params: []apiParam{pLon, pLat, {Name: "address", In: "query", Type: "string", Desc: "an address to locate instead of lon/lat"}, pCRS}},
		{Method: "POST", Path: "/api/v1/zones/batch", Tag: "zones", Summary: "zones of up to 100,000 points; NDJSON out, one line per point, then a summary line", Scope: ScopeRead,
			Params: []apiParam{pCRS}, Body: &apiBody{Media: "application/json", Desc: "{\"points\": [[lon, lat], …], \"ids\": […], \"crs\": …} or NDJSON lines [lon, lat] / {\"lon\", \"lat\", \"id\"}", Schema: map[string]any{"type": "object"}},
			BodyLimit: batchLimit, Produces: "application/x-ndjson"},
		{Method: "GET", Path: "/api/v1/grids/{id}/summary", Tag: "zones", Summary: "a grid's entities by risk, status and section, and those to supervise", Scope: ScopeRead,
			Params: []apiParam{{Name: "id", In: "path", Type: "string", Required: true, Example: "grid-1"}, pCRS}},
		{Method: "GET", Path: "/api/v1/zones/{id}/summary", Tag: "zones", Summary: "a zone of any layer with the number of entities inside by risk class", Scope: ScopeRead,
			Params: []apiParam{{Name: "id", In: "path", Type: "string", Required: true, Example: "ftz-1"}}},
		{Method: "GET", Path: "/api/v1/rules", Tag: "zones", Summary: "the siting rules in force", Scope: ScopeRead},
		{Method: "POST", Path: "/api/v1/rules/check", Tag: "zones", Summary: "may an industry be sited at a point or address", Scope: ScopeRead,
			Body: &apiBody{Media: "application/json", Schema: obj(map[string]any{"address": str(), "lon": map[string]any{"type": "number"}, "lat": map[string]any{"type": "number"}, "industry": str(), "crs": str()}, "industry")}},
		{Method: "GET", Path: "/api/v1/rules/violations", Tag: "zones", Summary: "existing entities that break a siting rule", Scope: ScopeRead,
			Params: []apiParam{{Name: "rule", In: "query", Type: "string"}, pLimit, pCRS}},

		// Tiles and the web map
		{Method: "GET", Path: "/tiles/{layer}/{z}/{x}/{y}.mvt", Tag: "tiles", Summary: "a Mapbox Vector Tile (204 when empty; public: public fields only)", Scope: ScopeRead, Public: true,
			Params: []apiParam{{Name: "layer", In: "path", Type: "string", Required: true, Enum: tiles.Layers(), Example: "entities"},
				{Name: "z", In: "path", Type: "integer", Required: true, Example: "12"}, {Name: "x", In: "path", Type: "integer", Required: true, Example: "3304"},
				{Name: "y", In: "path", Type: "integer", Required: true, Example: "1704"}, pIndustry, pRisk, pStatus, pKind},
			Produces: "application/vnd.mapbox-vector-tile"},
		{Method: "GET", Path: "/tiles/{layer}.json", Tag: "tiles", Summary: "TileJSON 3.0.0 of a tile layer", Scope: ScopeRead, Public: true,
			Params: []apiParam{{Name: "layer", In: "path", Type: "string", Required: true, Enum: tiles.Layers(), Example: "entities"}, pIndustry, pRisk, pStatus, pKind}},
		// the page and its files need no token (code, no data): on a server
		// with tokens the page loads and its user signs in (auth.js), then
		// every data request carries the token
		{Method: "GET", Path: "/", Tag: "web map", Summary: "the web map", Scope: ScopeNone, Public: true, Produces: "text/html"},
		{Method: "GET", Path: "/webmap/{file}", Tag: "web map", Summary: "the web map's files", Scope: ScopeNone, Public: true, Produces: "application/octet-stream",
			Params: []apiParam{{Name: "file", In: "path", Type: "string", Required: true, Example: "app.js"}}},

		// Features and the write API (docs/store.md)
		{Method: "GET", Path: "/api/v1/{layer}/{id}", Tag: "features", Summary: "a feature (public: an entity's public disclosure by USCC)", Scope: ScopeRead, Public: true, PublicLayers: []string{"entities"},
			Params: []apiParam{pLayerVar, pIDVar, pCRS}},
		{Method: "PUT", Path: "/api/v1/{layer}/{id}", Tag: "features", Summary: "create (201) or replace (200) a feature; If-Match: \"<version>\" for optimistic concurrency", Scope: ScopeWrite,
			Params: []apiParam{pLayerVar, pIDVar, pCRS}, Body: &apiBody{Media: "application/geo+json", Desc: "a GeoJSON Feature", Schema: map[string]any{"type": "object"}}, BodyLimit: featureLimit},
		{Method: "PATCH", Path: "/api/v1/{layer}/{id}", Tag: "features", Summary: "RFC 7396 merge patch of a feature", Scope: ScopeWrite,
			Params: []apiParam{pLayerVar, pIDVar, pCRS}, Body: &apiBody{Media: "application/merge-patch+json", Schema: map[string]any{"type": "object"}}, BodyLimit: featureLimit},
		{Method: "DELETE", Path: "/api/v1/{layer}/{id}", Tag: "features", Summary: "delete a feature", Scope: ScopeWrite, Params: []apiParam{pLayerVar, pIDVar}},
		{Method: "GET", Path: "/api/v1/{layer}/{id}/history", Tag: "features", Summary: "a feature's versions with time and writer (the token's name)", Scope: ScopeRead,
			Params: []apiParam{pLayerVar, pIDVar, pLimit}},
		{Method: "POST", Path: "/api/v1/{layer}/bulk", Tag: "features", Summary: "NDJSON of GeoJSON Features, up to 100,000, all or nothing", Scope: ScopeWrite,
			Params: []apiParam{pLayerVar, pCRS}, Body: &apiBody{Media: "application/x-ndjson", Schema: map[string]any{"type": "string"}}, BodyLimit: bulkLimit},
		// Department data exchange (docs/exchange.md)
		{Method: "POST", Path: "/api/v1/exchange/{dept}", Tag: "exchange", Summary: "import a department's table (CSV or xlsx; multipart or body); JSON report, NDJSON progress or the feedback table", Scope: ScopeWrite,
			Params: []apiParam{{Name: "dept", In: "path", Type: "string", Required: true, Example: "tax"}, {Name: "kind", In: "query", Type: "string"},
				{Name: "feedback", In: "query", Type: "string", Enum: []string{"csv", "xlsx"}}, {Name: "name", In: "query", Type: "string"}},
			Body: &apiBody{Media: "application/octet-stream", Desc: "the table (CSV or xlsx), or multipart/form-data with a file part", Schema: map[string]any{"type": "string"}}, BodyLimit: bulkLimit},
		{Method: "GET", Path: "/api/v1/exchange/jobs/{job}", Tag: "exchange", Summary: "an import job's progress and report", Scope: ScopeRead,
			Params: []apiParam{{Name: "job", In: "path", Type: "string", Required: true, Example: "1"}}},
		{Method: "GET", Path: "/api/v1/entities/{id}/records", Tag: "exchange", Summary: "an entity's department records", Scope: ScopeRead,
			Params: []apiParam{pIDVar, pLimit}},
		// Risk classes, early warnings, building economy (docs/risk.md)
		{Method: "GET", Path: "/api/v1/entities/{id}/risk", Tag: "risk", Summary: "an entity's risk: class in force, computed class, score, reasons with evidence records, override", Scope: ScopeRead,
			Params: []apiParam{pIDVar}},
		{Method: "PUT", Path: "/api/v1/entities/{id}/risk/override", Tag: "risk", Summary: "set a manual risk class with a reason and an expiry (YYYY-MM-DD, at most three years ahead)", Scope: ScopeWrite,
			Params: []apiParam{pIDVar}, Body: &apiBody{Media: "application/json", Schema: obj(map[string]any{"class": str(), "reason": str(), "expires": str()}, "class", "reason", "expires")}},
		{Method: "DELETE", Path: "/api/v1/entities/{id}/risk/override", Tag: "risk", Summary: "remove an entity's manual risk class", Scope: ScopeWrite,
			Params: []apiParam{pIDVar}},
		{Method: "GET", Path: "/api/v1/risk/summary", Tag: "risk", Summary: "counts by risk class and the top reasons in a zone or box", Scope: ScopeRead,
			Params: []apiParam{pZoneArea, pBBoxArea}},
		{Method: "GET", Path: "/api/v1/warnings", Tag: "risk", Summary: "early warnings (registration clusters, zombies, industry shifts, out-of-area investment, licence expiries) with evidence and location", Scope: ScopeRead,
			Params: []apiParam{{Name: "type", In: "query", Type: "string", Desc: "warning types, comma-separated: registration_cluster, zombie, industry_shift, out_of_area, licence_expiry"},
				pZoneArea, pBBoxArea, {Name: "since", In: "query", Type: "string", Desc: "warnings dated on or after this day (YYYY-MM-DD)"}, pLimit}},
		{Method: "GET", Path: "/api/v1/buildings/{id}/economy", Tag: "risk", Summary: "a building's economy: its entities by section, status and class; output, employment and tax from their records", Scope: ScopeRead,
			Params: []apiParam{{Name: "id", In: "path", Type: "string", Required: true, Example: "b1"}}},
		{Method: "GET", Path: "/api/v1/economy", Tag: "risk", Summary: "the building economy of a zone or box, buildings by output", Scope: ScopeRead,
			Params: []apiParam{pZoneArea, pBBoxArea, pLimit}},

		{Method: "GET", Path: "/api/v1/changes", Tag: "features", Summary: "the change log from since= (NDJSON), or live with Accept: text/event-stream", Scope: ScopeRead,
			Params: []apiParam{{Name: "since", In: "query", Type: "integer"}, pLimit}, Produces: "application/x-ndjson"},
	}
}

func withRequired(p apiParam) apiParam {
	p.Required = true
	return p
}
