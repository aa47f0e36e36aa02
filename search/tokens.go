package search

import (
	"unicode"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// textTerms appends to dst the index terms of folded text s (Fold output:
// width-folded, lower case): the overlapping bigrams of every run of Han
// characters, a run of one Han character as itself, and every run of other
// letters or digits as one word. Everything else separates. It gives the
// terms the Bleve analyzer "unicode tokenizer → CJK width → lower case →
// CJK bigram (no unigrams)" gives for our folded text, without the
// analyzer's per-field allocations, and it is used for documents and
// queries alike, so both always agree.
//
// With unis non-nil, every Han character is also appended to *unis (the
// query side's one-character terms).
func textTerms(dst []string, s string, unis *[]string) []string {
	hanStart, hanRunes := -1, 0 // current run of Han characters
	prevStart := -1             // byte offset of the previous Han rune in the run
	wordStart := -1             // current run of other letters and digits
	flushHan := func(end int) {
		if hanRunes == 1 {
			dst = append(dst, s[hanStart:end])
		}
		hanStart, hanRunes, prevStart = -1, 0, -1
	}
	flushWord := func(end int) {
		if wordStart >= 0 {
			dst = append(dst, s[wordStart:end])
			wordStart = -1
		}
	}
	for i, r := range s {
		switch {
		case cntext.IsHan(r):
			flushWord(i)
			if hanStart < 0 {
				hanStart = i
			}
			if prevStart >= 0 {
				dst = append(dst, s[prevStart:i+utf8.RuneLen(r)])
			}
			if unis != nil {
				*unis = append(*unis, s[i:i+utf8.RuneLen(r)])
			}
			prevStart = i
			hanRunes++
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if hanStart >= 0 {
				flushHan(i)
			}
			if wordStart < 0 {
				wordStart = i
			}
		default:
			if hanStart >= 0 {
				flushHan(i)
			}
			flushWord(i)
		}
	}
	if hanStart >= 0 {
		flushHan(len(s))
	}
	flushWord(len(s))
	return dst
}

// queryTerms returns the terms of a query (bigrams and words) and its Han
// characters.
func queryTerms(s string) (terms, unis []string) {
	terms = textTerms(nil, s, &unis)
	return terms, unis
}
