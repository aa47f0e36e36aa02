package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
)

var (
	searchFixOnce sync.Once
	searchFixH    http.Handler
	searchFixIdx  *geo.Index
	searchFixErr  error
)

// searchServer serves a 6,000-entity demo region with a search index.
func searchServer(t *testing.T) (http.Handler, *geo.Index) {
	t.Helper()
	searchFixOnce.Do(func() {
		ds, err := demo.Generate(demo.Options{Entities: 6000})
		if err != nil {
			searchFixErr = err
			return
		}
		idx, _ := geo.New(geo.Options{})
		if err := ds.Load(idx); err != nil {
			searchFixErr = err
			return
		}
		cq, err := demo.Region()
		if err != nil {
			searchFixErr = err
			return
		}
		s, err := search.New(context.Background(), idx, search.Options{Region: cq})
		if err != nil {
			searchFixErr = err
			return
		}
		searchFixH, searchFixErr = New(Deps{Index: idx, Search: s}, Options{})
		searchFixIdx = idx
	})
	if searchFixErr != nil {
		t.Fatal(searchFixErr)
	}
	return searchFixH, searchFixIdx
}

type searchFC struct {
	Features []struct {
		ID         string         `json:"id"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Total  int            `json:"total"`
	Center map[string]any `json:"center"`
	Error  string         `json:"error"`
}

func getSearch(t *testing.T, h http.Handler, path string) (int, searchFC) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var out searchFC
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: invalid JSON: %v\n%s", path, err, rec.Body.String())
	}
	return rec.Code, out
}

func TestSearchEndpoint(t *testing.T) {
	h, idx := searchServer(t)
	school, ok := idx.Snapshot().Place("S50011200905")
	if !ok {
		t.Fatal("no school S50011200905 in the demo region")
	}
	near := "&lon=" + jsonNum(school.Location[0]) + "&lat=" + jsonNum(school.Location[1])
	for _, tc := range []struct {
		name, query string
		status      int
		wantFirst   string
		wantLayer   string
	}{
		{"school", "q=人和中学", 200, "S50011200905", "places"},
		{"school places only", "q=人和中学&layer=places&limit=1", 200, "S50011200905", "places"},
		{"pinyin", "q=renhe&layer=places", 200, "", "places"},
		{"district", "q=渝北区&layer=zones", 200, "D500112", "zones"},
		{"with centre", "q=人和中学&radius=500" + near, 200, "S50011200905", ""},
		{"with centre, no radius", "q=人和中学" + near, 200, "S50011200905", ""},
		{"nothing", "q=火星量子引力研究所", 200, "", ""},
		{"empty q", "q=", 400, "", ""},
		{"blank q", "q=%20%20", 400, "", ""},
		{"punctuation q", "q=%EF%BC%88%EF%BC%89", 400, "", ""},
		{"bad layer", "q=金开&layer=roads", 400, "", ""},
		{"bad limit", "q=金开&limit=0", 400, "", ""},
		{"limit too big", "q=金开&limit=1000", 400, "", ""},
		{"radius without centre", "q=金开&radius=100", 400, "", ""},
		{"negative radius", "q=金开&lon=106.5&lat=29.6&radius=-1", 400, "", ""},
		{"lon without lat", "q=金开&lon=106.5", 400, "", ""},
		{"bad crs", "q=金开&crs=utm", 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, fc := getSearch(t, h, "/api/v1/search?"+tc.query)
			if code != tc.status {
				t.Fatalf("status %d, want %d (%s)", code, tc.status, fc.Error)
			}
			if code != 200 {
				if fc.Error == "" {
					t.Error("no error message")
				}
				return
			}
			if tc.wantLayer == "" && tc.wantFirst == "" {
				if len(fc.Features) != 0 {
					t.Errorf("want no feature, got %d", len(fc.Features))
				}
				return
			}
			if len(fc.Features) == 0 {
				t.Fatal("no feature")
			}
			first := fc.Features[0]
			if tc.wantFirst != "" && first.ID != tc.wantFirst {
				t.Errorf("first %s (%v), want %s", first.ID, first.Properties["name"], tc.wantFirst)
			}
			prev := 2.0
			for _, f := range fc.Features {
				s, ok := f.Properties["score"].(float64)
				if !ok || s <= 0 || s > 1 || s > prev {
					t.Errorf("bad or unsorted score %v", f.Properties["score"])
				}
				prev = s
				if tc.wantLayer != "" && f.Properties["layer"] != tc.wantLayer && tc.name != "school" {
					t.Errorf("layer %v, want %s", f.Properties["layer"], tc.wantLayer)
				}
			}
			if fc.Total != len(fc.Features) {
				t.Errorf("total %d != %d features", fc.Total, len(fc.Features))
			}
		})
	}
}

func TestNearbyPlace(t *testing.T) {
	h, idx := searchServer(t)
	code, fc := getSearch(t, h, "/api/v1/nearby?place="+url.QueryEscape("人和中学")+"&radius=200")
	if code != 200 {
		t.Fatalf("status %d: %s", code, fc.Error)
	}
	if fc.Center["id"] != "S50011200905" || fc.Center["name"] != "重庆市人和中学校" || fc.Center["layer"] != "places" {
		t.Fatalf("center %v", fc.Center)
	}
	school, _ := idx.Snapshot().Place("S50011200905")
	for _, f := range fc.Features {
		if d := f.Properties["distance_m"].(float64); d > 200 {
			t.Errorf("%s at %v m", f.ID, d)
		}
	}
	// The same answer as nearby with the school's coordinates.
	q := url.Values{"lon": {jsonNum(school.Location[0])}, "lat": {jsonNum(school.Location[1])}, "radius": {"200"}}
	_, direct := getSearch(t, h, "/api/v1/nearby?"+q.Encode())
	if len(direct.Features) != len(fc.Features) || direct.Center != nil {
		t.Errorf("place=: %d features, lon/lat: %d (center %v)", len(fc.Features), len(direct.Features), direct.Center)
	}
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"place=" + url.QueryEscape("火星量子引力研究所") + "&radius=200", 404},
		{"place=" + url.QueryEscape("人和中学") + "&radius=-5", 400},
		{"place=" + url.QueryEscape("人和中学") + "&layer=roads", 400},
		{"radius=200", 400}, // neither place nor lon/lat
	} {
		code, fc := getSearch(t, h, "/api/v1/nearby?"+tc.query)
		if code != tc.status || fc.Error == "" {
			t.Errorf("%s: status %d (%q), want %d", tc.query, code, fc.Error, tc.status)
		}
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestSearchUnavailable(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	h, err := New(Deps{Index: idx}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/search?q=x", "/api/v1/nearby?place=x"} {
		code, fc := getSearch(t, h, p)
		if code != http.StatusServiceUnavailable || fc.Error != "search is not configured" {
			t.Errorf("%s: %d %q", p, code, fc.Error)
		}
	}
	if got := statusOf(fmt.Errorf("wrapped: %w", search.ErrNotReady)); got != http.StatusServiceUnavailable {
		t.Errorf("ErrNotReady → %d", got)
	}
	if statusOf(search.ErrEmptyQuery) != http.StatusBadRequest {
		t.Error("ErrEmptyQuery is not a 400")
	}
	if statusOf(errors.New("x")) != http.StatusInternalServerError {
		t.Error("unknown errors are not 500")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var health map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &health)
	if s, ok := health["search"].(map[string]any); !ok || s["ready"] != false || s["configured"] != false {
		t.Errorf("healthz search = %v", health["search"])
	}
}
