package server

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
)

// Deps are the engines the server answers from. Index is required; the
// others are optional and their endpoints answer 503 when absent.
type Deps struct {
	// Index is the geo index (required).
	Index *geo.Index
	// Addresses is the address database of the address endpoints. It may
	// also be attached later with SetAddresses (e.g. once built in the
	// background); until then those endpoints answer 503.
	Addresses *addressmatch.DB
	// Zones answers the zone, grid and siting-rule endpoints.
	Zones *zoneid.Identifier
	// Search answers /search and nearby?place= (503 while it builds).
	Search *search.Index
	// Tiles renders the vector tiles of /tiles/ (nil: 503).
	Tiles *tiles.Renderer
	// WebMap holds the web map's files (index.html at its root), served at
	// / and /webmap/; nil serves no map.
	WebMap fs.FS
	// Store is the write path (PUT/PATCH/DELETE, bulk, history, the change
	// log); nil serves a read-only API whose writes answer 503.
	Store *store.Store
	// Exchange is the department data exchange (records, imports); nil
	// answers its routes with 503.
	Exchange *exchange.Exchange
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
}

// Options configure the server. Zero values mean the defaults given.
type Options struct {
	// RequestTimeout bounds each request's work. Default 30 s.
	RequestTimeout time.Duration
	// MaxBodyBytes caps JSON request bodies. Default 64 KiB.
	MaxBodyBytes int64
	// MaxBatchBodyBytes caps the bodies of batch endpoints. Default 64 MiB.
	MaxBatchBodyBytes int64
	// MaxFeatureBodyBytes caps the body of a PUT or PATCH of one feature.
	// Default 8 MiB.
	MaxFeatureBodyBytes int64
	// MaxBulkBodyBytes caps the NDJSON body of a bulk write (up to 100,000
	// features). Default 256 MiB.
	MaxBulkBodyBytes int64
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{RequestTimeout: 30 * time.Second, MaxBodyBytes: 64 << 10, MaxBatchBodyBytes: 64 << 20,
		MaxFeatureBodyBytes: 8 << 20, MaxBulkBodyBytes: 256 << 20}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.RequestTimeout == 0 {
		o.RequestTimeout = d.RequestTimeout
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = d.MaxBodyBytes
	}
	if o.MaxBatchBodyBytes == 0 {
		o.MaxBatchBodyBytes = d.MaxBatchBodyBytes
	}
	if o.MaxFeatureBodyBytes == 0 {
		o.MaxFeatureBodyBytes = d.MaxFeatureBodyBytes
	}
	if o.MaxBulkBodyBytes == 0 {
		o.MaxBulkBodyBytes = d.MaxBulkBodyBytes
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.RequestTimeout < 0 || o.MaxBodyBytes < 0 || o.MaxBatchBodyBytes < 0 || o.MaxFeatureBodyBytes < 0 || o.MaxBulkBodyBytes < 0 {
		return fmt.Errorf("server: options must not be negative")
	}
	return nil
}

// Server holds the handler's state. Obtain one with New.
type Server struct {
	addrDB  atomic.Pointer[addressmatch.DB]
	deps    Deps
	opts    Options
	log     *slog.Logger
	router  *mux.Router
	tileH   *tileHandler // set by tileRoutes
	started time.Time
}

// New returns the HTTP handler of the API.
func New(deps Deps, opts Options) (http.Handler, error) {
	s, err := NewServer(deps, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewServer is New returning the concrete *Server.
func NewServer(deps Deps, opts Options) (*Server, error) {
	if deps.Index == nil {
		return nil, fmt.Errorf("server: Deps.Index is required")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{deps: deps, opts: opts.withDefaults(), log: deps.Logger, started: time.Now()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.Addresses != nil {
		s.addrDB.Store(deps.Addresses)
	}
	s.router = mux.NewRouter()
	s.routes()
	return s, nil
}

// SetAddresses attaches the address database once it is ready. Safe for
// concurrent use with serving.
func (s *Server) SetAddresses(db *addressmatch.DB) { s.addrDB.Store(db) }

// ServeHTTP serves a request: with a timeout, a panic guard and the
// JSON error contract.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		}
	}()
	if s.serveTile(w, r) { // tile_routes.go: the hot path, ahead of the router
		return
	}
	if isEventStream(r) { // a live stream: ends when the client goes
		s.router.ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	s.router.ServeHTTP(w, r.WithContext(ctx))
}

// handler adapts a function returning an error to the JSON error contract.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// only restricts a handler to one method (HEAD allowed with GET), answering
// 405 with a JSON error and an Allow header otherwise. Routes are
// registered without mux's Methods matcher, whose 405 handling does not
// reach subrouters.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed, use " + method})
			return
		}
		h(w, r)
	}
}

func (s *Server) routes() {
	r := s.router
	notFound := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
	})
	notAllowed := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	})
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notAllowed
	r.HandleFunc("/healthz", only(http.MethodGet, s.handle(s.healthz)))
	api := r.PathPrefix("/api/v1").Subrouter()
	api.NotFoundHandler, api.MethodNotAllowedHandler = notFound, notAllowed
	api.HandleFunc("/nearby", only(http.MethodGet, s.handle(s.nearby)))
	api.HandleFunc("/knearest", only(http.MethodGet, s.handle(s.knearest)))
	api.HandleFunc("/address/check", only(http.MethodPost, s.handle(s.addressCheck)))
	api.HandleFunc("/address/parse", only(http.MethodPost, s.handle(s.addressParse)))
	api.HandleFunc("/address/compare", only(http.MethodPost, s.handle(s.addressCompare)))
	api.HandleFunc("/address/geocode", only(http.MethodPost, s.handle(s.addressGeocode)))
	api.HandleFunc("/address/batch", only(http.MethodPost, s.handle(s.addressBatch)))
	s.extraRoutes(api)
	s.exchangeRoutes(api)
	s.writeRoutes(api) // after the fixed paths (/zones/batch …) it would shadow
}
