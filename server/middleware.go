package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

// The middleware chain. Every request, the tile fast path included, goes
// through serveChain:
//
//	request id → access log + metrics → panic recovery → security headers
//	→ URI length → CORS → identify the token → rate limit → dispatch
//
// and, once the route is known (routeGate: the router's middleware, or the
// tile fast path itself), the profile's route filter, the scope check and
// the route's body limit. The request timeout is set by dispatch.

// reqInfo is what the chain learns about a request, shared by its layers
// through the context: it is itself the request's context (the parent's,
// answering Value(reqInfoKey{}) with itself), one allocation per request.
//
// It also carries the request timeout (setDeadline, called by dispatch)
// without a timer: Deadline and Err answer from the time alone, and the
// timer-backed context (context.WithDeadline of the parent) is made only
// when something asks for Done or registers an AfterFunc (a handler that
// waits or derives a context of its own); the small answers of the hot
// routes never do, which saves the timer and three allocations a request.
type reqInfo struct {
	context.Context        // the request's context before the chain
	id              string // also idHeader[0], the X-Request-Id header's value
	route           string // "GET /api/v1/nearby"; "" until routed
	who             principal
	client          string       // client address (the proxy's client when trusted)
	idHeader        [1]string    // the answer's X-Request-Id value (no allocation of its own)
	sw              statusWriter // the request's response writer (allocated with the info)

	deadline  time.Time                // the request timeout's end (zero: none)
	timedOnce sync.Once                // makes timed
	timed     atomic.Pointer[timedCtx] // the timer-backed context, once made
}

// timedCtx is the timer-backed context of a reqInfo with a deadline.
type timedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

type reqInfoKey struct{}

// Value answers reqInfoKey{} with the request's reqInfo, other keys from
// the parent context.
func (ri *reqInfo) Value(key any) any {
	if _, ok := key.(reqInfoKey); ok {
		return ri
	}
	return ri.Context.Value(key)
}

// setDeadline sets the request timeout. Call it before the request's
// context reaches any other goroutine.
func (ri *reqInfo) setDeadline(d time.Time) { ri.deadline = d }

// stop releases the timer of the request timeout, if one was made.
func (ri *reqInfo) stop() {
	if t := ri.timed.Load(); t != nil {
		t.cancel()
	}
}

// timedContext returns the timer-backed context, making it on first use.
func (ri *reqInfo) timedContext() context.Context {
	ri.timedOnce.Do(func() {
		ctx, cancel := context.WithDeadline(ri.Context, ri.deadline)
		ri.timed.Store(&timedCtx{ctx, cancel})
	})
	return ri.timed.Load().ctx
}

// Deadline is the earlier of the request timeout's and the parent's.
func (ri *reqInfo) Deadline() (time.Time, bool) {
	d, ok := ri.Context.Deadline()
	if ri.deadline.IsZero() || (ok && d.Before(ri.deadline)) {
		return d, ok
	}
	return ri.deadline, true
}

// Done is closed when the parent is done or the request timeout passes.
func (ri *reqInfo) Done() <-chan struct{} {
	if ri.deadline.IsZero() {
		return ri.Context.Done()
	}
	return ri.timedContext().Done()
}

// Err is the parent's error, else context.DeadlineExceeded once the
// request timeout has passed, as a context.WithDeadline reports them.
func (ri *reqInfo) Err() error {
	if ri.deadline.IsZero() {
		return ri.Context.Err()
	}
	if t := ri.timed.Load(); t != nil {
		return t.ctx.Err()
	}
	if err := ri.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(ri.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// AfterFunc arranges to call f once the context is done (as
// context.AfterFunc): the context package uses it for contexts derived
// from this one instead of a goroutine watching Done.
func (ri *reqInfo) AfterFunc(f func()) (stop func() bool) {
	if ri.deadline.IsZero() {
		return context.AfterFunc(ri.Context, f)
	}
	return context.AfterFunc(ri.timedContext(), f)
}

func infoOf(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// requestID returns the request id of a request ("" outside the chain).
func requestID(r *http.Request) string { return infoOf(r).id }

// newRequestID returns 16 random hex digits. A request id correlates a
// request's log lines and answer; it is not a secret, so the runtime's
// fast generator serves (crypto/rand cost a system call a request).
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [16]byte
	v := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// validRequestID accepts a caller's X-Request-Id only when short and plain.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response. It passes
// Flush through (streams: NDJSON batches, the change log's SSE) and
// exposes the wrapped writer to http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxURIBytes caps the request target; longer ones answer 414 without
// being echoed or parsed.
const maxURIBytes = 8 << 10

// ServeHTTP serves a request through the middleware chain.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{Context: r.Context(), client: s.clientAddr(r)}
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		ri.id = id
	} else {
		ri.id = newRequestID()
	}
	ri.idHeader[0] = ri.id
	r = r.WithContext(ri)
	ri.sw.ResponseWriter = w
	sw := &ri.sw
	sw.Header()["X-Request-Id"] = ri.idHeader[:1:1]
	defer func() {
		dur := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := ri.route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, sw.status, dur)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("id", ri.id), slog.String("method", truncateString(r.Method, 20)), slog.String("route", route),
			slog.String("path", truncateString(r.URL.Path, 200)), slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes), slog.Duration("duration", dur), slog.String("token", ri.who.name),
			slog.String("client", ri.client))
	}()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "id", ri.id, "route", ri.route, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeJSON(sw, http.StatusInternalServerError, map[string]string{"error": "internal error", "request_id": ri.id})
			} else {
				sw.status = http.StatusInternalServerError // headers gone: the log says it
			}
		}
	}()
	s.securityHeaders(sw.Header())
	if len(r.RequestURI) > maxURIBytes {
		writeJSON(sw, http.StatusRequestURITooLong, map[string]string{"error": fmt.Sprintf("the request target is longer than %d bytes", maxURIBytes)})
		return
	}
	if s.cors(sw, r) {
		return
	}
	authErr := s.identify(r, ri)
	if !s.limiter.allow(sw, ri) {
		return
	}
	if authErr != nil {
		s.writeError(sw, r, authErr)
		return
	}
	s.dispatch(sw, r)
}

// dispatch serves a routed request: the tile fast path, else the router
// (HEAD served as GET: net/http drops the body), with the request timeout
// except for the live change stream.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if !s.awaitMinSeq(w, r) { // replication.go: X-Marketgeo-Min-Seq / ?min_seq=
		return
	}
	if s.serveTile(w, r) { // tile_routes.go: the hot path, ahead of the router
		return
	}
	if r.Method == http.MethodHead {
		r2 := *r
		r2.Method = http.MethodGet
		r = &r2
	}
	if isEventStream(r) || isInboxStream(r) { // a live stream: ends when the client goes
		// the listener's write timeout must not cut the stream
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		s.router.ServeHTTP(w, r)
		return
	}
	if ri, ok := r.Context().(*reqInfo); ok {
		// the request's own context keeps the timeout: no timer, no copy
		// of the request, unless a handler waits on it (reqInfo)
		ri.setDeadline(time.Now().Add(s.opts.RequestTimeout))
		defer ri.stop()
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	if h, ok := s.hot[r.URL.Path]; ok && r.Method == http.MethodGet {
		// the small answers' routes ahead of the router's route-by-route
		// regexp matching (a sixth of a zones request's server time)
		if s.routeGate(w, r, h.key) {
			h.serve(w, r)
		}
		return
	}
	s.router.ServeHTTP(w, r)
}

// hotRoute is a GET route served ahead of the router (Server.hot, by its
// path): its API table key and its handler, the router's for that path.
type hotRoute struct {
	key   string
	serve http.HandlerFunc
}

// hotRoutes are the read routes served ahead of the router: fixed paths,
// GET only (the router serves their other methods, with its 405).
func (s *Server) hotRoutes() map[string]hotRoute {
	return map[string]hotRoute{
		"/api/v1/nearby":   {"GET /api/v1/nearby", s.handle(s.nearby)},
		"/api/v1/knearest": {"GET /api/v1/knearest", s.handle(s.knearest)},
		"/api/v1/zones":    {"GET /api/v1/zones", s.handle(s.zonesAt)},
		"/api/v1/search":   {"GET /api/v1/search", s.handle(s.search)},
	}
}

// routeMiddleware is the router's middleware: the route gate for every
// matched route.
func (s *Server) routeMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.routeGate(w, r, routeKey(r, mux.CurrentRoute(r))) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routeGate applies what depends on the route: the profile (a route the
// profile does not serve answers 404 as an unknown one), the scope its
// token needs (internal profile), and the route's body limit. It reports
// whether the request may go on.
func (s *Server) routeGate(w http.ResponseWriter, r *http.Request, key string) bool {
	ri := infoOf(r)
	ri.route = key
	rt, described := s.api.byKey[key]
	if !described || (s.public() && !rt.publicFor(r)) || (s.public() && key == metricsRouteKey && !inPrefixes(s.scrapers, ri.client)) {
		if !described && !s.public() && len(s.allowedMethods(r)) == 0 {
			// a route not in the API table (TestOpenAPICoversRoutes fails
			// on it): served internally with the method's default scope
		} else {
			ri.route = "unmatched"
			s.notFound(w, r)
			return false
		}
	}
	if s.public() && r.URL.Query().Has("risk") {
		// not a public field: filtering by it would disclose it
		s.writeError(w, r, badParam("risk is not a public field: the public profile neither shows nor filters by it"))
		return false
	}
	need := defaultScope(r.Method)
	if described {
		need = rt.Scope
	}
	if !s.authorize(w, r, ri.who, need) {
		return false
	}
	if r.Body != nil && r.Body != http.NoBody {
		limit := s.opts.MaxBodyBytes
		if described && rt.BodyLimit != nil {
			limit = rt.BodyLimit(s.opts)
		}
		if r.ContentLength > limit {
			s.writeError(w, r, fmt.Errorf("%w: the body (%d bytes) is larger than %d bytes", errTooLarge, r.ContentLength, limit))
			return false
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	return true
}

// routeKey is the API table's key of a request matched to a route.
func routeKey(r *http.Request, route *mux.Route) string {
	tpl := ""
	if route != nil {
		tpl, _ = route.GetPathTemplate()
	}
	if tpl == "" && isTilePath(r.URL.Path) {
		return r.Method + " " + strings.TrimPrefix(tileRouteKey, "GET ")
	}
	return r.Method + " " + openAPIPath(tpl)
}

// defaultScope is the scope of a route the API table does not describe
// (none should be: TestOpenAPICoversRoutes).
func defaultScope(method string) Scope {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ScopeRead
	}
	return ScopeWrite
}

// notFound answers an unknown path 404, and a known path with a method it
// does not serve 405 with Allow (in both profiles, only for routes the
// profile serves). The path is not echoed.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.public() && (r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete) {
		// the public profile has no write route at all: not even a 405
		// hints at one
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
		return
	}
	if allow := s.allowedMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + truncateString(r.Method, 20) + " not allowed here, use " + strings.Join(allow, ", ")})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
}

// allowedMethods lists the methods the path answers (HEAD with GET).
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method || (m == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		var match mux.RouteMatch
		if !s.router.Match(r2, &match) || match.MatchErr != nil || match.Route == nil {
			continue
		}
		rt, described := s.api.byKey[routeKey(r2, match.Route)]
		if !described || (s.public() && !rt.publicFor(r2)) {
			continue
		}
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	return allow
}

// securityHeaders sets the headers every answer carries: their values are
// slices made once (Server.secHdr) and shared by every answer, which
// costs no allocation a request. Nothing writes into a header value in
// place; Set and Add on those names replace or grow a copy (capacity 1).
func (s *Server) securityHeaders(h http.Header) {
	for i := range s.secHdr {
		h[s.secHdr[i].name] = s.secHdr[i].value
	}
}

// headerValue is a header with its canonical name and its value slice.
type headerValue struct {
	name  string
	value []string
}

// newSecurityHeaders returns the headers securityHeaders sets, with the
// Content-Security-Policy csp.
func newSecurityHeaders(csp string) []headerValue {
	out := []headerValue{}
	for _, kv := range [][2]string{{"X-Content-Type-Options", "nosniff"}, {"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"}, {"Content-Security-Policy", csp}} {
		out = append(out, headerValue{http.CanonicalHeaderKey(kv[0]), []string{kv[1]}[:1:1]})
	}
	return out
}

// contentSecurityPolicy is the policy of every answer. The web map: its own
// scripts and styles (inline style attributes), MapLibre's blob: workers,
// tiles and data from this origin and the configured base-layer origins
// only (validated by Options.Validate).
func contentSecurityPolicy(origins []string) string {
	extra := ""
	for _, o := range origins {
		extra += " " + o
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:" + extra + "; worker-src 'self' blob:; child-src blob:; connect-src 'self'" + extra + "; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// cors applies Options.CORSOrigins. It answers preflight requests itself
// (reporting true); other requests get Access-Control-Allow-Origin when
// their origin is allowed. With no origins configured only same-origin
// requests are possible (browsers refuse the others).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed, wild := s.originAllowed(origin)
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !allowed {
		if preflight {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin requests from this origin are not allowed (server.cors_origins)"})
			return true
		}
		return false
	}
	h := w.Header()
	if wild {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Expose-Headers", "ETag, X-Marketgeo-Seq, X-Request-Id, Retry-After")
	if !preflight {
		return false
	}
	methods := "GET, HEAD"
	if !s.public() {
		methods = "GET, HEAD, POST, PUT, PATCH, DELETE"
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (s *Server) originAllowed(origin string) (allowed, wild bool) {
	for _, o := range s.opts.CORSOrigins {
		if o == "*" {
			return true, true
		}
		if strings.EqualFold(o, origin) {
			return true, false
		}
	}
	return false, false
}

// clientAddr is the request's client: the connection's address, or the
// last address X-Forwarded-For adds when the connection comes from a
// configured proxy.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.trustedProxy(host) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.String()
			}
		}
	}
	return host
}

// trustedProxy reports whether host is in Options.TrustedProxies.
func (s *Server) trustedProxy(host string) bool { return inPrefixes(s.proxies, host) }

// inPrefixes reports whether the address host is in one of the prefixes.
func inPrefixes(prefixes []netip.Prefix, host string) bool {
	if len(prefixes) == 0 {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// rateLimiter is a token bucket per client (token name, else address).
type rateLimiter struct {
	rate  float64 // tokens per second; 0 disables
	burst float64
	mu    sync.Mutex
	b     map[string]*bucket
	sweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory: past it, full buckets are
// dropped (a full bucket is the state of a new one).
const maxBuckets = 100_000

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(max(burst, 1)), b: map[string]*bucket{}}
}

// take takes a token for key, or returns how long until one is free.
func (l *rateLimiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b[key]
	if b == nil {
		if len(l.b) >= maxBuckets {
			l.dropFull(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.b[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func (l *rateLimiter) dropFull(now time.Time) {
	for k, b := range l.b {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.b, k)
		}
	}
}

// allow answers 429 with Retry-After when the client's bucket is empty.
func (l *rateLimiter) allow(w http.ResponseWriter, ri *reqInfo) bool {
	if l == nil || l.rate <= 0 {
		return true
	}
	key := "addr:" + ri.client
	if ri.who.name != "" {
		key = "token:" + ri.who.name
	}
	ok, wait := l.take(key, time.Now())
	if ok {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": fmt.Sprintf("too many requests: the limit is %g a second (burst %g); retry after %d s", l.rate, l.burst, max(secs, 1))})
	return false
}

// truncateString cuts s to at most n bytes (on a rune boundary), marking
// the cut.
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
