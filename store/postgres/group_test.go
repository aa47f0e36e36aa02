package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
	"github.com/paulmach/orb"
)

// TestLargeRemoteTransactionWhole: node A commits one transaction of more
// changes than a follower reads at a time (12,000 entities: two pages of
// the change log, the first starting with other writes) while node C
// commits small writes before and after it; node B, following, must
// publish A's transaction whole — every index commit on B holds all of its
// entities or none — and end equal to a fresh node. (C's writes do not
// run during A's: they would wait for the sequence row, up to the
// backend's lock timeout, for as long as the bulk takes under -race.)
func TestLargeRemoteTransactionWhole(t *testing.T) {
	const bulk = 12000
	url := testURL(t)
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	b := openNode(t, url, schema, postgres.Options{})
	c := openNode(t, url, schema, postgres.Options{})
	ctx := context.Background()
	mk := func(i int, div string) geo.Entity {
		return geo.Entity{ID: usccIn(t, div, i), Name: fmt.Sprintf("重庆大事务%d有限公司", i), Location: orb.Point{106.4 + float64(i%500)*1e-4, 29.5 + float64(i/500)*1e-4},
			Industry: "I6510", Status: geo.StatusActive, Risk: geo.RiskA}
	}
	ws := make([]store.Write, bulk)
	inBulk := make(map[string]bool, bulk)
	for i := range ws {
		e := mk(i, "500112")
		ws[i] = store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
		inBulk[e.ID] = true
	}
	// on B: how many of the bulk's entities each index commit brought
	var mu sync.Mutex
	var parts []int
	cancel := b.ix.Subscribe(func(cs geo.ChangeSet) {
		n := 0
		for _, ch := range cs.Changes {
			if inBulk[ch.ID] {
				n++
			}
		}
		if n > 0 {
			mu.Lock()
			parts = append(parts, n)
			mu.Unlock()
		}
	})
	defer cancel()
	// and readers of B's snapshots never count part of it
	stop := make(chan struct{})
	var rg sync.WaitGroup
	rg.Add(1)
	go func() {
		defer rg.Done()
		probe := []string{ws[0].ID, ws[bulk/2].ID, ws[bulk-1].ID}
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := b.ix.Snapshot()
			seen := 0
			for _, id := range probe {
				if _, ok := s.Entity(id); ok {
					seen++
				}
			}
			if seen != 0 && seen != len(probe) {
				t.Errorf("node B shows %d of 3 probes of one transaction", seen)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	small := func(from, to int) {
		for i := from; i < to; i++ {
			e := mk(i, "500105")
			if _, err := c.st.Apply(ctx, "c", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
				t.Error(err)
				return
			}
		}
	}
	small(0, 30)
	res, err := a.st.Apply(ctx, "a", ws)
	if err != nil {
		t.Fatal(err)
	}
	small(30, 60)
	if err := b.st.WaitApplied(ctx, max(res.Seq, c.st.Seq()), time.Minute); err != nil {
		t.Fatal(err)
	}
	close(stop)
	rg.Wait()
	mu.Lock()
	if len(parts) != 1 || parts[0] != bulk {
		t.Errorf("node B published the %d-change transaction in parts %v", bulk, parts)
	}
	mu.Unlock()
	fresh := openNode(t, url, schema, postgres.Options{})
	if err := b.st.WaitApplied(ctx, fresh.st.Seq(), time.Minute); err != nil {
		t.Fatal(err)
	}
	sameState(t, "node B after a large transaction", state(t, fresh.ix.Snapshot()), state(t, b.ix.Snapshot()))
}
