package supervise_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
	"github.com/marketgeo/marketgeo/zoneid"
)

// world is a store seeded with a generated demo region, with the exchange
// and the supervision service on it.
type world struct {
	ds  *demo.Dataset
	ix  *geo.Index
	st  *store.Store
	ex  *exchange.Exchange
	sv  *supervise.Service
	now *clock
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var (
	dsOnce sync.Once
	dsVal  *demo.Dataset
	dsErr  error
)

// dataset is the demo region with 4,000 entities (generated once).
func dataset(t testing.TB) *demo.Dataset {
	dsOnce.Do(func() { dsVal, dsErr = demo.Generate(demo.Options{Entities: 4000}) })
	if dsErr != nil {
		t.Fatal(dsErr)
	}
	return dsVal
}

// newWorld opens a store at path (":memory:" for none), seeded with the
// demo when new.
func newWorld(t testing.TB, path string, opts supervise.Options) *world {
	t.Helper()
	ctx := context.Background()
	ds := dataset(t)
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sv, err := supervise.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, path, ix, store.Options{NoSnapshot: true, Collections: append([]store.Collection{ex.Collection()}, sv.Collections()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Empty() {
		scratch, _ := geo.New(geo.Options{})
		if err := ds.Load(scratch); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Import(ctx, "import:demo", scratch.Snapshot()); err != nil {
			t.Fatal(err)
		}
	}
	ex.Attach(st)
	sv.Attach(st)
	return &world{ds: ds, ix: ix, st: st, ex: ex, sv: sv, now: c}
}

var (
	dbOnce sync.Once
	dbVal  *addressmatch.DB
	dbErr  error
)

// geocoder is the demo's address database as a zoneid.Geocoder (the
// adapter of server.AddressGeocoder).
func geocoder(t testing.TB, ix *geo.Index) zoneid.Geocoder {
	dbOnce.Do(func() {
		reg, err := demo.Region()
		if err != nil {
			dbErr = err
			return
		}
		po := addressmatch.DefaultOptions()
		po.Region = reg
		p, err := addressmatch.NewParser(po)
		if err != nil {
			dbErr = err
			return
		}
		o := addressmatch.DefaultDBOptions()
		o.Parser = p
		if dbVal, dbErr = addressmatch.NewDB(o); dbErr != nil {
			return
		}
		_, dbErr = addressmatch.Follow(dbVal, ix)
	})
	if dbErr != nil {
		t.Fatal(dbErr)
	}
	db := dbVal
	return zoneid.GeocoderFunc(func(ctx context.Context, address string) (zoneid.Geocoded, error) {
		g, err := db.Geocode(ctx, address)
		if errors.Is(err, addressmatch.ErrNotAddress) || errors.Is(err, addressmatch.ErrNotFound) {
			return zoneid.Geocoded{Precision: geo.PrecisionNone}, nil
		}
		if err != nil {
			return zoneid.Geocoded{}, err
		}
		return zoneid.Geocoded{Location: g.Location, Precision: g.Precision, Address: g.Address}, nil
	})
}

var _ = search.MatchExact
