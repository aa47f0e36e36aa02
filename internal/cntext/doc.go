// Package cntext holds small, dependency-free Chinese text primitives shared by
// the address and search packages: full-width to half-width folding,
// traditional to simplified conversion for characters common in addresses,
// and Chinese numeral parsing.
//
// Every function is pure and goroutine-safe; the package has no mutable state.
// Rune-level folds ([FoldRune], [Fold]) never change the number of runes, so
// character offsets computed on the folded text are valid on the original.
//
//	s := cntext.Fold("廣東省ＡＢＣ１２３")        // "广东省ABC123"
//	n, ok := cntext.ParseNumber("一百零五")     // 105, true
//	t := cntext.ConvertNumerals("六十八号", nil) // "68号"
//
// The traditional→simplified table is compact (a few hundred characters seen in
// place names and address unit words); it is not a general converter. It is
// generated from OpenCC's character dictionary and a selection list kept in
// data/ (see data/PROVENANCE.md): add a character there and run
// go generate ./internal/cntext.
package cntext
