package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func u64(v uint64) *uint64 { return &v }

// A spot check is reproducible, stored with its inputs, survives a
// restart, verifies, and its results become inspection records.
func TestSpotCheckLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	w := newWorld(t, path, supervise.Options{})
	req := supervise.SpotCheckRequest{Items: []string{"食品经营许可检查"}, Filter: supervise.Filter{Industries: []string{"H", "F"}, Risk: []string{"B", "C", "D"}},
		Sample: 40, Seed: u64(20261207), InspectorsPerEntity: 2, ExcludeOwnGrid: true}
	sc, err := w.sv.CreateSpotCheck(ctx, "clerk", req)
	if err != nil {
		t.Fatal(err)
	}
	// the candidates, by brute force over the entities
	var want []string
	w.ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if (e.Industry[0] == 'H' || e.Industry[0] == 'F') && (e.Risk == "B" || e.Risk == "C" || e.Risk == "D") {
			want = append(want, e.ID)
		}
		return true
	})
	if sc.Candidates != len(want) || len(sc.Entities) != 40 {
		t.Fatalf("candidates %d (brute force %d), drawn %d", sc.Candidates, len(want), len(sc.Entities))
	}
	sort.Strings(want)
	snap := w.ix.Snapshot()
	inspectorOf := map[string]string{}
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer == "grid" {
			inspectorOf[z.ID] = z.Props["inspector"]
		}
		return true
	})
	for _, d := range sc.Entities {
		if _, ok := slices.BinarySearch(want, d.EntityID); !ok {
			t.Fatalf("%s drawn but not a candidate", d.EntityID)
		}
		e, _ := snap.Entity(d.EntityID)
		if slices.Contains(d.Inspectors, inspectorOf[e.GridID]) {
			t.Fatalf("%s (grid %s) checked by its own grid's inspector %s", d.EntityID, e.GridID, inspectorOf[e.GridID])
		}
	}
	// the same inputs and seed draw the same
	again, err := w.sv.CreateSpotCheck(ctx, "clerk", req)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.Entities) != fmt.Sprint(sc.Entities) || again.ID == sc.ID {
		t.Fatalf("second run differs: %v vs %v", again.Entities[:2], sc.Entities[:2])
	}
	v, err := w.sv.VerifySpotCheck(ctx, sc.ID, nil)
	if err != nil || !v.Same || !v.CandidatesSame {
		t.Fatalf("verify: %+v %v", v, err)
	}
	// a tampered notice does not verify
	n, err := w.sv.Notice(sc.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if n.Filter.Risk != nil || len(n.Withheld) != 1 {
		t.Fatalf("public notice shows the risk filter: %+v", n.Filter)
	}
	n, _ = w.sv.Notice(sc.ID, false)
	pub := supervise.NoticeToSpotCheck(n)
	pub.ID = ""
	if v, err := w.sv.VerifySpotCheck(ctx, "", pub); err != nil || !v.Same {
		t.Fatalf("the published notice does not verify: %+v %v", v, err)
	}
	pub.Entities[3].Inspectors = []string{"someone", "else"}
	if v, err := w.sv.VerifySpotCheck(ctx, "", pub); err != nil || v.Same || len(v.Differences) != 1 {
		t.Fatalf("a tampered notice verifies: %+v %v", v, err)
	}
	// a result by one of the entity's inspectors, not by another
	d := sc.Entities[0]
	if _, err := w.sv.RecordSpotCheckResult(ctx, "nobody", sc.ID, supervise.ResultRequest{EntityID: d.EntityID, Result: "合格"}); !errors.Is(err, supervise.ErrForbidden) {
		t.Fatalf("a stranger's result: %v", err)
	}
	if _, err := w.sv.RecordSpotCheckResult(ctx, d.Inspectors[1], sc.ID, supervise.ResultRequest{EntityID: d.EntityID, Result: "责令整改", Notes: "消防通道堵塞"}); err != nil {
		t.Fatal(err)
	}
	recs, err := w.ex.Records(ctx, d.EntityID, exchange.Filter{Kind: exchange.KindInspection})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || r.Fields["双随机抽查"] == sc.ID && r.Fields["检查结果"] == "责令整改"
	}
	if !found {
		t.Fatalf("no inspection record of the result among %d", len(recs))
	}
	h, err := w.st.History(ctx, supervise.CollSpotChecks, sc.ID, 10)
	if err != nil || len(h) != 2 || h[0].Writer != "clerk" || h[1].Writer != d.Inspectors[1] {
		t.Fatalf("history %+v %v", h, err)
	}
	// restart: the spot check and its result are read back
	w.st.Close()
	w2 := newWorld(t, path, supervise.Options{})
	got, err := w2.sv.SpotCheck(sc.ID)
	if err != nil || got.Results[d.EntityID].Result != "责令整改" || fmt.Sprint(got.Entities) != fmt.Sprint(sc.Entities) {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if v, err := w2.sv.VerifySpotCheck(ctx, sc.ID, nil); err != nil || !v.Same {
		t.Fatalf("verify after restart: %+v %v", v, err)
	}
	// data changed since: the verification says so
	e, _ := w2.ix.Snapshot().Entity(want[0])
	ne := *e
	ne.Risk = "A"
	if _, err := w2.st.Apply(ctx, "clerk", []store.Write{{Layer: geo.LayerEntities, ID: ne.ID, Feature: &ne}}); err != nil {
		t.Fatal(err)
	}
	if v, err := w2.sv.VerifySpotCheck(ctx, sc.ID, nil); err != nil || v.CandidatesSame || v.CandidatesNow != v.CandidatesThen-1 {
		t.Fatalf("verify after a change: %+v %v", v, err)
	}
}

func TestSpotCheckBadRequests(t *testing.T) {
	w := newWorld(t, ":memory:", supervise.Options{})
	for name, req := range map[string]supervise.SpotCheckRequest{
		"no items":      {Sample: 1},
		"no sample":     {Items: []string{"x"}},
		"both":          {Items: []string{"x"}, Sample: 1, Ratio: 0.1},
		"bad ratio":     {Items: []string{"x"}, Ratio: 1.5},
		"bad industry":  {Items: []string{"x"}, Sample: 1, Filter: supervise.Filter{Industries: []string{"餐饮"}}},
		"bad risk":      {Items: []string{"x"}, Sample: 1, Filter: supervise.Filter{Risk: []string{"E"}}},
		"unknown zone":  {Items: []string{"x"}, Sample: 1, Filter: supervise.Filter{Zone: "nope"}},
		"too large":     {Items: []string{"x"}, Sample: 20000},
		"joint no pool": {Items: []string{"x"}, Sample: 1, Departments: []string{"a", "b"}},
		"open polygon":  {Items: []string{"x"}, Sample: 1, Filter: supervise.Filter{Polygon: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 2}}}}},
	} {
		if _, err := w.sv.CreateSpotCheck(context.Background(), "clerk", req); !errors.Is(err, supervise.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Tasks are split by grid as a brute-force grouping does; marks show in
// the progress; parts past the deadline are overdue.
func TestTaskSplitProgress(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	snap := w.ix.Snapshot()
	var zone *geo.Zone
	snap.ScanEntities(func(e *geo.Entity) bool {
		zs, _ := snap.ZonesAt(ctx, e.Location, "street")
		if e.GridID != "" && len(zs) > 0 {
			zone = zs[0]
			return false
		}
		return true
	})
	task, err := w.sv.CreateTask(ctx, "office", supervise.TaskRequest{Title: "燃气安全专项检查", Target: supervise.TaskTarget{Zone: zone.ID}, Deadline: "2026-12-20"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	snap.ScanEntities(func(e *geo.Entity) bool {
		if planar.MultiPolygonContains(zone.Geometry, e.Location) {
			want[e.GridID] = append(want[e.GridID], e.ID)
		}
		return true
	})
	total := 0
	for _, p := range task.Parts {
		total += len(p.Entities)
		if fmt.Sprint(p.Entities) != fmt.Sprint(want[p.Grid]) {
			// entities exactly on the street's boundary may differ between the rules: allow one
			if d := len(p.Entities) - len(want[p.Grid]); d > 1 || d < -1 {
				t.Fatalf("grid %s: %d entities, brute force %d", p.Grid, len(p.Entities), len(want[p.Grid]))
			}
		}
		if z, ok := snap.Zone(p.Grid); ok && z.Props["inspector"] != p.Inspector {
			t.Fatalf("grid %s assigned to %s, its inspector is %s", p.Grid, p.Inspector, z.Props["inspector"])
		}
	}
	if len(task.Parts) < 2 || total == 0 {
		t.Fatalf("parts %d, entities %d", len(task.Parts), total)
	}
	p0 := task.Parts[len(task.Parts)-1]
	if _, err := w.sv.MarkDone(ctx, "intruder", task.ID, supervise.ResultRequest{EntityID: p0.Entities[0], Result: "合格"}); !errors.Is(err, supervise.ErrForbidden) {
		t.Fatalf("intruder: %v", err)
	}
	for _, e := range p0.Entities {
		if _, err := w.sv.MarkDone(ctx, p0.Inspector, task.ID, supervise.ResultRequest{EntityID: e, Result: "合格"}); err != nil {
			t.Fatal(err)
		}
	}
	pr, err := w.sv.TaskProgress(task.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Done != len(p0.Entities) || pr.Total != total || pr.Overdue {
		t.Fatalf("progress %d/%d overdue %v", pr.Done, pr.Total, pr.Overdue)
	}
	w.now.Set(time.Date(2026, 12, 21, 0, 0, 1, 0, time.UTC))
	pr, _ = w.sv.TaskProgress(task.ID, 10)
	for _, g := range pr.ByGrid {
		if g.Overdue != (g.Grid != p0.Grid) || (g.Grid == p0.Grid) != (g.Percent == 100) {
			t.Fatalf("after the deadline: %+v", g)
		}
	}
	if _, err := w.sv.CreateTask(ctx, "office", supervise.TaskRequest{Title: "x", Target: supervise.TaskTarget{Zone: zone.ID, Entities: []string{"a"}}, Deadline: "2026-12-20"}); !errors.Is(err, supervise.ErrInvalidRequest) {
		t.Fatalf("two targets: %v", err)
	}
}

// gridsBrute is the grid containing p by brute force: orb/planar over
// every grid zone, the smallest ID when several contain it.
func gridsBrute(snap *geo.Snapshot, p orb.Point) string {
	best := ""
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer == "grid" && planar.MultiPolygonContains(z.Geometry, p) && (best == "" || z.ID < best) {
			best = z.ID
		}
		return true
	})
	return best
}

// Complaints next to grid boundaries go to the grid a brute-force
// point-in-polygon finds; outside every grid the answer says so.
func TestComplaintRoutingAtBoundaries(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	snap := w.ix.Snapshot()
	r := rand.New(rand.NewPCG(1, 2))
	var pts []orb.Point
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer != "grid" || r.IntN(8) != 0 {
			return true
		}
		ring := z.Geometry[0][0]
		for i := 0; i+1 < len(ring); i += 1 + len(ring)/6 {
			a, b := ring[i], ring[i+1]
			m := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
			for _, d := range []float64{-2e-6, 2e-6} {
				pts = append(pts, orb.Point{m[0] + d, m[1] + d/3}, orb.Point{m[0] - d/3, m[1] + d})
			}
		}
		return true
	})
	b := snap.Bounds()
	pts = append(pts, orb.Point{b.Max[0] + 0.5, b.Max[1] + 0.5}, orb.Point{b.Min[0] - 0.2, b.Min[1]})
	outside := 0
	for _, p := range pts {
		lon, lat := p[0], p[1]
		c, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12315", Text: "test", Lon: &lon, Lat: &lat})
		if err != nil {
			t.Fatal(err)
		}
		want := gridsBrute(snap, p)
		if c.Grid != want {
			t.Fatalf("%v: routed to %q, brute force %q", p, c.Grid, want)
		}
		if want == "" {
			outside++
			if !c.Outside || c.Routing != supervise.OutsideArea || c.Status != supervise.StatusNew {
				t.Fatalf("%v outside: %+v", p, c)
			}
		} else if c.Status != supervise.StatusAssigned || c.Inspector == "" {
			t.Fatalf("%v: %+v", p, c)
		}
	}
	if len(pts) < 100 || outside < 2 {
		t.Fatalf("%d points, %d outside", len(pts), outside)
	}
}

// A complaint by address is geocoded and routed to the grid of the
// geocoded point; named entities are matched and duplicates linked;
// statuses move only forward one step.
func TestComplaintAddressEntityDuplicates(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	// the world's service has no geocoder: a bare address is not routed
	c, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12365", Text: "质量问题", Address: "重庆市江北区港城西路60号"})
	if err != nil || c.Grid != "" || c.Status != supervise.StatusNew {
		t.Fatalf("%+v %v", c, err)
	}
	snap := w.ix.Snapshot()
	var e *geo.Entity
	snap.ScanEntities(func(x *geo.Entity) bool {
		if x.GridID != "" {
			e = x
			return false
		}
		return true
	})
	c1, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12331", Text: "食品过期", USCC: e.ID})
	if err != nil || c1.Entity != e.ID || c1.Grid != e.GridID || c1.Status != supervise.StatusAssigned || c1.DuplicateOf != "" {
		t.Fatalf("by USCC: %+v %v", c1, err)
	}
	w.now.Set(w.now.Now().Add(48 * time.Hour))
	c2, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12315", Text: "又是过期食品", USCC: e.ID})
	if err != nil || c2.DuplicateOf != c1.ID {
		t.Fatalf("duplicate: %+v %v", c2, err)
	}
	w.now.Set(w.now.Now().Add(8 * 24 * time.Hour))
	c3, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12315", Text: "第三次", USCC: e.ID})
	if err != nil || c3.DuplicateOf != "" {
		t.Fatalf("outside the window: %+v %v", c3, err)
	}
	recs, _ := w.ex.Records(ctx, e.ID, exchange.Filter{Kind: exchange.KindComplaint})
	if len(recs) < 3 {
		t.Fatalf("%d complaint records", len(recs))
	}
	// transitions
	steps := []struct {
		to string
		ok bool
	}{{"replied", false}, {"assigned", false}, {"handled", true}, {"handled", false}, {"replied", true}, {"new", false}}
	where := &[2]float64{106.55, 29.6}
	if _, err := w.sv.SetComplaintStatus(ctx, c1.Inspector, c1.ID, supervise.StatusRequest{Status: "handled", Location: &[2]float64{200, 29.6}}); !errors.Is(err, supervise.ErrInvalidRequest) {
		t.Fatalf("a location off the globe: %v", err)
	}
	for _, s := range steps {
		req := supervise.StatusRequest{Status: s.to}
		if s.to == "handled" {
			req.Location = where // recorded on the phone
		}
		_, err := w.sv.SetComplaintStatus(ctx, c1.Inspector, c1.ID, req)
		if (err == nil) != s.ok || (!s.ok && !errors.Is(err, supervise.ErrTransition)) {
			t.Fatalf("→ %s: %v", s.to, err)
		}
	}
	if _, err := w.sv.SetComplaintStatus(ctx, "x", c1.ID, supervise.StatusRequest{Status: "closed"}); !errors.Is(err, supervise.ErrInvalidRequest) {
		t.Fatalf("unknown status: %v", err)
	}
	got, _ := w.sv.Complaint(c1.ID)
	if got.Status != supervise.StatusReplied || len(got.Log) != 4 {
		t.Fatalf("log %+v", got.Log)
	}
	if l := got.Log[2]; l.Status != "handled" || l.Location == nil || *l.Location != *where {
		t.Fatalf("the handled step's location: %+v", l)
	}
	for name, req := range map[string]supervise.ComplaintRequest{
		"hotline": {Hotline: "110", Text: "x", USCC: e.ID},
		"text":    {Hotline: "12315", USCC: e.ID},
		"nowhere": {Hotline: "12315", Text: "x"},
		"uscc":    {Hotline: "12315", Text: "x", USCC: "123"},
	} {
		if _, err := w.sv.CreateComplaint(ctx, "h", req); !errors.Is(err, supervise.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Address complaints: the geocoded point's grid (real address database).
func TestComplaintByAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the address database")
	}
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	sv, err := supervise.New(supervise.Options{Geocoder: geocoder(t, w.ix), Now: w.now.Now})
	if err != nil {
		t.Fatal(err)
	}
	snap := w.ix.Snapshot()
	n, routed := 0, 0
	snap.ScanEntities(func(e *geo.Entity) bool {
		if n >= 40 || e.Address == "" {
			return n < 40
		}
		n++
		c, err := sv.RouteComplaint(ctx, snap, supervise.ComplaintRequest{Hotline: "12315", Text: "x", Address: e.Address})
		if err != nil {
			t.Fatal(err)
		}
		if c.Location != nil && c.Grid != "" {
			routed++
			if want := gridsBrute(snap, orb.Point(*c.Location)); c.Grid != want {
				t.Fatalf("%s at %v: %s, brute force %s", e.Address, *c.Location, c.Grid, want)
			}
		}
		return true
	})
	if routed < n/2 {
		t.Fatalf("only %d of %d addresses routed", routed, n)
	}
}

// Incident counts equal a brute-force count over every feature.
func TestIncidentCountsBruteForce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	snap := w.ix.Snapshot()
	if _, err := w.sv.PutResources(ctx, "office", supervise.SyntheticResources(snap, "street")); err != nil {
		t.Fatal(err)
	}
	var e0 *geo.Entity
	snap.ScanEntities(func(e *geo.Entity) bool { e0 = e; return false })
	lon, lat := e0.Location[0], e0.Location[1]
	for _, req := range []supervise.IncidentRequest{
		{Kind: "fire", Lon: &lon, Lat: &lat, RadiusM: 800},
		{Kind: "chemical_leak", Lon: &lon, Lat: &lat, RadiusM: 20000},
		{Kind: "flood", Polygon: orb.Polygon{{{lon - 0.01, lat - 0.01}, {lon + 0.015, lat - 0.01}, {lon, lat + 0.012}, {lon - 0.01, lat - 0.01}}}},
	} {
		inc, err := w.sv.CreateIncident(ctx, "command", req)
		if err != nil {
			t.Fatal(err)
		}
		in := func(p orb.Point) bool {
			if len(req.Polygon) > 0 {
				return planar.PolygonContains(req.Polygon, p)
			}
			return geo.DistanceM(orb.Point{lon, lat}, p) <= req.RadiusM
		}
		byInd, byRisk, total := map[string]int{}, map[string]int{}, 0
		snap.ScanEntities(func(e *geo.Entity) bool {
			if in(e.Location) {
				total++
				byInd[e.Industry[:1]]++
				byRisk[string(e.Risk)]++
			}
			return true
		})
		places := map[string]int{}
		snap.ScanPlaces(func(p *geo.Place) bool {
			if in(p.Location) {
				places[p.Kind]++
			}
			return true
		})
		blds := 0
		snap.ScanBuildings(func(b *geo.Building) bool {
			if in(b.Center()) {
				blds++
			}
			return true
		})
		if inc.Entities.Total != total || fmt.Sprint(inc.Entities.ByIndustry) != fmt.Sprint(byInd) || fmt.Sprint(inc.Entities.ByRisk) != fmt.Sprint(byRisk) ||
			fmt.Sprint(inc.Places) != fmt.Sprint(places) || inc.Buildings != blds {
			t.Fatalf("%s: %+v %v %d; brute force %d %v %v %v %d", req.Kind, inc.Entities, inc.Places, inc.Buildings, total, byInd, byRisk, places, blds)
		}
		if total == 0 || len(inc.Resources) != 10 || len(inc.Inspectors) == 0 {
			t.Fatalf("%s: %d entities, %d resources, inspectors %v", req.Kind, total, len(inc.Resources), inc.Inspectors)
		}
		// the resources by distance, brute force
		ds := []float64{}
		for _, r := range w.sv.Resources() {
			ds = append(ds, geo.DistanceM(orb.Point(inc.Center), orb.Point(r.Location)))
		}
		sort.Float64s(ds)
		for i, r := range inc.Resources {
			if d := r.DistanceM - ds[i]; d > 0.06 || d < -0.06 {
				t.Fatalf("resource %d at %.1f m, brute force %.1f", i, r.DistanceM, ds[i])
			}
		}
		if _, err := w.sv.LogIncident(ctx, "command", inc.ID, supervise.LogStep{Step: "dispatched", Resource: inc.Resources[0].ID}); err != nil {
			t.Fatal(err)
		}
		got, _ := w.sv.Incident(inc.ID)
		if len(got.Log) != 2 || got.Log[1].By != "command" {
			t.Fatalf("log %+v", got.Log)
		}
	}
	for name, req := range map[string]supervise.IncidentRequest{
		"kind":    {Kind: "party", Lon: &lon, Lat: &lat, RadiusM: 10},
		"radius":  {Kind: "fire", Lon: &lon, Lat: &lat},
		"huge":    {Kind: "fire", Lon: &lon, Lat: &lat, RadiusM: 1e9},
		"nothing": {Kind: "fire"},
		"both":    {Kind: "fire", Lon: &lon, Lat: &lat, RadiusM: 5, Polygon: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}},
	} {
		if _, err := w.sv.CreateIncident(ctx, "c", req); !errors.Is(err, supervise.ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The inbox: an inspector's subscription hears of a complaint routed to
// them, a task part and a spot check; the list shows them.
func TestInbox(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", supervise.Options{})
	snap := w.ix.Snapshot()
	var e *geo.Entity
	snap.ScanEntities(func(x *geo.Entity) bool {
		if x.GridID != "" {
			e = x
			return false
		}
		return true
	})
	z, _ := snap.Zone(e.GridID)
	me := z.Props["inspector"]
	sub, _ := w.sv.Subscribe(me, 0)
	defer sub.Close()
	other, _ := w.sv.Subscribe("someone else", 0)
	defer other.Close()
	c, err := w.sv.CreateComplaint(ctx, "hotline", supervise.ComplaintRequest{Hotline: "12315", Text: "无证经营", USCC: e.ID})
	if err != nil {
		t.Fatal(err)
	}
	task, err := w.sv.CreateTask(ctx, "office", supervise.TaskRequest{Title: "复查", Target: supervise.TaskTarget{Entities: []string{e.ID}}, Deadline: "2027-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"complaint " + c.ID, "task " + task.ID} {
		select {
		case ev := <-sub.C:
			if got := ev.Kind + " " + ev.ID; got != want || ev.Inspector != me || ev.Seq == 0 {
				t.Fatalf("event %+v, want %s", ev, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s", want)
		}
	}
	select {
	case ev := <-other.C:
		t.Fatalf("another inspector got %+v", ev)
	default:
	}
	ib, err := w.sv.Inbox(me)
	if err != nil {
		t.Fatal(err)
	}
	if len(ib.Complaints) != 1 || ib.Complaints[0].ID != c.ID || len(ib.Tasks) != 1 || ib.Tasks[0].Pending[0] != e.ID || !slices.Contains(ib.Grids, e.GridID) || len(ib.Events) != 2 {
		t.Fatalf("inbox %+v", ib)
	}
	// resumption: the events after the first
	sub2, backlog := w.sv.Subscribe(me, ib.Events[0].Seq)
	defer sub2.Close()
	if len(backlog) != 1 || backlog[0].ID != task.ID {
		t.Fatalf("backlog %+v", backlog)
	}
}

// A caller's name resolves to the inspector: their name, a grid's ID.
func TestInspectorResolution(t *testing.T) {
	w := newWorld(t, ":memory:", supervise.Options{})
	snap := w.ix.Snapshot()
	var z *geo.Zone
	snap.ScanZones(func(x *geo.Zone) bool {
		if x.Layer == "grid" && x.Props["inspector"] != "" {
			z = x
			return false
		}
		return true
	})
	in := z.Props["inspector"]
	for name, want := range map[string]string{in: in, z.ID: in, "clerk": "clerk"} {
		if got := w.sv.Inspector(snap, name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}
