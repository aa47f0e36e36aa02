package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"

	"github.com/marketgeo/marketgeo/webapp"
)

// webmapFiles returns the web map's files. When path (the environment
// variable MARKETGEO_WEBMAP) names a JSON file of webapp.Config, the map
// offers its base layers (a deployment's own raster tiles or style;
// docs/webmap.md); unknown keys and layers the map could not draw are an
// error. origins are the hosts those layers load from, which the server's
// Content-Security-Policy must allow.
func webmapFiles(path string) (files fs.FS, origins []string, err error) {
	if path == "" {
		return webapp.Files(), nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("web map config: %w", err)
	}
	defer f.Close()
	var c webapp.Config
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("web map config %s: %w", path, err)
	}
	files, err = webapp.FilesWith(c)
	if err != nil {
		return nil, nil, fmt.Errorf("web map config %s: %w", path, err)
	}
	return files, c.Origins(), nil
}
