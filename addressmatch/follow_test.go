package addressmatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestFollowDoesNotHoldUpWriters: the index's writers go on while Follow
// fills the DB (the commits are queued, not blocked), and every commit made
// meanwhile is in the DB when Follow returns.
func TestFollowDoesNotHoldUpWriters(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 20000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	db, err := NewDB(DBOptions{Parser: testParser(t)})
	if err != nil {
		t.Fatal(err)
	}
	var filled atomic.Bool
	var during atomic.Int32 // writes that returned before Follow did
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written []geo.Entity
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			first := fmt.Sprintf("91500112%09d", 900000+i)
			c, _ := geo.USCCCheckChar(first)
			e := geo.Entity{ID: first + string(c), Name: fmt.Sprintf("重庆跟随测试%d有限公司", i),
				Address: fmt.Sprintf("重庆市渝北区跟随测试路%d号", i+1), Location: orb.Point{106.55, 29.65}}
			if err := idx.UpsertEntity(e); err != nil {
				t.Error(err)
				return
			}
			written = append(written, e)
			if !filled.Load() {
				during.Add(1)
			}
		}
	}()
	fl, err := Follow(db, idx)
	filled.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Stop()
	close(stop)
	wg.Wait()
	if during.Load() < 5 {
		t.Fatalf("only %d writes went through while Follow filled the DB: it holds up the writers", during.Load())
	}
	for _, e := range written {
		res, err := db.Check(context.Background(), e.Address)
		if err != nil || res.Verdict != Matched {
			t.Fatalf("%s written during the fill: %s %v", e.Address, res.Verdict, err)
		}
	}
	t.Logf("%d writes during the fill, %d in all", during.Load(), len(written))
}

// TestFollowFailedFillLeavesDB: the first fill adds its records a chunk at
// a time; when a record past the first chunks is refused (an address over
// the parser's limit), Follow fails and the database holds exactly what it
// held before (its standard addresses), not the chunks added before the
// refusal.
func TestFollowFailedFillLeavesDB(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	b := idx.Batch()
	n := 2*fillChunk + 100
	for i := 0; i < n; i++ {
		first := fmt.Sprintf("91500112%09d", 100000+i)
		c, _ := geo.USCCCheckChar(first)
		addr := fmt.Sprintf("重庆市渝北区分块测试路%d号", i+1)
		if i == n-1 { // the scan is in ID order: the last one fails
			addr = "重庆市渝北区分块测试路" + strings.Repeat("长", 60) + "号"
		}
		if err := b.UpsertEntity(geo.Entity{ID: first + string(c), Name: fmt.Sprintf("重庆分块测试%d有限公司", i),
			Address: addr, Location: orb.Point{106.55, 29.65}}); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	p, err := NewParser(demoOpts(t, Options{MaxRunes: 40}))
	if err != nil {
		t.Fatal(err)
	}
	db, err := NewDB(DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadStandardCSV(strings.NewReader("id,address,lon,lat\nS1,重庆市渝北区标准路1号,106.5,29.6\n")); err != nil {
		t.Fatal(err)
	}
	lenBefore, recsBefore := db.Len(), db.RecordCount()
	if _, err := Follow(db, idx); !errors.Is(err, ErrTooLong) {
		t.Fatalf("Follow: %v, want ErrTooLong", err)
	}
	if db.Len() != lenBefore || db.RecordCount() != recsBefore {
		t.Fatalf("after the failed fill: %d addresses, %d records; before %d, %d", db.Len(), db.RecordCount(), lenBefore, recsBefore)
	}
	res, err := db.Check(context.Background(), "重庆市渝北区分块测试路1号")
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict == Matched {
		t.Fatalf("an address of the failed fill is still matched: %+v", res)
	}
}
