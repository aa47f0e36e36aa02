package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// TestSetMemoryLimit: without GOMEMLIMIT the process gets a soft limit of
// 70 % of the machine's memory (read from /proc/meminfo or the cgroup);
// a GOMEMLIMIT given by the user is left alone.
func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	total := machineMemory()
	if total <= 0 {
		t.Skip("machine memory unknown here (no /proc/meminfo)")
	}
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit(log)
	if got, want := debug.SetMemoryLimit(-1), total/10*7; got != want {
		t.Fatalf("limit %d, want %d (70 %% of %d)", got, want, total)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit(log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set by the user, but the limit was changed to %d", got)
	}
}

// TestSteadyGC: once a start-up build is done the server collects at
// steadyGCPercent, unless the user set GOGC.
func TestSteadyGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	t.Setenv("GOGC", "")
	startupDone()
	if got := debug.SetGCPercent(100); got != steadyGCPercent {
		t.Fatalf("GOGC %d after the start-up, want %d", got, steadyGCPercent)
	}
	t.Setenv("GOGC", "200")
	debug.SetGCPercent(200)
	startupDone()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("GOGC set by the user to 200, but the start-up changed it to %d", got)
	}
}

// TestIdleReturnPolicy: the memory is returned only in a quiet period
// (less than quietBytes allocated since the last tick) after enough
// garbage (minGarbage, or a sixteenth of the live heap when larger) since
// the last return; never while the process allocates.
func TestIdleReturnPolicy(t *testing.T) {
	const mib = 1 << 20
	type step struct {
		allocs, live uint64 // cumulative allocations, live heap
		want         bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"quiet from the start: nothing to return", []step{{0, 100 * mib, false}, {0, 100 * mib, false}}},
		{"a burst, then quiet", []step{{40 * mib, 100 * mib, false}, {40 * mib, 100 * mib, true}, {40 * mib, 100 * mib, false}}},
		{"busy: never while allocating", []step{{40 * mib, 100 * mib, false}, {80 * mib, 100 * mib, false}, {120 * mib, 100 * mib, false}, {120*mib + mib/2, 100 * mib, true}}},
		{"too little garbage", []step{{10 * mib, 100 * mib, false}, {10 * mib, 100 * mib, false}}},
		{"a large heap needs a sixteenth of it", []step{{40 * mib, 1600 * mib, false}, {40 * mib, 1600 * mib, false}, {90 * mib, 1600 * mib, false}, {120 * mib, 1600 * mib, false}, {120 * mib, 1600 * mib, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := idleReturn{minGarbage: 16 * mib, quietBytes: mib}
			for i, s := range tc.steps {
				got := r.tick(s.allocs, s.live)
				if got != s.want {
					t.Fatalf("step %d (%+v): return %v, want %v", i, s, got, s.want)
				}
				if got {
					r.done(s.allocs)
				}
			}
		})
	}
}

// TestReturnWhenQuiet: after garbage and a quiet period the process
// collects (a forced cycle, as debug.FreeOSMemory runs one) and returns
// the free memory.
func TestReturnWhenQuiet(t *testing.T) {
	forced := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { returnWhenQuiet(ctx, 50*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(120 * time.Millisecond)
	before := forced()
	var keep [][]byte
	for i := 0; i < 64<<20/4096; i++ { // 64 MiB of garbage
		keep = append(keep, make([]byte, 4096))
	}
	keep = nil
	_ = keep
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if forced() > before {
			return
		}
	}
	t.Fatal("no collection 10 s after 64 MiB of garbage and no allocation since")
}
