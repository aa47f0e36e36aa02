package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// Field names of the Bleve documents.
const (
	fLayer = "layer" // keyword: entities, places, buildings, zones
	fName  = "name"  // CJK analysis: every name variant
	fAddr  = "addr"  // CJK bigrams: address
)

// Analyzer and filter names registered on the mapping by New.
const (
	analyzerCJK      = "marketgeo_cjk"
	analyzerAddr     = "marketgeo_cjk_address"
	filterBigram     = "marketgeo_cjk_bigram"
	filterBigramOnly = "marketgeo_cjk_bigram_only"
	filterWidth      = "marketgeo_cjk_width"
)

// CJKMode selects how Chinese text is cut into index terms.
type CJKMode string

// The CJK analysis modes. See docs/search.md for their measured quality and
// cost on the demo region.
const (
	// CJKBigramUnigram indexes overlapping character bigrams in Bleve and
	// single characters in the in-memory lexicon (per character, the docs
	// best ranked first): two-or-more-character queries match bigrams,
	// one-character queries and the typo pass the lexicon. The default.
	CJKBigramUnigram CJKMode = "bigram+unigram"
	// CJKBigram indexes overlapping bigrams only (Lucene's CJKAnalyzer): the
	// smallest index, but a one-character query finds nothing.
	CJKBigram CJKMode = "bigram"
	// CJKUnigram indexes single characters only and matches multi-character
	// queries as phrases (segmenter-free, no bigrams).
	CJKUnigram CJKMode = "unigram"
)

// newMapping builds the index mapping and registers the custom analysis
// components on it. Nothing is registered globally.
func newMapping(mode CJKMode) (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomTokenFilter(filterWidth, map[string]any{"type": cjk.WidthName}); err != nil {
		return nil, fmt.Errorf("search: analyzer: %w", err)
	}
	filters := []any{filterWidth, lowercase.Name}
	if mode != CJKUnigram {
		if err := im.AddCustomTokenFilter(filterBigram, map[string]any{
			"type":           cjk.BigramName,
			"output_unigram": mode == CJKBigramUnigram,
		}); err != nil {
			return nil, fmt.Errorf("search: analyzer: %w", err)
		}
		filters = append(filters, filterBigram)
	}
	if err := im.AddCustomAnalyzer(analyzerCJK, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": filters,
	}); err != nil {
		return nil, fmt.Errorf("search: analyzer: %w", err)
	}
	// Addresses are matched by bigrams only (a one-character query is
	// about names), which keeps the index smaller.
	if err := im.AddCustomTokenFilter(filterBigramOnly, map[string]any{"type": cjk.BigramName, "output_unigram": false}); err != nil {
		return nil, fmt.Errorf("search: analyzer: %w", err)
	}
	addrFilters := []any{filterWidth, lowercase.Name, filterBigramOnly}
	if mode == CJKUnigram {
		addrFilters = addrFilters[:2]
	}
	if err := im.AddCustomAnalyzer(analyzerAddr, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": addrFilters,
	}); err != nil {
		return nil, fmt.Errorf("search: analyzer: %w", err)
	}
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	text := func(analyzer string, positions bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = positions
		f.DocValues = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fLayer, text(keyword.Name, false))
	dm.AddFieldMappingsAt(fName, text(analyzerCJK, mode == CJKUnigram))
	dm.AddFieldMappingsAt(fAddr, text(analyzerAddr, mode == CJKUnigram))
	// No composite _all field: every query names its fields.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	return im, nil
}
