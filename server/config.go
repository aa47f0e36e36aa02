package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geo/region"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
	"gopkg.in/yaml.v3"
)

// FileConfig is the configuration file of `marketgeo serve` (YAML; see
// docs/config.example.yaml and schemas/config.schema.json). Its top-level
// keys are the serve flags; each section holds the serialisable fields of
// one package's Options, under the same names in snake_case. The zero value
// of every field means the default of the flag or Options field it mirrors;
// [DefaultFileConfig] returns them filled in.
//
// Obtain one with [Parse] or [Load], or build one in Go and call Validate.
type FileConfig struct {
	// Addr is the listen address (--addr). Default "127.0.0.1:8080".
	Addr string `yaml:"addr"`
	// Data is the data directory (--data). Default "": the embedded demo
	// region. With a store, it is imported into the store (once per
	// content: an unchanged directory is not imported again).
	Data string `yaml:"data"`
	// Store is the store file (--store): a GeoPackage that keeps every
	// write, or ":memory:" for none. Default "": marketgeo.gpkg in the
	// user's data directory ($XDG_DATA_HOME/marketgeo, else
	// ~/.local/share/marketgeo).
	Store string `yaml:"store"`
	// CRS is the coordinate system of the files in Data (--crs): wgs84,
	// gcj02 or bd09 (and the aliases of crs.Parse). Default "wgs84".
	CRS string `yaml:"crs"`
	// Strict rejects a whole data file at its first bad record (--strict).
	Strict bool `yaml:"strict"`
	// Rules is the siting rules JSON file (--rules). Default "": the
	// embedded demo rules.
	Rules string `yaml:"rules"`
	// Region is the directory of the region's NBS division tables
	// (--region; region.LoadDir: provinces.csv … villages.csv, aliases.csv),
	// the dictionary search and the address parser are given. Default "":
	// the demo's Chongqing (demo.Region).
	Region string `yaml:"region"`
	// Tokens is the tokens file of the internal profile (--tokens; lines
	// "SCOPE NAME TOKEN [EXPIRES]", see [ParseTokens] and docs/security.md).
	// Default "": no tokens (reads open, writes refused).
	Tokens string `yaml:"tokens"`

	// Server holds the serialisable fields of this package's [Options].
	Server ServerConfig `yaml:"server"`
	// Geo holds those of [geo.Options].
	Geo GeoConfig `yaml:"geo"`
	// Search holds those of [search.Options].
	Search SearchConfig `yaml:"search"`
	// Tiles holds those of [tiles.Options].
	Tiles TilesConfig `yaml:"tiles"`
	// Zones holds those of [zoneid.Options].
	Zones ZonesConfig `yaml:"zones"`
	// Addresses holds those of [addressmatch.DBOptions].
	Addresses AddressesConfig `yaml:"addresses"`
	// Parser holds those of [addressmatch.Options]: the address parser,
	// whose MaxRunes is also the server's address length limit.
	Parser ParserConfig `yaml:"parser"`
}

// ServerConfig is the file form of [Options]; see its fields for the defaults.
type ServerConfig struct {
	RequestTimeout       time.Duration `yaml:"request_timeout"`
	MaxBodyBytes         int64         `yaml:"max_body_bytes"`
	MaxBatchBodyBytes    int64         `yaml:"max_batch_body_bytes"`
	MaxFeatureBodyBytes  int64         `yaml:"max_feature_body_bytes"`
	MaxBulkBodyBytes     int64         `yaml:"max_bulk_body_bytes"`
	MaxConcurrentBatches int           `yaml:"max_concurrent_batches"`
	// Profile: internal or public (--profile).
	Profile           string        `yaml:"profile"`
	OpenPaths         []string      `yaml:"open_paths"`
	CORSOrigins       []string      `yaml:"cors_origins"`
	RateLimit         float64       `yaml:"rate_limit"`
	RateBurst         int           `yaml:"rate_burst"`
	PublicBaseURL     string        `yaml:"public_base_url"`
	TrustedProxies    []string      `yaml:"trusted_proxies"`
	WebMapOrigins     []string      `yaml:"webmap_origins"`
	MetricsClients    []string      `yaml:"metrics_clients"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// AnswerCacheBytes: 0 (default) for no cache of encoded features.
	AnswerCacheBytes int64 `yaml:"answer_cache_bytes"`
}

// GeoConfig is the file form of [geo.Options]; see its fields for the defaults.
type GeoConfig struct {
	DefaultLimit int     `yaml:"default_limit"`
	MaxLimit     int     `yaml:"max_limit"`
	MaxRadiusM   float64 `yaml:"max_radius_m"`
	MaxVertices  int     `yaml:"max_vertices"`
	GridLayer    string  `yaml:"grid_layer"`
	ZoneCells    int     `yaml:"zone_cells"`
	RepackChurn  int     `yaml:"repack_churn"`
}

// SearchConfig is the file form of [search.Options]; see its fields for the
// defaults. Background is not configurable: serve always builds the search
// index in the background.
type SearchConfig struct {
	CJK string `yaml:"cjk"`
	// ZoneLayers: absent means the default layers; [] means none.
	ZoneLayers       []string `yaml:"zone_layers"`
	DefaultLimit     int      `yaml:"default_limit"`
	MaxLimit         int      `yaml:"max_limit"`
	Candidates       int      `yaml:"candidates"`
	MinScore         float64  `yaml:"min_score"`
	MinRelativeScore float64  `yaml:"min_relative_score"`
	MaxRadiusM       float64  `yaml:"max_radius_m"`
	DistanceScaleM   float64  `yaml:"distance_scale_m"`
	BatchSize        int      `yaml:"batch_size"`
	CompactAfter     int      `yaml:"compact_after"`
}

// TilesConfig is the file form of [tiles.Options]; see its fields for the defaults.
type TilesConfig struct {
	Extent            uint32  `yaml:"extent"`
	Buffer            uint32  `yaml:"buffer"`
	MaxZoom           int     `yaml:"max_zoom"`
	DataMaxZoom       int     `yaml:"data_max_zoom"`
	ClusterMaxZoom    int     `yaml:"cluster_max_zoom"`
	ClusterCell       uint32  `yaml:"cluster_cell"`
	MaxPoints         int     `yaml:"max_points"`
	BuildingMinZoom   int     `yaml:"building_min_zoom"`
	SimplifyTolerance float64 `yaml:"simplify_tolerance"`
	// CacheBytes: negative disables the tile cache.
	CacheBytes  int64  `yaml:"cache_bytes"`
	Name        string `yaml:"name"`
	Attribution string `yaml:"attribution"`
	Description string `yaml:"description"`
}

// ZonesConfig is the file form of [zoneid.Options]; see its fields for the
// defaults. The rules file is the top-level Rules; the geocoder is a
// dependency, not configuration.
type ZonesConfig struct {
	FTZLayer string `yaml:"ftz_layer"`
	// UncertaintyM is keyed by precision: address, building, road, town.
	// Precisions absent keep their defaults.
	UncertaintyM map[string]float64 `yaml:"uncertainty_m"`
}

// AddressesConfig is the file form of [addressmatch.DBOptions]; see its
// fields for the defaults (the parser is not configurable).
type AddressesConfig struct {
	MaxCandidates int     `yaml:"max_candidates"`
	MatchScore    float64 `yaml:"match_score"`
}

// ParserConfig is the file form of [addressmatch.Options]; see its fields
// for the defaults. MaxRunes is the longest address any endpoint accepts.
type ParserConfig struct {
	SkipCommunities bool `yaml:"skip_communities"`
	MaxRunes        int  `yaml:"max_runes"`
}

// uncertaintyPrecisions are the keys of zones.uncertainty_m: the precisions
// whose uncertainty is configurable (point is always 0; district, city and
// none are always uncertain).
var uncertaintyPrecisions = []string{
	string(geo.PrecisionAddress), string(geo.PrecisionBuilding),
	string(geo.PrecisionRoad), string(geo.PrecisionTown),
}

// maxConfigBytes caps the size of a configuration file.
const maxConfigBytes = 1 << 20

// ErrUnknownKey is the error of a key that the configuration does not have.
var ErrUnknownKey = errors.New("unknown key")

// ErrEnvUnset is the error of a ${VAR} reference to an unset environment
// variable (write ${VAR:-default} to allow it).
var ErrEnvUnset = errors.New("environment variable not set")

// ConfigError is an error in a configuration: the key it concerns (dotted
// path, e.g. "tiles.extent"; empty for syntax errors) and, when known, its
// line in the file.
type ConfigError struct {
	Line int
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	msg := e.Err.Error()
	if e.Key != "" && !strings.HasPrefix(msg, e.Key+": ") {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// DefaultFileConfig returns the configuration with every default filled in:
// what `marketgeo serve` runs with when given no file and no flags.
func DefaultFileConfig() FileConfig { return FileConfig{}.withDefaults() }

// defaultSections is the configuration of the packages' Default…Options:
// every default of a section comes from its package, none is copied here.
func defaultSections() FileConfig {
	c := FileConfig{
		Addr: "127.0.0.1:8080",
		CRS:  "wgs84",
	}
	copyFields(&c.Server, DefaultOptions())
	// The binary faces clients: it limits each unless configured (the
	// library's Options leave that to the embedder).
	c.Server.RateLimit, c.Server.RateBurst = BinaryRateLimit, BinaryRateBurst
	copyFields(&c.Geo, geo.DefaultOptions())
	copyFields(&c.Search, search.DefaultOptions())
	copyFields(&c.Tiles, tiles.DefaultOptions())
	copyFields(&c.Zones, zoneid.DefaultOptions())
	copyFields(&c.Addresses, addressmatch.DefaultDBOptions())
	copyFields(&c.Parser, addressmatch.DefaultOptions())
	return c
}

// copyFields sets each field of the struct *dst to the field of the same
// name of the struct src, converting named types (search.CJKMode ↔ string,
// map[zoneid.Precision]float64 ↔ map[string]float64) and copying slices
// and maps. Fields of dst that src lacks are left alone, as are fields that
// cannot be converted (none: TestSectionsMirrorOptions checks the pairs).
func copyFields(dst, src any) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src)
	for i := range dv.NumField() {
		sf := sv.FieldByName(dv.Type().Field(i).Name)
		if !sf.IsValid() {
			continue
		}
		df := dv.Field(i)
		switch {
		case df.Kind() == reflect.Map && sf.Kind() == reflect.Map:
			if sf.IsNil() {
				df.SetZero()
				continue
			}
			m := reflect.MakeMapWithSize(df.Type(), sf.Len())
			for _, k := range sf.MapKeys() {
				m.SetMapIndex(k.Convert(df.Type().Key()), sf.MapIndex(k).Convert(df.Type().Elem()))
			}
			df.Set(m)
		case df.Kind() == reflect.Slice && sf.Kind() == reflect.Slice:
			if sf.IsNil() {
				df.SetZero()
				continue
			}
			sl := reflect.MakeSlice(df.Type(), sf.Len(), sf.Len())
			for j := range sf.Len() {
				sl.Index(j).Set(sf.Index(j).Convert(df.Type().Elem()))
			}
			df.Set(sl)
		case sf.Type().ConvertibleTo(df.Type()):
			df.Set(sf.Convert(df.Type()))
		}
	}
}

// withDefaults fills every zero field with its default. Maps are merged
// with their defaults key by key; a nil slice takes the default, an empty
// one stays empty.
func (c FileConfig) withDefaults() FileConfig {
	fillZero(reflect.ValueOf(&c).Elem(), reflect.ValueOf(defaultSections()))
	return c
}

func fillZero(dst, def reflect.Value) {
	switch dst.Kind() {
	case reflect.Struct:
		for i := range dst.NumField() {
			fillZero(dst.Field(i), def.Field(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(dst.Type())
		for _, k := range def.MapKeys() {
			m.SetMapIndex(k, def.MapIndex(k))
		}
		for _, k := range dst.MapKeys() {
			m.SetMapIndex(k, dst.MapIndex(k))
		}
		dst.Set(m)
	case reflect.Slice:
		if dst.IsNil() && !def.IsNil() {
			dst.Set(reflect.AppendSlice(reflect.MakeSlice(def.Type(), 0, def.Len()), def))
		}
	default:
		if dst.IsZero() {
			dst.Set(def)
		}
	}
}

// ServerOptions returns the server's Options, defaults filled in. Like the
// other Options methods it returns fresh maps and slices.
func (c FileConfig) ServerOptions() Options {
	var o Options
	copyFields(&o, c.withDefaults().Server)
	return o
}

// GeoOptions returns the options of the geo index.
func (c FileConfig) GeoOptions() geo.Options {
	var o geo.Options
	copyFields(&o, c.withDefaults().Geo)
	return o
}

// SearchOptions returns the options of the search index (Background false:
// the caller chooses).
func (c FileConfig) SearchOptions() search.Options {
	var o search.Options
	copyFields(&o, c.withDefaults().Search)
	return o
}

// TilesOptions returns the options of the tile renderer.
func (c FileConfig) TilesOptions() tiles.Options {
	var o tiles.Options
	copyFields(&o, c.withDefaults().Tiles)
	return o
}

// ZoneOptions returns the options of the zone identifier, with the siting
// rules read from the Rules file when one is given (nil otherwise: no
// rules; `marketgeo serve` then uses the demo's). The Geocoder is left nil
// for the caller.
func (c FileConfig) ZoneOptions() (zoneid.Options, error) {
	var o zoneid.Options
	copyFields(&o, c.withDefaults().Zones)
	if c.Rules != "" {
		rs, err := zoneid.LoadRules(c.Rules)
		if err != nil {
			return zoneid.Options{}, &ConfigError{Key: "rules", Err: err}
		}
		o.Rules = rs
	}
	return o, nil
}

// RegionDict returns the dictionary of the Region directory, or nil when
// none is given (`marketgeo serve` then passes the demo's). Errors are a
// *ConfigError for the key region.
func (c FileConfig) RegionDict() (*region.Dict, error) {
	if c.Region == "" {
		return nil, nil
	}
	d, err := region.LoadDir(c.Region, filepath.Base(filepath.Clean(c.Region)))
	if err != nil {
		return nil, &ConfigError{Key: "region", Err: err}
	}
	return d, nil
}

// AddressOptions returns the options of the address database (Parser nil:
// the caller builds it with ParserOptions).
func (c FileConfig) AddressOptions() addressmatch.DBOptions {
	var o addressmatch.DBOptions
	copyFields(&o, c.withDefaults().Addresses)
	return o
}

// ParserOptions returns the options of the address parser (Region nil:
// the caller passes its region).
func (c FileConfig) ParserOptions() addressmatch.Options {
	var o addressmatch.Options
	copyFields(&o, c.withDefaults().Parser)
	return o
}

// Validate reports the first setting that cannot work as a *ConfigError
// naming its key. Zero values are defaults and always valid.
func (c FileConfig) Validate() error {
	c = c.withDefaults()
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return &ConfigError{Key: "addr", Err: fmt.Errorf("listen address %q: want host:port", c.Addr)}
	}
	if _, err := crs.Parse(c.CRS); err != nil {
		return &ConfigError{Key: "crs", Err: err}
	}
	if err := nonNegative(reflect.ValueOf(c), "", "tiles.cache_bytes", "server.rate_limit"); err != nil {
		return err
	}
	check := func(key string, bad bool, format string, args ...any) error {
		if bad {
			return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
		}
		return nil
	}
	s, z, a := c.Search, c.Zones, c.Addresses
	for _, err := range []error{
		check("geo.default_limit", c.Geo.DefaultLimit > c.Geo.MaxLimit, "%d exceeds geo.max_limit %d", c.Geo.DefaultLimit, c.Geo.MaxLimit),
		check("search.cjk", !slices.Contains([]search.CJKMode{search.CJKBigramUnigram, search.CJKBigram, search.CJKUnigram}, search.CJKMode(s.CJK)),
			"unknown mode %q (want %s, %s or %s)", s.CJK, search.CJKBigramUnigram, search.CJKBigram, search.CJKUnigram),
		check("search.default_limit", s.DefaultLimit > s.MaxLimit, "%d exceeds search.max_limit %d", s.DefaultLimit, s.MaxLimit),
		check("search.min_score", s.MinScore > 1, "%v must be in [0, 1]", s.MinScore),
		check("search.min_relative_score", s.MinRelativeScore > 1, "%v must be in [0, 1]", s.MinRelativeScore),
		check("geo.zone_cells", c.Geo.ZoneCells < 1024 || c.Geo.ZoneCells > 1<<26, "%d must be in [1024, %d]", c.Geo.ZoneCells, 1<<26),
		check("addresses.max_candidates", a.MaxCandidates > 1000, "%d must be in [1, 1000]", a.MaxCandidates),
		check("addresses.match_score", a.MatchScore > 1, "%v must be in [0, 1]", a.MatchScore),
	} {
		if err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(z.UncertaintyM)) {
		key := "zones.uncertainty_m." + k
		if !slices.Contains(uncertaintyPrecisions, k) {
			return &ConfigError{Key: key, Err: fmt.Errorf("%w: precision %q (want %s)", ErrUnknownKey, k, strings.Join(uncertaintyPrecisions, ", "))}
		}
		if v := z.UncertaintyM[k]; v > 100_000 {
			return &ConfigError{Key: key, Err: fmt.Errorf("%v must be in [0, 100000] metres", v)}
		}
	}
	// The packages' own checks (cross-field ones such as the tile buffer
	// against the extent), named by section.
	zo, _ := FileConfig{Zones: z, Geo: c.Geo}.ZoneOptions() // no rules file: no error
	for _, sec := range []struct {
		key string
		err error
	}{
		{"server", c.ServerOptions().Validate()},
		{"geo", c.GeoOptions().Validate()},
		{"search", c.SearchOptions().Validate()},
		{"tiles", c.TilesOptions().Validate()},
		{"zones", zo.Validate()},
		{"addresses", c.AddressOptions().Validate()},
		{"parser", c.ParserOptions().Validate()},
	} {
		if sec.err != nil {
			return &ConfigError{Key: sec.key, Err: sec.err}
		}
	}
	return nil
}

// nonNegative reports the first negative number of v (a FileConfig or one
// of its sections), except at the keys of except.
func nonNegative(v reflect.Value, path string, except ...string) error {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if err := nonNegative(v.Field(i), joinKey(path, yamlKey(v.Type().Field(i))), except...); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if err := nonNegative(v.MapIndex(k), joinKey(path, k.String()), except...); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int64:
		if v.Int() < 0 && !slices.Contains(except, path) {
			return &ConfigError{Key: path, Err: fmt.Errorf("%v must not be negative", v.Interface())}
		}
	case reflect.Float64:
		if (v.Float() < 0 || math.IsNaN(v.Float())) && !slices.Contains(except, path) {
			return &ConfigError{Key: path, Err: fmt.Errorf("%v must not be negative", v.Float())}
		}
	}
	return nil
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Load reads the configuration file at path; see [Parse].
func Load(path string) (FileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileConfig{}, err
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return FileConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a YAML configuration, fills in the defaults and validates it.
//
// In every value, ${VAR} is replaced by the environment variable VAR (an
// error if it is unset) and ${VAR:-default} by VAR, or default when VAR is
// unset or empty; $${ stands for a literal ${. Comments and keys are not
// expanded. Unknown keys are an error, as are duplicate keys and a second
// YAML document. Errors are *ConfigError naming the key and line.
func Parse(r io.Reader) (FileConfig, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return FileConfig{}, err
	}
	if len(b) > maxConfigBytes {
		return FileConfig{}, &ConfigError{Err: fmt.Errorf("file larger than %d bytes", maxConfigBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return FileConfig{}, &ConfigError{Err: err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return FileConfig{}, &ConfigError{Line: extra.Line, Err: errors.New("more than one YAML document")}
	}
	var c FileConfig
	d := decoder{lines: map[string]int{}, expanded: map[*yaml.Node]bool{}, active: map[*yaml.Node]bool{}, budget: 1000, lookup: os.LookupEnv}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		if err := d.decode(doc.Content[0], reflect.ValueOf(&c).Elem(), ""); err != nil {
			return FileConfig{}, err
		}
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Line == 0 {
			// The line of the key, else of its nearest enclosing key.
			for k := ce.Key; k != "" && ce.Line == 0; {
				ce.Line = d.lines[k]
				i := strings.LastIndexByte(k, '.')
				if i < 0 {
					break
				}
				k = k[:i]
			}
		}
		return FileConfig{}, err
	}
	return c, nil
}

// Marshal returns the configuration as YAML, in the form Parse reads: a
// literal ${ in a value is written $${, so the output parses back to c.
func (c FileConfig) Marshal() ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return nil, err
	}
	escapeEnv(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func escapeEnv(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		n.Value = strings.ReplaceAll(n.Value, "${", "$${")
	}
	for _, c := range n.Content {
		escapeEnv(c)
	}
}

// decoder fills a FileConfig from a YAML node tree, checking the keys
// against the struct's yaml tags and expanding environment references.
type decoder struct {
	lines    map[string]int // key path → line
	expanded map[*yaml.Node]bool
	active   map[*yaml.Node]bool // mappings being decoded (merge cycles)
	budget   int                 // mappings left to decode (merge bombs)
	lookup   func(string) (string, bool)
}

var durationType = reflect.TypeFor[time.Duration]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.Kind() != reflect.Struct {
		return d.leaf(n, v, path)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // "section:" with nothing under it
	}
	if n.Kind != yaml.MappingNode {
		return &ConfigError{Line: n.Line, Key: path, Err: errors.New("want a mapping of keys")}
	}
	if d.active[n] {
		return &ConfigError{Line: n.Line, Key: path, Err: errors.New("merge key (<<) includes its own mapping")}
	}
	if d.budget--; d.budget < 0 {
		return &ConfigError{Line: n.Line, Key: path, Err: errors.New("too many merged mappings")}
	}
	d.active[n] = true
	defer delete(d.active, n)
	fields := map[string]int{}
	var known []string
	for i := range v.NumField() {
		k := yamlKey(v.Type().Field(i))
		fields[k] = i
		known = append(known, k)
	}
	// Merge keys (<<: *anchor) first, so that explicit keys override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "<<" && k.ShortTag() == "!!merge" {
			val := n.Content[i+1]
			if val.Kind == yaml.AliasNode {
				val = val.Alias
			}
			srcs := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				srcs = val.Content
			}
			for _, s := range srcs {
				if err := d.decode(s, v, path); err != nil {
					return err
				}
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			continue
		}
		key := joinKey(path, k.Value)
		if l, dup := seen[k.Value]; dup {
			return &ConfigError{Line: k.Line, Key: key, Err: fmt.Errorf("duplicate key (first at line %d)", l)}
		}
		seen[k.Value] = k.Line
		fi, ok := fields[k.Value]
		if !ok {
			return &ConfigError{Line: k.Line, Key: key, Err: fmt.Errorf("%w (known keys here: %s)", ErrUnknownKey, strings.Join(known, ", "))}
		}
		d.lines[key] = k.Line
		if err := d.decode(val, v.Field(fi), key); err != nil {
			return err
		}
	}
	return nil
}

// leaf decodes a value that is not a section: a scalar, or the list or map
// of a field such as search.zone_layers.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) error {
	if err := d.expand(n, path); err != nil {
		return err
	}
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			return &ConfigError{Line: n.Line, Key: path, Err: errors.New("want a duration such as \"30s\"")}
		}
		if n.ShortTag() == "!!null" || n.Value == "" {
			v.SetInt(0)
			return nil
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			return &ConfigError{Line: n.Line, Key: path, Err: fmt.Errorf("invalid duration %q: want a Go duration such as \"30s\" or \"1m30s\"", n.Value)}
		}
		v.SetInt(int64(dur))
		return nil
	}
	if v.Kind() == reflect.Map && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.lines[joinKey(path, n.Content[i].Value)] = n.Content[i].Line
		}
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			line := n.Line
			if rest, ok := strings.CutPrefix(msg, "line "); ok {
				if i := strings.Index(rest, ": "); i > 0 {
					fmt.Sscan(rest[:i], &line)
					msg = rest[i+2:]
				}
			}
			return &ConfigError{Line: line, Key: path, Err: errors.New(msg)}
		}
		return &ConfigError{Line: n.Line, Key: path, Err: err}
	}
	return nil
}

// expand replaces the environment references in the scalars of n.
func (d *decoder) expand(n *yaml.Node, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.expanded[n] {
		return nil
	}
	d.expanded[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := d.expand(c, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := d.expand(n.Content[i], joinKey(path, n.Content[i-1].Value)); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		s, err := expandEnv(n.Value, d.lookup)
		if err != nil {
			return &ConfigError{Line: n.Line, Key: path, Err: err}
		}
		n.Value = s
		if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			n.Tag = "" // a plain scalar: resolve the expanded value (30, true, …) afresh
		}
	}
	return nil
}

// expandEnv replaces ${VAR} and ${VAR:-default} in s; $${ is a literal ${.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
			continue
		case !strings.HasPrefix(s[i:], "${"):
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		expr := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("bad reference ${%s}: want ${NAME} or ${NAME:-default}", expr)
		}
		val, ok := lookup(name)
		switch {
		case hasDef && val == "":
			val = def
		case !ok:
			return "", fmt.Errorf("%w: %s (write ${%s:-default} to give a default)", ErrEnvUnset, name, name)
		}
		b.WriteString(val)
		i += 2 + end + 1
	}
	return b.String(), nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
