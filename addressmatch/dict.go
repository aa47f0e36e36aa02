package addressmatch

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo/region"
)

//go:embed dict/*.csv dict/*.csv.gz
var dictFS embed.FS

// AdminLevel is the level of an administrative division: [region.Level],
// the level type of the region dictionary that addressmatch and search share.
type AdminLevel = region.Level

// Administrative levels, from coarse to fine.
const (
	AdminNone      = region.LevelNone
	AdminProvince  = region.LevelProvince  // 省/自治区/直辖市
	AdminCity      = region.LevelCity      // 地级市/地区/州/盟
	AdminDistrict  = region.LevelDistrict  // 区/县/县级市/旗
	AdminTown      = region.LevelTown      // 街道/镇/乡
	AdminCommunity = region.LevelCommunity // 社区/村
)

// adminUnit is one division of the embedded dictionary.
type adminUnit struct {
	code   string
	name   string // official name (suffix stripped for communities)
	level  AdminLevel
	parent int32 // index into adminDict.units, -1 for provinces
	muni   bool  // province-level municipality (北京/天津/上海/重庆)
	zone   bool  // a town-level functional area (经济开发区, 管委会): labelled devzone
	region bool  // a unit of Options.Region (the region the addresses come from)
}

// nameRef points from a surface name to a unit.
type nameRef struct {
	unit  int32
	short bool // an abbreviation (广西, 渝北), not the official name
}

// adminDict is the immutable admin dictionary. Its names and codes are
// substrings of the embedded files' text (one string a file), its name
// references one array, and its maps sized for what they hold: the
// national dictionary is ~45,000 units and ~86,000 names, read by every
// parse but built once (docs/memory.md, "The address database, memaddr22").
type adminDict struct {
	units []adminUnit
	names map[string][]nameRef
	// codes are the units' indexes sorted by code (unitByCode); byCode
	// serves the loading only and is nil once the dictionary is built.
	codes  []int32
	byCode map[string]int32
	maxLen int // longest name in runes
}

// unitByCode returns the unit of a division code.
func (d *adminDict) unitByCode(code string) (int32, bool) {
	if d.byCode != nil {
		u, ok := d.byCode[code]
		return u, ok
	}
	i, ok := slices.BinarySearchFunc(d.codes, code, func(u int32, c string) int { return strings.Compare(d.units[u].code, c) })
	if !ok {
		return -1, false
	}
	return d.codes[i], true
}

// seal ends the loading: the names map is rebuilt at its size with every
// name's references in one array (cap-limited, so that nothing appends
// into a neighbour's), the units array copied at its length, and the code map replaced
// by a sorted index. The look-ups answer as before.
func (d *adminDict) seal() {
	n := 0
	for _, refs := range d.names {
		n += len(refs)
	}
	arena := make([]nameRef, 0, n)
	names := make(map[string][]nameRef, len(d.names))
	for name, refs := range d.names {
		lo := len(arena)
		arena = append(arena, refs...)
		names[name] = arena[lo:len(arena):len(arena)]
	}
	d.names = names
	d.units = append(make([]adminUnit, 0, len(d.units)), d.units...)
	d.codes = make([]int32, 0, len(d.byCode))
	for _, u := range d.byCode {
		d.codes = append(d.codes, u)
	}
	slices.SortFunc(d.codes, func(a, b int32) int { return strings.Compare(d.units[a].code, d.units[b].code) })
	d.byCode = nil
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

// communityName is the name of a community or village without its
// committee's suffix: 万寿山社区居民委员会 → 万寿山社区, 平政村民委员会 →
// 平政村, 井池村村民委员会 → 井池村, 溉塘新村社区居民委员会 → 溉塘新村社区.
func communityName(name string) string {
	for _, suf := range []string{"社区居民委员会", "社区居委会", "居民委员会", "居委会", "村民委员会", "村委会"} {
		if strings.HasSuffix(name, suf) {
			base := strings.TrimSuffix(name, suf)
			switch {
			case !strings.HasPrefix(suf, "社区") && (strings.HasSuffix(base, "村") || strings.HasSuffix(base, "社区")):
				// the NBS writes 井池村村民委员会, 先锋社区村民委员会: the
				// name already ends with its word (井池村, not 井池村村)
				return base
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

// loadAdminDict builds the dictionary: the embedded national divisions
// (provinces, cities, counties, towns), then the units of reg merged by
// code (nil: none), leaving reg's communities out when skipCommunities.
func loadAdminDict(reg *region.Dict, skipCommunities bool) (*adminDict, error) {
	d := &adminDict{names: map[string][]nameRef{}, byCode: map[string]int32{}}
	if err := d.loadNational(); err != nil {
		return nil, err
	}
	if reg != nil {
		var err error
		reg.Units(func(u region.Unit) bool {
			err = d.merge(u, skipCommunities)
			return err == nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: region %s: %w", ErrInvalidOptions, reg.Name(), err)
		}
	}
	d.seal()
	return d, nil
}

// add appends a unit and returns its index.
func (d *adminDict) add(u adminUnit) int32 {
	idx := int32(len(d.units))
	d.units = append(d.units, u)
	d.byCode[u.code] = idx
	return idx
}

// addName makes name (and its normalised form, when it has Chinese
// numerals) a name of unit idx.
func (d *adminDict) addName(name string, idx int32, short bool) {
	if strings.ContainsAny(name, "一二三四五六七八九十〇零两") {
		// Compare and the DB parse normalised text, where 二七区 reads 27区
		if nn := Normalize(name); nn != name && utf8.RuneCountInString(nn) >= 2 {
			d.addName(nn, idx, short)
		}
	}
	refs := d.names[name]
	if len(refs) > 0 && refs[len(refs)-1].unit == idx {
		return // a unit's names are added together: a repeat is always the last ref
	}
	d.names[name] = append(refs, nameRef{unit: idx, short: short})
	if n := utf8.RuneCountInString(name); n > d.maxLen {
		d.maxLen = n
	}
}

// hasName reports whether name already names unit idx.
func (d *adminDict) hasName(name string, idx int32) bool {
	for _, r := range d.names[name] {
		if r.unit == idx {
			return true
		}
	}
	return false
}

// addLevelNames gives unit idx its official name and the forms derived
// from it for its level: the short forms of provinces, cities and
// counties (广西, 渝北: [region.ShortNames]), and of towns 汇丰街道办事处,
// 汇丰街道办, 汇丰办事处 and the abbreviation 汇丰 (not for a functional
// area, nor when the abbreviation reads as a road: 嵩山路街道 is not 嵩山路).
func (d *adminDict) addLevelNames(idx int32) {
	u := d.units[idx]
	d.addName(u.name, idx, false)
	short := region.ShortNames(u.name, u.level)
	switch u.level {
	case AdminTown:
		if u.zone {
			return
		}
		if base, ok := strings.CutSuffix(u.name, "街道"); ok && len([]rune(base)) >= 2 {
			d.addName(base+"街道办事处", idx, false)
			d.addName(base+"街道办", idx, false)
			d.addName(base+"办事处", idx, false)
		}
		if s, ok := trimAny(u.name, "街道办事处", "街道", "民族乡", "镇", "乡"); ok && !endsWithRoadWord(s) {
			short = []string{s}
		}
	}
	for _, s := range short {
		d.addName(s, idx, true)
	}
}

// loadNational reads the embedded national divisions.
func (d *adminDict) loadNational() error {
	provs, err := readCSV("cn_provinces.csv")
	if err != nil {
		return err
	}
	for _, r := range provs {
		if len(r) < 2 {
			continue
		}
		muni := r[0] == "11" || r[0] == "12" || r[0] == "31" || r[0] == "50"
		d.addLevelNames(d.add(adminUnit{code: r[0], name: r[1], level: AdminProvince, parent: -1, muni: muni}))
	}
	cities, err := readCSV("cn_cities.csv")
	if err != nil {
		return err
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
			d.add(adminUnit{code: r[0], name: "", level: AdminCity, parent: p})
			continue
		}
		d.addLevelNames(d.add(adminUnit{code: r[0], name: r[1], level: AdminCity, parent: p}))
	}
	areas, err := readCSV("cn_areas.csv")
	if err != nil {
		return err
	}
	for _, r := range areas {
		if len(r) < 4 || r[1] == "市辖区" {
			continue
		}
		p, ok := d.byCode[r[2]]
		if !ok {
			continue
		}
		d.addLevelNames(d.add(adminUnit{code: r[0], name: r[1], level: AdminDistrict, parent: p}))
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
				d.addName(alt, int32(idx), true)
			}
		}
	}
	// All of China's 乡/镇/街道 (and town-level functional areas).
	streets, err := readCSV("cn_streets.csv.gz")
	if err != nil {
		return err
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
		d.addLevelNames(d.add(adminUnit{code: r[0], name: r[1], level: AdminTown, parent: p, zone: isZoneName(r[1])}))
	}
	return nil
}

// merge adds one unit of a region dictionary. A unit whose code the
// dictionary has gets the region's name (communities without their
// 居民委员会/村委会 suffix) and aliases as further names; any other unit
// is added under its parent, found by code, with the names of its level.
// A functional area above town level (两江新区) is no link of the chain
// and is skipped: the parser labels it devzone by its suffix. An alias
// that reads as a road (华新街 for 华新街街道) is left out: the road reading
// wins, as for the national abbreviations.
func (d *adminDict) merge(u region.Unit, skipCommunities bool) error {
	if u.Level == AdminCommunity && skipCommunities {
		return nil
	}
	name := u.Name
	if u.Level == AdminCommunity {
		name = communityName(name)
	}
	idx, known := d.byCode[u.Code]
	switch {
	case known:
		if have := d.units[idx].level; have != u.Level {
			return fmt.Errorf("unit %s %s is a %s, the national unit of that code a %s", u.Code, u.Name, u.Level, have)
		}
		if name != d.units[idx].name && !pseudoCities[name] && !d.hasName(name, idx) {
			d.addName(name, idx, false)
		}
	case u.Functional && u.Level < AdminTown:
		return nil
	default:
		parent := int32(-1)
		if u.Parent != "" {
			p, ok := d.byCode[u.Parent]
			if !ok {
				return fmt.Errorf("unit %s %s: parent %s is in neither the region nor the national divisions", u.Code, u.Name, u.Parent)
			}
			if d.units[p].level >= u.Level {
				return fmt.Errorf("unit %s %s: a %s under the %s %s", u.Code, u.Name, u.Level, d.units[p].level, u.Parent)
			}
			parent = p
		} else if u.Level != AdminProvince {
			return fmt.Errorf("unit %s %s: a %s without a parent", u.Code, u.Name, u.Level)
		}
		zone := u.Level == AdminTown && (u.Functional || isZoneName(name))
		idx = d.add(adminUnit{code: u.Code, name: name, level: u.Level, parent: parent, zone: zone})
		d.addLevelNames(idx)
	}
	d.units[idx].region = true
	for _, a := range u.Aliases {
		if !endsWithRoadWord(a) && !d.hasName(a, idx) {
			d.addName(a, idx, true)
		}
	}
	return nil
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
