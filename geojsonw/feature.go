package geojsonw

import (
	"slices"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
)

// Encoder writes query hits as GeoJSON features in an output CRS with a
// selection of properties (one per layer). It holds no state besides its
// settings: one Encoder may be shared by goroutines.
type Encoder struct {
	crs    crs.CRS
	fields [4]geo.FieldSet // by layerIndex
	cache  *FeatureCache   // the heads of entity features (nil: none), see WithCache
}

// layerIndex is the index of a layer in Encoder.fields (-1 for none).
func layerIndex(l geo.Layer) int {
	switch l {
	case geo.LayerEntities:
		return 0
	case geo.LayerBuildings:
		return 1
	case geo.LayerPlaces:
		return 2
	case geo.LayerZones:
		return 3
	}
	return -1
}

func hitLayer(h *geo.Hit) int {
	switch {
	case h.Entity != nil:
		return 0
	case h.Building != nil:
		return 1
	case h.Place != nil:
		return 2
	}
	return 3
}

// NewEncoder returns an encoder writing coordinates in c ("" is WGS-84)
// and the properties in fields ([geo.AllFields] for every one, as
// [geo.EntityFeature] and the other feature functions show them).
func NewEncoder(c crs.CRS, fields geo.FieldSet) *Encoder {
	if c == "" {
		c = crs.WGS84
	}
	return &Encoder{crs: c, fields: [4]geo.FieldSet{fields, fields, fields, fields}}
}

// Restrict returns a copy of e that shows, for features of the layer,
// only the fields also in allow (a profile's allow-list of that layer;
// the other layers keep theirs). An unknown layer changes nothing.
func (e *Encoder) Restrict(layer geo.Layer, allow geo.FieldSet) *Encoder {
	out := *e
	if i := layerIndex(layer); i >= 0 {
		out.fields[i] = out.fields[i].Intersect(allow)
	}
	return &out
}

// CRS returns the output CRS.
func (e *Encoder) CRS() crs.CRS { return e.crs }

// Fields returns the properties shown for features of the layer.
func (e *Encoder) Fields(layer geo.Layer) geo.FieldSet {
	if i := layerIndex(layer); i >= 0 {
		return e.fields[i]
	}
	return geo.FieldSet{}
}

// Extra holds the properties an answer computes beside a feature's own.
// Each one, when written, replaces a free attribute of the same name (and,
// for Layer, a zone's own layer), as setting them on the feature's
// properties did.
type Extra struct {
	// Distance writes distance_m: the hit's DistanceM rounded to 2 decimals.
	Distance bool
	// Search writes score, layer and match (a search hit's).
	Search bool
	// Score is the search score (with Search).
	Score float64
	// Layer is the search layer (with Search).
	Layer geo.Layer
	// Match is the kind of match (with Search).
	Match string
}

// RoundTo rounds v to the given number of decimals, half away from zero,
// as the server's answers round distances.
func RoundTo(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

// props tracks the properties object being written.
type props struct {
	n     int          // members written
	taken geo.FieldSet // the fixed properties set on the feature (a free attribute of such a name is not shown)
}

// AppendHit appends the feature of a hit (an object; a comma first when
// comma is true). A hit with no feature appends nothing.
func (e *Encoder) AppendHit(dst []byte, comma bool, h *geo.Hit, x Extra) []byte {
	if h.Entity == nil && h.Building == nil && h.Place == nil && h.Zone == nil {
		return dst
	}
	if comma {
		dst = append(dst, ',')
	}
	if h.Entity != nil && e.fields[0] == idOnly {
		return e.appendEntityID(dst, h.Entity)
	}
	if h.Entity != nil && e.fields[0] == allFields && len(h.Entity.Attrs) == 0 && !x.Search && e.cache == nil {
		return e.appendEntityAll(dst, h, x.Distance)
	}
	if e.cache != nil && h.Entity != nil && !x.Search && x.Distance == e.cache.distance {
		return e.appendCachedEntity(dst, h, x)
	}
	dst, p, mark := e.appendHead(dst, h, x)
	return e.appendTail(dst, p, mark, h, x)
}

// appendEntityID appends an entity's feature with the ID as its only
// property (fields=id), the bytes appendHead and appendTail write for that
// selection (no computed member is selected, so x changes nothing), without
// their per-property steps: the ID encoded once and copied.
func (e *Encoder) appendEntityID(dst []byte, en *geo.Entity) []byte {
	return append(e.appendEntityStart(dst, en), '}', '}')
}

// appendEntityStart appends the start an entity's feature has in both
// direct paths: its ID, its point geometry and the ID as the first
// property (encoded once and copied), the properties object left open.
func (e *Encoder) appendEntityStart(dst []byte, en *geo.Entity) []byte {
	dst = append(dst, `{"type":"Feature","id":`...)
	start := len(dst)
	dst = AppendString(dst, en.ID)
	end := len(dst)
	dst = append(dst, `,"geometry":{"type":"Point","coordinates":`...)
	lon, lat := crs.FromWGS84(e.crs, en.Location[0], en.Location[1])
	dst = AppendPoint(dst, lon, lat)
	dst = append(dst, `},"properties":{"id":`...)
	dst = append(dst, dst[start:end]...)
	return dst
}

// allFields is the selection of a full answer.
var allFields = geo.AllFields()

// appendEntityAll appends an entity's feature with every property (a full
// answer), for an entity without free attributes (nothing for the fixed
// properties to shadow), with distance_m when distance is true: the bytes
// appendHead and appendTail write for that selection, without their
// per-property selection steps.
func (e *Encoder) appendEntityAll(dst []byte, h *geo.Hit, distance bool) []byte {
	en := h.Entity
	dst = e.appendEntityStart(dst, en)
	dst = append(dst, `,"name":`...)
	dst = AppendString(dst, en.Name)
	dst = appendMember(dst, `,"short_name":`, en.ShortName)
	if len(en.FormerNames) > 0 {
		dst = append(dst, `,"former_names":`...)
		dst = AppendStrings(dst, en.FormerNames)
	}
	dst = appendMember(dst, `,"address":`, en.Address)
	dst = appendMember(dst, `,"industry":`, en.Industry)
	dst = appendMember(dst, `,"industry_name":`, geo.IndustryLabel(en.Industry))
	dst = appendMember(dst, `,"status":`, string(en.Status))
	dst = appendMember(dst, `,"risk":`, string(en.Risk))
	dst = appendMember(dst, `,"building_id":`, en.BuildingID)
	dst = appendMember(dst, `,"grid_id":`, en.GridID)
	if !en.RegisteredAt.IsZero() {
		dst = append(dst, `,"registered_at":`...)
		dst = appendDate(dst, en.RegisteredAt)
	}
	dst = append(dst, `,"annual_report":`...)
	dst = AppendBool(dst, en.AnnualReport)
	dst = append(dst, `,"abnormal":`...)
	dst = AppendBool(dst, en.Abnormal)
	dst = append(dst, `,"blacklisted":`...)
	dst = AppendBool(dst, en.Blacklisted)
	if en.Version != 0 {
		dst = append(dst, `,"version":`...)
		dst = AppendUint(dst, en.Version)
	}
	if distance {
		dst = append(dst, `,"distance_m":`...)
		dst = AppendRounded2(dst, h.DistanceM)
	}
	return append(dst, '}', '}')
}

// appendMember appends the member (key: its name, comma and colon
// included) when v is not empty.
func appendMember(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, key...)
	return AppendString(dst, v)
}

// appendHead appends the constant part of a hit's feature, everything but
// the members x computes (distance_m, score, layer, match) and the closing
// braces. It returns the properties written so far and the offset of the
// properties' opening brace in dst.
func (e *Encoder) appendHead(dst []byte, h *geo.Hit, x Extra) ([]byte, props, int) {
	dst = append(dst, `{"type":"Feature","id":`...)
	dst = AppendString(dst, h.ID())
	dst = append(dst, `,"geometry":`...)
	switch {
	case h.Entity != nil:
		dst = e.appendPointGeom(dst, h.Entity.Location)
	case h.Building != nil:
		dst = e.appendGeom(dst, h.Building.Footprint)
	case h.Place != nil:
		dst = e.appendPointGeom(dst, h.Place.Location)
	default:
		var g orb.Geometry = h.Zone.Geometry
		if len(h.Zone.Geometry) == 1 {
			g = h.Zone.Geometry[0]
		}
		dst = e.appendGeom(dst, g)
	}
	dst = append(dst, `,"properties":`...)
	mark := len(dst)
	dst = append(dst, '{')
	var p props
	f := e.fields[hitLayer(h)]
	switch {
	case h.Entity != nil:
		dst = e.entityProps(dst, &p, f, h.Entity)
		dst = e.attrs(dst, &p, f, h.Entity.Attrs, x)
	case h.Building != nil:
		b := h.Building
		dst = p.strAlways(dst, f, geo.FieldID, "id", b.ID)
		dst = p.str(dst, f, geo.FieldName, "name", b.Name)
		dst = p.str(dst, f, geo.FieldAddress, "address", b.Address)
		if b.Floors > 0 {
			if dst = p.key(dst, f, geo.FieldFloors, "floors"); p.wrote(f, geo.FieldFloors) {
				dst = AppendInt(dst, int64(b.Floors))
			}
		}
		if ht := b.Height(); ht > 0 {
			if dst = p.key(dst, f, geo.FieldHeight, "height"); p.wrote(f, geo.FieldHeight) {
				dst = AppendFloat(dst, ht)
			}
		}
		dst = p.version(dst, f, b.Version)
		p.taken = p.taken.Union(geo.NewFieldSet(geo.FieldCenter))
		if f.Has(geo.FieldCenter) {
			c := b.Center()
			lon, lat := crs.FromWGS84(e.crs, c[0], c[1])
			dst = p.sep(dst)
			dst = append(dst, `"center":`...)
			dst = AppendPoint(dst, lon, lat)
		}
		dst = e.attrs(dst, &p, f, b.Attrs, x)
	case h.Place != nil:
		pl := h.Place
		dst = p.strAlways(dst, f, geo.FieldID, "id", pl.ID)
		dst = p.strAlways(dst, f, geo.FieldName, "name", pl.Name)
		dst = p.str(dst, f, geo.FieldKind, "kind", pl.Kind)
		if len(pl.Aliases) > 0 {
			if dst = p.key(dst, f, geo.FieldAliases, "aliases"); p.wrote(f, geo.FieldAliases) {
				dst = AppendStrings(dst, pl.Aliases)
			}
		}
		dst = p.version(dst, f, pl.Version)
		dst = e.attrs(dst, &p, f, pl.Attrs, x)
	default:
		z := h.Zone
		dst = p.strAlways(dst, f, geo.FieldID, "id", z.ID)
		if x.Search { // the search layer replaces the zone's
			p.taken = p.taken.Union(geo.NewFieldSet(geo.FieldLayer))
		} else {
			dst = p.strAlways(dst, f, geo.FieldLayer, "layer", z.Layer)
		}
		dst = p.strAlways(dst, f, geo.FieldName, "name", z.Name)
		dst = p.version(dst, f, z.Version)
		dst = e.attrs(dst, &p, f, z.Props, x)
	}
	return dst, p, mark
}

// appendTail appends the computed members of x after a head that
// appendHead wrote (mark: the offset of its properties' opening brace),
// and closes the feature.
func (e *Encoder) appendTail(dst []byte, p props, mark int, h *geo.Hit, x Extra) []byte {
	f := e.fields[hitLayer(h)]
	if x.Distance && f.Has(geo.FieldDistanceM) {
		dst = p.sep(dst)
		dst = append(dst, `"distance_m":`...)
		dst = AppendRounded2(dst, h.DistanceM)
	}
	if x.Search {
		if f.Has(geo.FieldScore) {
			dst = p.sep(dst)
			dst = append(dst, `"score":`...)
			dst = AppendFloat(dst, x.Score)
		}
		if f.Has(geo.FieldLayer) {
			dst = p.sep(dst)
			dst = append(dst, `"layer":`...)
			dst = AppendString(dst, string(x.Layer))
		}
		if f.Has(geo.FieldMatch) {
			dst = p.sep(dst)
			dst = append(dst, `"match":`...)
			dst = AppendString(dst, x.Match)
		}
	}
	if p.n == 0 { // no property: null, as orb writes an empty map
		dst = append(dst[:mark], "null"...)
	} else {
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func (e *Encoder) entityProps(dst []byte, p *props, f geo.FieldSet, en *geo.Entity) []byte {
	dst = p.strAlways(dst, f, geo.FieldID, "id", en.ID)
	dst = p.strAlways(dst, f, geo.FieldName, "name", en.Name)
	dst = p.str(dst, f, geo.FieldShortName, "short_name", en.ShortName)
	if len(en.FormerNames) > 0 {
		if dst = p.key(dst, f, geo.FieldFormerNames, "former_names"); p.wrote(f, geo.FieldFormerNames) {
			dst = AppendStrings(dst, en.FormerNames)
		}
	}
	dst = p.str(dst, f, geo.FieldAddress, "address", en.Address)
	dst = p.str(dst, f, geo.FieldIndustry, "industry", en.Industry)
	if f.Has(geo.FieldIndustryName) || f.Has(geo.FieldAttrs) {
		// the label (a lookup reading the code's bytes) only when shown
		// or when it shadows a free attribute of its name
		dst = p.str(dst, f, geo.FieldIndustryName, "industry_name", geo.IndustryLabel(en.Industry))
	}
	dst = p.str(dst, f, geo.FieldStatus, "status", string(en.Status))
	dst = p.str(dst, f, geo.FieldRisk, "risk", string(en.Risk))
	dst = p.str(dst, f, geo.FieldBuildingID, "building_id", en.BuildingID)
	dst = p.str(dst, f, geo.FieldGridID, "grid_id", en.GridID)
	if !en.RegisteredAt.IsZero() {
		if dst = p.key(dst, f, geo.FieldRegisteredAt, "registered_at"); p.wrote(f, geo.FieldRegisteredAt) {
			dst = appendDate(dst, en.RegisteredAt)
		}
	}
	if dst = p.key(dst, f, geo.FieldAnnualReport, "annual_report"); p.wrote(f, geo.FieldAnnualReport) {
		dst = AppendBool(dst, en.AnnualReport)
	}
	if dst = p.key(dst, f, geo.FieldAbnormal, "abnormal"); p.wrote(f, geo.FieldAbnormal) {
		dst = AppendBool(dst, en.Abnormal)
	}
	if dst = p.key(dst, f, geo.FieldBlacklisted, "blacklisted"); p.wrote(f, geo.FieldBlacklisted) {
		dst = AppendBool(dst, en.Blacklisted)
	}
	return p.version(dst, f, en.Version)
}

// sep appends the comma between members and counts one.
func (p *props) sep(dst []byte) []byte {
	if p.n > 0 {
		dst = append(dst, ',')
	}
	p.n++
	return dst
}

// key records that the fixed property name is set and, when the field is
// selected, appends its member name (the caller then appends the value
// when wrote says so).
func (p *props) key(dst []byte, f geo.FieldSet, fl geo.Field, name string) []byte {
	p.taken = p.taken.Union(geo.NewFieldSet(fl))
	if !f.Has(fl) {
		return dst
	}
	dst = p.sep(dst)
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

func (p *props) wrote(f geo.FieldSet, fl geo.Field) bool { return f.Has(fl) }

// str writes a string property set only when not empty.
func (p *props) str(dst []byte, f geo.FieldSet, fl geo.Field, name, v string) []byte {
	if v == "" {
		return dst
	}
	return p.strAlways(dst, f, fl, name, v)
}

func (p *props) strAlways(dst []byte, f geo.FieldSet, fl geo.Field, name, v string) []byte {
	if dst = p.key(dst, f, fl, name); f.Has(fl) {
		dst = AppendString(dst, v)
	}
	return dst
}

func (p *props) version(dst []byte, f geo.FieldSet, v uint64) []byte {
	if v == 0 {
		return dst
	}
	if dst = p.key(dst, f, geo.FieldVersion, "version"); f.Has(geo.FieldVersion) {
		dst = AppendUint(dst, v)
	}
	return dst
}

// attrs appends the free attributes not shadowed by a fixed property set
// on the feature or by a computed one, sorted by key.
func (e *Encoder) attrs(dst []byte, p *props, f geo.FieldSet, m map[string]string, x Extra) []byte {
	if len(m) == 0 || !f.Has(geo.FieldAttrs) {
		return dst
	}
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		if fl, fixed := geo.FieldByName(k); (fixed && p.taken.Has(fl)) || (x.Distance && k == "distance_m") || (x.Search && (k == "score" || k == "layer" || k == "match")) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = p.sep(dst)
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return dst
}

func (e *Encoder) appendPointGeom(dst []byte, pt orb.Point) []byte {
	lon, lat := crs.FromWGS84(e.crs, pt[0], pt[1])
	dst = append(dst, `{"type":"Point","coordinates":`...)
	dst = AppendPoint(dst, lon, lat)
	return append(dst, '}')
}

// appendGeom appends a polygon or multipolygon geometry in the output CRS
// (null for an empty one, as orb writes it).
func (e *Encoder) appendGeom(dst []byte, g orb.Geometry) []byte {
	switch v := g.(type) {
	case orb.Polygon:
		if v == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, `{"type":"Polygon","coordinates":`...)
		dst = e.appendRings(dst, v)
	case orb.MultiPolygon:
		if v == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, `{"type":"MultiPolygon","coordinates":[`...)
		for i, pg := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.appendRings(dst, pg)
		}
		dst = append(dst, ']')
	default:
		return append(dst, "null"...)
	}
	return append(dst, '}')
}

func (e *Encoder) appendRings(dst []byte, pg orb.Polygon) []byte {
	if pg == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, r := range pg {
		if i > 0 {
			dst = append(dst, ',')
		}
		if r == nil {
			dst = append(dst, "null"...)
			continue
		}
		dst = append(dst, '[')
		for j, pt := range r {
			if j > 0 {
				dst = append(dst, ',')
			}
			lon, lat := crs.FromWGS84(e.crs, pt[0], pt[1])
			dst = AppendPoint(dst, lon, lat)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// AppendCollectionStart appends the head of a FeatureCollection, up to
// the opening bracket of its features.
func AppendCollectionStart(dst []byte) []byte {
	return append(dst, `{"type":"FeatureCollection","features":[`...)
}

// AppendCollectionEnd closes the features array; the caller appends the
// collection's other members (each with a leading comma) and then '}'.
func AppendCollectionEnd(dst []byte) []byte { return append(dst, ']') }

// appendDate appends t as the JSON string "2006-01-02" (t's own location),
// as AppendFormat writes it, without parsing the layout each time.
func appendDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, "2006-01-02")
		return append(dst, '"')
	}
	return append(dst, '"', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+d/10), byte('0'+d%10), '"')
}
