package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// loadCmd runs `marketgeo load --data DIR [--strict] [--crs C]`: it loads a
// data directory exactly as serve does, reports what was loaded and
// rejected, how long it took and the memory the index keeps, and exits. Use
// it to validate files before serving them.
func loadCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "data directory (required)")
	strict := fs.Bool("strict", false, "reject a whole file at its first bad record")
	inCRS := fs.String("crs", "wgs84", "coordinate system of the files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("load: --data is required")
	}
	start := time.Now()
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return err
	}
	if err := loadData(idx, *dataDir, *inCRS, *strict, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
		return err
	}
	took := time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c := idx.Snapshot().Counts()
	fmt.Fprintf(stdout, "loaded %d entities, %d buildings, %d places, %d zones in %v\n", c.Entities, c.Buildings, c.Places, c.Zones, took.Round(time.Millisecond))
	fmt.Fprintf(stdout, "heap in use %.0f MiB, resident %s\n", float64(ms.HeapInuse)/(1<<20), residentMiB())
	runtime.KeepAlive(idx)
	return nil
}

// residentMiB reads VmRSS from /proc (Linux); "unknown" elsewhere.
func residentMiB() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb); err == nil {
				return fmt.Sprintf("%.0f MiB", kb/1024)
			}
		}
	}
	return "unknown"
}
