package addressmatch

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

//go:embed dict/*.csv dict/*.csv.gz
var dictFS embed.FS

// AdminLevel is the level of an administrative division.
type AdminLevel int

// Administrative levels, from coarse to fine.
const (
	AdminNone      AdminLevel = iota
	AdminProvince             // 省/自治区/直辖市
	AdminCity                 // 地级市/地区/州/盟
	AdminDistrict             // 区/县/县级市/旗
	AdminTown                 // 街道/镇/乡
	AdminCommunity            // 社区/村
)

// String returns the lower-case English name of the level.
func (l AdminLevel) String() string {
	switch l {
	case AdminProvince:
		return "province"
	case AdminCity:
		return "city"
	case AdminDistrict:
		return "district"
	case AdminTown:
		return "town"
	case AdminCommunity:
		return "community"
	}
	return "none"
}

// adminUnit is one division of the embedded dictionary.
type adminUnit struct {
	code   string
	name   string // official name (suffix stripped for communities)
	level  AdminLevel
	parent int32 // index into adminDict.units, -1 for provinces
	muni   bool  // province-level municipality (北京/天津/上海/重庆)
	zone   bool  // a town-level functional area (经济开发区, 管委会): labelled devzone
}

// nameRef points from a surface name to a unit.
type nameRef struct {
	unit  int32
	short bool // an abbreviation (广西, 渝北), not the official name
}

// adminDict is the immutable admin dictionary.
type adminDict struct {
	units  []adminUnit
	names  map[string][]nameRef
	byCode map[string]int32
	maxLen int // longest name in runes
}

var pseudoCities = map[string]bool{"市辖区": true, "县": true, "省直辖县级行政区划": true, "自治区直辖县级行政区划": true}

// readCSV returns the data rows of an embedded dictionary file (header
// skipped). The files are plain comma-separated values without quoting, so a
// line split is enough and every field is a substring of one big string.
func readCSV(name string) ([][]string, error) {
	b, err := dictFS.ReadFile("dict/" + name)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("addressmatch: dict %s: %w", name, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("addressmatch: dict %s: %w", name, err)
		}
	}
	text := string(b)
	rows := make([][]string, 0, strings.Count(text, "\n"))
	first := true
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if first || line == "" {
			first = false
			continue
		}
		if strings.ContainsRune(line, '"') {
			return nil, fmt.Errorf("addressmatch: dict %s: quoted field in %q", name, line)
		}
		rows = append(rows, strings.Split(line, ","))
	}
	return rows, nil
}

func trimAny(s string, suffixes ...string) (string, bool) {
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf) && len([]rune(s))-len([]rune(suf)) >= 2 {
			return strings.TrimSuffix(s, suf), true
		}
	}
	return s, false
}

// provinceShort returns the short forms of a province name.
func provinceShort(name string) []string {
	s, ok := trimAny(name, "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")
	if !ok {
		return nil
	}
	out := []string{s}
	if strings.HasSuffix(name, "自治区") {
		out = append(out, s+"省", s+"自治区")
	}
	return out
}

func cityShort(name string) []string {
	if strings.HasSuffix(name, "自治州") {
		r := []rune(name)
		return []string{string(r[:2]), string(r[:2]) + "州"}
	}
	if s, ok := trimAny(name, "地区", "市", "盟"); ok {
		return []string{s}
	}
	return nil
}

func districtShort(name string) []string {
	if s, ok := trimAny(name, "林区"); ok {
		return []string{s}
	}
	for _, suf := range []string{"自治县", "自治旗"} {
		if strings.HasSuffix(name, suf) {
			r := []rune(name)
			return []string{string(r[:2])}
		}
	}
	if s, ok := trimAny(name, "新区", "区", "县", "市", "旗"); ok {
		return []string{s}
	}
	return nil
}

func communityName(name string) string {
	for _, suf := range []string{"社区居民委员会", "社区居委会", "居民委员会", "居委会", "村民委员会", "村委会"} {
		if strings.HasSuffix(name, suf) {
			base := strings.TrimSuffix(name, suf)
			switch {
			case strings.HasPrefix(suf, "社区"):
				return base + "社区"
			case strings.HasPrefix(suf, "村"):
				return base + "村"
			default:
				return base + "社区"
			}
		}
	}
	return name
}

// loadAdminDict parses the embedded CSV files.
func loadAdminDict(withVillages bool) (*adminDict, error) {
	d := &adminDict{names: make(map[string][]nameRef, 160000), byCode: make(map[string]int32, 60000)}
	add := func(u adminUnit) int32 {
		idx := int32(len(d.units))
		d.units = append(d.units, u)
		d.byCode[u.code] = idx
		return idx
	}
	var addName func(name string, idx int32, short bool)
	addName = func(name string, idx int32, short bool) {
		if strings.ContainsAny(name, "一二三四五六七八九十〇零两") {
			// Compare and the DB parse normalised text, where 二七区 reads 27区
			if nn := Normalize(name); nn != name && utf8.RuneCountInString(nn) >= 2 {
				addName(nn, idx, short)
			}
		}
		refs := d.names[name]
		if len(refs) > 0 && refs[len(refs)-1].unit == idx {
			return // units are added in order: a repeat is always the last ref
		}
		d.names[name] = append(refs, nameRef{unit: idx, short: short})
		if n := utf8.RuneCountInString(name); n > d.maxLen {
			d.maxLen = n
		}
	}
	provs, err := readCSV("cn_provinces.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range provs {
		if len(r) < 2 {
			continue
		}
		muni := r[0] == "11" || r[0] == "12" || r[0] == "31" || r[0] == "50"
		idx := add(adminUnit{code: r[0], name: r[1], level: AdminProvince, parent: -1, muni: muni})
		addName(r[1], idx, false)
		for _, s := range provinceShort(r[1]) {
			addName(s, idx, true)
		}
	}
	cities, err := readCSV("cn_cities.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range cities {
		if len(r) < 3 {
			continue
		}
		p, ok := d.byCode[r[2]]
		if !ok {
			continue
		}
		if pseudoCities[r[1]] {
			// Pseudo-city: the code exists so that districts find their province,
			// but it has no name of its own.
			add(adminUnit{code: r[0], name: "", level: AdminCity, parent: p})
			continue
		}
		idx := add(adminUnit{code: r[0], name: r[1], level: AdminCity, parent: p})
		addName(r[1], idx, false)
		for _, s := range cityShort(r[1]) {
			addName(s, idx, true)
		}
	}
	areas, err := readCSV("cn_areas.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range areas {
		if len(r) < 4 || r[1] == "市辖区" {
			continue
		}
		p, ok := d.byCode[r[2]]
		if !ok {
			continue
		}
		idx := add(adminUnit{code: r[0], name: r[1], level: AdminDistrict, parent: p})
		addName(r[1], idx, false)
		for _, s := range districtShort(r[1]) {
			addName(s, idx, true)
		}
	}
	// Former names: most city districts were county-level cities or counties
	// until recently (海门市 → 海门区 2020, 临安市 → 临安区 2017), and
	// addresses keep the old name for decades. X区 also answers to X市 and
	// X县 when no unit has that name.
	nUnits := len(d.units)
	for idx := 0; idx < nUnits; idx++ {
		u := &d.units[idx]
		if u.level != AdminDistrict {
			continue
		}
		base, ok := strings.CutSuffix(u.name, "区")
		if !ok || utf8.RuneCountInString(base) < 2 || strings.HasSuffix(base, "新") || strings.HasSuffix(base, "城") {
			continue
		}
		for _, alt := range []string{base + "市", base + "县"} {
			if _, taken := d.names[alt]; !taken {
				addName(alt, int32(idx), true)
			}
		}
	}
	// All of China's 乡/镇/街道 (and town-level functional areas).
	streets, err := readCSV("cn_streets.csv.gz")
	if err != nil {
		return nil, err
	}
	lastArea, lastP := "", int32(-1)
	for _, r := range streets {
		if len(r) < 3 {
			continue
		}
		if r[2] != lastArea {
			p, ok := d.byCode[r[2]]
			if !ok {
				p = -1
			}
			lastArea, lastP = r[2], p
		}
		p := lastP
		if p < 0 {
			continue
		}
		name := r[1]
		zone := isZoneName(name)
		idx := add(adminUnit{code: r[0], name: name, level: AdminTown, parent: p, zone: zone})
		addName(name, idx, false)
		if zone {
			continue
		}
		if base, ok := strings.CutSuffix(name, "街道"); ok && len([]rune(base)) >= 2 {
			// 汇丰街道办事处, 汇丰办事处, 汇丰街办
			addName(base+"街道办事处", idx, false)
			addName(base+"街道办", idx, false)
			addName(base+"办事处", idx, false)
		}
		if s, ok := trimAny(name, "街道办事处", "街道", "民族乡", "镇", "乡"); ok && !endsWithRoadWord(s) {
			// 嵩山路街道 is not abbreviated: 嵩山路 alone is the road
			addName(s, idx, true)
		}
	}
	if withVillages {
		villages, err := readCSV("chongqing_villages.csv")
		if err != nil {
			return nil, err
		}
		for _, r := range villages {
			if len(r) < 3 {
				continue
			}
			p, ok := d.byCode[r[2]]
			if !ok {
				continue
			}
			name := communityName(r[1])
			idx := add(adminUnit{code: r[0], name: name, level: AdminCommunity, parent: p})
			addName(name, idx, false)
		}
	}
	return d, nil
}

// endsWithRoadWord: a name ending like a road (嵩山路, 解放街, 人民大道).
func endsWithRoadWord(s string) bool {
	for _, w := range []string{"路", "街", "道", "巷", "胡同", "弄"} {
		if strings.HasSuffix(s, w) {
			return true
		}
	}
	return false
}

// zoneSuffixes mark town-level units that are functional areas, not towns.
var zoneSuffixes = []string{"开发区", "园区", "工业园", "产业园", "度假区", "保税区", "新区", "示范区", "试验区", "实验区",
	"高新区", "管理委员会", "管委会", "管理区", "风景区", "景区", "港区", "合作区", "集聚区"}

func isZoneName(name string) bool {
	for _, suf := range zoneSuffixes {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

// isAncestor reports whether unit a is an ancestor of (or equal to) unit b.
func (d *adminDict) isAncestor(a, b int32) bool {
	for b >= 0 {
		if a == b {
			return true
		}
		b = d.units[b].parent
	}
	return false
}

// ancestorAt returns the ancestor of u at level l, or -1.
func (d *adminDict) ancestorAt(u int32, l AdminLevel) int32 {
	for u >= 0 {
		if d.units[u].level == l {
			return u
		}
		if d.units[u].level < l {
			return -1
		}
		u = d.units[u].parent
	}
	return -1
}
