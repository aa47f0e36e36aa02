package server

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// openAPIDoc renders the API table as an OpenAPI 3.1 document describing
// the routes of the profile served.
func (s *Server) openAPIDoc() map[string]any {
	paths := map[string]any{}
	for i := range s.api.routes {
		rt := &s.api.routes[i]
		if s.public() && !rt.Public {
			continue
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = s.operation(rt)
	}
	title := "marketgeo API (internal profile)"
	desc := "Market-supervision geodata: geo queries, zones, addresses, tiles and the write API. " +
		"Every error is JSON {\"error\": \"…\"}. With tokens configured, routes need Authorization: Bearer <token> " +
		"with the scope each operation names (read < write < admin)."
	if s.public() {
		title = "marketgeo public API"
		desc = "The public face: FTZ/zone check by point or address, public entity disclosure by USCC or name, address parsing, " +
			"tiles of public fields. Every error is JSON {\"error\": \"…\"}."
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": "1.0.0", "description": desc},
		"paths":   paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": obj(map[string]any{"error": str(), "request_id": str()}, "error")},
			"responses": map[string]any{"Error": map[string]any{
				"description": "an error: 4xx for the request, 5xx for the server",
				"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
			}},
		},
	}
	if !s.public() {
		doc["components"].(map[string]any)["securitySchemes"] = map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}
		// whether this server has tokens (the web map offers its sign-in only then)
		doc["x-tokens"] = s.tokens != nil && s.tokens.Len() > 0
	}
	return doc
}

func (s *Server) operation(rt *apiRoute) map[string]any {
	op := map[string]any{
		"summary":     rt.Summary,
		"operationId": operationID(rt),
		"tags":        []string{rt.Tag},
	}
	var params []any
	for _, p := range rt.Params {
		if s.public() && p.Name == "risk" {
			continue // not a public field
		}
		schema := map[string]any{"type": p.Type}
		enum := p.Enum
		if s.public() && p.Name == "layer" && p.In == "path" && len(rt.PublicLayers) > 0 {
			enum = rt.PublicLayers
		}
		if len(enum) > 0 {
			schema["enum"] = enum
		}
		pm := map[string]any{"name": p.Name, "in": p.In, "schema": schema, "required": p.Required || p.In == "path"}
		if p.Desc != "" {
			pm["description"] = p.Desc
		}
		params = append(params, pm)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.Body != nil {
		rb := map[string]any{"required": true, "content": map[string]any{rt.Body.Media: map[string]any{"schema": rt.Body.Schema}}}
		if rt.Body.Desc != "" {
			rb["description"] = rt.Body.Desc
		}
		op["requestBody"] = rb
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	media := rt.Produces
	if media == "" {
		media = "application/json"
	}
	schema := rt.Result
	if schema == nil {
		schema = map[string]any{"type": "object"}
		if media != "application/json" {
			schema = map[string]any{"type": "string"}
		}
	}
	errRef := map[string]any{"$ref": "#/components/responses/Error"}
	op["responses"] = map[string]any{
		strconv.Itoa(status): map[string]any{"description": "success", "content": map[string]any{media: map[string]any{"schema": schema}}},
		"4XX":                errRef,
		"5XX":                errRef,
	}
	if !s.public() {
		need := rt.Scope
		if s.openPath(rt.Path) || need == ScopeNone {
			op["security"] = []any{}
		} else {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
			op["x-scope"] = need.String()
		}
	}
	return op
}

// operationID is the method and the path's words: getApiV1Nearby.
func operationID(rt *apiRoute) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Path, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	if rt.Path == "/" {
		b.WriteString("Root")
	}
	return b.String()
}

// openAPI: GET /api/v1/openapi.json
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.openAPIDoc())
	return nil
}

// apiKeys returns the keys of the table's routes the profile serves, sorted.
func (s *Server) apiKeys() []string {
	var out []string
	for _, rt := range s.api.routes {
		if !s.public() || rt.Public {
			out = append(out, rt.Method+" "+rt.Path)
		}
	}
	sort.Strings(out)
	return out
}
