package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/server"
)

// The effective configuration of serve: defaults, then --config, then the
// flags given explicitly; --print-config prints it in a form that parses
// back to the same configuration.
func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "marketgeo.yaml")
	if err := os.WriteFile(file, []byte(`addr: 0.0.0.0:9000
data: /srv/data
crs: gcj02
strict: true
tiles:
  extent: 8192
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("tiles:\n  extnt: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, err := server.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	with := func(base server.FileConfig, f func(*server.FileConfig)) server.FileConfig {
		f(&base)
		return base
	}
	tests := []struct {
		name   string
		args   []string
		want   server.FileConfig
		errHas string
	}{
		{name: "no flags: the defaults", args: nil, want: server.DefaultFileConfig()},
		{name: "flags alone", args: []string{"--addr", ":7000", "--crs", "bd09", "--strict"},
			want: with(server.DefaultFileConfig(), func(c *server.FileConfig) { c.Addr, c.CRS, c.Strict = ":7000", "bd09", true })},
		{name: "file alone", args: []string{"--config", file}, want: fromFile},
		{name: "flags override the file", args: []string{"--config", file, "--addr", "127.0.0.1:7000", "--data", "", "--strict=false", "--rules", "r.json"},
			want: with(fromFile, func(c *server.FileConfig) { c.Addr, c.Data, c.Strict, c.Rules = "127.0.0.1:7000", "", false, "r.json" })},
		{name: "a region directory", args: []string{"--region", "../../server/testdata/region-shenzhen"},
			want: with(server.DefaultFileConfig(), func(c *server.FileConfig) { c.Region = "../../server/testdata/region-shenzhen" })},
		{name: "flag order does not matter", args: []string{"--crs", "wgs84", "--config", file},
			want: with(fromFile, func(c *server.FileConfig) { c.CRS = "wgs84" })},
		{name: "bad file", args: []string{"--config", bad}, errHas: "tiles.extnt"},
		{name: "missing file", args: []string{"--config", filepath.Join(dir, "none.yaml")}, errHas: "none.yaml"},
		{name: "bad flag value", args: []string{"--crs", "utm"}, errHas: "crs"},
		{name: "stray argument", args: []string{"marketgeo.yaml"}, errHas: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs bytes.Buffer
			got, _, err := serveConfig(tt.args, &errs)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("config:\n got %+v\nwant %+v", got, tt.want)
			}
			// --print-config prints it and exits; the output parses back to it.
			var out bytes.Buffer
			if err := run(append([]string{"serve", "--print-config"}, tt.args...), &out, &errs); err != nil {
				t.Fatal(err)
			}
			back, err := server.Parse(&out)
			if err != nil {
				t.Fatalf("--print-config output does not parse: %v\n%s", err, out.String())
			}
			if !reflect.DeepEqual(back, tt.want) {
				t.Fatalf("--print-config round trip:\n got %+v\nwant %+v", back, tt.want)
			}
		})
	}
}
