package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// setMemoryLimit gives the Go runtime a soft memory limit when the user
// set none (GOMEMLIMIT): a share of the machine's memory (or of the
// cgroup's limit when lower), so that the collector works harder as the
// heap nears what the machine can hold instead of letting GOGC double it.
// It is a process setting, made here and not in a library.
func setMemoryLimit(log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	total := machineMemory()
	if total <= 0 {
		return
	}
	limit := total / 10 * 7
	debug.SetMemoryLimit(limit)
	log.Debug("memory limit", "bytes", limit)
}

// machineMemory is the memory this process may use: MemTotal from
// /proc/meminfo, or the cgroup v2 limit when it is lower; 0 when unknown.
func machineMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb); err == nil {
					total = kb << 10
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		var lim int64
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &lim); err == nil && lim > 0 && (total == 0 || lim < total) {
			total = lim
		}
	}
	return total
}

// startProfiler serves net/http/pprof on addr (MARKETGEO_PPROF, e.g.
// 127.0.0.1:6060) for measuring the process; nothing when addr is empty.
// It is a separate listener, never the API's.
func startProfiler(addr string, log *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("profiler", "err", err)
		}
	}()
}

// startupDone returns to the system the memory a start-up build (the
// search index, the address database) used and no longer needs, and sets
// the collector's goal from the heap that is live now: it would otherwise
// keep the heap the build grew to (twice the heap marked during the
// build, its batches in flight included) until later cycles shrink it.
//
// It also sets the collector of the server that follows (steadyGC).
func startupDone() {
	steadyGC()
	debug.FreeOSMemory()
}

// steadyGCPercent is the GOGC of a server whose start-up builds are done.
const steadyGCPercent = 50

// steadyGC sets GOGC to steadyGCPercent unless the user set GOGC: once
// started, the heap is mostly the indexes, which live as long as the
// process, and the default GOGC of 100 lets it grow by as much again of
// requests' garbage before a collection, resident memory that is never
// handed back while the server is busy (the 79k demo server grew from 367
// toward 540 MiB under requests). At 50 the heap grows by half of the live
// heap between collections, for about twice as many of them; a user who
// prefers the CPU sets GOGC.
func steadyGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(steadyGCPercent)
}

// idleReturn is the policy of returnWhenQuiet: once the process has
// allocated at least minGarbage bytes (or a sixteenth of its live heap,
// whichever is more) since the memory was last returned, and then
// allocated less than quietBytes in one period (no requests, no build),
// the garbage is collected and the free memory returned to the system.
// A server's heap otherwise stays at the collector's goal (1.5 × the live
// heap at the steady GOGC) after a burst of requests, resident memory the
// process no longer uses while it sits idle. It never acts while the
// process allocates (under load), so it costs nothing there; an idle
// period costs one collection.
type idleReturn struct {
	minGarbage, quietBytes uint64
	last, returned         uint64 // cumulative allocations at the last tick, at the last return
}

// tick is given the cumulative bytes allocated and the live heap; it
// reports whether to collect and return now.
func (r *idleReturn) tick(allocs, live uint64) bool {
	quiet := allocs-r.last < r.quietBytes
	r.last = allocs
	return quiet && allocs-r.returned >= max(r.minGarbage, live/16)
}

// done records that the memory was returned at allocs bytes allocated.
func (r *idleReturn) done(allocs uint64) { r.last, r.returned = allocs, allocs }

// returnWhenQuiet runs the idleReturn policy every period until ctx ends
// (serve's memory after a burst of requests: docs/memory.md).
func returnWhenQuiet(ctx context.Context, every time.Duration) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	read := func() (uint64, uint64) {
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
			return 0, 0
		}
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	r := idleReturn{minGarbage: 16 << 20, quietBytes: 1 << 20}
	a, _ := read()
	r.done(a)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.tick(read()) {
			debug.FreeOSMemory()
			a, _ := read()
			r.done(a)
		}
	}
}
