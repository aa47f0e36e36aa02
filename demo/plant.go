package demo

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// AsOf is the demo's reference day: the generated registrations end the
// day before, and the planted early-warning patterns are planted against
// it (a risk engine on the demo measures its windows from this day).
func AsOf() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }

// PlantedAttr is the entity attribute that marks an entity planted by
// [Plant]: its value is the warning type it belongs to.
const PlantedAttr = "planted"

// InvestorAttr is the entity attribute with the GB/T 2260 division code of
// the domicile of the entity's investors or legal representative (the
// out-of-area warning reads it; risk.InvestorAttr names the same key).
const InvestorAttr = "investor_division"

// HomeDivisions are the division-code prefixes of the demo region
// (Chongqing, 50): investors from elsewhere are out of area.
func HomeDivisions() []string { return []string{"50"} }

// The warning types planted (the values of PlantedAttr).
const (
	PlantCluster    = "registration_cluster"
	PlantZombie     = "zombie"
	PlantShift      = "industry_shift"
	PlantOutOfArea  = "out_of_area"
	PlantLicenceDue = "licence_expiry"
)

// Planted says what [Plant] added: for each warning type, the planted
// entities and where.
type Planted struct {
	// Entities maps a warning type to its planted entities' IDs (sorted).
	Entities map[string][]string
	// Buildings maps a warning type to the building its entities are in
	// (registration_cluster, zombie, industry_shift, licence_expiry).
	Buildings map[string]string
	// ShiftDivision is the GB/T 4754 division of the industry shift.
	ShiftDivision string
	// InvestorDivision is the out-of-area investors' division.
	InvestorDivision string
}

// PlantOptions configure [Plant]. Zero values mean the defaults.
type PlantOptions struct {
	// Seed makes the planting deterministic. Default 20170401.
	Seed uint64
}

// quietDays: a grid is quiet when none of its entities registered in
// the last quietDays before AsOf (the shift's recent window).
const quietDays = 180

// Plant adds to a generated dataset, deterministically and without
// changing anything it holds, one instance of each early-warning pattern
// of docs/risk.md, dated against [AsOf]: a registration cluster (12
// entities registered in one building within 10 days), 5 zombie entities
// (operating since 2018-19, no annual report, no records), an industry
// shift (8 new internet cafés and entertainment venues, division R90, in a
// grid where nothing else was registered for 180 days), 8 entities of
// investors from one division outside the region registered within 20
// days in 8 grids, and 6 entities whose licences expire within 30 days
// (their licence records: [PlantedTables]). Hosts are chosen where no
// existing entity shows the same pattern: quiet grids (no registration in
// the last 180 days) and buildings without zombie candidates. The planted
// entities carry PlantedAttr.
func Plant(ds *Dataset, opts PlantOptions) (*Planted, error) {
	if opts.Seed == 0 {
		opts.Seed = 20170401
	}
	if len(ds.Buildings) == 0 || len(ds.Entities) == 0 {
		return nil, fmt.Errorf("demo: nothing to plant in")
	}
	g := &gen{r: rand.New(rand.NewPCG(opts.Seed^0x18, 0x91a47)), ds: ds, usccs: map[string]bool{}, names: map[string]bool{}}
	for _, e := range ds.Entities {
		g.usccs[e.ID] = true
		g.names[e.Name] = true
	}
	asOf := AsOf()
	// Grids of the buildings and of the recent registrations.
	var grids []*geo.Zone
	for i := range ds.Zones {
		if ds.Zones[i].Layer == "grid" {
			grids = append(grids, &ds.Zones[i])
		}
	}
	sort.Slice(grids, func(i, j int) bool { return grids[i].ID < grids[j].ID })
	gridOf := func(p orb.Point) string {
		for _, z := range grids {
			if z.Geometry.Bound().Contains(p) {
				return z.ID
			}
		}
		return ""
	}
	busy := map[string]bool{} // grids with a recent registration
	byBld := map[string][]*geo.Entity{}
	for i := range ds.Entities {
		e := &ds.Entities[i]
		byBld[e.BuildingID] = append(byBld[e.BuildingID], e)
		if !e.RegisteredAt.Before(asOf.AddDate(0, 0, -quietDays-30)) {
			busy[gridOf(e.Location)] = true
		}
	}
	zombieFree := func(b string) bool {
		for _, e := range byBld[b] {
			live := e.Status == geo.StatusActive || e.Status == geo.StatusOperating || e.Status == geo.StatusSuspended || e.Status == ""
			if live && !e.AnnualReport && e.RegisteredAt.Before(asOf.AddDate(-2, 0, 0)) {
				return false
			}
		}
		return true
	}
	// Candidate hosts in a fixed order: buildings with entities, in a
	// quiet grid, one building a grid.
	order := g.r.Perm(len(ds.Buildings))
	used := map[string]bool{}
	var hosts []*geo.Building
	for _, i := range order {
		b := &ds.Buildings[i]
		gr := gridOf(b.Center())
		if gr == "" || busy[gr] || used[gr] || len(byBld[b.ID]) == 0 || !zombieFree(b.ID) {
			continue
		}
		used[gr] = true
		hosts = append(hosts, b)
		if len(hosts) == 12 {
			break
		}
	}
	if len(hosts) < 12 {
		return nil, fmt.Errorf("demo: only %d quiet buildings to plant in (want 12)", len(hosts))
	}
	p := &Planted{Entities: map[string][]string{}, Buildings: map[string]string{}, ShiftDivision: "R90", InvestorDivision: "350322"}
	day := func(from time.Time, span int) time.Time { return from.AddDate(0, 0, g.r.IntN(span+1)) }
	add := func(kind string, b *geo.Building, industry string, reg time.Time, annual bool, investor string) {
		division := byBld[b.ID][0].ID[2:8]
		var e geo.Entity
		for {
			e.Name = "重庆" + g.core() + map[bool]string{true: "网络会所", false: "商务信息咨询"}[industry[:3] == "R90"] + "有限公司"
			if !g.names[e.Name] {
				break
			}
		}
		g.names[e.Name] = true
		e.ID = g.uscc("91", division)
		e.Address = fmt.Sprintf("%s%d楼%d号", b.Address, 1+g.r.IntN(max(1, b.Floors)), 1+g.r.IntN(30))
		ring := b.Footprint[0]
		u, v := 0.4+g.r.Float64()*0.2, 0.4+g.r.Float64()*0.2
		a, bb, d := ring[0], ring[1], ring[3]
		e.Location = orb.Point{a[0] + u*(bb[0]-a[0]) + v*(d[0]-a[0]), a[1] + u*(bb[1]-a[1]) + v*(d[1]-a[1])}
		e.BuildingID = b.ID
		e.Industry = industry
		e.Status = geo.StatusActive
		e.RegisteredAt = reg
		e.AnnualReport = annual
		e.Risk = geo.RiskA
		e.Attrs = map[string]string{PlantedAttr: kind, InvestorAttr: investor}
		ds.Entities = append(ds.Entities, e)
		p.Entities[kind] = append(p.Entities[kind], e.ID)
		if kind != PlantOutOfArea {
			p.Buildings[kind] = b.ID
		}
	}
	// A registration cluster: 12 in one building within 10 days, mixed
	// industries (no division reaches the shift's minimum).
	clusterInd := []string{"L7212", "M7519", "I6513", "F5292", "G5821"}
	start := asOf.AddDate(0, 0, -75)
	for i := 0; i < 12; i++ {
		add(PlantCluster, hosts[0], clusterInd[i%len(clusterInd)], day(start, 10), false, "500112")
	}
	// Zombies: operating since 2018-19, no annual report, no records.
	for i := 0; i < 5; i++ {
		add(PlantZombie, hosts[1], "L7212", day(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), 700), false, "500105")
	}
	// An industry shift: 8 R90 venues in a quiet grid within 120 days.
	for i := 0; i < 8; i++ {
		add(PlantShift, hosts[2], []string{"R9013", "R9011"}[i%2], day(asOf.AddDate(0, 0, -130), 120), false, "500112")
	}
	// Out-of-area investors: 8 within 20 days, each in its own grid.
	for i := 0; i < 8; i++ {
		add(PlantOutOfArea, hosts[3+i], []string{"F5292", "L7212", "I6513", "K7030"}[i%4], day(asOf.AddDate(0, 0, -50), 20), false, p.InvestorDivision)
	}
	// Licences due: 6 restaurants of 2021 with reports filed; their
	// licences (PlantedTables) expire within 30 days of AsOf.
	for i := 0; i < 6; i++ {
		add(PlantLicenceDue, hosts[11], "H6210", day(time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), 200), true, "500112")
	}
	for k := range p.Entities {
		sort.Strings(p.Entities[k])
	}
	return p, nil
}

// plantedExpiry is a planted licence's expiry: 3–24 days after AsOf, from
// the entity's ID (so that the tables can be rebuilt from the entities).
func plantedExpiry(id string) time.Time {
	h := sha256.Sum256([]byte(id))
	return AsOf().AddDate(0, 0, 3+int(binary.BigEndian.Uint32(h[:4])%22))
}

// PlantedTables returns the department table of the planted licences
// (market supervision, CSV): one row for each entity planted for
// licence_expiry among ents, issued five years before its expiry.
func PlantedTables(ents []geo.Entity) []DeptTable {
	t := DeptTable{Dept: "市场监督管理局", Kind: "licence", File: "市场监管局_食品经营许可_到期提醒.csv", Charset: "utf-8"}
	t.Rows = [][]string{{"统一社会信用代码", "企业名称", "经营场所", "许可证编号", "发证日期", "有效期至", "许可项目"}}
	var sel []geo.Entity
	for _, e := range ents {
		if e.Attrs[PlantedAttr] == PlantLicenceDue {
			sel = append(sel, e)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].ID < sel[j].ID })
	for i, e := range sel {
		exp := plantedExpiry(e.ID)
		t.Rows = append(t.Rows, []string{e.ID, e.Name, e.Address, "JY1500112" + strconv.Itoa(90000000+i),
			exp.AddDate(-5, 0, 1).Format(time.DateOnly), exp.Format(time.DateOnly), "热食类食品制售"})
	}
	return []DeptTable{t}
}
