package demo

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// places: real GeoNames points and township/community offices, plus
// synthetic schools, kindergartens, hospitals and a few landmarks.
func (g *gen) places() {
	add := func(p geo.Place) { g.ds.Places = append(g.ds.Places, p) }
	inDemo := map[string]bool{}
	for _, st := range g.in.streets {
		inDemo[st.district] = true
	}
	for _, gn := range g.in.geonames {
		if !inDemo[gn.county] {
			continue
		}
		names := strings.Split(gn.namesZH, "|")
		name := names[0]
		for _, n := range names {
			if strings.HasSuffix(n, "街道") || strings.HasSuffix(n, "镇") {
				name = n
				break
			}
		}
		var aliases []string
		for _, n := range names {
			if n != name {
				aliases = append(aliases, n)
			}
		}
		aliases = append(aliases, gn.name)
		add(geo.Place{ID: "GN" + gn.id, Name: name, Aliases: aliases, Kind: "settlement", Location: gn.p,
			Attrs: map[string]string{"source": "GeoNames (geonames.org), CC BY 4.0", "geonameid": gn.id, "population": fmt.Sprint(gn.population)}})
	}
	for _, st := range g.in.streets {
		dname := g.districtName(st.district)
		if strings.HasPrefix(st.anchorSource, "office point") {
			office := st.name + "办事处"
			if strings.HasSuffix(st.name, "镇") {
				office = st.name + "人民政府"
			}
			add(geo.Place{ID: "GOV" + st.code, Name: office, Aliases: []string{st.name}, Kind: "government", Location: st.anchor,
				Attrs: map[string]string{"source": "NBS 2023 code, Amap office geocode 2016 (Vonng/adcode)", "code": st.code, "district": dname}})
		}
		for _, c := range st.communities {
			if c.real {
				add(geo.Place{ID: "COM" + c.code, Name: c.name, Aliases: []string{c.base + "社区", c.base}, Kind: "community", Location: c.point,
					Attrs: map[string]string{"source": "NBS 2023 code, Amap office geocode 2016 (Vonng/adcode)", "code": c.code, "street": st.name}})
			}
		}
		// synthetic schools, kindergartens and health centres around the street centre
		nPrimary, nMiddle := 2, 1
		if st.urban {
			nPrimary, nMiddle = 4, 2
		}
		k := 0
		mk := func(kind, name string, spread float64) {
			k++
			p := offset(st.anchor, g.r.NormFloat64()*spread, g.r.NormFloat64()*spread)
			add(geo.Place{ID: fmt.Sprintf("S%s%02d", st.code, k), Name: name, Kind: kind, Location: p,
				Attrs: map[string]string{"source": "synthetic-demo", "street": st.name, "district": dname}})
		}
		for i := 0; i < nPrimary; i++ {
			name := "重庆市" + dname + st.base + "小学"
			if i > 0 {
				name = "重庆市" + dname + st.base + []string{"", "实验小学", "第二小学", "中心小学", "外国语小学"}[i]
			}
			mk("school", name, 700)
		}
		for i := 0; i < nMiddle; i++ {
			name := "重庆市" + st.base + "中学校"
			if i > 0 {
				name = "重庆市" + st.base + "第二中学校"
			}
			mk("school", name, 700)
		}
		mk("kindergarten", dname+st.base+"幼儿园", 600)
		mk("hospital", dname+st.base+"社区卫生服务中心", 500)
	}
	// landmarks at approximate positions (hand-placed near their street; not surveyed)
	landmarks := []struct{ name, kind, street string }{
		{"重庆江北国际机场", "landmark", "两路街道"},
		{"重庆国际博览中心", "landmark", "悦来街道"},
		{"重庆园博园", "landmark", "礼嘉街道"},
		{"寸滩保税港区", "landmark", "寸滩街道"},
		{"果园港", "landmark", "鱼嘴镇"},
		{"两江新区人民医院", "hospital", "人和街道"},
	}
	for i, lm := range landmarks {
		for _, st := range g.in.streets {
			if st.name == lm.street {
				add(geo.Place{ID: fmt.Sprintf("LM%02d", i+1), Name: lm.name, Kind: lm.kind, Location: offset(st.anchor, g.r.NormFloat64()*300, g.r.NormFloat64()*300),
					Attrs: map[string]string{"source": "synthetic-demo (approximate position)"}})
			}
		}
	}
}

// zones: the real district polygons, synthetic FTZ outlines with the
// official areas, and square supervision grids with inspectors.
func (g *gen) zones() {
	codes := make([]string, 0, len(g.in.districts))
	for c := range g.in.districts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		d := g.in.districts[c]
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "D" + c, Layer: "district", Name: d.name, Geometry: d.geom,
			Props: map[string]string{"adcode": c, "source": "Vonng/adcode (Amap district fence, converted to WGS84); licence doubtful, see demo/data/PROVENANCE.md"}})
	}
	g.ftz()
	g.grids()
	g.streetZones()
}

func (g *gen) streetAnchor(name string) (orb.Point, bool) {
	for _, st := range g.in.extra {
		if st.name == name && st.anchorSource != "" {
			return st.anchor, true
		}
	}
	return orb.Point{}, false
}

// blob is an irregular 16-gon around c with exactly areaKm2 (in a local
// equal-area approximation).
func (g *gen) blob(c orb.Point, areaKm2 float64) orb.Ring {
	const n = 16
	rs := make([]float64, n)
	for i := range rs {
		rs[i] = 0.75 + g.r.Float64()*0.5
	}
	// area of the unit-scaled polygon: sum of triangles
	a := 0.0
	for i := 0; i < n; i++ {
		a += 0.5 * rs[i] * rs[(i+1)%n] * math.Sin(2*math.Pi/n)
	}
	scale := math.Sqrt(areaKm2 * 1e6 / a)
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		t := 2 * math.Pi * float64(i) / n
		ring = append(ring, offset(c, math.Cos(t)*rs[i]*scale, math.Sin(t)*rs[i]*scale))
	}
	return append(ring, ring[0])
}

func (g *gen) ftz() {
	area := func(id string) (name string, km2 float64) {
		for _, a := range g.in.ftz.Areas {
			if a.ID == id {
				return a.Name, a.AreaKm2
			}
		}
		return id, 0
	}
	props := func(id string) map[string]string {
		name, km2 := area(id)
		return map[string]string{"area_km2": fmt.Sprint(km2), "name": name, "source": "synthetic-demo: outline drawn around the anchor townships with the official area (国发〔2017〕19号); not the official boundary"}
	}
	var mp orb.MultiPolygon
	_, lj := area("liangjiang")
	// 两路寸滩保税港区 (8.37 km²): an airport part at 两路 and a port part at 寸滩; the rest around 悦来/礼嘉.
	if p, ok := g.streetAnchor("寸滩街道"); ok {
		mp = append(mp, orb.Polygon{g.blob(offset(p, 600, 300), 3.6)})
	}
	if p, ok := g.streetAnchor("两路街道"); ok {
		mp = append(mp, orb.Polygon{g.blob(p, 8.37-3.6)})
	}
	yl, ok1 := g.streetAnchor("悦来街道")
	lj2, ok2 := g.streetAnchor("礼嘉街道")
	if ok1 && ok2 {
		mp = append(mp, orb.Polygon{g.blob(orb.Point{(yl[0] + lj2[0]) / 2, (yl[1] + lj2[1]) / 2}, lj-8.37)})
	}
	if len(mp) > 0 {
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "FTZ-LJ", Layer: "ftz", Name: "两江片区", Geometry: mp, Props: props("liangjiang")})
	}
	if p, ok := g.streetAnchor("鱼嘴镇"); ok {
		_, km2 := area("guoyuangang")
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "FTZ-GYG", Layer: "ftz", Name: "果园港片区", Geometry: orb.MultiPolygon{{g.blob(p, km2)}}, Props: props("guoyuangang")})
	}
	if p, ok := g.streetAnchor("西永街道"); ok {
		_, km2 := area("xiyong")
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "FTZ-XY", Layer: "ftz", Name: "西永片区", Geometry: orb.MultiPolygon{{g.blob(p, km2)}}, Props: props("xiyong")})
	}
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谢唐冉谭向")
var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅晓东")

// grids covers the buildings and places with square supervision grid cells
// (a partition: cells share edges exactly), each with an inspector.
func (g *gen) grids() {
	var b orb.Bound
	first := true
	for _, bl := range g.ds.Buildings {
		c := bl.Center()
		if first {
			b, first = orb.Bound{Min: c, Max: c}, false
		}
		b = b.Extend(c)
	}
	if first {
		return
	}
	b = b.Pad(0.005)
	lat0 := b.Center()[1]
	dLon := g.opts.GridCellM / mPerDegLon(lat0)
	dLat := g.opts.GridCellM / mPerDegLat
	nx := int(math.Ceil((b.Max[0] - b.Min[0]) / dLon))
	ny := int(math.Ceil((b.Max[1] - b.Min[1]) / dLat))
	used := map[[2]int]bool{}
	cellOf := func(p orb.Point) [2]int {
		return [2]int{int((p[0] - b.Min[0]) / dLon), int((p[1] - b.Min[1]) / dLat)}
	}
	for _, bl := range g.ds.Buildings {
		used[cellOf(bl.Center())] = true
	}
	for _, e := range g.ds.Entities {
		used[cellOf(e.Location)] = true
	}
	x := func(i int) float64 { return b.Min[0] + float64(i)*dLon }
	y := func(j int) float64 { return b.Min[1] + float64(j)*dLat }
	perStreet := map[string]int{}
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			if !used[[2]int{i, j}] {
				continue
			}
			ring := orb.Ring{{x(i), y(j)}, {x(i + 1), y(j)}, {x(i + 1), y(j + 1)}, {x(i), y(j + 1)}, {x(i), y(j)}}
			c := orb.Point{(x(i) + x(i+1)) / 2, (y(j) + y(j+1)) / 2}
			st := g.nearestStreet(c)
			perStreet[st.name]++
			inspector := string(surnames[g.r.IntN(len(surnames))]) + string(givenChars[g.r.IntN(len(givenChars))])
			if g.r.Float64() < 0.6 {
				inspector += string(givenChars[g.r.IntN(len(givenChars))])
			}
			g.ds.Zones = append(g.ds.Zones, geo.Zone{
				ID: fmt.Sprintf("G%s-%03d-%03d", st.district, j, i), Layer: "grid",
				Name:     fmt.Sprintf("%s第%d网格", st.name, perStreet[st.name]),
				Geometry: orb.MultiPolygon{{ring}},
				Props: map[string]string{"inspector": inspector, "team": st.base + "市场监管所", "street": st.name,
					"district": g.districtName(st.district), "source": "synthetic-demo"},
			})
		}
	}
}

func (g *gen) nearestStreet(p orb.Point) *street {
	var best *street
	bd := math.Inf(1)
	for _, st := range g.in.streets {
		if d := geo.DistanceM(p, st.anchor); d < bd {
			best, bd = st, d
		}
	}
	return best
}
