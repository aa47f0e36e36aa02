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
// benchmarks) unless -store names a file (or a postgres:// database), with
// tokens (a write token for the writer, a read token per reader) and no
// rate limit. The run is bounded by -d; the server is stopped with SIGTERM
// at the end.
//
// The run starts once the server's start-up work is done (-settle): a
// store seeded at this start (every :memory: one) gets the demo's
// department tables in the background after /readyz — minutes of matching
// and some 60,000 writes of its own, then the risk engine's re-rating —
// which a measurement taken at once would share the cores and the
// committer with. The writes follow a fixed schedule (write i is due at
// i/rate seconds), up to -in-flight at once; a write that falls behind is
// sent as soon as a slot is free, and the report says how late the latest
// was and how many of the writes due were sent.
//
// With -follower (a postgres:// store), a second node is started on the
// same database; its /readyz is polled every 10 ms during the run, and the
// lag of each acknowledged write (from the writer's answer to the first
// poll at which the follower had applied its sequence number) is reported
// as p50/p99; every acknowledged write is also read back from the
// follower at the end.
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
	inFlight := flag.Int("in-flight", 256, "writes in flight at most (a write due while they are all busy waits for one to finish, and the stream catches up after)")
	settle := flag.Duration("settle", 10*time.Second, "before the run, wait until the server's own start-up work is done: the demo's department tables imported (a store seeded at this start gets them in the background after /readyz, minutes of matching) and then the change-log sequence unchanged this long (the risk engine's re-rating); 0 measures at once")
	withFollower := flag.Bool("follower", false, "start a second node on the same (postgres://) store and measure its lag")
	readBoth := flag.Bool("read-both", false, "with -follower: every second reader reads from the second node (read throughput of two nodes)")
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
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: max(64, *inFlight)}}
	// startNode starts `marketgeo serve` on the store and waits until it is
	// ready: the store loaded, search and addresses built
	startNode := func() (string, func(), *syncBuffer, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, nil, err
		}
		addr := ln.Addr().String()
		ln.Close()
		logBuf := &syncBuffer{}
		cmd := exec.Command(*bin, "serve", "--addr", addr, "--store", *storePath, "--tokens", filepath.Join(dir, "tokens"), "--config", filepath.Join(dir, "serve.yaml"))
		cmd.Stdout, cmd.Stderr = logBuf, logBuf
		if err := cmd.Start(); err != nil {
			return "", nil, nil, err
		}
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		start := time.Now()
		for {
			resp, err := client.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 10*time.Minute {
				stop()
				return "", nil, nil, fmt.Errorf("not ready after 10 min:\n%s", logBuf.String())
			}
			time.Sleep(500 * time.Millisecond)
		}
		fmt.Printf("server %s ready in %v\n", addr, time.Since(start).Round(time.Millisecond))
		return addr, stop, logBuf, nil
	}
	addr, stop, serverLog, err := startNode()
	if err != nil {
		return err
	}
	defer stop()
	base := "http://" + addr
	var fbase string // the follower node's, with -follower
	if *withFollower {
		faddr, fstop, _, err := startNode()
		if err != nil {
			return err
		}
		defer fstop()
		fbase = "http://" + faddr
	}
	if *settle > 0 {
		t0 := time.Now()
		// a store seeded at this start gets the demo's department tables
		// next, in the background (matching takes minutes with pauses
		// between its writes): wait for serve to log the end of it
		if strings.Contains(serverLog.String(), "imported into the store") {
			for !strings.Contains(serverLog.String(), "demo records imported") && !strings.Contains(serverLog.String(), "demo department tables not imported") {
				if time.Since(t0) > 15*time.Minute {
					return fmt.Errorf("the demo's department tables not imported after 15 min")
				}
				time.Sleep(time.Second)
			}
		}
		seq, err := settled(client, base, *settle, 10*time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("server settled at seq %d in %v (its start-up writes done)\n", seq, time.Since(t0).Round(time.Second))
	}
	seqBefore, _ := changelogSeq(client, base)
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
	doAt := func(node, route, method, target, token, body string) (int, []byte) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, node+target, rd)
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
	do := func(route, method, target, token, body string) (int, []byte) {
		return doAt(base, route, method, target, token, body)
	}
	var wg sync.WaitGroup
	// the follower's applied sequence number, polled
	type poll struct {
		at      time.Time
		applied uint64
	}
	var polls []poll
	if fbase != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := client.Get(fbase + "/readyz")
				if err == nil {
					var rz struct {
						Replication struct {
							Applied uint64 `json:"applied"`
						} `json:"replication"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&rz)
					resp.Body.Close()
					mu.Lock()
					polls = append(polls, poll{time.Now(), rz.Replication.Applied})
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	for i := range *readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			tok := fmt.Sprintf("read-token-for-the-load-test-%03d", i)
			node := base
			if *readBoth && fbase != "" && i%2 == 1 {
				node = fbase
			}
			do := func(route, method, target, token, body string) (int, []byte) {
				return doAt(node, route, method, target, token, body)
			}
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
	// (so that the value acknowledged is the one to find), up to -in-flight
	// at once; each acknowledged value remembered, with its sequence number
	// and when it was answered
	type ack struct {
		seq uint64
		at  time.Time
	}
	var acks []ack
	acked := map[string]string{}
	var amu sync.Mutex
	sent := 0
	var maxLate time.Duration // the most a write was sent after it was due
	wg.Add(1)
	go func() {
		defer wg.Done()
		if *wps <= 0 { // reads only
			<-ctx.Done()
			return
		}
		// write i is due at start + i/wps (an open-loop stream on a fixed
		// schedule: a write that is late, because this process was not
		// scheduled or every slot was busy, is sent as soon as it can be,
		// so that the stream catches up; a time.Ticker would drop the
		// ticks a busy machine misses)
		interval := time.Second / time.Duration(*wps)
		start := time.Now()
		slots := make(chan struct{}, *inFlight)
		var ww sync.WaitGroup
		defer ww.Wait()
		for {
			if d := time.Until(start.Add(time.Duration(sent) * interval)); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			select {
			case <-ctx.Done():
				return
			case slots <- struct{}{}:
			}
			if late := time.Since(start.Add(time.Duration(sent) * interval)); late > maxLate {
				maxLate = late
			}
			e := ents[(sent*7919)%len(ents)]
			sent++
			v := fmt.Sprintf("负载%d", sent)
			ww.Add(1)
			go func() {
				defer func() { <-slots; ww.Done() }()
				code, body := do("write (PATCH)", "PATCH", "/api/v1/entities/"+e.ID, "write-token-for-the-load-test-000", fmt.Sprintf(`{"properties":{"short_name":%q}}`, v))
				if code == 200 {
					var a struct {
						Seq uint64 `json:"seq"`
					}
					_ = json.Unmarshal(body, &a)
					amu.Lock()
					acked[e.ID] = v
					acks = append(acks, ack{a.Seq, time.Now()})
					amu.Unlock()
				}
			}()
		}
	}()
	wg.Wait()
	el := dur.Seconds()
	// every acknowledged write is there (on the follower too, once it has
	// applied the last acknowledged sequence number)
	var lastSeq uint64
	for _, a := range acks {
		lastSeq = max(lastSeq, a.seq)
	}
	lost := 0
	nodes := []string{base}
	if fbase != "" {
		nodes = append(nodes, fbase)
	}
	for _, node := range nodes {
		for id, v := range acked {
			req, _ := http.NewRequest("GET", node+"/api/v1/entities/"+id, nil)
			req.Header.Set("Authorization", "Bearer write-token-for-the-load-test-000")
			req.Header.Set("X-Marketgeo-Min-Seq", fmt.Sprint(lastSeq))
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
	if fbase != "" {
		fmt.Printf("second node %s following; every second reader on it: %v\n", fbase, *readBoth)
	}
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
	fmt.Printf("total %.1f req/s; writes due %d, sent %d (at most %v after due), acknowledged %d (%d entities), lost %d; 5xx %d\n", float64(total)/el,
		int(float64(*wps)*el), sent, maxLate.Round(time.Millisecond), countAcked(samples), len(acked), lost, fivexx)
	if seqAfter, err := changelogSeq(client, base); err == nil && seqBefore > 0 {
		fmt.Printf("change log: %d changes during the run (%d of them not the load test's writes)\n", seqAfter-seqBefore, int64(seqAfter-seqBefore)-int64(countAcked(samples)))
	}
	if fbase != "" {
		// lag: from a write's answer to the first poll showing it applied
		// on the follower (resolution: the poll interval plus its answer)
		var lags []time.Duration
		unseen := 0
		for _, a := range acks {
			// polls are in time order and applied never decreases: the
			// first poll at or after the answer, then the first from there
			// that had applied the write
			i0 := sort.Search(len(polls), func(i int) bool { return !polls[i].at.Before(a.at) })
			i := i0 + sort.Search(len(polls)-i0, func(k int) bool { return polls[i0+k].applied >= a.seq })
			if i >= len(polls) {
				i = -1
			}
			if i < 0 {
				unseen++
				continue
			}
			lags = append(lags, polls[i].at.Sub(a.at))
		}
		slices.Sort(lags)
		if len(lags) > 0 {
			fmt.Printf("follower lag over %d writes (%d polls): p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d not seen before the run ended\n", len(lags), len(polls),
				ms(lags[len(lags)/2]), ms(lags[min(len(lags)-1, len(lags)*99/100)]), ms(lags[len(lags)-1]), unseen)
		}
	}
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

// changelogSeq reads the server's change-log sequence number from /metrics.
func changelogSeq(client *http.Client, base string) (uint64, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "marketgeo_changelog_seq "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				return 0, fmt.Errorf("/metrics: %q: %w", line, err)
			}
			return uint64(f), nil
		}
	}
	return 0, fmt.Errorf("/metrics (status %d) has no marketgeo_changelog_seq", resp.StatusCode)
}

// settled waits until the server's change-log sequence number has not
// moved for quiet (the server's own start-up writes are done), at most
// limit, and returns it.
func settled(client *http.Client, base string, quiet, limit time.Duration) (uint64, error) {
	start := time.Now()
	last, err := changelogSeq(client, base)
	if err != nil {
		return 0, err
	}
	since := time.Now()
	for time.Since(since) < quiet {
		if time.Since(start) > limit {
			return 0, fmt.Errorf("the server kept writing for %v (seq %d)", limit, last)
		}
		time.Sleep(500 * time.Millisecond)
		cur, err := changelogSeq(client, base)
		if err != nil {
			return 0, err
		}
		if cur != last {
			last, since = cur, time.Now()
		}
	}
	return last, nil
}

// syncBuffer is a bytes.Buffer safe for the child process's output
// copier and the readers of the log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
