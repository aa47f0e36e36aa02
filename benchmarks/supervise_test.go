package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Supervision operations (issue 19): the spot-check draw, the task split,
// complaint routing with the address geocode, and the inbox's SSE fan-out.

func newSupervise(b *testing.B, gc zoneid.Geocoder) *supervise.Service {
	sv, err := supervise.New(supervise.Options{Geocoder: gc})
	if err != nil {
		b.Fatal(err)
	}
	return sv
}

// BenchmarkSpotCheckDraw: a draw of 50 entities, two inspectors each from
// outside the entity's grid, over every entity of sections F and H with
// risk B–D (a scan of all entities, the filter, the sorted candidate list
// and its SHA-256, the draw and the pairing); a new seed each time.
func BenchmarkSpotCheckDraw(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			sv := newSupervise(b, nil)
			snap := d.Index.Snapshot()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			t0 := cpuTime()
			cands := 0
			for i := 0; i < b.N; i++ {
				seed := uint64(i + 1)
				sc, err := sv.Draw(ctx, snap, supervise.SpotCheckRequest{Items: []string{"食品经营许可检查"}, Sample: 50, Seed: &seed,
					Filter: supervise.Filter{Industries: []string{"F", "H"}, Risk: []string{"B", "C", "D"}}, InspectorsPerEntity: 2, ExcludeOwnGrid: true})
				if err != nil {
					b.Fatal(err)
				}
				cands = sc.Candidates
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/draw")
			b.ReportMetric(float64((cpuTime()-t0).Microseconds())/1000/float64(b.N), "cpu-ms/draw")
			b.ReportMetric(float64(cands), "candidates")
		})
	}
}

// BenchmarkTaskSplit: a task on a list of 100,000 entities (drawn at
// random from the data set) split by grid.
func BenchmarkTaskSplit(b *testing.B) {
	for _, n := range Sizes() {
		if n < 100_000 {
			continue
		}
		b.Run(sizeName(n), func(b *testing.B) {
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			ids := make([]string, 0, 100_000)
			for _, i := range r.Perm(len(d.Demo.Entities))[:100_000] {
				ids = append(ids, d.Demo.Entities[i].ID)
			}
			sv := newSupervise(b, nil)
			snap := d.Index.Snapshot()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			t0 := cpuTime()
			parts := 0
			for i := 0; i < b.N; i++ {
				t, err := sv.SplitTask(ctx, snap, supervise.TaskRequest{Title: "专项检查", Target: supervise.TaskTarget{Entities: ids}, Deadline: "2027-01-31"})
				if err != nil {
					b.Fatal(err)
				}
				parts = len(t.Parts)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/split")
			b.ReportMetric(float64((cpuTime()-t0).Microseconds())/1000/float64(b.N), "cpu-ms/split")
			b.ReportMetric(float64(parts), "grids")
		})
	}
}

// BenchmarkComplaintRouting: a complaint by address, geocoded with the
// address database and routed to its grid and inspector. The addresses are
// entities' registered addresses as a hotline clerk types them: without
// the city and district (重庆市江北区…), so the geocode must resolve the
// rest. Reports p50 and p99 of one routing and the share routed to a grid.
func BenchmarkComplaintRouting(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			d, err := Load(n)
			if err != nil {
				b.Fatal(err)
			}
			reg, err := demo.Region()
			if err != nil {
				b.Fatal(err)
			}
			po := addressmatch.DefaultOptions()
			po.Region = reg
			p, err := addressmatch.NewParser(po)
			if err != nil {
				b.Fatal(err)
			}
			o := addressmatch.DefaultDBOptions()
			o.Parser = p
			db, err := addressmatch.NewDB(o)
			if err != nil {
				b.Fatal(err)
			}
			fl, err := addressmatch.Follow(db, d.Index)
			if err != nil {
				b.Fatal(err)
			}
			defer fl.Stop()
			gc := zoneid.GeocoderFunc(func(ctx context.Context, a string) (zoneid.Geocoded, error) {
				g, err := db.Geocode(ctx, a)
				if errors.Is(err, addressmatch.ErrNotAddress) || errors.Is(err, addressmatch.ErrNotFound) {
					return zoneid.Geocoded{Precision: geo.PrecisionNone}, nil
				}
				if err != nil {
					return zoneid.Geocoded{}, err
				}
				return zoneid.Geocoded{Location: g.Location, Precision: g.Precision}, nil
			})
			sv := newSupervise(b, gc)
			r := rand.New(rand.NewPCG(5, 6))
			addrs := make([]string, 0, 2048)
			for len(addrs) < cap(addrs) {
				a := d.Demo.Entities[r.IntN(len(d.Demo.Entities))].Address
				a = strings.TrimPrefix(a, "重庆市")
				if i := strings.Index(a, "区"); i > 0 && i < 12 {
					a = a[i+len("区"):]
				}
				if a != "" {
					addrs = append(addrs, a)
				}
			}
			snap := d.Index.Snapshot()
			ctx := context.Background()
			// the oracle of the routing: every grid's outline, tested by
			// brute force (orb's planar point-in-polygon over every grid)
			var grids []*geo.Zone
			snap.ScanZones(func(z *geo.Zone) bool {
				if z.Layer == "grid" {
					grids = append(grids, z)
				}
				return true
			})
			bruteGrids := func(p orb.Point) []string {
				var in []string
				for _, z := range grids {
					if z.Geometry.Bound().Contains(p) && planar.MultiPolygonContains(z.Geometry, p) {
						in = append(in, z.ID)
					}
				}
				return in
			}
			runtime.GC()
			lat := make([]time.Duration, 0, b.N)
			routed := 0
			var outs []*supervise.Complaint // routed or outside, checked after the timing
			why := map[string]int{}
			b.ResetTimer()
			t0 := cpuTime()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				c, err := sv.RouteComplaint(ctx, snap, supervise.ComplaintRequest{Hotline: "12315", Text: "无照经营", Address: addrs[i%len(addrs)]})
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				switch {
				case c.Grid != "":
					routed++
					why["routed"]++
				case c.Outside:
					why["outside"]++
				case c.Location == nil:
					why["not located"]++
				default:
					why["coarse:"+c.Precision]++
				}
				if c.Location != nil && (c.Grid != "" || c.Outside) && len(outs) < 20_000 {
					outs = append(outs, c)
				}
			}
			b.StopTimer()
			// routed: a grid that contains the point; outside: no grid does
			for _, c := range outs {
				in := bruteGrids(orb.Point(*c.Location))
				switch {
				case c.Outside && len(in) > 0:
					b.Fatalf("complaint at %v answered outside every grid, but grid %v contains it (brute force)", *c.Location, in)
				case c.Grid != "" && !slices.Contains(in, c.Grid):
					b.Fatalf("complaint at %v routed to grid %s, brute force says %v", *c.Location, c.Grid, in)
				}
			}
			for k, v := range why {
				b.ReportMetric(float64(v)/float64(b.N)*100, "%"+strings.ReplaceAll(k, " ", "-"))
			}
			b.ReportMetric(float64(len(outs)), "brute-checked")
			b.ReportMetric(float64((cpuTime()-t0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(routed)/float64(b.N)*100, "%routed")
		})
	}
}

// BenchmarkInboxFanout: 1,000 inspectors connected to the inbox's SSE
// stream of a server on loopback (the whole middleware chain); each round
// publishes one event to each inspector; the latency is from the
// publication to the client reading the event's data line. Reports p50
// and p99 over all events.
func BenchmarkInboxFanout(b *testing.B) {
	const inspectors = 1000
	ctx := context.Background()
	ds, err := demo.Generate(demo.Options{Entities: 2000})
	if err != nil {
		b.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	ex, _ := exchange.New(exchange.Options{})
	sv := newSupervise(b, nil)
	st, err := store.Open(ctx, ":memory:", idx, store.Options{Collections: append([]store.Collection{ex.Collection()}, sv.Collections()...)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := ds.Load(idx); err != nil {
		b.Fatal(err)
	}
	sv.Attach(st)
	opts := server.Options{RateLimit: -1}
	h, err := server.New(server.Deps{Index: idx, Store: st, Supervise: sv}, opts)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Config = opts.HTTPServer("", h)
	ts.Start()
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: inspectors, MaxConnsPerHost: 0, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	got := make(chan struct{}, inspectors*4)
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	for i := 0; i < inspectors; i++ {
		req, _ := http.NewRequestWithContext(cctx, "GET", fmt.Sprintf("%s/api/v1/inbox/stream?inspector=inspector%04d", ts.URL, i), nil)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != 200 {
			b.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			rd := bufio.NewReader(resp.Body)
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if !strings.HasPrefix(l, "data:") {
					continue
				}
				var ev supervise.Event
				if json.Unmarshal([]byte(l[5:]), &ev) != nil {
					continue
				}
				d := time.Since(ev.At)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
				got <- struct{}{}
			}
		}()
	}
	for sv.Subscribers() < inspectors {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	b.ResetTimer()
	seq := uint64(0)
	for i := 0; i < b.N; i++ {
		for j := 0; j < inspectors; j++ {
			seq++
			sv.Publish(supervise.Event{Seq: seq, Inspector: fmt.Sprintf("inspector%04d", j), Kind: "complaint", ID: fmt.Sprint(seq), At: time.Now(), Summary: "12315 投诉"})
		}
		for j := 0; j < inspectors; j++ {
			select {
			case <-got:
			case <-time.After(30 * time.Second):
				b.Fatalf("round %d: %d of %d events arrived", i, j, inspectors)
			}
		}
	}
	b.StopTimer()
	mu.Lock()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat)), "events")
	mu.Unlock()
}
