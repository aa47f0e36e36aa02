package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
)

// TestHotRoutesAnswerAsTheRouter: the routes served ahead of the router
// (Server.hot) are the router's routes of those paths, and every request
// to them, good or bad, in both profiles, with or without a token, answers
// exactly what the router answers (status, headers but the request id,
// body).
func TestHotRoutesAnswerAsTheRouter(t *testing.T) {
	f, _, zi := zoneServer(t)
	const secret = "hot-route-reader-0123456789"
	tokens, err := NewTokens(PlainToken(ScopeRead, "reader", secret))
	if err != nil {
		t.Fatal(err)
	}
	p := f.ds.Entities[7].Location
	ll := fmt.Sprintf("lon=%v&lat=%v", p[0], p[1])
	reqs := []struct{ method, target string }{
		{"GET", "/api/v1/nearby?" + ll + "&radius=300"},
		{"GET", "/api/v1/nearby?" + ll + "&fields=id,name&limit=5"},
		{"GET", "/api/v1/nearby?" + ll + "&format=ids&risk=C,D"},
		{"GET", "/api/v1/nearby?" + ll + "&count_only=true"},
		{"GET", "/api/v1/nearby?lon=abc&lat=1"},
		{"GET", "/api/v1/nearby?" + ll + "&radius=-1"},
		{"HEAD", "/api/v1/nearby?" + ll},
		{"POST", "/api/v1/nearby?" + ll},
		{"GET", "/api/v1/knearest?" + ll + "&k=7&crs=gcj02"},
		{"GET", "/api/v1/knearest?" + ll + "&k=0"},
		{"GET", "/api/v1/zones?" + ll},
		{"GET", "/api/v1/zones?lon=200&lat=1"},
		{"GET", "/api/v1/zones?address=" + "%E9%87%8D%E5%BA%86%E5%B8%82"},
		{"DELETE", "/api/v1/zones?" + ll},
		{"GET", "/api/v1/search?q=%E5%85%AC%E5%8F%B8"},
	}
	for _, profile := range []string{ProfileInternal, ProfilePublic} {
		for _, tok := range []*Tokens{nil, tokens} {
			if profile == ProfilePublic && tok != nil {
				continue
			}
			s, err := NewServer(Deps{Index: f.idx, Addresses: f.db, Zones: zi}, Options{Profile: profile, Tokens: tok})
			if err != nil {
				t.Fatal(err)
			}
			for path, h := range s.hot {
				var m mux.RouteMatch
				r := httptest.NewRequest(http.MethodGet, path, nil)
				if !s.router.Match(r, &m) || m.Route == nil {
					t.Fatalf("%s: the router has no route", path)
				}
				if got := routeKey(r, m.Route); got != h.key {
					t.Fatalf("%s: the router's route is %q, the hot route says %q", path, got, h.key)
				}
			}
			hot := s.hot
			for _, rq := range reqs {
				var got, want *httptest.ResponseRecorder
				for i, table := range []map[string]hotRoute{hot, nil} {
					s.hot = table
					r := httptest.NewRequest(rq.method, rq.target, nil)
					r.Header.Set("X-Request-Id", "same-id")
					r.RemoteAddr = "127.0.0.1:4000"
					if tok != nil && rq.method == "GET" {
						r.Header.Set("Authorization", "Bearer "+secret)
					}
					w := httptest.NewRecorder()
					s.ServeHTTP(w, r)
					if i == 0 {
						got = w
					} else {
						want = w
					}
				}
				what := profile + " " + rq.method + " " + rq.target
				if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
					t.Errorf("%s: hot %d %.200s, router %d %.200s", what, got.Code, got.Body, want.Code, want.Body)
				}
				for k, v := range want.Header() {
					if g := got.Header()[k]; len(g) != len(v) || (len(v) > 0 && g[0] != v[0]) {
						t.Errorf("%s: header %s: hot %q, router %q", what, k, g, v)
					}
				}
			}
			s.hot = hot
		}
	}
}
