package exchange_test

import (
	"context"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
)

// world is a store seeded with a generated demo region, an exchange on it,
// and the search index and address parser it matches with.
type world struct {
	ds     *demo.Dataset
	ix     *geo.Index
	st     *store.Store
	ex     *exchange.Exchange
	search *search.Index
	parser *addressmatch.Parser
	names  *search.NameParser
}

var (
	parserOnce sync.Once
	parser     *addressmatch.Parser
	parserErr  error
)

func demoParser(t testing.TB) *addressmatch.Parser {
	parserOnce.Do(func() {
		reg, err := demo.Region()
		if err != nil {
			parserErr = err
			return
		}
		o := addressmatch.DefaultOptions()
		o.Region = reg
		parser, parserErr = addressmatch.NewParser(o)
	})
	if parserErr != nil {
		t.Fatal(parserErr)
	}
	return parser
}

// newWorld opens a store at path (":memory:" for none) with n demo
// entities (seeded when the store is new).
func newWorld(t testing.TB, path string, n int, opts exchange.Options) *world {
	t.Helper()
	ctx := context.Background()
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := demo.Region()
	if err != nil {
		t.Fatal(err)
	}
	names := search.NewNameParser(reg)
	ex, err := exchange.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, path, ix, store.Options{NoSnapshot: true, Collections: []store.Collection{ex.Collection()}})
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
	so := search.DefaultOptions()
	so.Region = reg
	s, err := search.New(ctx, ix, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p := demoParser(t)
	ex.SetEngines(s, p, names)
	return &world{ds: ds, ix: ix, st: st, ex: ex, search: s, parser: p, names: names}
}
