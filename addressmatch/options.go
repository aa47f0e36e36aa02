package addressmatch

import (
	"fmt"

	"github.com/marketgeo/marketgeo/geo/region"
)

// Options configures a [Parser]. The zero value of every field means "use the
// default".
type Options struct {
	// Region is the administrative dictionary of the region the addresses
	// come from: the geo/region type that search.Options.Region takes too
	// (the demo's is demo.Region()). The parser knows the national
	// divisions it embeds (all provinces, cities, counties and towns of
	// China, NBS 2023) and merges the region's units into them by code: a
	// unit it knows gets the region's name and aliases as further names; a
	// unit it does not know (a community, a town newer than the table) is
	// added under its parent, which must be in the region or the national
	// divisions (else NewParser fails with ErrInvalidOptions). An alias that
	// reads as a road (华新街 for 华新街街道) is left out, and a functional
	// area above town level (两江新区) is no link of the chain: it is
	// labelled devzone by its suffix. Nil: the national divisions alone,
	// without any community. A dependency, not configuration.
	Region *region.Dict
	// SkipCommunities leaves the communities (村/社区) of Region out of the
	// dictionary (for the demo's Chongqing, 11,270 names and about 3 MB).
	// Default false: they are loaded.
	SkipCommunities bool
	// MaxRunes is the longest address accepted by [DB.Check] and
	// [Parser.ParseStrict], in runes. Zero means 200.
	MaxRunes int
	// PlainDashRoom keeps a bare N-N after a number (金开大道6号3-1) as one
	// room number when addresses are compared. Default false: N-N is
	// floor N, room N, the same as N楼N号 and N层N室, as Chongqing and most
	// of China write it.
	PlainDashRoom bool
	// NoModel turns the learned parse model off: Parse returns the rules'
	// spans alone. Default false: the model embedded in the package (see
	// model/PROVENANCE.md; learned from CC BY-NC 4.0 data) relabels the
	// rules' spans when it is present.
	NoModel bool
	// ParseModel, when not nil, is used instead of the embedded model (for
	// evaluation and retraining). Ignored when NoModel is set.
	ParseModel *ParseModel
	// NoCompareModel turns the learned compare model off: Compare labels
	// pairs with the rules alone. Default false: the model embedded in the
	// package (model/compare.bin.gz, see model/PROVENANCE.md; learned from
	// CC BY-NC 4.0 data) labels the pairs when it is present. NoModel turns
	// both models off.
	NoCompareModel bool
	// CompareModel, when not nil, is used instead of the embedded compare
	// model (for evaluation and retraining). Ignored when NoModel or
	// NoCompareModel is set.
	CompareModel *CompareModel
}

// DefaultOptions returns the default options.
func DefaultOptions() Options { return Options{MaxRunes: 200} }

// Validate reports whether the options are usable.
func (o Options) Validate() error {
	if o.MaxRunes < 0 {
		return fmt.Errorf("%w: MaxRunes must be >= 0, got %d", ErrInvalidOptions, o.MaxRunes)
	}
	return nil
}

// DBOptions configures a [DB]. Zero values mean the defaults.
type DBOptions struct {
	// Parser to use; nil means a new parser with DefaultOptions.
	Parser *Parser
	// MaxCandidates is the number of candidates returned by Check (default 5).
	MaxCandidates int
	// MatchScore is the minimum score of an exact candidate for a Matched
	// verdict (default 0.85).
	MatchScore float64
}

// DefaultDBOptions returns the options NewDB applies for zero values: a
// parser with DefaultOptions, 5 candidates, a match score of 0.85.
func DefaultDBOptions() DBOptions {
	return DBOptions{MaxCandidates: 5, MatchScore: 0.85}
}

// Validate reports whether the options are usable; its errors wrap
// ErrInvalidOptions.
func (o DBOptions) Validate() error {
	if o.MaxCandidates < 0 || o.MaxCandidates > 1000 {
		return fmt.Errorf("%w: MaxCandidates %d is outside [0, 1000]", ErrInvalidOptions, o.MaxCandidates)
	}
	if !(o.MatchScore >= 0 && o.MatchScore <= 1) {
		return fmt.Errorf("%w: MatchScore %v is outside [0, 1]", ErrInvalidOptions, o.MatchScore)
	}
	return nil
}
