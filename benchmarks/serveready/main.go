// Command serveready measures a `marketgeo serve` start as a user sees it:
// it starts the server binary on a copy of a store (or on a data
// directory), polls /healthz, and reports when geo queries, the search
// index and the address database are ready, the process's peak resident
// memory (VmHWM) and its resident memory once everything is ready and
// after a settling time. With -profile it saves heap profiles (and a CPU
// profile of the start) from the server's MARKETGEO_PPROF listener.
//
//	go build -o /tmp/marketgeo ./cmd/marketgeo
//	go run ./benchmarks/serveready -bin /tmp/marketgeo -store /tmp/marketgeo-bench-store/demo-1000000.gpkg
//	go run ./benchmarks/serveready -bin /tmp/marketgeo -store new             # the 79k demo's first start
//	go run ./benchmarks/serveready -bin /tmp/marketgeo -store new -data DIR   # e.g. marketgeo gen --entities 3500000
//
// The store file (its .snapshot, and the search index and address parses
// persisted beside it: .search/, .addresses) is copied first, so the run is a
// restart of an unchanged store and the original is never written. The
// 1M store is the one `go test ./benchmarks -bench StoreRestart` makes.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "serveready:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "", "marketgeo binary (required)")
	storePath := flag.String("store", "", "store file to copy and restart on; new: a first start on a new store (seeded with -data, else the demo); :memory:")
	dataDir := flag.String("data", "", "data directory for --data (with -store :memory:, a start from files)")
	settle := flag.Duration("settle", 20*time.Second, "how long to keep sampling after everything is ready (steady memory)")
	timeout := flag.Duration("timeout", 15*time.Minute, "give up after")
	profile := flag.String("profile", "", "directory for heap and CPU profiles (empty: none)")
	cpuSeconds := flag.Int("cpu-seconds", 0, "with -profile: seconds of CPU profile taken from the start")
	logFile := flag.String("log", "", "file for the server's log (default: discarded)")
	dir := flag.String("dir", "", "keep the store in this directory (with -store new: the new store; else the copy of -store, made once): a second run with the same -dir is a restart of it, as a user's second `serve`, with what the first saved beside it")
	sample := flag.Duration("sample", 0, "with -profile: while starting, take a heap profile this often and keep the one taken at the highest resident memory as heap-peak.pprof (the live heap of the collection before the peak: what the build holds then); also writes rss.tsv, the resident memory every poll")
	burst := flag.Int("burst", 0, "after the settling time, this many requests (nearby, search, zones, tiles, address check, round robin on one connection, ~90/s: under the binary's default limit a client), then the resident memory again")
	quiet := flag.Duration("quiet", 0, "with -burst: the resident memory again this long after the burst, no request meanwhile (what the server keeps once the requests stop)")
	flag.Parse()
	if *bin == "" || *storePath == "" {
		return fmt.Errorf("-bin and -store are required")
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			return err
		}
	}
	work, err := os.MkdirTemp("", "serveready")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	st := *storePath
	if st == "new" && *dir != "" {
		// a first start on a new store kept in dir, or a restart of it
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		st = filepath.Join(*dir, "s.gpkg")
	} else if st == "new" {
		// a first start: a new store in the work directory, seeded with
		// -data (or the demo)
		st = filepath.Join(work, "s.gpkg")
	} else if st != ":memory:" {
		st = filepath.Join(work, "s.gpkg")
		if *dir != "" {
			// the copy kept in dir: a second run with the same -dir (and
			// binary) restarts it with the search index and address
			// parses the first run saved beside it
			if err := os.MkdirAll(*dir, 0o755); err != nil {
				return err
			}
			st = filepath.Join(*dir, "s.gpkg")
		}
	}
	if cp := st != *storePath && *storePath != "new" && *storePath != ":memory:"; cp && !exists(st) {
		for _, suf := range []string{"", ".snapshot", ".addresses"} { // .addresses: the saved address parses
			if err := copyFile(*storePath+suf, st+suf); err != nil && !(suf != "" && os.IsNotExist(err)) {
				return err
			}
		}
		// Bleve's persisted index beside the store, when there is one.
		if fi, err := os.Stat(*storePath + ".search"); err == nil && fi.IsDir() {
			if err := exec.Command("cp", "-r", *storePath+".search", st+".search").Run(); err != nil {
				return err
			}
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"serve", "--store", st, "--addr", addr}
	if *dataDir != "" {
		args = append(args, "--data", *dataDir)
	}
	cmd := exec.Command(*bin, args...)
	cmd.Env = append(os.Environ(), "MARKETGEO_PPROF="+pprofAddr)
	var logw io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		logw = f
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *profile != "" && *cpuSeconds > 0 {
		go func() {
			for ctx.Err() == nil && fetch(pprofAddr, "/debug/pprof/", "") != nil {
				time.Sleep(20 * time.Millisecond)
			}
			_ = fetch(pprofAddr, fmt.Sprintf("/debug/pprof/profile?seconds=%d", *cpuSeconds), filepath.Join(*profile, "cpu-start.pprof"))
		}()
	}
	var geoAt, searchAt, addrAt, searchOK, checkOK time.Duration
	var searchCPU, addrCPU time.Duration // the server's CPU time (user + system) then
	c := &http.Client{Timeout: 5 * time.Second}
	var peakSeen int64
	var trace *os.File // rss.tsv: seconds, VmRSS and VmHWM (kB), the phase reached
	if *profile != "" && *sample > 0 {
		if trace, err = os.Create(filepath.Join(*profile, "rss.tsv")); err != nil {
			return err
		}
		defer trace.Close()
		fmt.Fprintln(trace, "s\trss_kb\thwm_kb\tphase")
	}
	var sampled time.Time
	var peakSampleRSS int64
	for ctx.Err() == nil {
		if hwm := status(pid, "VmHWM"); hwm > peakSeen {
			peakSeen = hwm
		}
		if trace != nil {
			rss := status(pid, "VmRSS")
			phase := "start"
			switch {
			case searchAt != 0 && addrAt != 0:
				phase = "ready"
			case addrAt != 0:
				phase = "addresses"
			case searchAt != 0:
				phase = "search"
			case geoAt != 0:
				phase = "geo"
			}
			fmt.Fprintf(trace, "%.1f\t%d\t%d\t%s\n", time.Since(start).Seconds(), rss, peakSeen, phase)
			if time.Since(sampled) >= *sample {
				sampled = time.Now()
				if b, err := fetchBytes(pprofAddr, "/debug/pprof/heap"); err == nil && rss > peakSampleRSS {
					peakSampleRSS = rss
					if err := os.WriteFile(filepath.Join(*profile, "heap-peak.pprof"), b, 0o644); err != nil {
						return err
					}
				}
			}
		}
		h, err := health(c, addr)
		if err == nil {
			now := time.Since(start)
			if geoAt == 0 {
				geoAt = now
			}
			if searchAt == 0 && h.Search.Ready {
				searchAt, searchCPU = now, cpuTime(pid)
			}
			if addrAt == 0 && h.Addresses {
				addrAt, addrCPU = now, cpuTime(pid)
			}
			if h.Search.Error != "" {
				return fmt.Errorf("search failed: %s", h.Search.Error)
			}
			// what a user sees: the first 200 of a search and of a check
			if searchOK == 0 && answers(c, "GET", "http://"+addr+"/api/v1/search?q="+url.QueryEscape("重庆"), "") {
				searchOK = time.Since(start)
			}
			if checkOK == 0 && answers(c, "POST", "http://"+addr+"/api/v1/address/check", `{"address":"重庆市渝北区金开大道68号"}`) {
				checkOK = time.Since(start)
			}
			if searchAt != 0 && addrAt != 0 && searchOK != 0 && checkOK != 0 {
				break
			}
		}
		if cmd.ProcessState != nil {
			return fmt.Errorf("server exited")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("not ready after %v", *timeout)
	}
	readyRSS := status(pid, "VmRSS")
	if *profile != "" {
		_ = fetch(pprofAddr, "/debug/pprof/heap", filepath.Join(*profile, "heap-ready.pprof"))
	}
	var minRSS, lastRSS int64
	for t := time.Now(); time.Since(t) < *settle; time.Sleep(500 * time.Millisecond) {
		lastRSS = status(pid, "VmRSS")
		if minRSS == 0 || lastRSS < minRSS {
			minRSS = lastRSS
		}
	}
	// the resident memory's parts: anonymous (the heap, stacks, the
	// runtime's metadata) and file-backed (the executable's pages, mapped
	// files such as Bleve's segments)
	idleAnon, idleFile := status(pid, "RssAnon"), status(pid, "RssFile")
	if *profile != "" {
		_ = fetch(pprofAddr, "/debug/pprof/heap?gc=1", filepath.Join(*profile, "heap-steady.pprof"))
		// the runtime's statistics (runtime.MemStats: HeapInuse against
		// HeapAlloc, HeapReleased, stacks, metadata) after that collection
		_ = fetch(pprofAddr, "/debug/pprof/heap?debug=1", filepath.Join(*profile, "heap-steady.txt"))
	}
	var burstRSS, burstHWM, quietRSS int64
	var burstTook time.Duration
	if *burst > 0 {
		t := time.Now()
		if err := requests(c, addr, *burst); err != nil {
			return err
		}
		burstTook = time.Since(t)
		time.Sleep(2 * time.Second)
		burstRSS, burstHWM = status(pid, "VmRSS"), status(pid, "VmHWM")
		if *profile != "" {
			_ = fetch(pprofAddr, "/debug/pprof/heap?debug=1", filepath.Join(*profile, "heap-burst.txt"))
		}
		if *quiet > 0 {
			time.Sleep(*quiet)
			quietRSS = status(pid, "VmRSS")
		}
	}
	peak := status(pid, "VmHWM")
	mib := func(kb int64) string { return fmt.Sprintf("%.0f MiB", float64(kb)/1024) }
	fmt.Printf("store %s\n", *storePath)
	fmt.Printf("geo answered      %6.1f s\n", geoAt.Seconds())
	fmt.Printf("search ready      %6.1f s (server CPU %.1f s)\n", searchAt.Seconds(), searchCPU.Seconds())
	fmt.Printf("addresses ready   %6.1f s (server CPU %.1f s)\n", addrAt.Seconds(), addrCPU.Seconds())
	fmt.Printf("/search 200       %6.1f s\n", searchOK.Seconds())
	fmt.Printf("/address/check 200 %5.1f s\n", checkOK.Seconds())
	fmt.Printf("peak RSS (VmHWM)  %s\n", mib(peak))
	fmt.Printf("RSS when ready    %s\n", mib(readyRSS))
	fmt.Printf("RSS after %v: %s (lowest %s; anonymous %s, file-backed %s)\n", *settle, mib(lastRSS), mib(minRSS), mib(idleAnon), mib(idleFile))
	if peakSampleRSS > 0 {
		fmt.Printf("heap-peak.pprof taken at RSS %s\n", mib(peakSampleRSS))
	}
	if *burst > 0 {
		fmt.Printf("after %d requests (%.1f s): RSS %s, peak %s\n", *burst, burstTook.Seconds(), mib(burstRSS), mib(burstHWM))
		if *quiet > 0 {
			fmt.Printf("… %v later, no request meanwhile: RSS %s\n", *quiet, mib(quietRSS))
		}
	}
	return nil
}

// requests sends n requests round robin over a few routes a newcomer
// tries first (the map's tiles, nearby, search, zones, an address check),
// each answered 200 or it fails.
func requests(c *http.Client, addr string, n int) error {
	base := "http://" + addr
	type rq struct{ method, path, body string }
	var rs []rq
	for i := 0; i < 16; i++ {
		lon, lat := 106.45+0.012*float64(i), 29.50+0.007*float64(i)
		rs = append(rs,
			rq{"GET", fmt.Sprintf("/api/v1/nearby?lon=%.4f&lat=%.4f&radius=500", lon, lat), ""},
			rq{"GET", fmt.Sprintf("/api/v1/zones?lon=%.4f&lat=%.4f", lon, lat), ""},
			rq{"GET", fmt.Sprintf("/tiles/entities/%d/%d/%d.mvt", 14, 13039+i%4, 6780+i/4), ""},
		)
	}
	for _, q := range []string{"重庆", "渝北区", "科技", "chongqing", "金开大道", "商贸有限公司", "火锅"} {
		rs = append(rs, rq{"GET", "/api/v1/search?q=" + url.QueryEscape(q), ""})
	}
	rs = append(rs, rq{"POST", "/api/v1/address/check", `{"address":"重庆市渝北区金开大道68号"}`})
	// paced under the binary's default limit a client (100 requests/s)
	tick := time.NewTicker(11 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; i++ {
		<-tick.C
		r := rs[i%len(rs)]
		req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", r.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("%s %s: %s", r.method, r.path, resp.Status)
		}
	}
	return nil
}

// answers reports whether the request is answered 200.
func answers(c *http.Client, method, u, body string) bool {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

type healthz struct {
	Addresses bool `json:"addresses"`
	Search    struct {
		Ready bool   `json:"ready"`
		Error string `json:"error"`
	} `json:"search"`
}

func health(c *http.Client, addr string) (healthz, error) {
	var h healthz
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("healthz: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// cpuTime is the CPU time (user + system) the process has used, from
// /proc/PID/stat (clock ticks of 1/100 s, Linux's USER_HZ).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// status reads a kB field of /proc/PID/status.
func status(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb
		}
	}
	return 0
}

func fetch(addr, path, out string) error {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	if out == "" {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// fetchBytes returns the body of a 200 answer of the profiler listener.
func fetchBytes(addr, path string) ([]byte, error) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
