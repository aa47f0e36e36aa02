package addressmatch

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

//go:embed dict/*.csv
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

func readCSV(name string) ([][]string, error) {
	b, err := dictFS.ReadFile("dict/" + name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var rows [][]string
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("addressmatch: dict %s: %w", name, err)
		}
		if first {
			continue
		}
		rows = append(rows, rec)
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
	d := &adminDict{names: make(map[string][]nameRef, 40000), byCode: make(map[string]int32, 20000)}
	add := func(u adminUnit) int32 {
		idx := int32(len(d.units))
		d.units = append(d.units, u)
		d.byCode[u.code] = idx
		return idx
	}
	addName := func(name string, idx int32, short bool) {
		for _, ref := range d.names[name] {
			if ref.unit == idx {
				return
			}
		}
		d.names[name] = append(d.names[name], nameRef{unit: idx, short: short})
		if n := len([]rune(name)); n > d.maxLen {
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
	streets, err := readCSV("chongqing_streets.csv")
	if err != nil {
		return nil, err
	}
	for _, r := range streets {
		if len(r) < 3 {
			continue
		}
		p, ok := d.byCode[r[2]]
		if !ok {
			continue
		}
		idx := add(adminUnit{code: r[0], name: r[1], level: AdminTown, parent: p})
		addName(r[1], idx, false)
		if s, ok := trimAny(r[1], "街道办事处", "街道", "民族乡", "镇", "乡"); ok {
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
