package addressmatch

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// Rules of DB.Check found by the adversarial clerk generator
// (clerkadv_test.go): a registered address followed by 附近/对面/旁边 is a
// place near it, not it; a street (街道) or town of another district before
// a registered road is not that address.

// foldCheckNumbers rewrites a clerk's floor-room forms that Normalize does
// not read as one: 8_14 and 8~14 are 8-14, and Chinese digits written one by
// one around a dash (九-一〇) are 9-10.
func foldCheckNumbers(s string) string {
	rs := []rune(s)
	isDash := func(r rune) bool {
		switch cntext.FoldRune(r) {
		case '-', '_', '~', '—', '–', '－', '～':
			return true
		}
		return false
	}
	cnDigit := func(r rune) bool {
		v, ok := cntext.DigitValue(r)
		return ok && !(r >= '0' && r <= '9') && r != '两' && r != '兩' && v >= 0
	}
	changed := false
	for i := 0; i < len(rs); i++ {
		if !isDash(rs[i]) || i == 0 || i+1 >= len(rs) {
			continue
		}
		// Chinese digits on either side, one by one, and no unit word (十百)
		cnL, cnR := i, i+1
		for cnL > 0 && cnDigit(rs[cnL-1]) {
			cnL--
		}
		for cnR < len(rs) && cnDigit(rs[cnR]) {
			cnR++
		}
		leftOK := cnL < i || isDigit(cntext.FoldRune(rs[i-1]))
		rightOK := cnR > i+1 || isDigit(cntext.FoldRune(rs[i+1]))
		if !leftOK || !rightOK {
			continue
		}
		for k := cnL; k < i; k++ {
			v, _ := cntext.DigitValue(rs[k])
			rs[k] = rune('0' + v)
		}
		for k := i + 1; k < cnR; k++ {
			v, _ := cntext.DigitValue(rs[k])
			rs[k] = rune('0' + v)
		}
		if r := cntext.FoldRune(rs[i]); r == '_' || r == '~' || r == '～' {
			rs[i] = '-'
		}
		changed = true
	}
	if !changed {
		return s
	}
	return string(rs)
}

// roadWords are the words that end a road name, longest first.
var roadWords = []string{"大道", "大街", "大路", "路", "街", "道", "巷"}

// roadStem is a road name without its road word (金州大道 → 金州), the name
// itself when it has none or too little would remain.
func roadStem(r string) string {
	for _, w := range roadWords {
		if s, ok := strings.CutSuffix(r, w); ok && utf8.RuneCountInString(s) >= 2 {
			return s
		}
	}
	return r
}

// heldBackCheck returns why a query whose best candidate is an exact one
// must still not be matched, or "": an assist word (附近, 对面, 旁边…) the
// registered address does not have, or a street or town that is not in the
// query's district.
//
// It also holds back a road name the query misspelt (not registered) when
// it is one typo from more than one registered road that has the query's
// road number: the correction could be to either (金沁大道8号 is 金开大道8号
// or 金州大道8号). Caller holds db.mu (read).
func (db *DB) heldBackCheck(c *Components, f *fields, top *entryView) string {
	if top != nil && f.road != "" && f.roadno != "" && db.names[f.road] == 0 && top.f.road != f.road {
		var alts []string
		for _, r := range db.similarNamesLocked(f.road) {
			if db.byRoadNo.has(r + "|" + f.roadno) {
				alts = append(alts, r)
			}
		}
		// the road's own name with another road word (金州路 for 金州大道)
		// is that road, whatever registered road is one typo away
		if stem := roadStem(f.road); stem != f.road {
			for _, w := range roadWords {
				if r := stem + w; r != f.road && r != top.f.road && db.names[r] > 0 {
					alts = append(alts, r)
					if !slices.Contains(alts, top.f.road) {
						alts = append(alts, top.f.road)
					}
				}
			}
		}
		if len(alts) > 1 {
			sort.Strings(alts)
			return fmt.Sprintf("道路名称“%s”与多条道路（%s）相近", f.road, strings.Join(alts, "、"))
		}
	}
	// a place name at a registered number that has none (金帝国际 at 金山大道
	// 32号, registered without a name): a building not registered there
	if top != nil && f.roadno != "" && top.f.poi == "" && top.f.subpoi == "" {
		for _, n := range []string{f.poi, f.subpoi} {
			if n != "" && !isSubNumberName(n) {
				return fmt.Sprintf("名称“%s”不在登记的门牌地址中", n)
			}
		}
	}
	for _, s := range c.Spans {
		switch s.Label {
		case LabelAssist, LabelDistance:
			if top == nil || !strings.Contains(top.display, s.Text) {
				return fmt.Sprintf("地址含方位词“%s”，不是确切的门牌地址", s.Text)
			}
		case LabelTown:
			if c.unit[AdminTown] < 0 && c.unit[AdminDistrict] >= 0 {
				return fmt.Sprintf("“%s”不在%s辖区内", s.Text, c.Admin.District)
			}
		}
	}
	return ""
}
