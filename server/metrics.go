package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (nothing global: two servers in a process keep their own).
type metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec // by route
	requests *prometheus.CounterVec   // by route and status class
	writes   prometheus.Histogram     // write requests (store commit included)
	routes   sync.Map                 // route -> *routeMetrics (observe's cache)
}

// routeMetrics are one route's series, looked up once (WithLabelValues
// hashes the labels and takes the vector's lock at each call).
type routeMetrics struct {
	duration prometheus.Observer
	classes  [6]atomic.Pointer[prometheus.Counter] // by status/100, made on first use
}

func (s *Server) newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "marketgeo_http_request_duration_seconds", Help: "Time to answer a request, by route (METHOD /path template).",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"route"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "marketgeo_http_requests_total", Help: "Requests answered, by route and status class (2xx, 3xx, 4xx, 5xx).",
	}, []string{"route", "class"})
	m.writes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "marketgeo_store_write_duration_seconds", Help: "Time to answer a write request, the store's durable commit included.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	})
	m.reg.MustRegister(m.duration, m.requests, m.writes,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	counts := func(layer string) func() float64 {
		return func() float64 {
			c := s.deps.Index.Snapshot().Counts()
			switch layer {
			case "entities":
				return float64(c.Entities)
			case "buildings":
				return float64(c.Buildings)
			case "places":
				return float64(c.Places)
			}
			return float64(c.Zones)
		}
	}
	if st := s.deps.Store; st != nil && st.Replication().Shared {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "marketgeo_replication_lag_seconds",
			Help: "How long ago this node last had applied every change committed to the shared database (0: caught up at the last check)."},
			func() float64 { return st.Replication().LagSeconds }))
	}
	for _, l := range []string{"entities", "buildings", "places", "zones"} {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "marketgeo_layer_features", Help: "Features in a layer.", ConstLabels: prometheus.Labels{"layer": l},
		}, counts(l)))
	}
	if tr := s.deps.Tiles; tr != nil {
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "marketgeo_tile_cache_hits_total", Help: "Tiles served from the tile cache."},
				func() float64 { return float64(tr.CacheStats().Hits) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "marketgeo_tile_cache_misses_total", Help: "Tiles rendered (not in the tile cache)."},
				func() float64 { return float64(tr.CacheStats().Misses) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "marketgeo_tile_cache_hit_ratio", Help: "Tile cache hits / (hits + misses) since the start."},
				func() float64 {
					st := tr.CacheStats()
					if st.Hits+st.Misses == 0 {
						return 0
					}
					return float64(st.Hits) / float64(st.Hits+st.Misses)
				}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "marketgeo_tile_cache_bytes", Help: "Bytes held by the tile cache."},
				func() float64 { return float64(tr.CacheStats().Bytes) }),
		)
	}
	if st := s.deps.Store; st != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "marketgeo_changelog_seq", Help: "The store's change-log sequence number (last commit)."},
			func() float64 { return float64(st.Seq()) }))
	}
	if d, ok := s.log.Handler().(interface{ Dropped() uint64 }); ok { // an AsyncLog (accesslog.go)
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "marketgeo_access_log_dropped_total",
			Help: "Log lines (access log, request errors) dropped because the log's queue was full or its write failed."},
			func() float64 { return float64(d.Dropped()) }))
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "marketgeo_ready", Help: "1 when /readyz answers 200."},
		func() float64 {
			if ok, _ := s.readiness(); ok {
				return 1
			}
			return 0
		}))
	return m
}

// observe records an answered request.
func (m *metrics) observe(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	var rm *routeMetrics
	if v, ok := m.routes.Load(route); ok {
		rm = v.(*routeMetrics)
	} else {
		v, _ := m.routes.LoadOrStore(route, &routeMetrics{duration: m.duration.WithLabelValues(route)})
		rm = v.(*routeMetrics)
	}
	rm.duration.Observe(d.Seconds())
	class := status / 100
	if class < 0 || class >= len(rm.classes) {
		m.requests.WithLabelValues(route, strconv.Itoa(class)+"xx").Inc()
		return
	}
	c := rm.classes[class].Load()
	if c == nil {
		cnt := m.requests.WithLabelValues(route, strconv.Itoa(class)+"xx")
		c = &cnt
		rm.classes[class].Store(c)
	}
	(*c).Inc()
}

// metricsRouteKey is /metrics' key in the API table (the public profile
// serves it to Options.MetricsClients only).
const metricsRouteKey = "GET /metrics"

// metricsHandler serves /metrics.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// readiness reports whether the server is ready, and what it waits for:
// the store is loaded (it is, once the server exists: the store opens
// before), the search index is built and following the index, the
// address database is attached (when Deps.AwaitAddresses or Addresses say
// there is one).
func (s *Server) readiness() (bool, map[string]any) {
	checks := map[string]any{"store": true, "index": true}
	if rep := s.replicationCheck(); rep != nil {
		checks["replication"] = rep
	}
	ready := true
	if s.deps.Search != nil {
		st := s.deps.Search.Stats()
		checks["search"] = st.Ready && st.Err == ""
		ready = ready && st.Ready && st.Err == ""
	}
	if s.deps.Addresses != nil || s.deps.AwaitAddresses {
		ok := s.addrDB.Load() != nil
		checks["addresses"] = ok
		ready = ready && ok
	}
	return ready, checks
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ok, checks := s.readiness()
	status := http.StatusOK
	checks["ready"] = ok
	if !ok {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, checks)
	return nil
}

// adminSnapshot: POST /api/v1/admin/snapshot (admin scope).
func (s *Server) adminSnapshot(w http.ResponseWriter, r *http.Request) error {
	st, err := s.writeStore()
	if err != nil {
		return err
	}
	start := time.Now()
	// a snapshot of a large store outlives the request timeout
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Minute)
	defer cancel()
	if err := st.WriteSnapshot(ctx); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": st.Seq(), "took_ms": time.Since(start).Milliseconds()})
	return nil
}
