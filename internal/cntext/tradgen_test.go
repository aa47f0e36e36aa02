package cntext

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The generator of trad_table.go lives in this test file, so that the
// library carries no generator code, the generator needs no package of its
// own, and generating and checking are one code path:
//
//	go generate ./internal/cntext   (runs the line below)
//	go test ./internal/cntext -run TestTradTableGenerated -update
//
//go:generate go test -run ^TestTradTableGenerated$ -update .

var update = flag.Bool("update", false, "rewrite trad_table.go from data/ instead of comparing")

// The generator's inputs, in data/ (see data/PROVENANCE.md).
const (
	tradDictFile     = "data/TSCharacters.txt"
	tradCharsFile    = "data/address_chars.txt"
	tradVariantsFile = "data/variants.txt"
	tradTableFile    = "trad_table.go"
)

// TestTradTableGenerated fails when trad_table.go is not exactly what the
// generator makes of data/ (a hand edit of the table, or an input changed
// without regenerating). With -update it rewrites the table.
func TestTradTableGenerated(t *testing.T) {
	var in [3][]byte
	for i, name := range []string{tradDictFile, tradCharsFile, tradVariantsFile} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		in[i] = b
	}
	want, err := genTradTable(in[0], in[1], in[2])
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(tradTableFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(tradTableFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return ls[i]
			}
			return "<end of file>"
		}
		t.Fatalf("%s differs from the generator's output at line %d:\n  file:      %q\n  generated: %q\nrun: go generate ./internal/cntext",
			tradTableFile, i+1, line(gl), line(wl))
	}
}

// TestTradTableFolds checks properties of the generated table that the
// callers rely on: every listed character changes, and folding is
// idempotent (no simplified form is itself folded again).
func TestTradTableFolds(t *testing.T) {
	b, err := os.ReadFile(tradCharsFile)
	if err != nil {
		t.Fatal(err)
	}
	chars, err := parseTradChars(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(chars) < 300 {
		t.Fatalf("only %d characters in %s", len(chars), tradCharsFile)
	}
	for _, r := range chars {
		s := SimplifyRune(r)
		if s == r {
			t.Errorf("SimplifyRune(%q) is unchanged", r)
		}
		if SimplifyRune(s) != s {
			t.Errorf("SimplifyRune(%q) = %q is folded again to %q", r, s, SimplifyRune(s))
		}
	}
}

// TestGenTradTable runs the generator on small inputs: the dictionary's
// first candidate wins, a variant goes through its standard form, and every
// inconsistency of the inputs is an error naming its cause.
func TestGenTradTable(t *testing.T) {
	const dict = "區\t区\n號\t号\n鋪\t铺\n麵\t面 麺\n瞭\t瞭 了\n"
	tests := []struct {
		name                  string
		dict, chars, variants string
		want                  []string // "trad simp" pairs of the table, in order
		err                   string   // substring of the error, when one is expected
	}{
		{name: "first candidate", dict: dict, chars: "# c\n區\n號\n麵\n", want: []string{"區区", "號号", "麵面"}},
		{name: "variant", dict: dict, chars: "舖\n", variants: "# v\n舖\t鋪\tsource\n", want: []string{"舖铺"}},
		{name: "empty selection", dict: dict, chars: "# nothing\n", want: nil},
		{name: "not in dictionary", dict: dict, chars: "舖\n", err: "not in the dictionary"},
		{name: "maps to itself", dict: dict, chars: "瞭\n", err: "maps to itself"},
		{name: "unsorted", dict: dict, chars: "號\n區\n", err: "code-point order"},
		{name: "duplicate", dict: dict, chars: "區\n區\n", err: "code-point order"},
		{name: "two characters on a line", dict: dict, chars: "區號\n", err: "one character"},
		{name: "variant listed by the dictionary", dict: dict, chars: "區\n", variants: "區\t區\tx\n", err: "needs no variant"},
		{name: "unused variant", dict: dict, chars: "區\n", variants: "舖\t鋪\tx\n", err: "not in the selection"},
		{name: "variant without source", dict: dict, chars: "舖\n", variants: "舖\t鋪\n", err: "variants line 1"},
		{name: "bad dictionary line", dict: "區区\n", chars: "區\n", err: "dictionary line 1"},
		{name: "duplicate dictionary key", dict: "區\t区\n區\t区\n", chars: "區\n", err: "dictionary line 2"},
		{name: "folded twice", dict: "區\t区\n区\t乂\n", chars: "区\n區\n", err: "folded again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := genTradTable([]byte(tc.dict), []byte(tc.chars), []byte(tc.variants))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			sc := bufio.NewScanner(bytes.NewReader(out))
			var from string
			for sc.Scan() {
				l := strings.TrimSpace(sc.Text())
				if c, ok := strings.CutPrefix(l, "case '"); ok {
					from = strings.TrimSuffix(c, "':")
				} else if s, ok := strings.CutPrefix(l, "return '"); ok {
					got = append(got, from+strings.TrimSuffix(s, "'"))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("table %q, want %q", got, tc.want)
			}
		})
	}
}

// genTradTable returns the source of trad_table.go: the selection chars
// (address_chars.txt), each mapped through variants (variants.txt) to a
// standard traditional form and from there to the first simplified
// candidate of dict (OpenCC's TSCharacters.txt).
func genTradTable(dict, chars, variants []byte) ([]byte, error) {
	d, err := parseTradDict(dict)
	if err != nil {
		return nil, err
	}
	sel, err := parseTradChars(chars)
	if err != nil {
		return nil, err
	}
	vs, err := parseTradVariants(variants)
	if err != nil {
		return nil, err
	}
	inSel := map[rune]bool{}
	for _, r := range sel {
		inSel[r] = true
	}
	for v := range vs {
		if !inSel[v] {
			return nil, fmt.Errorf("cntext: variant %q is not in the selection", v)
		}
		if _, ok := d[v]; ok {
			return nil, fmt.Errorf("cntext: variant %q needs no variant line: the dictionary lists it", v)
		}
	}
	to := make([]rune, len(sel))
	for i, r := range sel {
		std := r
		if v, ok := vs[r]; ok {
			std = v
		}
		cands, ok := d[std]
		if !ok {
			return nil, fmt.Errorf("cntext: %q (U+%04X) is not in the dictionary: add a variants.txt line for it", r, r)
		}
		if cands[0] == r {
			return nil, fmt.Errorf("cntext: %q maps to itself in the dictionary: remove it from the selection", r)
		}
		to[i] = cands[0]
	}
	for i, s := range to {
		if inSel[s] {
			return nil, fmt.Errorf("cntext: %q maps to %q, which would be folded again", sel[i], s)
		}
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by TestTradTableGenerated (tradgen_test.go) from data/; DO NOT EDIT.\n\n")
	b.WriteString("package cntext\n\n")
	b.WriteString("// simplifyRune maps a traditional Chinese character that is common in\n")
	b.WriteString("// addresses to its simplified form. Other runes are returned unchanged.\n")
	b.WriteString("func simplifyRune(r rune) rune {\n\tswitch r {\n")
	for i, r := range sel {
		fmt.Fprintf(&b, "\tcase '%c':\n\t\treturn '%c'\n", r, to[i])
	}
	b.WriteString("\t}\n\treturn r\n}\n")
	return format.Source(b.Bytes())
}

// dataLines calls fn with each line of b that is neither blank nor a
// comment, numbered from 1 among all lines.
func dataLines(b []byte, fn func(n int, line string) error) error {
	for n, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n+1, line); err != nil {
			return err
		}
	}
	return nil
}

// oneRune returns the single rune of s.
func oneRune(s string) (rune, bool) {
	r, n := utf8.DecodeRuneInString(s)
	return r, n == len(s) && r != utf8.RuneError
}

// parseTradDict parses OpenCC's TSCharacters.txt: a traditional character,
// a tab and its simplified candidates separated by spaces, best first.
func parseTradDict(b []byte) (map[rune][]rune, error) {
	d := map[rune][]rune{}
	err := dataLines(b, func(n int, line string) error {
		k, v, ok := strings.Cut(line, "\t")
		r, one := oneRune(k)
		if !ok || !one {
			return fmt.Errorf("cntext: dictionary line %d: want one character, a tab and candidates: %q", n, line)
		}
		if _, dup := d[r]; dup {
			return fmt.Errorf("cntext: dictionary line %d: %q listed twice", n, k)
		}
		for _, c := range strings.Split(v, " ") {
			s, one := oneRune(c)
			if !one {
				return fmt.Errorf("cntext: dictionary line %d: candidate %q is not one character", n, c)
			}
			d[r] = append(d[r], s)
		}
		return nil
	})
	return d, err
}

// parseTradChars parses the selection: one character per line, in
// strictly increasing code-point order.
func parseTradChars(b []byte) ([]rune, error) {
	var out []rune
	err := dataLines(b, func(n int, line string) error {
		r, one := oneRune(strings.TrimSpace(line))
		if !one {
			return fmt.Errorf("cntext: selection line %d: want one character: %q", n, line)
		}
		if len(out) > 0 && r <= out[len(out)-1] {
			return fmt.Errorf("cntext: selection line %d: %q is out of code-point order or repeated", n, r)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// parseTradVariants parses variants.txt: a variant, a tab, its standard
// traditional form, a tab and the source of the equivalence.
func parseTradVariants(b []byte) (map[rune]rune, error) {
	vs := map[rune]rune{}
	err := dataLines(b, func(n int, line string) error {
		f := strings.Split(line, "\t")
		if len(f) != 3 || strings.TrimSpace(f[2]) == "" {
			return fmt.Errorf("cntext: variants line %d: want variant, standard form and source, tab-separated: %q", n, line)
		}
		v, ok1 := oneRune(f[0])
		s, ok2 := oneRune(f[1])
		if !ok1 || !ok2 {
			return fmt.Errorf("cntext: variants line %d: want single characters: %q", n, line)
		}
		if _, dup := vs[v]; dup {
			return fmt.Errorf("cntext: variants line %d: %q listed twice", n, f[0])
		}
		vs[v] = s
		return nil
	})
	return vs, err
}
