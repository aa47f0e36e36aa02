package demo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/marketgeo/marketgeo/geo/region"
)

// Liangjiang is the code the demo gives 两江新区, which has no NBS code (it
// is a functional area over parts of 渝北区, 江北区 and 北碚区).
const Liangjiang = "50-LJXQ"

// Region returns the demo region's administrative dictionary: 重庆市 (also
// written 重庆), the seven districts of data/districts_wgs84.geojson with
// their short forms, 两江新区 (两江), the NBS streets of data/streets.csv and
// all 11,270 communities (村/社区) of Chongqing, data/chongqing_villages.csv
// (their streets outside the demo are the parents by code: addressmatch
// finds them in its national dictionary). It is what the marketgeo binary
// passes to search (which reads the district level and above) and to
// addressmatch (which adds the communities and aliases to its national
// divisions); a library user passes their own region instead. Each call
// builds a new Dict.
func Region() (*region.Dict, error) {
	units := []region.Unit{
		{Code: "50", Name: "重庆市", Level: region.LevelProvince, Aliases: region.ShortNames("重庆市", region.LevelProvince)},
		{Code: Liangjiang, Name: "两江新区", Level: region.LevelDistrict, Parent: "50", Aliases: []string{"两江"}, Functional: true},
	}
	in, err := loadInputs()
	if err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(in.districts))
	for c := range in.districts {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		d := in.districts[c]
		units = append(units, region.Unit{Code: c, Name: d.name, Level: region.LevelDistrict, Parent: "50",
			Aliases: region.ShortNames(d.name, region.LevelDistrict)})
	}
	streets, err := readCSV("streets.csv")
	if err != nil {
		return nil, err
	}
	for _, row := range streets {
		u := region.Unit{Code: row[0], Name: row[1], Level: region.LevelTown, Parent: row[2]}
		if s := streetBase(row[1]); s != row[1] && !strings.HasSuffix(s, "路") {
			u.Aliases = []string{s}
		}
		units = append(units, u)
	}
	comms, err := readCSV("chongqing_villages.csv")
	if err != nil {
		return nil, err
	}
	for _, row := range comms {
		units = append(units, region.Unit{Code: row[0], Name: row[1], Level: region.LevelCommunity, Parent: row[2]})
	}
	d, err := region.New(region.Options{Name: "重庆市两江新区 (demo)", Units: units})
	if err != nil {
		return nil, fmt.Errorf("demo: region: %w", err)
	}
	return d, nil
}

// RulesJSON returns the demo's siting-rules file (data/rules.json):
// internet cafés R9013 and dance and entertainment venues R9011 not within
// 200 m of a school or kindergarten. Demo rules, not legal advice. Parse
// it with zoneid.ParseRules (demo does not import zoneid, whose tests use
// the demo data); TestRules in zoneid checks it.
func RulesJSON() []byte {
	b, _ := dataFS.ReadFile("data/rules.json") // embedded: cannot fail
	return b
}
