package server

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
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
	// Supervise is the supervision service (spot checks, tasks,
	// complaints, incidents, inboxes; docs/supervise.md); nil answers its
	// routes with 503.
	Supervise *supervise.Service
	// Risk is the risk engine (classes, warnings, building economy;
	// docs/risk.md); nil answers its routes with 503.
	Risk *risk.Engine
	// AwaitAddresses says that the address database will be attached with
	// SetAddresses: /readyz answers 503 until it is.
	AwaitAddresses bool
	// Logger receives the access log and request errors; nil discards.
	Logger *slog.Logger
}

// Options configure the server. Zero values mean the defaults given.
type Options struct {
	// RequestTimeout bounds each request's work. Default 30 s.
	RequestTimeout time.Duration
	// MaxBodyBytes caps JSON request bodies. Default 64 KiB.
	MaxBodyBytes int64
	// MaxBatchBodyBytes caps the bodies of batch endpoints. Default 16 MiB
	// (10,000 addresses of the longest kind, or 100,000 points with ids).
	MaxBatchBodyBytes int64
	// MaxFeatureBodyBytes caps the body of a PUT or PATCH of one feature.
	// Default 8 MiB.
	MaxFeatureBodyBytes int64
	// MaxBulkBodyBytes caps the NDJSON body of a bulk write (up to 100,000
	// features). Default 256 MiB.
	MaxBulkBodyBytes int64
	// MaxConcurrentBatches caps the batch requests (address/batch,
	// zones/batch) worked on at once; more answer 503 with Retry-After.
	// Default 2.
	MaxConcurrentBatches int

	// Profile is "internal" (default: every route; tokens and scopes) or
	// "public" (the public routes only, public fields only; see
	// docs/security.md).
	Profile string
	// Tokens are the tokens the internal profile accepts (nil: none; reads
	// need no token and writes are refused). Not in the config file: the
	// tokens file is (--tokens).
	Tokens *Tokens
	// OpenPaths need no token in the internal profile. Default /healthz,
	// /readyz and /metrics.
	OpenPaths []string
	// CORSOrigins are the origins allowed to call from a browser ("*":
	// any). Default none (same origin only) on the internal profile, "*"
	// on the public one.
	CORSOrigins []string
	// RateLimit is the requests a second each client (token name, else
	// address) may make on average (a token bucket; 429 with Retry-After
	// beyond), RateBurst how many at once (default 2 × RateLimit). Default
	// 0: no limit in the library (an embedder limits in its own stack);
	// `marketgeo serve` limits to BinaryRateLimit unless configured.
	// Negative: no limit.
	RateLimit float64
	RateBurst int
	// PublicBaseURL is the scheme://host[:port] the TileJSON tile URLs
	// start with (e.g. https://map.example.gov.cn). Default "": derived
	// from the request, trusting X-Forwarded-Proto and X-Forwarded-Host
	// only from TrustedProxies, and then not cacheable by shared caches.
	PublicBaseURL string
	// TrustedProxies are the addresses or CIDR prefixes of the reverse
	// proxies whose X-Forwarded-For/-Proto/-Host are believed. Default none.
	TrustedProxies []string
	// WebMapOrigins are the scheme://host[:port] origins the web map may
	// load base-layer tiles, styles and glyphs from (a deployment's own
	// base map: webapp.Config.Origins); they are added to the
	// Content-Security-Policy's connect-src and img-src. Default none: the
	// map loads from its own origin only.
	WebMapOrigins []string
	// MetricsClients are the addresses or CIDR prefixes that may read
	// /metrics on the public profile (the operator's scraper); to any other
	// client it answers 404 as an unknown path. Default loopback
	// (127.0.0.0/8, ::1). The internal profile ignores it: there /metrics
	// is an open path or needs a token (OpenPaths).
	MetricsClients []string

	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// listener's timeouts (HTTPServer). Defaults 5 s, 60 s, RequestTimeout
	// + 30 s, and 60 s.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration

	// AnswerCacheBytes, when positive, bounds a cache of encoded entity
	// features that the nearby and knearest answers in GeoJSON, WGS-84 and
	// the profile's full fields copy instead of encoding each feature
	// again (geojsonw.FeatureCache: filled by the answers, a written
	// entity encoded afresh; about 560 bytes a feature). Default 0: no
	// cache. It pays when the features answered fit in it (a 79k region
	// in ~45 MiB, or the busy districts of a larger one); smaller than the
	// features a uniform load reaches, it costs more than it saves
	// (README, "HTTP answers").
	AnswerCacheBytes int64
}

// BinaryRateLimit and BinaryRateBurst are the rate limit of `marketgeo
// serve` (the configuration's default): it faces clients.
const (
	BinaryRateLimit = 100
	BinaryRateBurst = 200
)

// The profiles.
const (
	ProfileInternal = "internal"
	ProfilePublic   = "public"
)

// DefaultOptions returns the options with every default filled in (the
// CORS origins of the internal profile).
func DefaultOptions() Options {
	return Options{RequestTimeout: 30 * time.Second, MaxBodyBytes: 64 << 10, MaxBatchBodyBytes: 16 << 20,
		MaxFeatureBodyBytes: 8 << 20, MaxBulkBodyBytes: 256 << 20, MaxConcurrentBatches: 2,
		Profile: ProfileInternal, OpenPaths: []string{"/healthz", "/readyz", "/metrics"}, CORSOrigins: []string{},
		TrustedProxies:    []string{},
		WebMapOrigins:     []string{},
		MetricsClients:    []string{"127.0.0.0/8", "::1"},
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second}
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
	if o.MaxConcurrentBatches == 0 {
		o.MaxConcurrentBatches = d.MaxConcurrentBatches
	}
	if o.Profile == "" {
		o.Profile = d.Profile
	}
	if o.OpenPaths == nil {
		o.OpenPaths = d.OpenPaths
	}
	if o.MetricsClients == nil {
		o.MetricsClients = d.MetricsClients
	}
	if len(o.CORSOrigins) == 0 && o.Profile == ProfilePublic {
		o.CORSOrigins = []string{"*"}
	}
	if o.RateBurst == 0 && o.RateLimit > 0 {
		o.RateBurst = int(max(1, 2*o.RateLimit))
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = d.ReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = o.RequestTimeout + 30*time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.RequestTimeout < 0 || o.MaxBodyBytes < 0 || o.MaxBatchBodyBytes < 0 || o.MaxFeatureBodyBytes < 0 || o.MaxBulkBodyBytes < 0 ||
		o.MaxConcurrentBatches < 0 || o.RateBurst < 0 || o.ReadHeaderTimeout < 0 || o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.IdleTimeout < 0 {
		return fmt.Errorf("server: options must not be negative")
	}
	if o.Profile != "" && o.Profile != ProfileInternal && o.Profile != ProfilePublic {
		return fmt.Errorf("server: profile %q: want internal or public", o.Profile)
	}
	if o.Profile == ProfilePublic && o.Tokens != nil {
		return fmt.Errorf("server: the public profile takes no tokens (it has no write or internal route)")
	}
	if o.PublicBaseURL != "" {
		u, err := url.Parse(o.PublicBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("server: public base URL %q: want scheme://host[:port]", o.PublicBaseURL)
		}
	}
	if _, err := parsePrefixes("trusted proxy", o.TrustedProxies); err != nil {
		return err
	}
	if _, err := parsePrefixes("metrics client", o.MetricsClients); err != nil {
		return err
	}
	for _, o := range o.WebMapOrigins {
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

// checkOrigin accepts a bare scheme://host[:port] origin, nothing that
// could change the meaning of the Content-Security-Policy it goes into.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
		u.Fragment != "" || u.User != nil || strings.ContainsAny(o, " ;,'\"\t\r\n") {
		return fmt.Errorf("server: web map origin %q: want scheme://host[:port]", o)
	}
	return nil
}

// parsePrefixes reads addresses and CIDR prefixes (what names the option
// in an error).
func parsePrefixes(what string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		if pr, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("server: %s %q: want an address or a CIDR prefix", what, p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// HTTPServer returns the listener's server for h with the options'
// timeouts: the header and the whole request must arrive in time (a
// client trickling bytes is cut off), idle keep-alive connections are
// closed, and a response must be written in time (the live change stream
// lifts that deadline for itself).
func (o Options) HTTPServer(addr string, h http.Handler) *http.Server {
	o = o.withDefaults()
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: o.ReadHeaderTimeout, ReadTimeout: o.ReadTimeout,
		WriteTimeout: o.WriteTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: 64 << 10}
}

// Server holds the handler's state. Obtain one with New.
type Server struct {
	addrDB  atomic.Pointer[addressmatch.DB]
	deps    Deps
	opts    Options
	log     *slog.Logger
	router  *mux.Router
	hot     map[string]hotRoute // GET routes served ahead of the router (middleware.go)
	tileH   *tileHandler        // set by tileRoutes
	started time.Time

	tokens   *Tokens
	proxies  []netip.Prefix
	scrapers []netip.Prefix // Options.MetricsClients
	limiter  *rateLimiter
	api      apiTable
	metrics  *metrics
	fields   publicFieldSet
	batches  chan struct{} // slots of concurrent batch work
	baseURL  string        // Options.PublicBaseURL without a trailing /
	csp      string        // the Content-Security-Policy (Options.WebMapOrigins)
	secHdr   []headerValue // the security headers of every answer (middleware.go)
	draining chan struct{} // closed by Drain
	drain    sync.Once
	feats    *geojsonw.FeatureCache // Options.AnswerCacheBytes (nil: none)
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
	s := &Server{deps: deps, opts: opts.withDefaults(), log: deps.Logger, started: time.Now(), tokens: opts.Tokens,
		api: newAPITable(), fields: newPublicFieldSet()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler) // no access log formatted for nothing
	}
	s.proxies, _ = parsePrefixes("trusted proxy", s.opts.TrustedProxies) // checked by Validate
	s.scrapers, _ = parsePrefixes("metrics client", s.opts.MetricsClients)
	s.limiter = newRateLimiter(s.opts.RateLimit, s.opts.RateBurst)
	s.batches = make(chan struct{}, s.opts.MaxConcurrentBatches)
	s.draining = make(chan struct{})
	s.baseURL = strings.TrimSuffix(s.opts.PublicBaseURL, "/")
	s.csp = contentSecurityPolicy(s.opts.WebMapOrigins)
	s.secHdr = newSecurityHeaders(s.csp)
	s.feats = s.newFeatureCache()
	if s.public() && deps.Tiles != nil && !publicTiles(deps.Tiles) {
		return nil, fmt.Errorf("server: the public profile needs a tile renderer built with tiles.Options.Fields = server.PublicFields()")
	}
	s.metrics = s.newMetrics()
	if deps.Addresses != nil {
		s.addrDB.Store(deps.Addresses)
	}
	s.router = mux.NewRouter()
	s.routes()
	s.hot = s.hotRoutes()
	return s, nil
}

// SetAddresses attaches the address database once it is ready. Safe for
// concurrent use with serving.
func (s *Server) SetAddresses(db *addressmatch.DB) { s.addrDB.Store(db) }

// Drain ends the live change streams (SSE), which would otherwise hold a
// graceful shutdown until its deadline; other requests are unaffected.
// Call it when the listener shuts down (http.Server.RegisterOnShutdown).
// Safe for concurrent use; later calls do nothing.
func (s *Server) Drain() { s.drain.Do(func() { close(s.draining) }) }

// public reports the public profile.
func (s *Server) public() bool { return s.opts.Profile == ProfilePublic }

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
	notFound := http.HandlerFunc(s.notFound) // 405 with Allow when the path has other methods
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notFound
	r.Use(s.routeMiddleware)
	r.HandleFunc("/healthz", only(http.MethodGet, s.handle(s.healthz)))
	r.HandleFunc("/readyz", only(http.MethodGet, s.handle(s.readyz)))
	r.Handle("/metrics", s.metricsHandler()).Methods(http.MethodGet)
	api := r.PathPrefix("/api/v1").Subrouter()
	api.NotFoundHandler, api.MethodNotAllowedHandler = notFound, notFound
	api.HandleFunc("/openapi.json", only(http.MethodGet, s.handle(s.openAPI)))
	api.HandleFunc("/admin/snapshot", only(http.MethodPost, s.handle(s.adminSnapshot)))
	api.HandleFunc("/nearby", only(http.MethodGet, s.handle(s.nearby)))
	api.HandleFunc("/knearest", only(http.MethodGet, s.handle(s.knearest)))
	api.HandleFunc("/address/check", only(http.MethodPost, s.handle(s.addressCheck)))
	api.HandleFunc("/address/parse", only(http.MethodPost, s.handle(s.addressParse)))
	api.HandleFunc("/address/compare", only(http.MethodPost, s.handle(s.addressCompare)))
	api.HandleFunc("/address/geocode", only(http.MethodPost, s.handle(s.addressGeocode)))
	api.HandleFunc("/address/batch", only(http.MethodPost, s.handle(s.addressBatch)))
	s.extraRoutes(api)
	s.exchangeRoutes(api)
	s.superviseRoutes(api) // supervise_routes.go
	s.riskRoutes(api)
	s.writeRoutes(api) // after the fixed paths (/zones/batch …) it would shadow
}
