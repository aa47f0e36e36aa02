package search

import (
	"fmt"

	"github.com/marketgeo/marketgeo/geo/region"
)

// Options configure an Index. The zero value of every field means "use the
// default" given in its comment; DefaultOptions returns them filled in.
type Options struct {
	// CJK selects the Chinese analysis. Default CJKBigramUnigram.
	CJK CJKMode
	// Background builds the Bleve index in a goroutine: New returns at once
	// and Search answers ErrNotReady until the build is done (see Ready and
	// Wait). Default false: New returns once the index is built.
	Background bool
	// ZoneLayers are the zone layers whose zones are searchable by name.
	// Default district, street and ftz.
	ZoneLayers []string
	// DefaultLimit is the number of hits when a query gives no limit.
	// Default 10.
	DefaultLimit int
	// MaxLimit is the largest limit a query may ask for. Default 100.
	MaxLimit int
	// Candidates is how many Bleve hits are re-ranked per query (at least
	// the limit). Default 200.
	Candidates int
	// MinScore drops hits whose match quality (0..1, before the distance
	// factor) is below it: the absolute threshold that keeps noise out of
	// answers to names that exist nowhere. Default 0.3.
	MinScore float64
	// MinRelativeScore drops hits whose quality is below this fraction of
	// the best hit's. Default 0.5.
	MinRelativeScore float64
	// MaxRadiusM is the largest radius of a query with a centre. Default
	// 50,000 m.
	MaxRadiusM float64
	// DistanceScaleM is the distance at which the distance factor of a
	// query with a centre and no radius reaches its floor. Default 5,000 m.
	DistanceScaleM float64
	// BatchSize is the smallest number of documents per Bleve batch while
	// building; a large index uses larger batches (a quarter of each build
	// worker's share), as each batch stays one segment. Default 20,000.
	BatchSize int
	// CompactAfter is the number of live-update commits after which the
	// Bleve index is rebuilt in the background (the in-memory index gains a
	// segment per commit and is never merged). Default 512.
	CompactAfter int
	// Region is the administrative dictionary of the region whose names
	// are stripped from the front of company and place names to find the
	// names people use (重庆市两江新区鑫杰装饰工程有限公司 → 鑫杰装饰工程; see
	// NameParser). Default nil: no region, names keep their region
	// prefixes. The demo's is demo.Region(). (A dependency, not a
	// configuration value.)
	Region *region.Dict
	// Persist keeps the Bleve index on disk between runs (see Persist).
	// Default nil: in memory only, built at every start. (Paths of a
	// deployment, not a configuration value.)
	Persist *Persist
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{
		CJK:              CJKBigramUnigram,
		ZoneLayers:       []string{"district", "street", "ftz"},
		DefaultLimit:     10,
		MaxLimit:         100,
		Candidates:       200,
		MinScore:         0.3,
		MinRelativeScore: 0.5,
		MaxRadiusM:       50000,
		DistanceScaleM:   5000,
		BatchSize:        20000,
		CompactAfter:     512,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.CJK == "" {
		o.CJK = d.CJK
	}
	if o.ZoneLayers == nil {
		o.ZoneLayers = d.ZoneLayers
	}
	if o.DefaultLimit == 0 {
		o.DefaultLimit = d.DefaultLimit
	}
	if o.MaxLimit == 0 {
		o.MaxLimit = d.MaxLimit
	}
	if o.Candidates == 0 {
		o.Candidates = d.Candidates
	}
	if o.MinScore == 0 {
		o.MinScore = d.MinScore
	}
	if o.MinRelativeScore == 0 {
		o.MinRelativeScore = d.MinRelativeScore
	}
	if o.MaxRadiusM == 0 {
		o.MaxRadiusM = d.MaxRadiusM
	}
	if o.DistanceScaleM == 0 {
		o.DistanceScaleM = d.DistanceScaleM
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.CompactAfter == 0 {
		o.CompactAfter = d.CompactAfter
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch o.CJK {
	case "", CJKBigram, CJKBigramUnigram, CJKUnigram:
	default:
		return fmt.Errorf("%w: CJK mode %q", ErrInvalidOptions, o.CJK)
	}
	if o.DefaultLimit < 0 || o.MaxLimit < 0 || o.Candidates < 0 || o.BatchSize < 0 || o.CompactAfter < 0 {
		return fmt.Errorf("%w: counts must not be negative", ErrInvalidOptions)
	}
	if o.MinScore < 0 || o.MinScore > 1 || o.MinRelativeScore < 0 || o.MinRelativeScore > 1 {
		return fmt.Errorf("%w: score thresholds must be in [0, 1]", ErrInvalidOptions)
	}
	if o.MaxRadiusM < 0 || o.DistanceScaleM < 0 {
		return fmt.Errorf("%w: distances must not be negative", ErrInvalidOptions)
	}
	if o.Persist != nil && (o.Persist.Dir == "" || o.Persist.Fingerprint == "") {
		return fmt.Errorf("%w: Persist needs a Dir and a Fingerprint", ErrInvalidOptions)
	}
	if o.DefaultLimit > 0 && o.MaxLimit > 0 && o.DefaultLimit > o.MaxLimit {
		return fmt.Errorf("%w: DefaultLimit %d > MaxLimit %d", ErrInvalidOptions, o.DefaultLimit, o.MaxLimit)
	}
	return nil
}
