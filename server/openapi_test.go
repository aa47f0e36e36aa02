package server

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
)

// routerRoutes lists the routes of the router as "METHOD /path" (the API
// table's keys; a route without a method matcher dispatches by method
// itself and is listed as "* /path").
func routerRoutes(t *testing.T, s *Server) []string {
	t.Helper()
	var out []string
	err := s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a subrouter's prefix
		}
		tpl, _ := route.GetPathTemplate()
		path := openAPIPath(tpl)
		if tpl == "" {
			path = strings.TrimPrefix(tileRouteKey, "GET ") // the tile route's matcher
		}
		methods, err := route.GetMethods()
		if err != nil {
			out = append(out, "* "+path)
			return nil
		}
		for _, m := range methods {
			if m != http.MethodHead {
				out = append(out, m+" "+path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// sampleTarget fills a route's path parameters with their examples.
func sampleTarget(rt *apiRoute) string {
	p := rt.Path
	for _, prm := range rt.Params {
		if prm.In == "path" {
			p = strings.ReplaceAll(p, "{"+prm.Name+"}", prm.Example)
		}
	}
	return p
}

// Every route of the router is described in the API table (and so in
// /api/v1/openapi.json), and every route described exists, in both
// profiles; the document of each profile is valid OpenAPI and describes
// exactly the routes the profile serves.
func TestOpenAPICoversRoutes(t *testing.T) {
	for _, profile := range []string{ProfileInternal, ProfilePublic} {
		t.Run(profile, func(t *testing.T) {
			// httptest's requests come from 192.0.2.1: the public
			// profile's /metrics is served to it as to a scraper
			f := newProfileServer(t, profile, Options{MetricsClients: []string{"192.0.2.1"}})
			s := f.srv
			// 1. the router's routes are in the table
			for _, key := range routerRoutes(t, s) {
				method, path, _ := strings.Cut(key, " ")
				if method == "*" {
					found := false
					for _, rt := range s.api.routes {
						found = found || rt.Path == path
					}
					if !found {
						t.Errorf("the router has %s, which the API table does not describe: add an apiRoute{Method: \"GET\" (each method it serves), Path: %q, Scope: ScopeRead (ScopeWrite for writes), Summary: \"…\", Params: …} to apiRoutes in server/api.go", path, path)
					}
					continue
				}
				if _, ok := s.api.byKey[key]; !ok {
					t.Errorf("the router has %s, which the API table does not describe: add an apiRoute{Method: %q, Path: %q, Scope: ScopeRead (ScopeWrite for writes), Summary: \"…\", Params: …} to apiRoutes in server/api.go", key, method, path)
				}
			}
			// 2. the table's routes exist in the router: a request to each
			// reaches a handler (not the router's 404 or 405)
			for i := range s.api.routes {
				rt := &s.api.routes[i]
				target := sampleTarget(rt)
				rec := call(f.h, rt.Method, target, "", tokAdmin)
				served := !(rec.Code == 404 && jsonError(rec) == "no such endpoint") && rec.Code != 405
				want := profile == ProfileInternal || rt.Public
				switch {
				case want && !served:
					t.Errorf("apiRoutes in server/api.go describes %s %s, which the router does not serve (%s %s: %d %s): register the route, or remove or fix the entry (path parameters need an Example)",
						rt.Method, rt.Path, rt.Method, target, rec.Code, rec.Body.String())
				case !want && served:
					t.Errorf("the public profile serves %s %s (%d), which the API table does not mark Public", rt.Method, target, rec.Code)
				}
			}
			// 3. the document: valid, and exactly the routes served
			rec := call(f.h, "GET", "/api/v1/openapi.json", "", tokRead)
			if rec.Code != 200 {
				t.Fatalf("openapi.json: %d", rec.Code)
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("openapi.json does not load: %v", err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatalf("openapi.json is not valid OpenAPI: %v", err)
			}
			if doc.OpenAPI != "3.1.0" {
				t.Fatalf("openapi %q", doc.OpenAPI)
			}
			var described []string
			for path, item := range doc.Paths.Map() {
				for method := range item.Operations() {
					described = append(described, method+" "+path)
				}
			}
			sort.Strings(described)
			if want := s.apiKeys(); !slices.Equal(described, want) {
				t.Fatalf("the document describes\n%v\nthe profile serves\n%v", described, want)
			}
			// every operation names its error shape
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					if op.Responses.Value("4XX") == nil {
						t.Errorf("%s %s: no 4XX response", method, path)
					}
				}
			}
		})
	}
}

// The table has no duplicate and every path parameter has an example.
func TestAPITableWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range apiRoutes() {
		key := rt.Method + " " + rt.Path
		if seen[key] {
			t.Errorf("%s twice", key)
		}
		seen[key] = true
		for _, seg := range strings.Split(rt.Path, "/") {
			if !strings.HasPrefix(seg, "{") {
				continue
			}
			name := strings.Trim(strings.Split(seg, "}")[0], "{")
			ok := false
			for _, p := range rt.Params {
				ok = ok || (p.In == "path" && p.Name == name && p.Example != "")
			}
			if !ok {
				t.Errorf("%s: path parameter %s has no Params entry with an Example", key, name)
			}
		}
		if rt.Summary == "" || rt.Tag == "" {
			t.Errorf("%s: no summary or tag", key)
		}
	}
}
