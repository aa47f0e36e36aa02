package webapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing/fstest"
	"time"
)

// ErrInvalidConfig is wrapped by the errors of Config.Validate.
var ErrInvalidConfig = errors.New("webapp: invalid config")

// BaseLayer is a deployment's own base map, drawn under the platform's
// data when the user picks it in the layer panel: an XYZ raster tile
// service ("raster") or a MapLibre style ("style", its sources and layers
// drawn beneath ours). The map never loads one unless it is configured.
type BaseLayer struct {
	// Name is what the layer panel shows (e.g. 天地图影像).
	Name string `json:"name" yaml:"name"`
	// Type is "raster" or "style".
	Type string `json:"type" yaml:"type"`
	// Tiles are the raster's URL templates with {z}, {x} and {y}.
	Tiles []string `json:"tiles,omitempty" yaml:"tiles"`
	// TileSize is the raster tiles' size in pixels. Default 256.
	TileSize int `json:"tile_size,omitempty" yaml:"tile_size"`
	// URL is the style's URL.
	URL string `json:"url,omitempty" yaml:"url"`
	// Attribution is shown in the map's attribution control.
	Attribution string `json:"attribution,omitempty" yaml:"attribution"`
}

// Config configures the web map. The zero value is valid: no base layer.
type Config struct {
	// BaseLayers are the deployment's base maps (at most 16).
	BaseLayers []BaseLayer `json:"base_layers" yaml:"base_layers"`
}

// Validate reports a base layer that the map could not draw.
func (c Config) Validate() error {
	if len(c.BaseLayers) > 16 {
		return fmt.Errorf("%w: %d base layers (at most 16)", ErrInvalidConfig, len(c.BaseLayers))
	}
	httpURL := func(s string) bool {
		u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(s))
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	}
	for i, b := range c.BaseLayers {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: base layer %d (%q): %s", ErrInvalidConfig, i, b.Name, fmt.Sprintf(format, args...))
		}
		if strings.TrimSpace(b.Name) == "" {
			return bad("no name")
		}
		switch b.Type {
		case "raster":
			if len(b.Tiles) == 0 {
				return bad("a raster needs tiles (URL templates with {z}, {x} and {y})")
			}
			for _, t := range b.Tiles {
				if !strings.Contains(t, "{z}") || !strings.Contains(t, "{x}") || !strings.Contains(t, "{y}") || !httpURL(t) {
					return bad("tile URL %q is not an http(s) template with {z}, {x} and {y}", t)
				}
			}
			if b.TileSize != 0 && b.TileSize != 256 && b.TileSize != 512 {
				return bad("tile_size %d (want 256 or 512)", b.TileSize)
			}
		case "style":
			if !httpURL(b.URL) {
				return bad("style URL %q is not an http(s) URL", b.URL)
			}
		default:
			return bad("type %q (want raster or style)", b.Type)
		}
	}
	return nil
}

// Origins returns the scheme://host of every URL the base layers load
// from, sorted and without repeats: what a server's Content-Security-Policy
// must allow (connect-src and img-src) for the map to draw them.
func (c Config) Origins() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(s))
		if err != nil || u.Host == "" {
			return
		}
		o := u.Scheme + "://" + u.Host
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, b := range c.BaseLayers {
		for _, t := range b.Tiles {
			add(t)
		}
		if b.URL != "" {
			add(b.URL)
		}
	}
	slices.Sort(out)
	return out
}

// FilesWith returns the web app's files (as Files) with config.json, the
// configuration the page reads at start, written from c. It validates c
// first.
func FilesWith(c Config) (fs.FS, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.BaseLayers == nil {
		c.BaseLayers = []BaseLayer{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("webapp: %w", err)
	}
	return overlay{base: Files(), extra: fstest.MapFS{"config.json": {Data: b, Mode: 0o444, ModTime: time.Unix(0, 0)}}}, nil
}

// overlay serves extra's files before base's.
type overlay struct {
	base  fs.FS
	extra fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.extra.Open(name); err == nil {
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			return f, nil
		}
		f.Close()
	}
	return o.base.Open(name)
}
