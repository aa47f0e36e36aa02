// Command loadtest drives a `marketgeo serve` on loopback with a mixed
// load (issue 16): readers issuing nearby, search, zones, tile and
// address-check requests back to back, and a stream of writes through the
// write API at a fixed rate. It reports requests/s and p50/p99 per route,
// fails on any 5xx, and checks at the end that every acknowledged write is
// there (each entity written shows the last value acknowledged for it).
//
//	go build -o /tmp/marketgeo ./cmd/marketgeo
//	go run ./benchmarks/loadtest -bin /tmp/marketgeo -d 60s -readers 8 -writes 100
//
// The server runs on the embedded demo (79,000 entities) with an in-memory
// store (:memory:; durability on disk is measured by the store's own
// benchmarks) unless -store names a file, with tokens (a write token for
// the writer, a read token per reader) and no rate limit. The run is
// bounded by -d; the server is stopped with SIGTERM at the end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/paulmach/orb/maptile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type sample struct {
	route  string
	status int
	d      time.Duration
}

func run() error {
	bin := flag.String("bin", "", "marketgeo binary (required)")
	dur := flag.Duration("d", 60*time.Second, "length of the measured run")
	readers := flag.Int("readers", 8, "concurrent reading clients")
	wps := flag.Int("writes", 100, "writes a second")
	storePath := flag.String("store", ":memory:", "store of the server")
	flag.Parse()
	if *bin == "" {
		return fmt.Errorf("-bin is required")
	}
	dir, err := os.MkdirTemp("", "marketgeo-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tokens := "write load-writer write-token-for-the-load-test-000\n"
	for i := range *readers {
		tokens += fmt.Sprintf("read load-reader-%d read-token-for-the-load-test-%03d\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens"), []byte(tokens), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "serve.yaml"), []byte("server:\n  rate_limit: -1\n"), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	var logBuf bytes.Buffer
	cmd := exec.Command(*bin, "serve", "--addr", addr, "--store", *storePath, "--tokens", filepath.Join(dir, "tokens"), "--config", filepath.Join(dir, "serve.yaml"))
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// ready: the store loaded, search and addresses built
	start := time.Now()
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("not ready after 10 min:\n%s", logBuf.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("server ready in %v\n", time.Since(start).Round(time.Millisecond))
	ds, err := demo.Generate(demo.Options{})
	if err != nil {
		return err
	}
	ents := ds.Entities
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var mu sync.Mutex
	var samples []sample
	record := func(s sample) {
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	do := func(route, method, target, token, body string) (int, []byte) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+target, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				record(sample{route, 599, time.Since(t)})
			}
			return 599, nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		record(sample{route, resp.StatusCode, time.Since(t)})
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	for i := range *readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			tok := fmt.Sprintf("read-token-for-the-load-test-%03d", i)
			for ctx.Err() == nil {
				e := ents[r.IntN(len(ents))]
				switch k := r.IntN(5); k {
				case 0:
					do("nearby 200 m", "GET", fmt.Sprintf("/api/v1/nearby?lon=%.6f&lat=%.6f&radius=200", e.Location[0], e.Location[1]), tok, "")
				case 1:
					name := []rune(e.Name)
					q := string(name[min(3, len(name)):min(7, len(name))])
					do("search", "GET", "/api/v1/search?"+url.Values{"q": {q}}.Encode(), tok, "")
				case 2:
					do("zones", "GET", fmt.Sprintf("/api/v1/zones?lon=%.6f&lat=%.6f", e.Location[0]+r.Float64()*0.001, e.Location[1]), tok, "")
				case 3:
					z := 12 + r.IntN(5)
					t := maptile.At(e.Location, maptile.Zoom(z))
					do("tile z12-16", "GET", fmt.Sprintf("/tiles/entities/%d/%d/%d.mvt", z, t.X, t.Y), tok, "")
				case 4:
					b, _ := json.Marshal(map[string]string{"address": e.Address})
					do("address check", "POST", "/api/v1/address/check", tok, string(b))
				}
			}
		}()
	}
	// the writers: -writes a second, each write to an entity of its own
	// (so that the value acknowledged is the one to find), up to 64 in
	// flight; each acknowledged value remembered
	acked := map[string]string{}
	var amu sync.Mutex
	sent := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(*wps))
		defer tick.Stop()
		slots := make(chan struct{}, 64)
		var ww sync.WaitGroup
		defer ww.Wait()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case slots <- struct{}{}:
			default:
				continue // 64 in flight: this tick's write is not sent
			}
			e := ents[(sent*7919)%len(ents)]
			sent++
			v := fmt.Sprintf("负载%d", sent)
			ww.Add(1)
			go func() {
				defer func() { <-slots; ww.Done() }()
				code, _ := do("write (PATCH)", "PATCH", "/api/v1/entities/"+e.ID, "write-token-for-the-load-test-000", fmt.Sprintf(`{"properties":{"short_name":%q}}`, v))
				if code == 200 {
					amu.Lock()
					acked[e.ID] = v
					amu.Unlock()
				}
			}()
		}
	}()
	wg.Wait()
	el := dur.Seconds()
	// every acknowledged write is there
	lost := 0
	for id, v := range acked {
		req, _ := http.NewRequest("GET", base+"/api/v1/entities/"+id, nil)
		req.Header.Set("Authorization", "Bearer read-token-for-the-load-test-000")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var f struct {
			Properties map[string]any `json:"properties"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&f)
		resp.Body.Close()
		if f.Properties["short_name"] != v {
			lost++
		}
	}
	byRoute := map[string][]sample{}
	for _, s := range samples {
		byRoute[s.route] = append(byRoute[s.route], s)
	}
	routes := make([]string, 0, len(byRoute))
	for r := range byRoute {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Printf("%d readers + %d writes/s for %v on %s\n", *readers, *wps, *dur, addr)
	fmt.Printf("%-16s %9s %9s %9s %9s  %s\n", "route", "requests", "req/s", "p50 ms", "p99 ms", "statuses")
	fivexx := 0
	total := 0
	for _, r := range routes {
		ss := byRoute[r]
		ds := make([]time.Duration, len(ss))
		codes := map[int]int{}
		for i, s := range ss {
			ds[i] = s.d
			codes[s.status]++
			if s.status >= 500 {
				fivexx++
			}
		}
		slices.Sort(ds)
		total += len(ss)
		fmt.Printf("%-16s %9d %9.1f %9.2f %9.2f  %v\n", r, len(ss), float64(len(ss))/el,
			ms(ds[len(ds)/2]), ms(ds[min(len(ds)-1, len(ds)*99/100)]), codes)
	}
	fmt.Printf("total %.1f req/s; writes sent %d, acknowledged %d (%d entities), lost %d; 5xx %d\n", float64(total)/el, sent, countAcked(samples), len(acked), lost, fivexx)
	if fivexx > 0 || lost > 0 {
		return fmt.Errorf("%d 5xx answers, %d acknowledged writes lost", fivexx, lost)
	}
	return nil
}

func countAcked(ss []sample) int {
	n := 0
	for _, s := range ss {
		if s.route == "write (PATCH)" && s.status == 200 {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
