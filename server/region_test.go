package server

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/region"
	"github.com/marketgeo/marketgeo/search"
	"github.com/paulmach/orb"
)

// demoAddressDB returns an empty address database whose parser knows the
// demo's region (its communities and aliases), as marketgeo serve builds it.
func demoAddressDB() (*addressmatch.DB, error) {
	reg, err := demo.Region()
	if err != nil {
		return nil, err
	}
	o := addressmatch.DefaultOptions()
	o.Region = reg
	p, err := addressmatch.NewParser(o)
	if err != nil {
		return nil, err
	}
	return addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
}

// szDir holds the Shenzhen region: NBS division tables and road names (see
// its README for the source and licence).
const szDir = "testdata/region-shenzhen"

// szRoad is a road of the Shenzhen test region.
type szRoad struct{ district, street, name string }

// szEntity is a generated market entity of the Shenzhen test region.
type szEntity struct {
	geo.Entity
	trade, word string // 字号 and industry word: the short name is trade+word
	road        szRoad
	no          int
}

func readSZ(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(szDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// shenzhen builds the region dictionary from the test data alone, the way a
// library user (or marketgeo serve --region) would: region.LoadDir on the
// NBS tables (the province, the city, its districts and streets, with
// their short forms) and aliases.csv (前海 …), plus the road names.
func shenzhen(t *testing.T) (*region.Dict, []szRoad) {
	t.Helper()
	d, err := region.LoadDir(szDir, "深圳市")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(readSZ(t, "roads.csv")).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var roads []szRoad
	for _, r := range rows[1:] {
		roads = append(roads, szRoad{district: r[0], street: r[1], name: r[2]})
	}
	return d, roads
}

// szEntities generates n entities deterministically on the region's roads:
// unique trade names (字号), registered as 深圳市…, 深圳… or 深圳市<district>…
// 有限公司, at unique road numbers, with the address forms registries use.
func szEntities(d *region.Dict, roads []szRoad, n int) []szEntity {
	tradeA := []rune("鹏华创宏泰恒信达盛安德瑞嘉凯隆源远诚联海天锦博睿汇")
	tradeB := []rune("峰辉翔兴润昌宇航展杰星程鑫通盈腾越晟丰铭")
	words := []struct{ word, industry string }{
		{"科技", "I6513"}, {"信息技术", "I6531"}, {"贸易", "F5211"}, {"餐饮管理", "H6210"},
		{"物流", "G5821"}, {"投资管理", "L7212"}, {"文化传媒", "L7259"}, {"物业管理", "K7020"},
	}
	codes := map[string]string{}
	d.Units(func(u region.Unit) bool {
		if u.Level == region.LevelDistrict {
			codes[u.Name] = u.Code
		}
		return true
	})
	centre := map[string]orb.Point{"罗湖区": {114.131, 22.548}, "福田区": {114.055, 22.541}, "南山区": {113.930, 22.533}, "宝安区": {113.883, 22.555}}
	rng := rand.New(rand.NewPCG(4403, 2026))
	out := make([]szEntity, 0, n)
	for i := range n {
		j := (i * 37) % (len(tradeA) * len(tradeB)) // 37 is prime to 500: unique pairs
		trade := string([]rune{tradeA[j/len(tradeB)], tradeB[j%len(tradeB)]})
		w := words[i%len(words)]
		ri := i % len(roads)
		rd := roads[ri]
		no := 3 + (i/len(roads))*17 + ri%5 // unique on each road
		var name string
		switch i % 5 {
		case 0, 1, 2:
			name = "深圳市" + trade + w.word + "有限公司"
		case 3:
			name = "深圳" + trade + w.word + "有限公司"
		default:
			name = "深圳市" + rd.district + trade + w.word + "有限公司"
		}
		var addr string
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			addr = "广东省深圳市" + rd.district + rd.name + strconv.Itoa(no) + "号"
		case 6, 7, 8:
			addr = "深圳市" + rd.district + rd.name + strconv.Itoa(no) + "号"
		default:
			addr = "深圳市" + rd.district + rd.street + rd.name + strconv.Itoa(no) + "号"
		}
		c := centre[rd.district]
		loc := orb.Point{c[0] + float64(ri%7)*0.004 + float64(no)*0.00002, c[1] + float64(ri%5)*0.003 + rng.Float64()*0.0005}
		out = append(out, szEntity{
			Entity: geo.Entity{ID: szUSCC(codes[rd.district], i), Name: name, Address: addr, Location: loc,
				Industry: w.industry, Status: geo.StatusActive},
			trade: trade, word: w.word, road: rd, no: no,
		})
	}
	return out
}

// szUSCC is a valid unified social credit code of the district.
func szUSCC(district string, i int) string {
	const alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	body := []byte("91" + district)
	x := uint64(i)*2654435761 + 4403
	for range 9 {
		body = append(body, alpha[x%31])
		x /= 31
	}
	c, err := geo.USCCCheckChar(string(body))
	if err != nil {
		panic(err) // the alphabet is GB 32100's
	}
	return string(append(body, c))
}

// cnNumber writes 1 ≤ n ≤ 999 in Chinese numerals, as clerks do (十五, 一百零八).
func cnNumber(n int) string {
	d := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	var b strings.Builder
	h, t, u := n/100, n/10%10, n%10
	if h > 0 {
		b.WriteString(d[h] + "百")
	}
	switch {
	case t > 0:
		if h > 0 || t > 1 {
			b.WriteString(d[t])
		}
		b.WriteString("十")
	case h > 0 && u > 0:
		b.WriteString("零")
	}
	if u > 0 {
		b.WriteString(d[u])
	}
	return b.String()
}

// TestRegionShenzhen runs search and the address check on a small region
// that is not Chongqing (issue 15, item 1): Shenzhen's divisions from the
// NBS tables of testdata/region-shenzhen, real road names, and 400
// generated entities. The library knows no region: all it knows of
// Shenzhen is the dictionary passed in, and the quality must be the demo's.
func TestRegionShenzhen(t *testing.T) {
	ctx := context.Background()
	reg, roads := shenzhen(t)
	ents := szEntities(reg, roads, 400)
	idx, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := idx.Batch()
	for _, e := range ents {
		if err := b.UpsertEntity(e.Entity); err != nil {
			t.Fatalf("%s %s: %v", e.Name, e.Address, err)
		}
	}
	b.Commit()

	t.Run("search", func(t *testing.T) {
		s, err := search.New(ctx, idx, search.Options{Region: reg})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		short, trade := 0, 0
		matches := map[string]int{}
		var misses []string
		for _, e := range ents {
			// the short name people type (鹏华科技): the first hit
			hits, err := s.Search(ctx, search.Query{Text: e.trade + e.word, Layers: []geo.Layer{geo.LayerEntities}, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) > 0 && hits[0].ID == e.ID {
				short++
				matches[hits[0].Match]++
			} else if len(misses) < 10 {
				misses = append(misses, fmt.Sprintf("%s → %v", e.trade+e.word, hitNames(hits)))
			}
			// the trade name alone (鹏华): among the first three
			hits, err = s.Search(ctx, search.Query{Text: e.trade, Layers: []geo.Layer{geo.LayerEntities}, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if h.ID == e.ID {
					trade++
					break
				}
			}
		}
		t.Logf("short names first: %d/%d (%v); trade names in the first three: %d/%d", short, len(ents), matches, trade, len(ents))
		for _, m := range misses {
			t.Log("miss:", m)
		}
		if short*100 < len(ents)*99 || matches[search.MatchExact]*100 < len(ents)*99 {
			t.Errorf("short names found first for %d/%d entities (%v), want ≥ 99%%, as exact matches", short, len(ents), matches)
		}
		// the dictionary is what makes them exact: without it, 深圳… and
		// 深圳市南山区… keep their region in the short name
		bare, err := search.New(ctx, idx, search.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer bare.Close()
		exact := 0
		for _, e := range ents {
			hits, err := bare.Search(ctx, search.Query{Text: e.trade + e.word, Layers: []geo.Layer{geo.LayerEntities}, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) > 0 && hits[0].ID == e.ID && hits[0].Match == search.MatchExact {
				exact++
			}
		}
		t.Logf("without the region: %d/%d exact", exact, len(ents))
		if exact >= matches[search.MatchExact] {
			t.Errorf("without the region %d exact matches, with it %d: the region should matter", exact, matches[search.MatchExact])
		}
		if trade*100 < len(ents)*95 {
			t.Errorf("trade names in the first three for %d/%d entities, want ≥ 95%%", trade, len(ents))
		}
	})

	t.Run("address check", func(t *testing.T) {
		o := addressmatch.DefaultOptions()
		o.Region = reg
		p, err := addressmatch.NewParser(o)
		if err != nil {
			t.Fatal(err)
		}
		db, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
		if err != nil {
			t.Fatal(err)
		}
		fl, err := addressmatch.Follow(db, idx)
		if err != nil {
			t.Fatal(err)
		}
		fl.Stop()

		// clerk variants of registered addresses: matched to the right one
		trad := strings.NewReplacer("区", "區", "号", "號", "东", "東", "业", "業", "华", "華", "园", "園")
		full := strings.NewReplacer("0", "０", "1", "１", "2", "２", "3", "３", "4", "４", "5", "５", "6", "６", "7", "７", "8", "８", "9", "９")
		short := func(s string) string { return strings.TrimSuffix(s, "区") }
		variants := []struct {
			name string
			form func(e szEntity) string
		}{
			{"full", func(e szEntity) string {
				return "广东省深圳市" + e.road.district + e.road.name + strconv.Itoa(e.no) + "号"
			}},
			{"no province", func(e szEntity) string {
				return "深圳市" + e.road.district + e.road.name + strconv.Itoa(e.no) + "号"
			}},
			{"district first", func(e szEntity) string { return e.road.district + e.road.name + strconv.Itoa(e.no) + "号" }},
			{"short names", func(e szEntity) string {
				return "深圳" + short(e.road.district) + e.road.name + strconv.Itoa(e.no) + "号"
			}},
			{"with the street", func(e szEntity) string {
				return e.road.district + e.road.street + e.road.name + strconv.Itoa(e.no) + "号"
			}},
			{"road alone", func(e szEntity) string { return e.road.name + strconv.Itoa(e.no) + "号" }},
			{"chinese numerals", func(e szEntity) string { return e.road.district + e.road.name + cnNumber(e.no) + "号" }},
			{"full-width digits", func(e szEntity) string {
				return "深圳市" + e.road.district + e.road.name + full.Replace(strconv.Itoa(e.no)) + "号"
			}},
			{"traditional", func(e szEntity) string {
				return trad.Replace("深圳市" + e.road.district + e.road.name + strconv.Itoa(e.no) + "号")
			}},
			{"spaces", func(e szEntity) string {
				return "深圳市 " + e.road.district + " " + e.road.name + " " + strconv.Itoa(e.no) + "号"
			}},
		}
		right, total := 0, 0
		failByForm := map[string]int{}
		var fails []string
		for i, e := range ents {
			for k := range 2 {
				v := variants[(i+k*3)%len(variants)]
				in := v.form(e)
				res, err := db.Check(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				total++
				want := e.road.name + strconv.Itoa(e.no) + "号"
				if res.Verdict == addressmatch.Matched && len(res.Candidates) > 0 &&
					strings.Contains(addressmatch.Normalize(res.Candidates[0].Address), want) &&
					strings.Contains(res.Candidates[0].Address, e.road.district) {
					right++
					continue
				}
				failByForm[v.name]++
				if len(fails) < 15 {
					got := ""
					if len(res.Candidates) > 0 {
						got = res.Candidates[0].Address
					}
					fails = append(fails, fmt.Sprintf("[%s] %s → %s %s (%s)", v.name, in, res.Verdict, got, res.Reason))
				}
			}
		}
		t.Logf("clerk variants matched right: %d/%d; failures by form %v", right, total, failByForm)
		if right*100 < total*99 {
			for _, f := range fails {
				t.Log(f)
			}
			t.Errorf("clerk variants matched right: %d/%d, want ≥ 99%%", right, total)
		}

		// invented addresses: never matched
		known := map[string]bool{}
		for _, r := range roads {
			known[r.name] = true
		}
		pool := []rune("沁璞蔚珩琮琪瑄璟珑瑜玥翊祺钰瑾琛璐瑶婧")
		sufs := []string{"路", "大道", "街", "东路", "一路"}
		rng := rand.New(rand.NewPCG(518000, 1))
		type inv struct{ class, in string }
		var invented []inv
		for i := range 120 {
			e := ents[rng.IntN(len(ents))]
			var road string
			for road == "" || known[road] {
				road = string([]rune{pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]}) + sufs[rng.IntN(len(sufs))]
			}
			switch i % 4 {
			case 0:
				invented = append(invented, inv{"invented road", "深圳市" + e.road.district + road + strconv.Itoa(e.no) + "号"})
			case 1:
				invented = append(invented, inv{"invented road, no district", road + strconv.Itoa(e.no) + "号"})
			case 2:
				invented = append(invented, inv{"unregistered number", "深圳市" + e.road.district + e.road.name + strconv.Itoa(900+rng.IntN(90)) + "号"})
			default:
				invented = append(invented, inv{"invented road with the street", e.road.district + e.road.street + road + strconv.Itoa(e.no) + "号"})
			}
		}
		for _, c := range []inv{
			{"other city", "北京市朝阳区建国路88号"},
			{"other city in the province", "广州市天河区天河路385号"},
			{"chongqing", "重庆市渝北区金开大道68号"},
			{"garbage", "你好世界"},
		} {
			invented = append(invented, c)
		}
		byClass := map[string][2]int{}
		for _, c := range invented {
			res, err := db.Check(ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			n := byClass[c.class]
			n[0]++
			if res.Verdict == addressmatch.Matched {
				n[1]++
				t.Errorf("invented address matched: [%s] %s → %s", c.class, c.in, res.Candidates[0].Address)
			}
			byClass[c.class] = n
			switch c.class {
			case "other city", "other city in the province", "chongqing":
				if res.Verdict != addressmatch.Outside {
					t.Errorf("%s: %s → %s, want outside", c.class, c.in, res.Verdict)
				}
			case "garbage":
				if res.Verdict != addressmatch.Invalid {
					t.Errorf("%s: %s → %s, want invalid", c.class, c.in, res.Verdict)
				}
			}
		}
		classes := make([]string, 0, len(byClass))
		for k := range byClass {
			classes = append(classes, k)
		}
		sort.Strings(classes)
		for _, k := range classes {
			t.Logf("invented %-32s %3d, matched %d", k, byClass[k][0], byClass[k][1])
		}

		// the region's aliases reach the parser: 前海 is the functional area
		c := p.Parse("深圳市南山区前海深港合作区梦海大道5035号")
		if got := c.Get(addressmatch.LabelDevzone); got != "前海深港合作区" {
			t.Errorf("前海深港合作区: devzone %q (%+v)", got, c.Spans)
		}
	})
}

func hitNames(hs []search.Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	return out
}

// TestRegionConfig: the config key region (marketgeo serve --region) is a
// directory read with region.LoadDir.
func TestRegionConfig(t *testing.T) {
	cfg, err := Parse(strings.NewReader("region: " + szDir + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := cfg.RegionDict()
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := d.Unit("440305"); !ok || u.Name != "南山区" || d.Name() != "region-shenzhen" {
		t.Errorf("440305 = %+v (%v), dictionary %q", u, ok, d.Name())
	}
	if d, err := DefaultFileConfig().RegionDict(); d != nil || err != nil {
		t.Errorf("no region: %v %v, want nil, nil (the caller's default)", d, err)
	}
	cfg.Region = filepath.Join(t.TempDir(), "none")
	var ce *ConfigError
	if _, err := cfg.RegionDict(); !errors.As(err, &ce) || ce.Key != "region" || !errors.Is(err, region.ErrInvalid) {
		t.Errorf("a missing directory: %v, want a *ConfigError for region wrapping region.ErrInvalid", err)
	}
}
