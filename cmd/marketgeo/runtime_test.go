package main

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
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
