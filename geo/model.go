package geo

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Layer names a feature layer of the index.
type Layer string

// The layers of an [Index].
const (
	LayerEntities  Layer = "entities"
	LayerBuildings Layer = "buildings"
	LayerPlaces    Layer = "places"
	LayerZones     Layer = "zones"
)

// ParseLayer returns the layer named s, or an error wrapping ErrUnknownLayer.
func ParseLayer(s string) (Layer, error) {
	switch Layer(s) {
	case LayerEntities, LayerBuildings, LayerPlaces, LayerZones:
		return Layer(s), nil
	}
	return "", fmt.Errorf("%w: %q (want entities, buildings, places or zones)", ErrUnknownLayer, s)
}

// Risk is the supervision risk class of an entity: A (诚信守法, law-abiding),
// B (一般失信及许可缺失, minor breaches or missing licences), C (严重失信及违法,
// serious breaches) or D (吊销或列入黑名单, revoked or blacklisted).
type Risk string

// The risk classes.
const (
	RiskA Risk = "A"
	RiskB Risk = "B"
	RiskC Risk = "C"
	RiskD Risk = "D"
)

// ParseRisk accepts A–D in either case; the empty string is RiskUnknown.
func ParseRisk(s string) (Risk, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "A":
		return RiskA, nil
	case "B":
		return RiskB, nil
	case "C":
		return RiskC, nil
	case "D":
		return RiskD, nil
	case "":
		return "", nil
	}
	return "", fmt.Errorf("%w: risk class %q (want A, B, C or D)", ErrInvalidFeature, s)
}

func (r Risk) bit() uint32 {
	switch r {
	case RiskA:
		return 1 << 0
	case RiskB:
		return 1 << 1
	case RiskC:
		return 1 << 2
	case RiskD:
		return 1 << 3
	}
	return 1 << 4 // unknown
}

// Status is the registration status of an entity, as the registration
// system writes it.
type Status string

// The registration statuses.
const (
	StatusActive    Status = "存续" // registered and existing
	StatusOperating Status = "在业" // operating
	StatusRevoked   Status = "吊销" // licence revoked
	StatusCancelled Status = "注销" // deregistered
	StatusMovedOut  Status = "迁出" // moved to another registry
	StatusSuspended Status = "停业" // suspended
)

var statuses = []Status{StatusActive, StatusOperating, StatusRevoked, StatusCancelled, StatusMovedOut, StatusSuspended}

var statusAliases = map[string]Status{
	"active": StatusActive, "存续": StatusActive, "存续（在营、开业、在册）": StatusActive, "开业": StatusActive, "在营": StatusActive,
	"operating": StatusOperating, "在业": StatusOperating,
	"revoked": StatusRevoked, "吊销": StatusRevoked, "吊销，未注销": StatusRevoked,
	"cancelled": StatusCancelled, "canceled": StatusCancelled, "注销": StatusCancelled,
	"moved": StatusMovedOut, "moved_out": StatusMovedOut, "迁出": StatusMovedOut,
	"suspended": StatusSuspended, "停业": StatusSuspended,
}

// ParseStatus maps the Chinese status words (and English aliases such as
// "active", "revoked", "cancelled") to a Status. The empty string is allowed.
func ParseStatus(s string) (Status, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if st, ok := statusAliases[s]; ok { // the usual case, without case folding
		return st, nil
	}
	if st, ok := statusAliases[strings.ToLower(s)]; ok {
		return st, nil
	}
	return "", fmt.Errorf("%w: status %q (want one of 存续, 在业, 吊销, 注销, 迁出, 停业)", ErrInvalidFeature, s)
}

func (s Status) bit() uint32 {
	for i, st := range statuses {
		if st == s {
			return 1 << (8 + i)
		}
	}
	return 1 << 15 // unknown
}

// Entity is a registered market entity (市场主体): a company, branch,
// sole proprietorship or individual business.
type Entity struct {
	// ID is the 18-character unified social credit code (统一社会信用代码),
	// validated with its GB 32100-2015 check character.
	ID string `json:"id"`
	// Name is the registered name.
	Name string `json:"name"`
	// ShortName is the name people use (e.g. 两江科技 for 重庆两江科技有限公司).
	ShortName string `json:"short_name,omitempty"`
	// FormerNames lists earlier registered names.
	FormerNames []string `json:"former_names,omitempty"`
	// Address is the registered address (住所) as written on the licence.
	Address string `json:"address,omitempty"`
	// Location is the WGS-84 position of the registered address.
	Location orb.Point `json:"-"`
	// Industry is the GB/T 4754-2017 class: section letter plus up to four
	// digits, e.g. "I6510" (software development) or "R9021" (internet café… ).
	Industry string `json:"industry,omitempty"`
	// Status is the registration status.
	Status Status `json:"status,omitempty"`
	// Risk is the supervision risk class A–D ("" when not rated).
	Risk Risk `json:"risk,omitempty"`
	// BuildingID is the building the entity is registered in, if known.
	BuildingID string `json:"building_id,omitempty"`
	// GridID is the supervision grid that contains Location. When the index
	// holds zones of layer "grid", it is derived from Location on every write
	// and any given value is replaced.
	GridID string `json:"grid_id,omitempty"`
	// RegisteredAt is the date of establishment.
	RegisteredAt time.Time `json:"registered_at,omitempty"`
	// AnnualReport: the latest annual report was filed.
	AnnualReport bool `json:"annual_report"`
	// Abnormal: the entity is in the list of abnormal operations (经营异常名录).
	Abnormal bool `json:"abnormal"`
	// Blacklisted: the entity is in the list of serious violators (严重违法失信名单).
	Blacklisted bool `json:"blacklisted"`
	// Attrs holds free attributes (department data, tags …).
	Attrs map[string]string `json:"attrs,omitempty"`
	// Version is the store's sequence number of the write that produced
	// this state of the feature (0: never written through a store). It is
	// set by the writer, never read from input.
	Version uint64 `json:"version,omitempty"`
}

// Building is a building footprint with the figures of the building economy.
type Building struct {
	// ID is a unique identifier.
	ID string `json:"id"`
	// Name is the building name (e.g. 两江国际商务中心), possibly empty.
	Name string `json:"name,omitempty"`
	// Address is the building's street address.
	Address string `json:"address,omitempty"`
	// Footprint is the outline; its first ring is the shell.
	Footprint orb.Polygon `json:"-"`
	// Floors is the number of storeys above ground.
	Floors int `json:"floors,omitempty"`
	// HeightM is the height in metres (0: derive from Floors).
	HeightM float64 `json:"height,omitempty"`
	// Attrs holds free attributes (output, employment, tax …).
	Attrs map[string]string `json:"attrs,omitempty"`
	// Version: see [Entity.Version].
	Version uint64 `json:"version,omitempty"`
}

// Place is a named point of interest: a school, hospital, landmark,
// settlement or government office.
type Place struct {
	// ID is a unique identifier.
	ID string `json:"id"`
	// Name is the official name.
	Name string `json:"name"`
	// Aliases are other names people use.
	Aliases []string `json:"aliases,omitempty"`
	// Kind classifies the place: school, kindergarten, hospital, landmark,
	// settlement, government, … (free text, lower case by convention).
	Kind string `json:"kind,omitempty"`
	// Location is the WGS-84 position.
	Location orb.Point `json:"-"`
	// Attrs holds free attributes (source, population …).
	Attrs map[string]string `json:"attrs,omitempty"`
	// Version: see [Entity.Version].
	Version uint64 `json:"version,omitempty"`
}

// Zone is an area of a zone layer: an FTZ area, a district, a street or
// town, a supervision grid, or any user layer.
type Zone struct {
	// ID is unique within the index (not only within the layer).
	ID string `json:"id"`
	// Layer is the zone layer: "ftz", "district", "street", "grid" or any user name.
	Layer string `json:"layer"`
	// Name is the zone's name.
	Name string `json:"name"`
	// Geometry is the area, possibly with holes and several parts.
	Geometry orb.MultiPolygon `json:"-"`
	// Props holds free properties (inspector, team, source …).
	Props map[string]string `json:"props,omitempty"`
	// Version: see [Entity.Version].
	Version uint64 `json:"version,omitempty"`
}

// Center returns the representative point of a building: the centroid of
// its footprint shell (or the first vertex of a degenerate shell).
func (b *Building) Center() orb.Point {
	if len(b.Footprint) == 0 || len(b.Footprint[0]) == 0 {
		return orb.Point{}
	}
	return ringCentroid(b.Footprint[0])
}

// Height returns HeightM, or 3.3 m per floor when no height is given.
func (b *Building) Height() float64 {
	if b.HeightM > 0 {
		return b.HeightM
	}
	return 3.3 * float64(b.Floors)
}

func ringCentroid(r orb.Ring) orb.Point {
	var a, cx, cy float64
	o := r[0]
	for i := 0; i+1 < len(r); i++ {
		x0, y0 := r[i][0]-o[0], r[i][1]-o[1]
		x1, y1 := r[i+1][0]-o[0], r[i+1][1]-o[1]
		c := x0*y1 - x1*y0
		a += c
		cx += (x0 + x1) * c
		cy += (y0 + y1) * c
	}
	if a == 0 {
		b := r.Bound()
		return b.Center()
	}
	return orb.Point{o[0] + cx/(3*a), o[1] + cy/(3*a)}
}

// ValidatePoint checks that p is a finite WGS-84 lon/lat.
func ValidatePoint(p orb.Point) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return fmt.Errorf("%w: %v,%v is not a number", ErrInvalidCoordinate, lon, lat)
	}
	if lon < -180 || lon > 180 {
		return fmt.Errorf("%w: longitude %v outside [-180, 180]", ErrInvalidCoordinate, lon)
	}
	if lat < -90 || lat > 90 {
		return fmt.Errorf("%w: latitude %v outside [-90, 90]", ErrInvalidCoordinate, lat)
	}
	return nil
}

// Validate checks an entity: USCC, name, location, risk and industry code.
func (e *Entity) Validate() error {
	if err := ValidateUSCC(e.ID); err != nil {
		return &FieldError{Index: -1, ID: e.ID, Field: "id", Reason: err.Error(), Err: ErrInvalidUSCC}
	}
	if strings.TrimSpace(e.Name) == "" {
		return &FieldError{Index: -1, ID: e.ID, Field: "name", Reason: "missing", Err: ErrInvalidFeature}
	}
	if err := ValidatePoint(e.Location); err != nil {
		return &FieldError{Index: -1, ID: e.ID, Field: "location", Reason: err.Error(), Err: ErrInvalidCoordinate}
	}
	if _, err := ParseRisk(string(e.Risk)); err != nil {
		return &FieldError{Index: -1, ID: e.ID, Field: "risk", Reason: err.Error(), Err: ErrInvalidFeature}
	}
	if e.Industry != "" {
		if err := ValidateIndustryCode(e.Industry); err != nil {
			return &FieldError{Index: -1, ID: e.ID, Field: "industry", Reason: err.Error(), Err: ErrInvalidFeature}
		}
	}
	return nil
}

// Validate checks a place: ID, name and location.
func (p *Place) Validate() error {
	if strings.TrimSpace(p.ID) == "" {
		return &FieldError{Index: -1, Field: "id", Reason: "missing", Err: ErrInvalidFeature}
	}
	if strings.TrimSpace(p.Name) == "" {
		return &FieldError{Index: -1, ID: p.ID, Field: "name", Reason: "missing", Err: ErrInvalidFeature}
	}
	if err := ValidatePoint(p.Location); err != nil {
		return &FieldError{Index: -1, ID: p.ID, Field: "location", Reason: err.Error(), Err: ErrInvalidCoordinate}
	}
	return nil
}

// Validate checks a building: ID and footprint (at most maxVertices).
func (b *Building) Validate(maxVertices int) error {
	if strings.TrimSpace(b.ID) == "" {
		return &FieldError{Index: -1, Field: "id", Reason: "missing", Err: ErrInvalidFeature}
	}
	if err := validatePolygon(b.Footprint, maxVertices); err != nil {
		return &FieldError{Index: -1, ID: b.ID, Field: "geometry", Reason: err.Error(), Err: errorsSentinel(err)}
	}
	if b.Floors < 0 || b.HeightM < 0 || b.HeightM > 1000 || math.IsNaN(b.HeightM) {
		return &FieldError{Index: -1, ID: b.ID, Field: "height", Reason: "floors and height must be ≥ 0 and height ≤ 1000 m", Err: ErrInvalidFeature}
	}
	return nil
}

// Validate checks a zone: ID, layer and geometry (at most maxVertices in all).
func (z *Zone) Validate(maxVertices int) error {
	if strings.TrimSpace(z.ID) == "" {
		return &FieldError{Index: -1, Field: "id", Reason: "missing", Err: ErrInvalidFeature}
	}
	if strings.TrimSpace(z.Layer) == "" {
		return &FieldError{Index: -1, ID: z.ID, Field: "layer", Reason: "missing", Err: ErrInvalidFeature}
	}
	if len(z.Geometry) == 0 {
		return &FieldError{Index: -1, ID: z.ID, Field: "geometry", Reason: "empty multipolygon", Err: ErrInvalidGeometry}
	}
	total := 0
	for _, p := range z.Geometry {
		for _, r := range p {
			total += len(r)
		}
	}
	if maxVertices > 0 && total > maxVertices {
		return &FieldError{Index: -1, ID: z.ID, Field: "geometry", Reason: fmt.Sprintf("%d vertices, more than the limit of %d", total, maxVertices), Err: ErrTooLarge}
	}
	for _, p := range z.Geometry {
		if err := validatePolygon(p, 0); err != nil {
			return &FieldError{Index: -1, ID: z.ID, Field: "geometry", Reason: err.Error(), Err: errorsSentinel(err)}
		}
	}
	return nil
}

func errorsSentinel(err error) error {
	if errors.Is(err, ErrTooLarge) {
		return ErrTooLarge
	}
	return ErrInvalidGeometry
}

func validatePolygon(p orb.Polygon, maxVertices int) error {
	if len(p) == 0 {
		return fmt.Errorf("%w: polygon has no ring", ErrInvalidGeometry)
	}
	n := 0
	for i, r := range p {
		n += len(r)
		if len(r) < 4 {
			return fmt.Errorf("%w: ring %d has %d positions, a closed ring needs at least 4", ErrInvalidGeometry, i, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("%w: ring %d is not closed (first and last positions differ)", ErrInvalidGeometry, i)
		}
		for _, pt := range r {
			if err := ValidatePoint(pt); err != nil {
				return fmt.Errorf("%w: ring %d: %v", ErrInvalidGeometry, i, err)
			}
		}
	}
	if maxVertices > 0 && n > maxVertices {
		return fmt.Errorf("%w: %d vertices, more than the limit of %d", ErrTooLarge, n, maxVertices)
	}
	return nil
}
