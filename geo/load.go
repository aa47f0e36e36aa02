package geo

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// LoadOptions configure the readers of CSV and GeoJSON files.
type LoadOptions struct {
	// Strict rejects the whole input at its first bad record. By default a
	// bad record is skipped and reported, and the rest is loaded.
	Strict bool
	// CRS is the coordinate system of the input; coordinates are converted
	// to WGS-84 on reading. Default WGS84.
	CRS crs.CRS
	// MaxBytes caps the input size. Default 4 GiB.
	MaxBytes int64
	// MaxVertices caps the vertices of one geometry. Default 1,000,000.
	MaxVertices int
	// MaxErrors caps the errors kept in the report (all are counted).
	// Default 1000.
	MaxErrors int
	// Layer is the zone layer given to zones whose features have no
	// "layer" property.
	Layer string
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.CRS == "" {
		o.CRS = crs.WGS84
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 30
	}
	if o.MaxVertices == 0 {
		o.MaxVertices = 1_000_000
	}
	if o.MaxErrors == 0 {
		o.MaxErrors = 1000
	}
	return o
}

// LoadReport summarises the reading of one input: what was loaded, what
// was rejected and why. Nothing is dropped without an entry here.
type LoadReport struct {
	Source   string        `json:"source"`
	Layer    Layer         `json:"layer"`
	Loaded   int           `json:"loaded"`
	Rejected int           `json:"rejected"`
	Errors   []*FieldError `json:"-"`
}

func (r *LoadReport) reject(o LoadOptions, e *FieldError) error {
	r.Rejected++
	if len(r.Errors) < o.MaxErrors {
		r.Errors = append(r.Errors, e)
	}
	if o.Strict {
		return fmt.Errorf("%s: %w", r.Source, e)
	}
	return nil
}

// String is a one-line summary followed by the kept errors, one a line.
func (r *LoadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %d loaded, %d rejected", r.Source, r.Layer, r.Loaded, r.Rejected)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\n  %s", e)
	}
	if r.Rejected > len(r.Errors) {
		fmt.Fprintf(&b, "\n  … and %d more", r.Rejected-len(r.Errors))
	}
	return b.String()
}

// EntityCSVColumns are the columns of the entity CSV format, in the order
// WriteEntitiesCSV writes them. id, name, lon and lat are required; any
// other column is kept in Attrs.
var EntityCSVColumns = []string{"id", "name", "short_name", "former_names", "address", "lon", "lat", "industry", "status", "risk", "building_id", "grid_id", "registered_at", "annual_report", "abnormal", "blacklisted"}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "f", "no", "n", "否":
		return false, nil
	case "1", "true", "t", "yes", "y", "是":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false, 1/0, 是/否)", s)
}

func parseCoord(s, field string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s %q is not a number", field, s)
	}
	return v, nil
}

type limitedReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, fmt.Errorf("%w: input exceeds %d bytes", ErrTooLarge, l.max)
	}
	if int64(len(p)) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// ReadEntitiesCSV reads entities from CSV with a header row naming the
// columns (see EntityCSVColumns; order free, unknown columns go to Attrs).
// Each entity is validated; bad rows are reported with their row number
// (the header is row 1), column and reason. The error is non-nil only for
// an unreadable input, a missing required column, or any bad row in Strict
// mode (then no entity is returned).
func ReadEntitiesCSV(r io.Reader, source string, opts LoadOptions) ([]Entity, *LoadReport, error) {
	ptrs, rep, err := readEntityRows(context.Background(), r, source, opts.withDefaults())
	if err != nil {
		return nil, rep, err
	}
	out := make([]Entity, len(ptrs))
	for i, e := range ptrs {
		out[i] = *e
	}
	return out, rep, nil
}

// parseDate parses YYYY-MM-DD, as time.Parse("2006-01-02", d) does, with
// a fast path for the well-formed case.
func parseDate(d string) (time.Time, error) {
	if len(d) == 10 && d[4] == '-' && d[7] == '-' {
		n := func(s string) int {
			v := 0
			for i := 0; i < len(s); i++ {
				if s[i] < '0' || s[i] > '9' {
					return -1
				}
				v = v*10 + int(s[i]-'0')
			}
			return v
		}
		y, m, dd := n(d[:4]), n(d[5:7]), n(d[8:])
		if y >= 0 && m >= 1 && m <= 12 && dd >= 1 {
			t := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC)
			if t.Day() == dd { // not normalised into the next month
				return t, nil
			}
		}
	}
	return time.Parse("2006-01-02", d)
}

// entityFromFields builds and validates an entity from named text fields.
func entityFromFields(get func(string) string, o LoadOptions, in interner) (Entity, *FieldError) {
	// values repeated across many entities share one copy
	e := Entity{ID: strings.ToUpper(get("id")), Name: get("name"), ShortName: get("short_name"), Address: get("address"),
		Industry: in.intern(strings.ToUpper(get("industry"))), BuildingID: in.intern(get("building_id")), GridID: in.intern(get("grid_id"))}
	bad := func(field string, sentinel error, format string, args ...any) (Entity, *FieldError) {
		return Entity{}, &FieldError{Index: -1, ID: e.ID, Field: field, Reason: fmt.Sprintf(format, args...), Err: sentinel}
	}
	if fn := get("former_names"); fn != "" {
		e.FormerNames = strings.Split(fn, "|")
	}
	lon, err := parseCoord(get("lon"), "lon")
	if err != nil {
		return bad("lon", ErrInvalidCoordinate, "%v", err)
	}
	lat, err := parseCoord(get("lat"), "lat")
	if err != nil {
		return bad("lat", ErrInvalidCoordinate, "%v", err)
	}
	if lon < -180 || lon > 180 {
		return bad("lon", ErrInvalidCoordinate, "longitude %v outside [-180, 180]", lon)
	}
	if lat < -90 || lat > 90 {
		return bad("lat", ErrInvalidCoordinate, "latitude %v outside [-90, 90]", lat)
	}
	lon, lat = crs.ToWGS84(o.CRS, lon, lat)
	e.Location = orb.Point{lon, lat}
	var perr error
	if e.Status, perr = ParseStatus(get("status")); perr != nil {
		return bad("status", ErrInvalidFeature, "%v", perr)
	}
	if e.Risk, perr = ParseRisk(get("risk")); perr != nil {
		return bad("risk", ErrInvalidFeature, "%v", perr)
	}
	if d := get("registered_at"); d != "" {
		t, err := parseDate(d)
		if err != nil {
			return bad("registered_at", ErrInvalidFeature, "%q is not a date YYYY-MM-DD", d)
		}
		e.RegisteredAt = t
	}
	// one at a time: pointers into e would move it to the heap
	var flags [3]bool
	for i, name := range [3]string{"annual_report", "abnormal", "blacklisted"} {
		v, err := parseBool(get(name))
		if err != nil {
			return bad(name, ErrInvalidFeature, "%v", err)
		}
		flags[i] = v
	}
	e.AnnualReport, e.Abnormal, e.Blacklisted = flags[0], flags[1], flags[2]
	if err := e.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return Entity{}, fe
		}
		return bad("entity", ErrInvalidFeature, "%v", err)
	}
	return e, nil
}

// interner shares one copy of strings repeated across a file's records.
// A nil interner returns its input.
type interner map[string]string

func (in interner) intern(s string) string {
	if s == "" || in == nil {
		return s
	}
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// WriteEntitiesCSV writes entities in the format ReadEntitiesCSV reads,
// with the columns of EntityCSVColumns (Attrs are not written), and the
// coordinates with as many digits as reading them back exactly needs.
func WriteEntitiesCSV(w io.Writer, ents []Entity) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(EntityCSVColumns); err != nil {
		return err
	}
	rec := make([]string, len(EntityCSVColumns))
	for i := range ents {
		e := &ents[i]
		reg := ""
		if !e.RegisteredAt.IsZero() {
			reg = e.RegisteredAt.Format("2006-01-02")
		}
		rec = append(rec[:0], e.ID, e.Name, e.ShortName, strings.Join(e.FormerNames, "|"), e.Address,
			strconv.FormatFloat(e.Location[0], 'f', -1, 64), strconv.FormatFloat(e.Location[1], 'f', -1, 64),
			e.Industry, string(e.Status), string(e.Risk), e.BuildingID, e.GridID, reg,
			strconv.FormatBool(e.AnnualReport), strconv.FormatBool(e.Abnormal), strconv.FormatBool(e.Blacklisted))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Features holds what a GeoJSON input produced, by layer.
type Features struct {
	Entities  []Entity
	Buildings []Building
	Places    []Place
	Zones     []Zone
}

// ReadGeoJSON reads an RFC 7946 FeatureCollection whose features all belong
// to layer. Features are decoded one at a time, so one bad feature is
// reported with its number (0-based), field and reason without losing the
// others. Properties map onto the fields of the layer's type (see README);
// the others go to Attrs/Props.
func ReadGeoJSON(r io.Reader, source string, layer Layer, opts LoadOptions) (*Features, *LoadReport, error) {
	return readGeoJSON(context.Background(), r, source, layer, opts)
}

func readGeoJSON(ctx context.Context, r io.Reader, source string, layer Layer, opts LoadOptions) (*Features, *LoadReport, error) {
	o := opts.withDefaults()
	rep := &LoadReport{Source: source, Layer: layer}
	if _, err := ParseLayer(string(layer)); err != nil {
		return nil, rep, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(&limitedReader{r: r, max: o.MaxBytes}, 1<<16))
	tok, err := dec.Token()
	if err != nil {
		return nil, rep, fmt.Errorf("%s: %w: not JSON: %v", source, ErrInvalidFeature, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, rep, fmt.Errorf("%s: %w: a GeoJSON FeatureCollection must be a JSON object", source, ErrInvalidFeature)
	}
	out := &Features{}
	seen := map[string]int{}
	sawFeatures := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, rep, fmt.Errorf("%s: %w: %v", source, ErrInvalidFeature, err)
		}
		key, _ := kt.(string)
		switch key {
		case "type":
			var t string
			if err := dec.Decode(&t); err != nil || t != "FeatureCollection" {
				return nil, rep, fmt.Errorf("%s: %w: type is %q, want FeatureCollection", source, ErrInvalidFeature, t)
			}
		case "features":
			sawFeatures = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return nil, rep, fmt.Errorf("%s: %w: features must be an array", source, ErrInvalidFeature)
			}
			for i := 0; dec.More(); i++ {
				if i&255 == 255 && ctx.Err() != nil {
					return nil, rep, fmt.Errorf("%s: %w", source, ctx.Err())
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, rep, fmt.Errorf("%s: feature %d: %w: %v", source, i, ErrInvalidFeature, err)
				}
				if ferr := addFeature(out, raw, layer, o, seen, i); ferr != nil {
					ferr.Index = i
					if e := rep.reject(o, ferr); e != nil {
						return nil, rep, e
					}
					continue
				}
				rep.Loaded++
			}
			if _, err := dec.Token(); err != nil {
				return nil, rep, fmt.Errorf("%s: %w: %v", source, ErrInvalidFeature, err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, rep, fmt.Errorf("%s: %w: %v", source, ErrInvalidFeature, err)
			}
		}
	}
	if !sawFeatures {
		return nil, rep, fmt.Errorf("%s: %w: no features array", source, ErrInvalidFeature)
	}
	return out, rep, nil
}

func propString(p geojson.Properties, key string) string {
	switch v := p[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func restProps(p geojson.Properties, skip ...string) map[string]string {
	var m map[string]string
	for k, v := range p {
		skipIt := false
		for _, s := range skip {
			if k == s {
				skipIt = true
				break
			}
		}
		if skipIt || v == nil {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		switch t := v.(type) {
		case string:
			m[k] = t
		default:
			b, _ := json.Marshal(t)
			m[k] = string(b)
		}
	}
	return m
}

func convertGeometry(g orb.Geometry, c crs.CRS) orb.Geometry {
	return crs.Transform(g, c, crs.WGS84)
}

func countVertices(g orb.Geometry) int {
	switch v := g.(type) {
	case orb.Polygon:
		n := 0
		for _, r := range v {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range v {
			n += countVertices(p)
		}
		return n
	}
	return 1
}

func addFeature(out *Features, raw json.RawMessage, layer Layer, o LoadOptions, seen map[string]int, index int) *FieldError {
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return &FieldError{Index: -1, Field: "feature", Reason: err.Error(), Err: ErrInvalidFeature}
	}
	id := geojsonID(f)
	if first, dup := seen[id]; dup && id != "" {
		return &FieldError{Index: -1, ID: id, Field: "id", Reason: fmt.Sprintf("duplicate id, first in feature %d", first), Err: ErrInvalidFeature}
	}
	if id != "" {
		seen[id] = index
	}
	v, ferr := parseFeature(layer, f, o)
	if ferr != nil {
		return ferr
	}
	switch t := v.(type) {
	case *Entity:
		out.Entities = append(out.Entities, *t)
	case *Building:
		out.Buildings = append(out.Buildings, *t)
	case *Place:
		out.Places = append(out.Places, *t)
	case *Zone:
		out.Zones = append(out.Zones, *t)
	}
	return nil
}

// geojsonID is a feature's "id" property, else its GeoJSON id.
func geojsonID(f *geojson.Feature) string {
	id := propString(f.Properties, "id")
	if id == "" && f.ID != nil {
		id = strings.TrimSpace(fmt.Sprint(f.ID))
	}
	return id
}

// ParseFeature converts a GeoJSON feature to the type of layer (*Entity,
// *Building, *Place or *Zone) with the validation of the loaders: the
// property names are those of [ReadGeoJSON], unknown properties go to
// Attrs/Props, and "version" is ignored (the store sets it). The error is a
// *[FieldError] naming the field.
func ParseFeature(layer Layer, f *geojson.Feature, opts LoadOptions) (any, error) {
	if _, err := ParseLayer(string(layer)); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, &FieldError{Index: -1, Field: "feature", Reason: "missing", Err: ErrInvalidFeature}
	}
	v, ferr := parseFeature(layer, f, opts.withDefaults())
	if ferr != nil {
		return nil, ferr
	}
	return v, nil
}

func parseFeature(layer Layer, f *geojson.Feature, o LoadOptions) (any, *FieldError) {
	if f.Geometry == nil {
		return nil, &FieldError{Index: -1, Field: "geometry", Reason: "missing", Err: ErrInvalidGeometry}
	}
	if n := countVertices(f.Geometry); n > o.MaxVertices {
		return nil, &FieldError{Index: -1, Field: "geometry", Reason: fmt.Sprintf("%d vertices, more than the limit of %d", n, o.MaxVertices), Err: ErrTooLarge}
	}
	p := f.Properties
	id := geojsonID(f)
	asErr := func(err error) *FieldError {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fe
		}
		return &FieldError{Index: -1, ID: id, Field: "feature", Reason: err.Error(), Err: ErrInvalidFeature}
	}
	switch layer {
	case LayerEntities, LayerPlaces:
		pt, ok := f.Geometry.(orb.Point)
		if !ok {
			return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: fmt.Sprintf("%s need Point geometry, got %s", layer, f.Geometry.GeoJSONType()), Err: ErrInvalidGeometry}
		}
		if err := ValidatePoint(pt); err != nil {
			return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: err.Error(), Err: ErrInvalidCoordinate}
		}
		lon, lat := crs.ToWGS84(o.CRS, pt[0], pt[1])
		if layer == LayerEntities {
			get := func(k string) string {
				switch k {
				case "id":
					return id
				case "lon":
					return strconv.FormatFloat(lon, 'f', -1, 64)
				case "lat":
					return strconv.FormatFloat(lat, 'f', -1, 64)
				case "former_names":
					if arr, ok := p[k].([]any); ok {
						s := make([]string, 0, len(arr))
						for _, a := range arr {
							s = append(s, fmt.Sprint(a))
						}
						return strings.Join(s, "|")
					}
				}
				return propString(p, k)
			}
			e, fe := entityFromFields(get, LoadOptions{CRS: crs.WGS84}, nil)
			if fe != nil {
				return nil, fe
			}
			e.Attrs = restProps(p, entityPropertyNames...)
			return &e, nil
		}
		pl := Place{ID: id, Name: propString(p, "name"), Kind: propString(p, "kind"), Location: orb.Point{lon, lat}}
		switch a := p["aliases"].(type) {
		case []any:
			for _, x := range a {
				pl.Aliases = append(pl.Aliases, fmt.Sprint(x))
			}
		case string:
			if a != "" {
				pl.Aliases = strings.Split(a, "|")
			}
		}
		pl.Attrs = restProps(p, "id", "name", "kind", "aliases", "version")
		if err := pl.Validate(); err != nil {
			return nil, asErr(err)
		}
		return &pl, nil
	case LayerBuildings:
		poly, ok := f.Geometry.(orb.Polygon)
		if !ok {
			if mp, isMP := f.Geometry.(orb.MultiPolygon); isMP && len(mp) == 1 {
				poly, ok = mp[0], true
			}
		}
		if !ok {
			return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: "a building footprint must be a Polygon, got " + f.Geometry.GeoJSONType(), Err: ErrInvalidGeometry}
		}
		b := Building{ID: id, Name: propString(p, "name"), Address: propString(p, "address")}
		if err := validatePolygon(poly, o.MaxVertices); err != nil {
			return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: err.Error(), Err: errorsSentinel(err)}
		}
		b.Footprint = convertGeometry(poly, o.CRS).(orb.Polygon)
		if s := propString(p, "floors"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, &FieldError{Index: -1, ID: id, Field: "floors", Reason: fmt.Sprintf("%q is not a whole number", s), Err: ErrInvalidFeature}
			}
			b.Floors = n
		}
		if s := propString(p, "height"); s != "" {
			h, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, &FieldError{Index: -1, ID: id, Field: "height", Reason: fmt.Sprintf("%q is not a number", s), Err: ErrInvalidFeature}
			}
			b.HeightM = h
		}
		b.Attrs = restProps(p, "id", "name", "address", "floors", "height", "version")
		if err := b.Validate(o.MaxVertices); err != nil {
			return nil, asErr(err)
		}
		return &b, nil
	case LayerZones:
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		default:
			return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: "a zone must be a Polygon or MultiPolygon, got " + f.Geometry.GeoJSONType(), Err: ErrInvalidGeometry}
		}
		for _, poly := range mp {
			if err := validatePolygon(poly, 0); err != nil {
				return nil, &FieldError{Index: -1, ID: id, Field: "geometry", Reason: err.Error(), Err: ErrInvalidGeometry}
			}
		}
		z := Zone{ID: id, Layer: propString(p, "layer"), Name: propString(p, "name"), Geometry: convertGeometry(mp, o.CRS).(orb.MultiPolygon)}
		if z.Layer == "" {
			z.Layer = o.Layer
		}
		z.Props = restProps(p, "id", "layer", "name", "version")
		if err := z.Validate(o.MaxVertices); err != nil {
			return nil, asErr(err)
		}
		return &z, nil
	}
	return nil, &FieldError{Index: -1, ID: id, Field: "layer", Reason: string(layer), Err: ErrUnknownLayer}
}

// entityPropertyNames are the properties of an entity feature that map onto
// its fields (the CSV columns and "version") or are derived from them
// (industry_name, from IndustryLabel: dropped on input); the others go to
// Attrs.
var entityPropertyNames = append(slices.Clone(EntityCSVColumns), "version", "industry_name")

// FeatureCollection converts features to GeoJSON, the inverse of ReadGeoJSON.
func (f *Features) FeatureCollection() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i := range f.Entities {
		fc.Append(EntityFeature(&f.Entities[i]))
	}
	for i := range f.Buildings {
		fc.Append(BuildingFeature(&f.Buildings[i]))
	}
	for i := range f.Places {
		fc.Append(PlaceFeature(&f.Places[i]))
	}
	for i := range f.Zones {
		fc.Append(ZoneFeature(&f.Zones[i]))
	}
	return fc
}

// EntityFeature renders an entity as a GeoJSON Feature with the property
// names of the loaders.
func EntityFeature(e *Entity) *geojson.Feature {
	f := geojson.NewFeature(e.Location)
	f.ID = e.ID
	p := f.Properties
	p["id"], p["name"] = e.ID, e.Name
	setIf(p, "short_name", e.ShortName)
	if len(e.FormerNames) > 0 {
		p["former_names"] = e.FormerNames
	}
	setIf(p, "address", e.Address)
	setIf(p, "industry", e.Industry)
	setIf(p, "industry_name", IndustryLabel(e.Industry))
	setIf(p, "status", string(e.Status))
	setIf(p, "risk", string(e.Risk))
	setIf(p, "building_id", e.BuildingID)
	setIf(p, "grid_id", e.GridID)
	if !e.RegisteredAt.IsZero() {
		p["registered_at"] = e.RegisteredAt.Format("2006-01-02")
	}
	p["annual_report"], p["abnormal"], p["blacklisted"] = e.AnnualReport, e.Abnormal, e.Blacklisted
	if e.Version > 0 {
		p["version"] = e.Version
	}
	for k, v := range e.Attrs {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	return f
}

// BuildingFeature renders a building as a GeoJSON Feature.
func BuildingFeature(b *Building) *geojson.Feature {
	f := geojson.NewFeature(b.Footprint)
	f.ID = b.ID
	p := f.Properties
	p["id"] = b.ID
	setIf(p, "name", b.Name)
	setIf(p, "address", b.Address)
	if b.Floors > 0 {
		p["floors"] = b.Floors
	}
	if h := b.Height(); h > 0 {
		p["height"] = h
	}
	if b.Version > 0 {
		p["version"] = b.Version
	}
	for k, v := range b.Attrs {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	return f
}

// PlaceFeature renders a place as a GeoJSON Feature.
func PlaceFeature(pl *Place) *geojson.Feature {
	f := geojson.NewFeature(pl.Location)
	f.ID = pl.ID
	p := f.Properties
	p["id"], p["name"] = pl.ID, pl.Name
	setIf(p, "kind", pl.Kind)
	if len(pl.Aliases) > 0 {
		p["aliases"] = pl.Aliases
	}
	if pl.Version > 0 {
		p["version"] = pl.Version
	}
	for k, v := range pl.Attrs {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	return f
}

// ZoneFeature renders a zone as a GeoJSON Feature.
func ZoneFeature(z *Zone) *geojson.Feature {
	var g orb.Geometry = z.Geometry
	if len(z.Geometry) == 1 {
		g = z.Geometry[0]
	}
	f := geojson.NewFeature(g)
	f.ID = z.ID
	p := f.Properties
	p["id"], p["layer"], p["name"] = z.ID, z.Layer, z.Name
	if z.Version > 0 {
		p["version"] = z.Version
	}
	for k, v := range z.Props {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	return f
}

func setIf(p geojson.Properties, k, v string) {
	if v != "" {
		p[k] = v
	}
}

// LoadDir reads a data directory into idx in one commit: entities.csv or
// entities.geojson, buildings.geojson, places.geojson, and zones.geojson or
// zones-<layer>.geojson (a zone's layer is its "layer" property, else the
// <layer> of the file name). Missing files are skipped; at least one must
// exist. It returns one report per file read.
//
// It stops, loading nothing, when ctx is cancelled (checked between files,
// every 256 GeoJSON features and every CSV chunk).
func LoadDir(ctx context.Context, idx *Index, dir string, opts LoadOptions) ([]*LoadReport, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("geo: data directory: %w", err)
	}
	var reports []*LoadReport
	var all Features
	var entities []*Entity // validated by the readers
	read := func(name string, layer Layer, zoneLayer string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, name)
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		o := opts
		o.Layer = zoneLayer
		if strings.HasSuffix(name, ".csv") {
			ents, rep, err := readEntityRows(ctx, fh, path, o.withDefaults())
			reports = append(reports, rep)
			if err != nil {
				return err
			}
			entities = append(entities, ents...)
			return nil
		}
		fs, rep, err := readGeoJSON(ctx, fh, path, layer, o)
		reports = append(reports, rep)
		if err != nil {
			return err
		}
		for i := range fs.Entities {
			entities = append(entities, &fs.Entities[i])
		}
		all.Buildings = append(all.Buildings, fs.Buildings...)
		all.Places = append(all.Places, fs.Places...)
		all.Zones = append(all.Zones, fs.Zones...)
		return nil
	}
	found := 0
	for _, e := range entries {
		name := e.Name()
		var err error
		switch {
		case name == "entities.csv" || name == "entities.geojson":
			err = read(name, LayerEntities, "")
		case name == "buildings.geojson":
			err = read(name, LayerBuildings, "")
		case name == "places.geojson":
			err = read(name, LayerPlaces, "")
		case name == "zones.geojson":
			err = read(name, LayerZones, "zone")
		case strings.HasPrefix(name, "zones-") && strings.HasSuffix(name, ".geojson"):
			err = read(name, LayerZones, strings.TrimSuffix(strings.TrimPrefix(name, "zones-"), ".geojson"))
		default:
			continue
		}
		found++
		if err != nil {
			return reports, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("geo: %s holds none of entities.csv, entities.geojson, buildings.geojson, places.geojson, zones*.geojson", dir)
	}
	if err := ctx.Err(); err != nil {
		return reports, err
	}
	b := idx.Batch()
	for i := range all.Zones {
		if err := b.UpsertZone(all.Zones[i]); err != nil {
			return reports, err
		}
	}
	for i := range all.Buildings {
		if err := b.UpsertBuilding(all.Buildings[i]); err != nil {
			return reports, err
		}
	}
	for i := range all.Places {
		if err := b.UpsertPlace(all.Places[i]); err != nil {
			return reports, err
		}
	}
	b.ops = slices.Grow(b.ops, len(entities))
	for _, e := range entities {
		b.upsertValidEntity(e)
	}
	b.Commit()
	return reports, nil
}
