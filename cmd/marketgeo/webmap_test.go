package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWebmapFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"base_layers":[{"name":"影像","type":"raster","tiles":["https://t.example.cn/{z}/{x}/{y}.png"]}]}`)
	files, origins, err := webmapFiles(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(origins) != 1 || origins[0] != "https://t.example.cn" {
		t.Errorf("origins = %q, want the base layer's host (for the server's Content-Security-Policy)", origins)
	}
	b, _ := fs.ReadFile(files, "config.json")
	var c struct {
		BaseLayers []struct{ Name string } `json:"base_layers"`
	}
	if err := json.Unmarshal(b, &c); err != nil || len(c.BaseLayers) != 1 || c.BaseLayers[0].Name != "影像" {
		t.Fatalf("config.json = %s (%v)", b, err)
	}
	for name, body := range map[string]string{
		"unknown key": `{"base_layer":[]}`,
		"bad layer":   `{"base_layers":[{"name":"x","type":"raster","tiles":["ftp://a/{z}/{x}/{y}"]}]}`,
		"not json":    `base_layers: []`,
	} {
		if _, _, err := webmapFiles(write(name+".json", body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := webmapFiles(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file: no error")
	}
	if f, o, err := webmapFiles(""); err != nil || f == nil || o != nil {
		t.Fatalf("no config: %v", err)
	}
}
