package geo

import (
	"fmt"
	"strings"
)

// Field is a property of a feature as the answers (GeoJSON, tiles) show it:
// one of the names of [EntityFeature], [BuildingFeature], [PlaceFeature]
// and [ZoneFeature], the free attributes as one group ([FieldAttrs]), or a
// property an answer computes (distance, search score …). The list of
// fields is [Fields]; it is the one source of the output property names a
// field selection may name.
type Field uint8

// The fields. Each is the property of the same name, except FieldAttrs,
// the free attributes (Entity.Attrs, Building.Attrs, Place.Attrs,
// Zone.Props), which are written flattened among the properties.
const (
	FieldID Field = iota
	FieldName
	FieldShortName
	FieldFormerNames
	FieldAddress
	FieldIndustry
	FieldIndustryName // derived: IndustryLabel(industry)
	FieldStatus
	FieldRisk
	FieldBuildingID
	FieldGridID
	FieldRegisteredAt
	FieldAnnualReport
	FieldAbnormal
	FieldBlacklisted
	FieldVersion
	FieldFloors
	FieldHeight
	FieldKind
	FieldAliases
	FieldLayer
	FieldAttrs
	// Computed by the answers, not stored in a feature:
	FieldCenter    // a building's centre point
	FieldDistanceM // distance from the query point in metres
	FieldScore     // search relevance
	FieldMatch     // how a search hit matched
	numFields
)

// fieldNames are the property names of the fields, by Field.
var fieldNames = [numFields]string{
	FieldID: "id", FieldName: "name", FieldShortName: "short_name", FieldFormerNames: "former_names",
	FieldAddress: "address", FieldIndustry: "industry", FieldIndustryName: "industry_name", FieldStatus: "status", FieldRisk: "risk",
	FieldBuildingID: "building_id", FieldGridID: "grid_id", FieldRegisteredAt: "registered_at",
	FieldAnnualReport: "annual_report", FieldAbnormal: "abnormal", FieldBlacklisted: "blacklisted",
	FieldVersion: "version", FieldFloors: "floors", FieldHeight: "height", FieldKind: "kind",
	FieldAliases: "aliases", FieldLayer: "layer", FieldAttrs: "attrs", FieldCenter: "center",
	FieldDistanceM: "distance_m", FieldScore: "score", FieldMatch: "match",
}

// Name returns the field's property name ("attrs" for the free attributes).
func (f Field) Name() string {
	if f < numFields {
		return fieldNames[f]
	}
	return ""
}

// Fields returns every field, in the order of the constants.
func Fields() []Field {
	out := make([]Field, numFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}

// FieldByName returns the field of a property name.
func FieldByName(name string) (Field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return Field(i), true
		}
	}
	return 0, false
}

// FieldSet is a set of fields: the properties an answer may show (an
// allow-list). The zero value is the empty set; [AllFields] is every field.
// A FieldSet is a small value, safe to copy and share.
type FieldSet struct{ bits uint64 }

// AllFields returns the set of every field (what an answer shows when no
// selection is asked for).
func AllFields() FieldSet { return FieldSet{bits: 1<<numFields - 1} }

// NewFieldSet returns the set of the fields given.
func NewFieldSet(fs ...Field) FieldSet {
	var s FieldSet
	for _, f := range fs {
		if f < numFields {
			s.bits |= 1 << f
		}
	}
	return s
}

// ParseFieldSet parses a comma-separated list of property names, as in
// fields=id,name,risk; spaces around names are ignored. The empty string
// (no selection) is [AllFields]. An unknown name is an error wrapping
// ErrInvalidQuery that names it.
func ParseFieldSet(s string) (FieldSet, error) {
	if strings.TrimSpace(s) == "" {
		return AllFields(), nil
	}
	var out FieldSet
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		f, ok := FieldByName(p)
		if !ok {
			return FieldSet{}, fmt.Errorf("%w: unknown field %q in fields (known: %s)", ErrInvalidQuery, p, AllFields())
		}
		out.bits |= 1 << f
	}
	if out.bits == 0 {
		return FieldSet{}, fmt.Errorf("%w: fields names no field (known: %s)", ErrInvalidQuery, AllFields())
	}
	return out, nil
}

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return f < numFields && s.bits&(1<<f) != 0 }

// HasName reports whether the field of that property name is in the set.
// A name that is not a field (a free attribute's key) is in the set when
// FieldAttrs is.
func (s FieldSet) HasName(name string) bool {
	if f, ok := FieldByName(name); ok {
		return s.Has(f)
	}
	return s.Has(FieldAttrs)
}

// IsAll reports whether the set holds every field.
func (s FieldSet) IsAll() bool { return s == AllFields() }

// IsEmpty reports whether the set holds no field.
func (s FieldSet) IsEmpty() bool { return s.bits == 0 }

// Intersect returns the fields in both sets (e.g. a request's selection
// within a public profile's allow-list).
func (s FieldSet) Intersect(o FieldSet) FieldSet { return FieldSet{bits: s.bits & o.bits} }

// Union returns the fields in either set.
func (s FieldSet) Union(o FieldSet) FieldSet { return FieldSet{bits: s.bits | o.bits} }

// Without returns the set less the fields given.
func (s FieldSet) Without(fs ...Field) FieldSet {
	return FieldSet{bits: s.bits &^ NewFieldSet(fs...).bits}
}

// Fields returns the fields of the set, in the order of the constants.
func (s FieldSet) Fields() []Field {
	var out []Field
	for f := Field(0); f < numFields; f++ {
		if s.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// String returns the set as ParseFieldSet reads it: the names, comma-separated.
func (s FieldSet) String() string {
	var b strings.Builder
	for _, f := range s.Fields() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name())
	}
	return b.String()
}
