package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
)

// TestWebMapOriginsInCSP: a deployment's base-layer hosts are allowed by
// the Content-Security-Policy (connect-src for vector tiles and styles,
// img-src for rasters) and nothing else is; an origin that would change the
// policy's meaning is refused when the server is built.
func TestWebMapOriginsInCSP(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	directive := func(csp, name string) string {
		for _, d := range strings.Split(csp, ";") {
			if f := strings.Fields(d); len(f) > 0 && f[0] == name {
				return strings.Join(f[1:], " ")
			}
		}
		return ""
	}
	for _, c := range []struct {
		origins []string
		want    string // the origins' part of connect-src and img-src
	}{
		{nil, ""},
		{[]string{"https://t.example.cn", "http://10.0.0.5:8081"}, "https://t.example.cn http://10.0.0.5:8081"},
	} {
		h, err := New(Deps{Index: idx}, Options{WebMapOrigins: c.origins})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		csp := rec.Header().Get("Content-Security-Policy")
		for _, d := range []string{"connect-src", "img-src"} {
			got := directive(csp, d)
			if extra := strings.TrimSpace(strings.NewReplacer("'self'", "", "data:", "", "blob:", "").Replace(got)); extra != c.want {
				t.Errorf("origins %q: %s = %q, want 'self' … %q", c.origins, d, got, c.want)
			}
		}
		if directive(csp, "script-src") != "'self'" || directive(csp, "default-src") != "'self'" {
			t.Errorf("origins %q widened other directives: %s", c.origins, csp)
		}
	}
	for _, bad := range []string{"https://a.cn; script-src *", "https://a.cn/tiles", "ftp://a.cn", "*", "https://", "https://a.cn 'unsafe-inline'", "https://u@a.cn"} {
		if _, err := New(Deps{Index: idx}, Options{WebMapOrigins: []string{bad}}); err == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
}
