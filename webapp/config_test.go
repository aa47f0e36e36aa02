package webapp_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"testing"

	"github.com/marketgeo/marketgeo/webapp"
)

func TestConfigValidate(t *testing.T) {
	raster := webapp.BaseLayer{Name: "影像", Type: "raster", Tiles: []string{"https://t0.example.cn/img/{z}/{x}/{y}.png"}}
	style := webapp.BaseLayer{Name: "矢量", Type: "style", URL: "https://maps.example.cn/style.json"}
	tests := []struct {
		name string
		c    webapp.Config
		ok   bool
	}{
		{"none", webapp.Config{}, true},
		{"raster and style", webapp.Config{BaseLayers: []webapp.BaseLayer{raster, style}}, true},
		{"no name", webapp.Config{BaseLayers: []webapp.BaseLayer{{Type: "raster", Tiles: raster.Tiles}}}, false},
		{"raster without tiles", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "raster"}}}, false},
		{"template without {y}", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "raster", Tiles: []string{"https://a/{z}/{x}.png"}}}}, false},
		{"not http", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "raster", Tiles: []string{"file:///{z}/{x}/{y}.png"}}}}, false},
		{"tile size", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "raster", Tiles: raster.Tiles, TileSize: 300}}}, false},
		{"style without url", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "style"}}}, false},
		{"unknown type", webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "x", Type: "wms", URL: style.URL}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, webapp.ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if _, err := webapp.FilesWith(tc.c); tc.ok != (err == nil) {
				t.Fatalf("FilesWith: %v", err)
			}
		})
	}
}

// TestFilesWith: config.json carries the base layers (decoded and
// compared), every other file is the embedded one, and Files alone serves
// an empty configuration (so the page never meets a 404).
func TestFilesWith(t *testing.T) {
	c := webapp.Config{BaseLayers: []webapp.BaseLayer{{Name: "影像", Type: "raster", Tiles: []string{"https://t0.example.cn/{z}/{x}/{y}.png"}, Attribution: "© 示例"}}}
	files, err := webapp.FilesWith(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(files, "config.json")
	if err != nil {
		t.Fatal(err)
	}
	var got webapp.Config
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.BaseLayers) != 1 || got.BaseLayers[0].Name != "影像" || got.BaseLayers[0].Tiles[0] != c.BaseLayers[0].Tiles[0] || got.BaseLayers[0].Attribution != "© 示例" {
		t.Fatalf("config.json = %s", b)
	}
	two := webapp.Config{BaseLayers: append(c.BaseLayers, webapp.BaseLayer{Name: "b", Type: "style", URL: "https://maps.example.cn:8443/s.json"},
		webapp.BaseLayer{Name: "c", Type: "raster", Tiles: []string{"https://t0.example.cn/x/{z}/{x}/{y}.png"}})}
	if o := two.Origins(); len(o) != 2 || o[0] != "https://maps.example.cn:8443" || o[1] != "https://t0.example.cn" {
		t.Fatalf("Origins() = %v", o)
	}
	for _, name := range []string{"index.html", "app.js", "vendor/maplibre-gl/maplibre-gl.js"} {
		want, _ := fs.ReadFile(webapp.Files(), name)
		have, err := fs.ReadFile(files, name)
		if err != nil || string(have) != string(want) {
			t.Fatalf("%s differs from the embedded file (err %v)", name, err)
		}
	}
	b, err = fs.ReadFile(webapp.Files(), "config.json")
	if err != nil {
		t.Fatal(err)
	}
	got = webapp.Config{}
	if err := json.Unmarshal(b, &got); err != nil || len(got.BaseLayers) != 0 {
		t.Fatalf("the embedded config.json = %s (%v)", b, err)
	}
}
