// Command mount-server mounts marketgeo's HTTP API inside an application's
// own http.ServeMux, under a prefix, next to the application's own routes.
// server.New returns an http.Handler and never listens itself: the
// embedder owns the listener, TLS, authentication and the other routes.
//
//	go run ./examples/mount-server -addr 127.0.0.1:8090   # serve until interrupted
//	go run ./examples/mount-server -check                 # request a few routes in-process and exit (CI)
//
// Then: curl "127.0.0.1:8090/geo/api/v1/nearby?lon=106.5306&lat=29.6295&radius=200&limit=2"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
)

// prefix is where the marketgeo API lives in the application's URL space.
const prefix = "/geo"

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	entities := flag.Int("entities", 5000, "entities of the generated demo region")
	check := flag.Bool("check", false, "request a few routes in-process instead of listening, and exit non-zero on a wrong answer")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *entities, *check); err != nil {
		fmt.Fprintln(os.Stderr, "mount-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, addr string, entities int, check bool) error {
	mux, closeAll, err := newMux(entities)
	if err != nil {
		return err
	}
	defer closeAll()
	if check {
		return selfCheck(w, mux)
	}
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Fprintf(w, "listening on http://%s%s/ (marketgeo) and http://%s/hello (the application)\n", addr, prefix, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newMux is the application's router: its own route, and marketgeo's API
// under prefix.
func newMux(entities int) (*http.ServeMux, func(), error) {
	ds, err := demo.Generate(demo.Options{Entities: entities})
	if err != nil {
		return nil, nil, err
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := ds.Load(idx); err != nil {
		return nil, nil, err
	}
	tr, err := tiles.New(idx, tiles.Options{})
	if err != nil {
		return nil, nil, err
	}
	zones, err := zoneid.New(idx, zoneid.Options{})
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	closeAll := func() { zones.Close(); tr.Close() }
	api, err := server.New(server.Deps{Index: idx, Tiles: tr, Zones: zones}, server.Options{})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "the application's own route")
	})
	// marketgeo sees its own paths: /geo/api/v1/nearby arrives as /api/v1/nearby.
	mux.Handle(prefix+"/", http.StripPrefix(prefix, api))
	return mux, closeAll, nil
}

// selfCheck sends requests through the mux, as a client would.
func selfCheck(w io.Writer, h http.Handler) error {
	tests := []struct {
		path string
		want int
		key  string // a key the JSON answer must have
	}{
		{"/hello", 200, ""},
		{prefix + "/healthz", 200, "entities"},
		{prefix + "/api/v1/nearby?lon=106.5306&lat=29.6295&radius=200&limit=2", 200, "features"},
		{prefix + "/api/v1/zones?lon=106.5306&lat=29.6295", 200, ""},
		{prefix + "/api/v1/nearby?lon=106.5&lat=29.6&radius=60000", 400, "error"},
		{"/api/v1/nearby?lon=106.5306&lat=29.6295", 404, ""}, // not mounted at the root
	}
	var errs []error
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		fmt.Fprintf(w, "GET %-70s %d\n", tc.path, rec.Code)
		if rec.Code != tc.want {
			errs = append(errs, fmt.Errorf("GET %s: status %d, want %d: %s", tc.path, rec.Code, tc.want, rec.Body.String()))
			continue
		}
		if tc.key != "" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				errs = append(errs, fmt.Errorf("GET %s: %w", tc.path, err))
			} else if _, ok := m[tc.key]; !ok {
				errs = append(errs, fmt.Errorf("GET %s: no %q in the answer", tc.path, tc.key))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintln(w, "check: ok")
	return nil
}
