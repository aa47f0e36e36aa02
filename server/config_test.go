package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
	"gopkg.in/yaml.v3"
)

func TestParse(t *testing.T) {
	t.Setenv("MG_TEST_PORT", "9090")
	t.Setenv("MG_TEST_EMPTY", "")
	t.Setenv("MG_TEST_TIMEOUT", "45s")
	t.Setenv("MG_TEST_EXTENT", "8192")
	def := DefaultFileConfig()
	with := func(f func(*FileConfig)) FileConfig {
		c := DefaultFileConfig()
		f(&c)
		return c
	}
	tests := []struct {
		name string
		in   string
		want FileConfig
		// errHas lists substrings of the error; empty means no error.
		errHas []string
		errIs  error
	}{
		{name: "empty file is the defaults", in: "", want: def},
		{name: "comments only", in: "# nothing\n", want: def},
		{name: "empty sections", in: "server:\ntiles:\n", want: def},
		{
			name: "valid file",
			in: `addr: 0.0.0.0:8080
data: /srv/data
crs: gcj02
strict: true
server:
  request_timeout: 1m30s
  max_body_bytes: 1024
geo:
  max_limit: 20000
  grid_layer: wangge
search:
  cjk: bigram
  zone_layers: []
  min_score: 0.4
tiles:
  extent: 8192
  buffer: 128
  cache_bytes: -1
  name: 两江新区
zones:
  uncertainty_m:
    road: 500
addresses:
  max_candidates: 10
`,
			want: with(func(c *FileConfig) {
				c.Addr, c.Data, c.CRS, c.Strict = "0.0.0.0:8080", "/srv/data", "gcj02", true
				c.Server.RequestTimeout, c.Server.MaxBodyBytes = 90*time.Second, 1024
				c.Geo.MaxLimit, c.Geo.GridLayer = 20000, "wangge"
				c.Search.CJK, c.Search.ZoneLayers, c.Search.MinScore = "bigram", []string{}, 0.4
				c.Tiles.Extent, c.Tiles.Buffer, c.Tiles.CacheBytes, c.Tiles.Name = 8192, 128, -1, "两江新区"
				c.Zones.UncertaintyM["road"] = 500
				c.Addresses.MaxCandidates = 10
			}),
		},
		{name: "zero means default", in: "geo:\n  max_limit: 0\nserver:\n  request_timeout: 0s\n", want: def},
		{
			name: "env expansion with defaults",
			in: `addr: "127.0.0.1:${MG_TEST_PORT:-8080}"
data: ${MG_TEST_UNSET:-/var/lib/marketgeo}
rules: ${MG_TEST_EMPTY:-rules.json}
server:
  request_timeout: ${MG_TEST_TIMEOUT}
tiles:
  extent: ${MG_TEST_EXTENT:-4096}
  max_points: ${MG_TEST_UNSET:-100}
  description: "costs $${PRICE}"
`,
			want: with(func(c *FileConfig) {
				c.Addr, c.Data, c.Rules = "127.0.0.1:9090", "/var/lib/marketgeo", "rules.json"
				c.Server.RequestTimeout = 45 * time.Second
				c.Tiles.Extent, c.Tiles.MaxPoints, c.Tiles.Description = 8192, 100, "costs ${PRICE}"
			}),
		},
		{name: "env in a comment is not expanded", in: "# ${MG_TEST_UNSET}\naddr: :8080 # ${MG_TEST_UNSET}\n", want: with(func(c *FileConfig) { c.Addr = ":8080" })},
		{name: "env unset", in: "data: ${MG_TEST_UNSET}\n", errHas: []string{"line 1", "data", "MG_TEST_UNSET"}, errIs: ErrEnvUnset},
		{name: "env bad reference", in: "data: ${1X}\n", errHas: []string{"line 1", "data", "${1X}"}},
		{name: "env unterminated", in: "data: ${X\n", errHas: []string{"data", "unterminated"}},
		{
			name:   "unknown top-level key",
			in:     "addr: :8080\nlisten: :9090\n",
			errHas: []string{"line 2", `listen`, "unknown key", "addr"}, errIs: ErrUnknownKey,
		},
		{
			name:   "unknown nested key",
			in:     "tiles:\n  extent: 4096\n  extnt: 4096\n",
			errHas: []string{"line 3", "tiles.extnt", "unknown key", "extent"}, errIs: ErrUnknownKey,
		},
		{name: "unknown precision", in: "zones:\n  uncertainty_m:\n    adress: 10\n", errHas: []string{"line 3", "zones.uncertainty_m.adress", "address"}, errIs: ErrUnknownKey},
		{name: "duplicate key", in: "geo:\n  max_limit: 10\n  max_limit: 20\n", errHas: []string{"line 3", "geo.max_limit", "duplicate", "line 2"}},
		{name: "bad duration", in: "server:\n  request_timeout: 30 seconds\n", errHas: []string{"line 2", "server.request_timeout", `"30 seconds"`, `"30s"`}},
		{name: "duration without unit", in: "server:\n  request_timeout: 30\n", errHas: []string{"line 2", "server.request_timeout", "invalid duration"}},
		{name: "negative duration", in: "server:\n  request_timeout: -1s\n", errHas: []string{"line 2", "server.request_timeout", "negative"}},
		{name: "bad CRS", in: "crs: utm50\n", errHas: []string{"line 1", "crs", `"utm50"`}},
		{name: "bad type", in: "geo:\n  max_limit: many\n", errHas: []string{"line 2", "geo.max_limit", "many"}},
		{name: "negative uint", in: "tiles:\n  extent: -1\n", errHas: []string{"line 2", "tiles.extent"}},
		{name: "section not a mapping", in: "tiles: 5\n", errHas: []string{"line 1", "tiles", "mapping"}},
		{name: "bad address", in: "addr: 8080\n", errHas: []string{"line 1", "addr", "host:port"}},
		{name: "negative number", in: "search:\n  candidates: -5\n", errHas: []string{"line 2", "search.candidates", "negative"}},
		{name: "bad CJK mode", in: "search:\n  cjk: trigram\n", errHas: []string{"line 2", "search.cjk", "trigram"}},
		{name: "cross-field", in: "geo:\n  default_limit: 20000\n", errHas: []string{"line 2", "geo.default_limit", "max_limit"}},
		{name: "score out of range", in: "addresses:\n  match_score: 1.5\n", errHas: []string{"line 2", "addresses.match_score"}},
		{name: "package check names the section", in: "tiles:\n  extent: 1000\n", errHas: []string{"line 1", "tiles", "extent 1000"}},
		{name: "two documents", in: "addr: :1\n---\naddr: :2\n", errHas: []string{"more than one"}},
		{name: "syntax error", in: "addr: [\n", errHas: []string{"config:", "yaml"}},
		{name: "merge cycle", in: "geo: &g\n  <<: *g\n", errHas: []string{"geo", "own mapping"}},
		{name: "merge bomb", in: "a: &a {geo: {max_limit: 5}}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n<<: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n", errHas: []string{"too many merged"}},
		{
			name: "anchors and merge keys",
			in:   "geo: &g\n  max_limit: 500\n  default_limit: 50\nsearch:\n  <<: *g\n  default_limit: 5\n",
			want: with(func(c *FileConfig) {
				c.Geo.MaxLimit, c.Geo.DefaultLimit = 500, 50
				c.Search.MaxLimit, c.Search.DefaultLimit = 500, 5
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if len(tt.errHas) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("Parse:\n got %+v\nwant %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", got)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ConfigError", err)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("error %q is not %v", err, tt.errIs)
			}
		})
	}
}

// The effective configuration printed by Marshal parses back to itself.
func TestMarshalRoundTrip(t *testing.T) {
	c := DefaultFileConfig()
	c.Addr, c.Strict, c.CRS = ":9000", true, "bd09"
	c.Server.RequestTimeout = 1500 * time.Millisecond
	c.Search.ZoneLayers = []string{}
	c.Tiles.CacheBytes = -1
	c.Tiles.Description = "${not an env reference} $${"
	c.Zones.UncertaintyM["town"] = 2500
	for _, cfg := range []FileConfig{DefaultFileConfig(), c} {
		b, err := cfg.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", got, cfg, b)
		}
	}
}

// The Options methods give the packages' DefaultOptions for the default
// configuration and carry every setting across.
func TestOptionsMethods(t *testing.T) {
	c := DefaultFileConfig()
	wantServer := DefaultOptions()
	wantServer.RateLimit, wantServer.RateBurst = BinaryRateLimit, BinaryRateBurst
	if got := c.ServerOptions(); !reflect.DeepEqual(got, wantServer) {
		t.Errorf("ServerOptions = %+v", got)
	}
	if got := c.GeoOptions(); got != geo.DefaultOptions() {
		t.Errorf("GeoOptions = %+v", got)
	}
	if got := c.SearchOptions(); !reflect.DeepEqual(got, search.DefaultOptions()) {
		t.Errorf("SearchOptions = %+v", got)
	}
	if got := c.TilesOptions(); !reflect.DeepEqual(got, tiles.DefaultOptions()) {
		t.Errorf("TilesOptions = %+v", got)
	}
	zo, err := c.ZoneOptions()
	if err != nil {
		t.Fatal(err)
	}
	wz := zoneid.DefaultOptions()
	wz.Rules = nil // nil: the default rules
	if !reflect.DeepEqual(zo, wz) {
		t.Errorf("ZoneOptions = %+v", zo)
	}
	if got := c.AddressOptions(); got != (addressmatch.DBOptions{MaxCandidates: 5, MatchScore: 0.85}) {
		t.Errorf("AddressOptions = %+v", got)
	}
	// The zero FileConfig is the default one.
	if !reflect.DeepEqual(FileConfig{}.withDefaults(), c) || (FileConfig{}).Validate() != nil {
		t.Error("the zero FileConfig is not the default")
	}
	// Settings carry across; the returned maps and slices are copies.
	c.Tiles.Extent, c.Search.CJK, c.Zones.UncertaintyM["road"] = 8192, "unigram", 10
	if c.TilesOptions().Extent != 8192 || c.SearchOptions().CJK != search.CJKUnigram {
		t.Error("settings lost")
	}
	zo, _ = c.ZoneOptions()
	zo.UncertaintyM[geo.PrecisionRoad] = 99
	so := c.SearchOptions()
	so.ZoneLayers[0] = "x"
	if c.Zones.UncertaintyM["road"] != 10 || c.Search.ZoneLayers[0] != "district" {
		t.Error("Options share maps or slices with the FileConfig")
	}
	// A rules file that does not exist is an error naming the key.
	c.Rules = filepath.Join(t.TempDir(), "none.json")
	if _, err := c.ZoneOptions(); err == nil || !strings.Contains(err.Error(), "rules") {
		t.Errorf("missing rules file: %v", err)
	}
}

// Every serialisable field of each package's Options has a field of the
// same name and kind in its section, and the reverse: a field added to an
// Options struct must be added here (and to the schema and example).
func TestSectionsMirrorOptions(t *testing.T) {
	pairs := []struct {
		section, options any
		skip             []string // serialisable but deliberately not configurable
	}{
		{ServerConfig{}, Options{}, nil},
		{GeoConfig{}, geo.Options{}, nil},
		{SearchConfig{}, search.Options{}, []string{"Background"}}, // serve always builds in the background
		{TilesConfig{}, tiles.Options{}, []string{"Fields"}},       // set by the profile (server.PublicFields), not configurable
		{ZonesConfig{}, zoneid.Options{}, nil},
		{AddressesConfig{}, addressmatch.DBOptions{}, nil},
	}
	serialisable := func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Func, reflect.Interface, reflect.Pointer, reflect.Chan, reflect.UnsafePointer:
			return false
		}
		return true
	}
	for _, p := range pairs {
		st, ot := reflect.TypeOf(p.section), reflect.TypeOf(p.options)
		for i := range ot.NumField() {
			f := ot.Field(i)
			if !f.IsExported() || !serialisable(f.Type) || slices.Contains(p.skip, f.Name) {
				continue
			}
			sf, ok := st.FieldByName(f.Name)
			if !ok {
				t.Errorf("%v.%s has no counterpart in %v", ot, f.Name, st)
				continue
			}
			if sf.Type.Kind() != f.Type.Kind() {
				t.Errorf("%v.%s is a %v, %v.%s a %v", ot, f.Name, f.Type, st, sf.Name, sf.Type)
			}
		}
		for i := range st.NumField() {
			if _, ok := ot.FieldByName(st.Field(i).Name); !ok {
				t.Errorf("%v.%s is not a field of %v", st, st.Field(i).Name, ot)
			}
		}
	}
}

// schemaNode is the part of JSON Schema that schemas/config.schema.json uses.
type schemaNode struct {
	Type                 any                    `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	Default              any                    `json:"default"`
	Pattern              string                 `json:"pattern"`
	Enum                 []any                  `json:"enum"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
	Description          string                 `json:"description"`
}

func (n *schemaNode) types() []string {
	switch v := n.Type.(type) {
	case string:
		return []string{v}
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, x.(string))
		}
		return s
	}
	return nil
}

// schemaType is the JSON Schema type of a FileConfig field.
func schemaType(ty reflect.Type) string {
	if ty == durationType {
		return "string"
	}
	switch ty.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice:
		return "array"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "integer"
}

// TestSchemaAgrees checks schemas/config.schema.json against FileConfig:
// the same keys (walked with reflect) with the same types, objects closed
// with additionalProperties false, and defaults equal to DefaultFileConfig.
func TestSchemaAgrees(t *testing.T) {
	b, err := os.ReadFile("../schemas/config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		Schema string `json:"$schema"`
		schemaNode
	}
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	if root.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", root.Schema)
	}
	// The defaults as the file would write them (durations as strings).
	y, err := DefaultFileConfig().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(y, &defaults); err != nil {
		t.Fatal(err)
	}

	structKeys := map[string]bool{}
	var walk func(ty reflect.Type, n *schemaNode, def any, path string)
	walk = func(ty reflect.Type, n *schemaNode, def any, path string) {
		if n == nil {
			t.Errorf("%s: in FileConfig, not in the schema", path)
			return
		}
		if want := schemaType(ty); !slices.Contains(n.types(), want) {
			t.Errorf("%s: schema type %v, FileConfig type %v (%s)", path, n.Type, ty, want)
		}
		if ty.Kind() == reflect.Struct && ty != durationType || ty.Kind() == reflect.Map {
			if n.AdditionalProperties == nil || *n.AdditionalProperties {
				t.Errorf("%s: schema object without additionalProperties: false", path)
			}
			defMap, _ := def.(map[string]any)
			var keys []string
			if ty.Kind() == reflect.Struct {
				for i := range ty.NumField() {
					f := ty.Field(i)
					k := yamlKey(f)
					keys = append(keys, k)
					walk(f.Type, n.Properties[k], defMap[k], joinKey(path, k))
				}
			} else { // zones.uncertainty_m: keyed by the configurable precisions
				keys = uncertaintyPrecisions
				for _, k := range keys {
					walk(ty.Elem(), n.Properties[k], defMap[k], joinKey(path, k))
				}
			}
			for k := range n.Properties {
				if !slices.Contains(keys, k) {
					t.Errorf("%s: in the schema, not in FileConfig", joinKey(path, k))
				}
			}
			return
		}
		structKeys[path] = true
		// Leaves: the schema's default is the configuration's.
		dj, _ := json.Marshal(def)
		sj, _ := json.Marshal(n.Default)
		if string(dj) != string(sj) {
			t.Errorf("%s: schema default %s, DefaultFileConfig %s", path, sj, dj)
		}
		if n.Description == "" {
			t.Errorf("%s: no description in the schema", path)
		}
		if n.Pattern != "" {
			if s, _ := def.(string); !regexp.MustCompile(n.Pattern).MatchString(s) {
				t.Errorf("%s: default %q does not match the schema pattern", path, s)
			}
		}
		if n.Enum != nil && !slices.Contains(n.Enum, def) {
			t.Errorf("%s: default %v not in the schema enum", path, def)
		}
		if f, ok := def.(float64); ok && (n.Minimum != nil && f < *n.Minimum || n.Maximum != nil && f > *n.Maximum) {
			t.Errorf("%s: default %v out of the schema range", path, f)
		}
		if i, ok := def.(int); ok && (n.Minimum != nil && float64(i) < *n.Minimum || n.Maximum != nil && float64(i) > *n.Maximum) {
			t.Errorf("%s: default %v out of the schema range", path, i)
		}
	}
	walk(reflect.TypeFor[FileConfig](), &root.schemaNode, defaults, "")
	if len(structKeys) < 40 {
		t.Errorf("only %d leaf keys walked", len(structKeys))
	}
	// Every duration field has a pattern.
	for _, k := range []string{"request_timeout"} {
		if root.Properties["server"].Properties[k].Pattern == "" {
			t.Errorf("server.%s: no duration pattern", k)
		}
	}
}

// docs/config.example.yaml parses, and as written it is the default
// configuration (so its comments' defaults are right).
func TestExampleFile(t *testing.T) {
	t.Setenv("MARKETGEO_ADDR", "")
	c, err := Load("../docs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, DefaultFileConfig()) {
		t.Fatalf("the example is not the default configuration:\n got %+v\nwant %+v", c, DefaultFileConfig())
	}
	t.Setenv("MARKETGEO_ADDR", "0.0.0.0:80")
	if c, err = Load("../docs/config.example.yaml"); err != nil || c.Addr != "0.0.0.0:80" {
		t.Fatalf("MARKETGEO_ADDR not applied: %v %q", err, c.Addr)
	}
	// Every key of the configuration appears in the example.
	y, _ := DefaultFileConfig().Marshal()
	ex, _ := os.ReadFile("../docs/config.example.yaml")
	for _, line := range strings.Split(string(y), "\n") {
		if k, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "-") {
			if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(k) + `:`).Match(ex) {
				t.Errorf("key %q missing from the example", k)
			}
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func FuzzParseConfig(f *testing.F) {
	ex, _ := os.ReadFile("../docs/config.example.yaml")
	f.Add(string(ex))
	f.Add("tiles:\n  extent: ${X:-4096}\n")
	f.Add("a: &a [*a]\n")
	f.Add("geo: &g\n  <<: *g\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid config: %v", err)
		}
	})
}
