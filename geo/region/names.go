package region

import "strings"

// ShortNames returns the short forms people write for the official name of
// a province, city or county-level division: 广东 for 广东省; 广西, 广西省
// and 广西自治区 for 广西壮族自治区; 深圳 for 深圳市; 恩施 and 恩施州 for
// 恩施土家族苗族自治州; 南山 for 南山区; 神农架 for 神农架林区; 峨边 for
// 峨边彝族自治县. It returns nil for the finer levels (whose short forms
// depend on what they may be confused with: 嵩山路 for 嵩山路街道 is the
// road) and when fewer than two characters would remain. It is the one
// home of these forms: addressmatch derives the national divisions' names
// with it, and a region built from the NBS tables (which carry none) adds
// them as Aliases:
//
//	u.Aliases = append(u.Aliases, region.ShortNames(u.Name, u.Level)...)
//
// ShortNames is pure and goroutine-safe.
func ShortNames(name string, level Level) []string {
	switch level {
	case LevelProvince:
		s, ok := trimSuffix(name, "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")
		if !ok {
			return nil
		}
		out := []string{s}
		if strings.HasSuffix(name, "自治区") {
			out = append(out, s+"省", s+"自治区")
		}
		return out
	case LevelCity:
		if strings.HasSuffix(name, "自治州") {
			r := []rune(name)
			return []string{string(r[:2]), string(r[:2]) + "州"}
		}
		if s, ok := trimSuffix(name, "地区", "市", "盟"); ok {
			return []string{s}
		}
	case LevelDistrict:
		if s, ok := trimSuffix(name, "林区"); ok {
			return []string{s}
		}
		for _, suf := range []string{"自治县", "自治旗"} {
			if strings.HasSuffix(name, suf) {
				return []string{string([]rune(name)[:2])}
			}
		}
		if s, ok := trimSuffix(name, "新区", "区", "县", "市", "旗"); ok {
			return []string{s}
		}
	}
	return nil
}

// trimSuffix removes the first of the suffixes that name ends with, when
// at least two characters remain.
func trimSuffix(name string, suffixes ...string) (string, bool) {
	for _, suf := range suffixes {
		if strings.HasSuffix(name, suf) && len([]rune(name))-len([]rune(suf)) >= 2 {
			return strings.TrimSuffix(name, suf), true
		}
	}
	return name, false
}
