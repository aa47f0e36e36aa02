package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Options configure [Generate]. Zero values mean the defaults given.
type Options struct {
	// Entities is the number of market entities. Default 79,000 (the real
	// count of the Liangjiang area).
	Entities int
	// Buildings is the number of building footprints. Default about one per
	// four entities (20,000 at 79,000).
	Buildings int
	// Seed makes the generation deterministic. Default 20170401 (the FTZ's
	// launch date).
	Seed uint64
	// GridCellM is the side of a supervision grid cell in metres. Default 700.
	GridCellM float64
}

func (o Options) withDefaults() Options {
	if o.Entities == 0 {
		o.Entities = 79000
	}
	if o.Buildings == 0 {
		o.Buildings = int(math.Round(float64(o.Entities) * 20000 / 79000))
		if o.Buildings < 1 {
			o.Buildings = 1
		}
	}
	if o.Seed == 0 {
		o.Seed = 20170401
	}
	if o.GridCellM == 0 {
		o.GridCellM = 700
	}
	return o
}

// Road is a synthetic road centre line carrying a real or synthetic name.
type Road struct {
	Name      string
	District  string // district name, e.g. 渝北区
	Street    string // street or town name
	Line      orb.LineString
	MaxNumber int    // highest house number given on the road
	Source    string // "real name, synthetic geometry" or "synthetic"
}

// Dataset is a generated demo region.
type Dataset struct {
	Entities  []geo.Entity
	Buildings []geo.Building
	Places    []geo.Place
	Zones     []geo.Zone
	Roads     []Road
}

// Load writes the whole dataset into idx in one commit.
func (d *Dataset) Load(idx *geo.Index) error {
	b := idx.Batch()
	for i := range d.Zones {
		if err := b.UpsertZone(d.Zones[i]); err != nil {
			return fmt.Errorf("demo: zone %s: %w", d.Zones[i].ID, err)
		}
	}
	for i := range d.Buildings {
		if err := b.UpsertBuilding(d.Buildings[i]); err != nil {
			return fmt.Errorf("demo: building %s: %w", d.Buildings[i].ID, err)
		}
	}
	for i := range d.Places {
		if err := b.UpsertPlace(d.Places[i]); err != nil {
			return fmt.Errorf("demo: place %s: %w", d.Places[i].ID, err)
		}
	}
	for i := range d.Entities {
		if err := b.UpsertEntity(d.Entities[i]); err != nil {
			return fmt.Errorf("demo: entity %s: %w", d.Entities[i].ID, err)
		}
	}
	b.Commit()
	return nil
}

const (
	mPerDegLat = 111_320.0
)

func mPerDegLon(lat float64) float64 { return mPerDegLat * math.Cos(lat*math.Pi/180) }

// offset moves p by dx metres east and dy metres north.
func offset(p orb.Point, dx, dy float64) orb.Point {
	return orb.Point{p[0] + dx/mPerDegLon(p[1]), p[1] + dy/mPerDegLat}
}

type gen struct {
	opts   Options
	r      *rand.Rand
	in     *inputs
	ds     *Dataset
	usccs  map[string]bool
	names  map[string]bool
	bnames map[string]bool
}

// Generate builds the demo region. It is deterministic for given options.
func Generate(opts Options) (*Dataset, error) {
	opts = opts.withDefaults()
	if opts.Entities < 0 || opts.Buildings < 0 || opts.GridCellM < 50 {
		return nil, fmt.Errorf("demo: entities and buildings must be ≥ 0 and the grid cell ≥ 50 m")
	}
	in, err := loadInputs()
	if err != nil {
		return nil, err
	}
	g := &gen{opts: opts, r: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), in: in, ds: &Dataset{},
		usccs: map[string]bool{}, names: map[string]bool{}, bnames: map[string]bool{}}
	g.roads()
	weights := g.buildings()
	g.places()
	g.entities(weights)
	g.economy()
	g.zones()
	return g.ds, nil
}

// Roads returns the roads Generate would give for opts (their MaxNumber is
// 0: house numbers come with the buildings), without generating anything
// else: the base map's road layer for a server whose entities come from a
// store seeded with the demo. It is deterministic like Generate.
func Roads(opts Options) ([]Road, error) {
	opts = opts.withDefaults()
	in, err := loadInputs()
	if err != nil {
		return nil, err
	}
	g := &gen{opts: opts, r: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), in: in, ds: &Dataset{}}
	g.roads() // first in Generate too: the same random draws
	return g.ds.Roads, nil
}

func (g *gen) districtName(code string) string {
	if d := g.in.districts[code]; d != nil {
		return d.name
	}
	return ""
}

var synthRoadSuffixes = []string{"大道", "一路", "二路", "三路", "东路", "西路", "南路", "北路", "街", "支路"}

// roads lays real road names (synthetic geometry) near their street, and
// synthetic ones where a street has too few.
func (g *gen) roads() {
	byStreet := map[string][]roadName{}
	for _, rn := range g.in.roads {
		byStreet[rn.district+rn.street] = append(byStreet[rn.district+rn.street], rn)
	}
	for _, st := range g.in.streets {
		names := byStreet[st.district+st.name]
		// larger datasets get a larger city, not a denser one: more roads,
		// spread wider, so a 200 m circle keeps a few hundred entities.
		scale := math.Max(1, float64(g.opts.Entities)/79000)
		want := int(math.Round(4 * scale))
		if st.urban {
			want = int(math.Round(7 * scale))
		}
		spread := 700 * math.Sqrt(scale)
		src := make([]string, 0, want)
		for _, rn := range names {
			src = append(src, rn.name)
		}
		real := len(src)
		for i := 0; len(src) < want; i++ {
			name := st.base + synthRoadSuffixes[i%len(synthRoadSuffixes)]
			if i >= len(synthRoadSuffixes) {
				name = fmt.Sprintf("%s%d路", st.base, i)
			}
			src = append(src, name)
		}
		for i, name := range src {
			length := 800 + g.r.Float64()*1700
			if strings.HasSuffix(name, "大道") {
				length = 2000 + g.r.Float64()*2500
			}
			ang := float64(i)*math.Pi/float64(len(src)) + g.r.NormFloat64()*0.15
			mid := offset(st.anchor, g.r.NormFloat64()*spread, g.r.NormFloat64()*spread)
			dx, dy := math.Cos(ang)*length/2, math.Sin(ang)*length/2
			a, b := offset(mid, -dx, -dy), offset(mid, dx, dy)
			// a gentle bend in the middle
			m := offset(mid, -dy*0.08*g.r.NormFloat64(), dx*0.08*g.r.NormFloat64())
			source := "synthetic"
			if i < real {
				source = "real name, synthetic geometry"
			}
			g.ds.Roads = append(g.ds.Roads, Road{Name: name, District: g.districtName(st.district), Street: st.name, Line: orb.LineString{a, m, b}, Source: source})
		}
	}
}

func lineLength(ls orb.LineString) float64 {
	total := 0.0
	for i := 0; i+1 < len(ls); i++ {
		total += geo.DistanceM(ls[i], ls[i+1])
	}
	return total
}

// along returns the point at distance d along ls and the local direction (radians).
func along(ls orb.LineString, d float64) (orb.Point, float64) {
	for i := 0; i+1 < len(ls); i++ {
		seg := geo.DistanceM(ls[i], ls[i+1])
		if d <= seg || i+2 == len(ls) {
			t := math.Min(1, d/seg)
			p := orb.Point{ls[i][0] + t*(ls[i+1][0]-ls[i][0]), ls[i][1] + t*(ls[i+1][1]-ls[i][1])}
			dx := (ls[i+1][0] - ls[i][0]) * mPerDegLon(p[1])
			dy := (ls[i+1][1] - ls[i][1]) * mPerDegLat
			return p, math.Atan2(dy, dx)
		}
		d -= seg
	}
	return ls[len(ls)-1], 0
}

var buildingPrefixes = []string{"", "", "", "国际", "中心", "大厦", "广场", "商务中心", "科技园", "花园", "公寓", "名都", "天地", "汇", "城", "中心A座", "中心B座", "写字楼", "创意园", "产业园"}

type bldInfo struct {
	street     *street
	weight     float64
	industrial bool
	roadName   string
	number     int
}

// buildings places footprints along the roads with house numbers, denser
// and taller near the street centres.
func (g *gen) buildings() []bldInfo {
	type roadSlot struct {
		road   int
		length float64
		st     *street
	}
	var slots []roadSlot
	total := 0.0
	stByName := map[string]*street{}
	for _, st := range g.in.streets {
		stByName[st.name] = st
	}
	for i, rd := range g.ds.Roads {
		st := stByName[rd.Street]
		l := lineLength(rd.Line)
		w := l
		if st.urban {
			w *= 2.5
		}
		slots = append(slots, roadSlot{i, l, st})
		total += w
	}
	infos := make([]bldInfo, 0, g.opts.Buildings)
	for _, sl := range slots {
		w := sl.length
		if sl.st.urban {
			w *= 2.5
		}
		n := int(math.Round(float64(g.opts.Buildings) * w / total))
		if n == 0 {
			continue
		}
		rd := &g.ds.Roads[sl.road]
		spacing := sl.length / float64((n+1)/2)
		for k := 0; k < n; k++ {
			side := k % 2
			pos := (float64(k/2) + 0.5) * spacing
			p, dir := along(rd.Line, pos)
			number := 2*(k/2) + 1 + side
			if number > rd.MaxNumber {
				rd.MaxNumber = number
			}
			setback := (18 + g.r.Float64()*30) * float64(2*side-1)
			// also spread buildings back from the road (compounds behind the frontage)
			depthRow := float64(g.r.IntN(3)) * 45
			sign := float64(2*side - 1)
			c := offset(p, -math.Sin(dir)*(setback+sign*depthRow), math.Cos(dir)*(setback+sign*depthRow))
			distCentre := geo.DistanceM(c, sl.st.anchor)
			industrial := !sl.st.urban && g.r.Float64() < 0.55
			var floors int
			switch {
			case industrial:
				floors = 1 + g.r.IntN(5)
			case sl.st.urban && distCentre < 900:
				floors = 15 + g.r.IntN(36)
			default:
				floors = 4 + g.r.IntN(20)
			}
			wdt := 20 + g.r.Float64()*40
			dep := 14 + g.r.Float64()*26
			if industrial {
				wdt, dep = 50+g.r.Float64()*90, 30+g.r.Float64()*60
			}
			fp := rectangle(c, wdt, dep, dir)
			id := fmt.Sprintf("B%s%06d", sl.st.code, len(infos))
			name := ""
			if pre := buildingPrefixes[g.r.IntN(len(buildingPrefixes))]; pre != "" && !industrial {
				name = g.uniqueBuildingName(roadStem(rd.Name) + pre)
			}
			if industrial && g.r.Float64() < 0.3 {
				name = g.uniqueBuildingName(sl.st.base + "工业园" + strconv.Itoa(1+g.r.IntN(20)) + "号厂房")
			}
			height := float64(floors) * 3.3
			if industrial {
				height = float64(floors) * 5
			}
			addr := fmt.Sprintf("重庆市%s%s%d号", rd.District, rd.Name, number)
			g.ds.Buildings = append(g.ds.Buildings, geo.Building{
				ID: id, Name: name, Address: addr, Footprint: orb.Polygon{fp}, Floors: floors, HeightM: math.Round(height*10) / 10,
				Attrs: map[string]string{"street": sl.st.name, "use": map[bool]string{true: "industrial", false: "commercial"}[industrial], "source": "synthetic-demo"},
			})
			w := float64(floors)
			if sl.st.urban && distCentre < 600 {
				w *= 1.5
			}
			if industrial {
				w = 2
			}
			infos = append(infos, bldInfo{street: sl.st, weight: w, industrial: industrial, roadName: rd.Name, number: number})
		}
	}
	return infos
}

// roadStem is a road name without its generic suffix (金开大道 → 金开).
func roadStem(name string) string {
	return trimSuffixes(name, "大道", "一路", "二路", "三路", "东路", "西路", "南路", "北路", "支路", "路", "街")
}

func (g *gen) uniqueBuildingName(name string) string {
	if !g.bnames[name] {
		g.bnames[name] = true
		return name
	}
	for _, q := range []string{"一期", "二期", "三期", "四期", "五期", "东区", "西区", "南区", "北区"} {
		if n := name + q; !g.bnames[n] {
			g.bnames[n] = true
			return n
		}
	}
	for i := 2; ; i++ {
		n := name + strconv.Itoa(i) + "号楼"
		if !g.bnames[n] {
			g.bnames[n] = true
			return n
		}
	}
}

func rectangle(c orb.Point, w, d, dir float64) orb.Ring {
	cos, sin := math.Cos(dir), math.Sin(dir)
	corners := [][2]float64{{-w / 2, -d / 2}, {w / 2, -d / 2}, {w / 2, d / 2}, {-w / 2, d / 2}}
	ring := make(orb.Ring, 0, 5)
	for _, k := range corners {
		ring = append(ring, offset(c, k[0]*cos-k[1]*sin, k[0]*sin+k[1]*cos))
	}
	return append(ring, ring[0])
}

// industries are GB/T 4754-2017 classes with a weight, the words of
// company names in them, and the shop word of individual businesses.
var industries = []struct {
	code   string
	weight float64
	words  []string
	shop   string
	heavy  bool // manufacturing: mostly in industrial buildings
}{
	{"I6513", 9, []string{"科技", "软件", "网络科技", "信息技术"}, "软件工作室", false},
	{"I6531", 4, []string{"信息技术", "系统集成", "智能科技"}, "电脑服务部", false},
	{"I6550", 2, []string{"数据科技", "云计算"}, "数据服务部", false},
	{"H6210", 7, []string{"餐饮管理", "餐饮文化", "火锅"}, "火锅店", false},
	{"H6220", 5, []string{"快餐管理", "餐饮"}, "小吃店", false},
	{"H6232", 1, []string{"咖啡"}, "咖啡馆", false},
	{"H6110", 1, []string{"酒店管理", "酒店"}, "宾馆", false},
	{"F5211", 9, []string{"商贸", "贸易", "百货"}, "百货店", false},
	{"F5212", 2, []string{"超市", "商业连锁"}, "便利店", false},
	{"F5292", 6, []string{"电子商务", "网络贸易"}, "网店", false},
	{"F5261", 2, []string{"汽车销售", "汽车服务"}, "汽车商行", false},
	{"G5821", 4, []string{"物流", "供应链管理", "国际货运代理"}, "货运部", false},
	{"G5920", 2, []string{"仓储", "仓储服务"}, "仓储点", false},
	{"K7010", 1, []string{"房地产开发", "置业"}, "", false},
	{"K7020", 2, []string{"物业管理", "物业服务"}, "", false},
	{"K7030", 3, []string{"房地产经纪", "房产中介"}, "房屋中介", false},
	{"L7212", 3, []string{"投资管理", "资产管理"}, "", false},
	{"L7259", 5, []string{"文化传媒", "广告"}, "广告部", false},
	{"M7519", 8, []string{"科技发展", "技术服务"}, "技术服务部", false},
	{"P8393", 3, []string{"教育科技", "艺术培训"}, "培训中心", false},
	{"R9011", 1, []string{"娱乐", "文化娱乐"}, "KTV", false},
	{"R9013", 1, []string{"网络会所", "网咖"}, "网吧", false},
	{"O8040", 5, []string{"美容美发", "形象设计"}, "美发店", false},
	{"C3670", 2, []string{"汽车零部件", "机械"}, "", true},
	{"C3911", 2, []string{"电子", "智能装备"}, "", true},
	{"C2710", 1, []string{"医药", "生物医药"}, "", true},
	{"E5011", 5, []string{"装饰工程", "建筑装饰"}, "装饰部", false},
}

var coreA = []rune("华渝锦巴嘉江鼎盛瑞鑫恒泰宏博德丰汇君诚信达通安康新天中金宇星辰龙凤云海山川明晨创智卓远腾顺航宸朗峻睿")
var coreB = []rune("川信程和源泰达通盛兴发嘉宇峰辉联越鑫成海瑞科豪杰策途润朗睿捷凯耀航域迈翔锐晟弘")
var coreC = []rune("天华达兴源通科邦泽森林禾")

// regionPrefixes appear before the core of company names.
var regionPrefixes = []string{"重庆", "重庆", "重庆", "重庆市", "重庆两江新区", "重庆两江"}

var legalForms = []struct {
	s string
	w float64
}{{"有限公司", 70}, {"有限责任公司", 12}, {"股份有限公司", 2}, {"分公司", 3}}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgCode makes a GB 11714 organisation code (8 characters + check).
func (g *gen) orgCode() string {
	const alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := make([]byte, 0, 9)
	sum := 0
	for i := 0; i < 8; i++ {
		c := alpha[g.r.IntN(10)]
		if i == 0 && g.r.Float64() < 0.5 {
			c = "MN"[g.r.IntN(2)] // codes assigned after 2015 start with a letter
		}
		b = append(b, c)
		v := strings.IndexByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", c)
		sum += v * orgWeights[i]
	}
	ck := 11 - sum%11
	switch ck {
	case 10:
		b = append(b, 'X')
	case 11:
		b = append(b, '0')
	default:
		b = append(b, byte('0'+ck))
	}
	return string(b)
}

func (g *gen) uscc(typ string, division string) string {
	for {
		first := typ + division + g.orgCode()
		c, err := geo.USCCCheckChar(first)
		if err != nil {
			continue // X check in the org code is not in the USCC alphabet: draw again
		}
		code := first + string(c)
		if !g.usccs[code] {
			g.usccs[code] = true
			return code
		}
	}
}

func (g *gen) core() string {
	if g.r.Float64() < 0.35 {
		return string([]rune{coreA[g.r.IntN(len(coreA))], coreB[g.r.IntN(len(coreB))]})
	}
	return string([]rune{coreA[g.r.IntN(len(coreA))], coreB[g.r.IntN(len(coreB))], coreC[g.r.IntN(len(coreC))]})
}

func pickWeighted(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return sort.SearchFloat64s(cum, x)
}

// entities registers market entities in the buildings, weighted by size.
func (g *gen) entities(infos []bldInfo) {
	if len(infos) == 0 {
		return
	}
	cumB := make([]float64, len(infos))
	cumI := make([]float64, len(industries))
	acc := 0.0
	for i, b := range infos {
		acc += b.weight
		cumB[i] = acc
	}
	acc = 0
	for i, in := range industries {
		acc += in.weight
		cumI[i] = acc
	}
	var heavy []int
	for i, b := range infos {
		if b.industrial {
			heavy = append(heavy, i)
		}
	}
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	g.ds.Entities = make([]geo.Entity, 0, g.opts.Entities)
	for len(g.ds.Entities) < g.opts.Entities {
		ind := industries[pickWeighted(g.r, cumI)]
		bi := pickWeighted(g.r, cumB)
		if ind.heavy && len(heavy) > 0 {
			bi = heavy[g.r.IntN(len(heavy))]
		}
		info := infos[bi]
		b := &g.ds.Buildings[bi]
		st := info.street
		individual := ind.shop != "" && g.r.Float64() < 0.18
		var e geo.Entity
		core := g.core()
		word := ind.words[g.r.IntN(len(ind.words))]
		dname := g.districtName(st.district)
		if individual {
			e.Name = dname + core + ind.shop
			e.ShortName = core + ind.shop
			e.ID = g.uscc("92", st.district)
		} else {
			form := legalForms[g.r.IntN(len(legalForms))].s
			if g.r.Float64() < 0.8 {
				form = "有限公司"
			}
			prefix := regionPrefixes[g.r.IntN(len(regionPrefixes))]
			if form == "分公司" {
				e.Name = prefix + core + word + "有限公司" + st.base + "分公司"
			} else {
				e.Name = prefix + core + word + form
			}
			e.ShortName = core + word
			e.ID = g.uscc("91", st.district)
		}
		if g.names[e.Name] {
			continue
		}
		g.names[e.Name] = true
		if g.r.Float64() < 0.05 {
			e.FormerNames = []string{"重庆" + g.core() + word + "有限公司"}
		}
		floor := 1 + g.r.IntN(max(1, b.Floors))
		room := 1 + g.r.IntN(20)
		switch g.r.IntN(4) {
		case 0:
			e.Address = fmt.Sprintf("%s%d楼%d号", b.Address, floor, room)
		case 1:
			e.Address = fmt.Sprintf("%s%d-%d", b.Address, floor, room)
		case 2:
			if b.Name != "" {
				e.Address = fmt.Sprintf("%s%s%d层%02d室", b.Address, b.Name, floor, room)
			} else {
				e.Address = fmt.Sprintf("%s%d层%02d室", b.Address, floor, room)
			}
		default:
			e.Address = fmt.Sprintf("%s附%d号", b.Address, 1+g.r.IntN(30))
		}
		e.Location = pointIn(g.r, b.Footprint[0])
		e.Industry = ind.code
		e.BuildingID = b.ID
		e.RegisteredAt = start.AddDate(0, 0, int(math.Pow(g.r.Float64(), 0.6)*float64(days)))
		e.Status = geo.StatusActive
		switch x := g.r.Float64(); {
		case x < 0.06:
			e.Status = geo.StatusRevoked
		case x < 0.13:
			e.Status = geo.StatusCancelled
		case x < 0.15:
			e.Status = geo.StatusMovedOut
		case x < 0.25:
			e.Status = geo.StatusOperating
		}
		e.AnnualReport = e.Status != geo.StatusCancelled && g.r.Float64() < 0.86
		e.Abnormal = !e.AnnualReport && e.Status != geo.StatusCancelled && g.r.Float64() < 0.6
		e.Blacklisted = e.Abnormal && g.r.Float64() < 0.12
		switch {
		case e.Status == geo.StatusRevoked || e.Blacklisted:
			e.Risk = geo.RiskD
		case e.Abnormal:
			e.Risk = geo.RiskC
		case !e.AnnualReport || g.r.Float64() < 0.12:
			e.Risk = geo.RiskB
		default:
			e.Risk = geo.RiskA
			if g.r.Float64() < 0.03 {
				e.Risk = geo.RiskC // penalties from other departments
			}
		}
		g.ds.Entities = append(g.ds.Entities, e)
	}
}

// pointIn draws a point inside a convex ring (a building rectangle).
func pointIn(r *rand.Rand, ring orb.Ring) orb.Point {
	a, b, d := ring[0], ring[1], ring[3]
	u, v := 0.05+r.Float64()*0.9, 0.05+r.Float64()*0.9
	return orb.Point{a[0] + u*(b[0]-a[0]) + v*(d[0]-a[0]), a[1] + u*(b[1]-a[1]) + v*(d[1]-a[1])}
}

// economy adds the building-economy figures, summed from synthetic
// per-entity figures: output and tax in 万元 a year, employment in persons.
func (g *gen) economy() {
	idx := make(map[string]int, len(g.ds.Buildings))
	for i, b := range g.ds.Buildings {
		idx[b.ID] = i
	}
	type eco struct {
		n, emp      int
		output, tax float64
	}
	sums := make([]eco, len(g.ds.Buildings))
	for _, e := range g.ds.Entities {
		i, ok := idx[e.BuildingID]
		if !ok || e.Status == geo.StatusCancelled || e.Status == geo.StatusMovedOut {
			continue
		}
		emp := 1 + int(g.r.ExpFloat64()*12)
		out := float64(emp) * (20 + g.r.ExpFloat64()*60)
		sums[i].n++
		sums[i].emp += emp
		sums[i].output += out
		sums[i].tax += out * (0.03 + g.r.Float64()*0.05)
	}
	for i := range g.ds.Buildings {
		a := g.ds.Buildings[i].Attrs
		a["entity_count"] = strconv.Itoa(sums[i].n)
		a["employment"] = strconv.Itoa(sums[i].emp)
		a["output"] = strconv.FormatFloat(math.Round(sums[i].output), 'f', 0, 64)
		a["tax"] = strconv.FormatFloat(math.Round(sums[i].tax*10)/10, 'f', 1, 64)
	}
}
