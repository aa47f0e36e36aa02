package demo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

//go:embed data/*.csv data/*.geojson data/*.json
var dataFS embed.FS

type street struct {
	code, name, district string
	base                 string // name without 街道/镇/乡
	anchor               orb.Point
	anchorSource         string
	urban                bool
	communities          []community
}

type community struct {
	code, name, base string
	point            orb.Point
	real             bool // point from the 2016 office geocodes
}

type district struct {
	code, name string
	geom       orb.MultiPolygon
	center     orb.Point
}

type inputs struct {
	districts map[string]*district
	streets   []*street // the demo streets, in list order
	geonames  []geoname
	roads     []roadName
	ftz       ftzScope
	extra     map[string]*street // every street of the embedded districts, by district code + name
}

type geoname struct {
	id, name, namesZH, featureCode, county, township string
	p                                                orb.Point
	population                                       int
}

type roadName struct{ name, district, street string }

type ftzScope struct {
	Areas []struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		NameEn   string  `json:"name_en"`
		AreaKm2  float64 `json:"area_km2"`
		Position string  `json:"positioning"`
		Includes []struct {
			Name    string  `json:"name"`
			AreaKm2 float64 `json:"area_km2"`
		} `json:"includes"`
	} `json:"areas"`
}

// demoStreets are the streets and towns of the demo region: an
// approximation of the Liangjiang New Area's directly managed area plus the
// FTZ's anchor townships. Urban ones get dense office and shop districts.
var demoStreets = []struct {
	district, name string
	urban          bool
}{
	{"500112", "人和街道", true}, {"500112", "天宫殿街道", true}, {"500112", "翠云街道", true},
	{"500112", "鸳鸯街道", true}, {"500112", "大竹林街道", true}, {"500112", "礼嘉街道", true},
	{"500112", "康美街道", true}, {"500112", "金山街道", true}, {"500112", "悦来街道", true},
	{"500112", "两路街道", true}, {"500112", "龙兴镇", false}, {"500112", "石船镇", false},
	{"500112", "玉峰山镇", false},
	{"500105", "寸滩街道", true}, {"500105", "郭家沱街道", true}, {"500105", "铁山坪街道", false},
	{"500105", "鱼嘴镇", false}, {"500105", "复盛镇", false}, {"500105", "五宝镇", false},
	{"500109", "水土街道", false}, {"500109", "复兴街道", false}, {"500109", "蔡家岗街道", true},
	{"500109", "施家梁镇", false}, {"500109", "童家溪镇", false},
}

// approxAnchors are hand-placed anchors for units that have no point in the
// public data, labelled "approximate" wherever they are used.
var approxAnchors = map[string]orb.Point{
	"西永街道": {106.305, 29.595}, // 西永综合保税区, 沙坪坝区: approximate
}

func trimSuffixes(s string, sufs ...string) string {
	for _, x := range sufs {
		if strings.HasSuffix(s, x) && len([]rune(s)) > len([]rune(x))+1 {
			return strings.TrimSuffix(s, x)
		}
	}
	return s
}

func streetBase(name string) string { return trimSuffixes(name, "街道", "镇", "乡") }

func communityBase(name string) string {
	return trimSuffixes(name, "社区居民委员会", "社区居委会", "村民委员会", "村委会", "居民委员会", "居委会", "社区", "村")
}

func readCSV(name string) ([][]string, error) {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	return rows[1:], nil
}

func loadInputs() (*inputs, error) {
	in := &inputs{districts: map[string]*district{}}
	b, err := dataFS.ReadFile("data/districts_wgs84.geojson")
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("demo: districts: %w", err)
	}
	for _, f := range fc.Features {
		d := &district{code: f.Properties.MustString("adcode", ""), name: f.Properties.MustString("name", "")}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			d.geom = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			d.geom = g
		}
		if c, ok := f.Properties["center_wgs84"].([]any); ok && len(c) == 2 {
			d.center = orb.Point{c[0].(float64), c[1].(float64)}
		}
		in.districts[d.code] = d
	}
	streets, err := readCSV("streets.csv")
	if err != nil {
		return nil, err
	}
	byName := map[string]*street{}
	for _, row := range streets {
		st := &street{code: row[0], name: row[1], district: row[2], base: streetBase(row[1])}
		byName[row[2]+row[1]] = st
	}
	byCode := map[string]*street{}
	for _, s := range byName {
		byCode[s.code] = s
	}
	// All of Chongqing's communities: those of the demo streets are kept.
	comms, err := readCSV("chongqing_villages.csv")
	if err != nil {
		return nil, err
	}
	commByCode := map[string]*community{}
	for _, row := range comms {
		st := byCode[row[2]]
		if st == nil {
			continue
		}
		st.communities = append(st.communities, community{code: row[0], name: row[1], base: communityBase(row[1])})
		commByCode[row[0]] = &st.communities[len(st.communities)-1]
	}
	// re-point the map at the final slices (appends may have moved them)
	for _, st := range byCode {
		for i := range st.communities {
			commByCode[st.communities[i].code] = &st.communities[i]
		}
	}
	pts, err := readCSV("admin_points_2016.csv")
	if err != nil {
		return nil, err
	}
	for _, row := range pts {
		lon, _ := strconv.ParseFloat(row[5], 64)
		lat, _ := strconv.ParseFloat(row[6], 64)
		p := orb.Point{lon, lat}
		code9 := row[0][:9]
		switch row[2] {
		case "town":
			if st := byCode[code9]; st != nil && st.anchorSource == "" {
				st.anchor, st.anchorSource = p, "office point (Vonng/adcode 2016, Amap geocode)"
			}
		case "village":
			if c := commByCode[row[0]]; c != nil {
				c.point, c.real = p, true
			}
		}
	}
	gn, err := readCSV("geonames_places.csv")
	if err != nil {
		return nil, err
	}
	for _, row := range gn {
		lon, _ := strconv.ParseFloat(row[4], 64)
		lat, _ := strconv.ParseFloat(row[5], 64)
		pop, _ := strconv.Atoi(row[6])
		g := geoname{id: row[0], name: row[1], namesZH: row[2], featureCode: row[3], p: orb.Point{lon, lat}, population: pop, county: row[7], township: row[8]}
		in.geonames = append(in.geonames, g)
		if st := byCode[g.township]; st != nil && st.anchorSource == "" {
			st.anchor, st.anchorSource = g.p, "GeoNames "+g.id
		}
	}
	for _, ds := range demoStreets {
		st := byName[ds.district+ds.name]
		if st == nil {
			return nil, fmt.Errorf("demo: street %s not in the NBS list", ds.name)
		}
		st.urban = ds.urban
		if st.anchorSource == "" {
			// mean of the community office points
			var sx, sy float64
			n := 0
			for _, c := range st.communities {
				if c.real {
					sx += c.point[0]
					sy += c.point[1]
					n++
				}
			}
			if n > 0 {
				st.anchor, st.anchorSource = orb.Point{sx / float64(n), sy / float64(n)}, "mean of community office points"
			}
		}
		if st.anchorSource == "" {
			// GeoNames by Chinese name
			for _, g := range in.geonames {
				for _, zh := range strings.Split(g.namesZH, "|") {
					if zh == st.name || zh == st.base {
						st.anchor, st.anchorSource = g.p, "GeoNames "+g.id
					}
				}
			}
		}
		if st.anchorSource == "" {
			continue // no point anywhere: leave the street out
		}
		in.streets = append(in.streets, st)
	}
	for name, p := range approxAnchors {
		for _, st := range byName {
			if st.name == name && st.anchorSource == "" {
				st.anchor, st.anchorSource = p, "approximate (hand-placed)"
			}
		}
	}
	in.extra = byName
	roads, err := readCSV("roads.csv")
	if err != nil {
		return nil, err
	}
	for _, row := range roads {
		in.roads = append(in.roads, roadName{row[0], row[1], row[2]})
	}
	fb, err := dataFS.ReadFile("data/chongqing_ftz_scope.json")
	if err != nil {
		return nil, err
	}
	if err := json.NewDecoder(io.Reader(bytes.NewReader(fb))).Decode(&in.ftz); err != nil {
		return nil, fmt.Errorf("demo: ftz scope: %w", err)
	}
	return in, nil
}
