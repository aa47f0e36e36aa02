package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgTestURL returns the test database with a fresh schema (dropped at the
// end), or skips without MARKETGEO_TEST_POSTGRES (fails with
// MARKETGEO_REQUIRE_POSTGRES=1, as in CI: .ci/steps/27-postgres.sh).
func pgTestURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("MARKETGEO_TEST_POSTGRES")
	if raw == "" {
		if os.Getenv("MARKETGEO_REQUIRE_POSTGRES") == "1" {
			t.Fatal("MARKETGEO_REQUIRE_POSTGRES=1 but MARKETGEO_TEST_POSTGRES is not set")
		}
		t.Skip("MARKETGEO_TEST_POSTGRES is not set (postgres://… of a database with PostGIS)")
	}
	var b [6]byte
	crand.Read(b[:])
	schema := "cmd_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, raw); err == nil {
			c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(pgParamSchema, schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgTokens writes a tokens file: a write token per writer (wN) and
// reader tokens (rN), each name with its own rate limit.
func pgTokens(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "write w%d %s\n", i, pgToken("w", i))
	}
	for i := range 16 {
		fmt.Fprintf(&b, "read r%d %s\n", i, pgToken("r", i))
	}
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pgToken(kind string, i int) string { return fmt.Sprintf("%s%039d", kind, i) }

var readerTurn atomic.Int64

// getBody fetches a node's answer (with X-Marketgeo-Min-Seq when seq > 0)
// with a reader token, retrying when rate-limited.
func getBody(t *testing.T, c *http.Client, url string, seq uint64) (int, string) {
	t.Helper()
	for {
		req, _ := http.NewRequest("GET", url, nil)
		if seq > 0 {
			req.Header.Set("X-Marketgeo-Min-Seq", strconv.FormatUint(seq, 10))
		}
		req.Header.Set("Authorization", "Bearer "+pgToken("r", int(readerTurn.Add(1)%16)))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return resp.StatusCode, string(b)
	}
}

// TestPostgresNodes runs three serve processes on one PostgreSQL: they
// start together on an empty database with the same --data (one imports),
// take writes spread over them, one is SIGKILLed in the stream and
// restarted; at the end every node, and a fresh one, answers the same
// (features, nearby, zones, tiles), and every acknowledged write is there.
func TestPostgresNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	pgURL := pgTestURL(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := run([]string{"gen", "--entities", "1500", "--out", data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	tokens := pgTokens(t, dir)
	args := []string{"--store", pgURL, "--data", data, "--tokens", tokens}
	nodes := make([]*child, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); nodes[i] = startChild(t, args...) }()
	}
	wg.Wait()
	for _, n := range nodes {
		if n == nil {
			t.FailNow()
		}
	}
	defer func() {
		for _, n := range nodes {
			n.kill()
		}
	}()
	client := &http.Client{Timeout: 15 * time.Second}
	// one import: every node at the same sequence, the import's size
	var seq0 []string
	for _, n := range nodes {
		_, body := getBody(t, client, n.base+"/api/v1/changes?since=0&limit=100000", 0)
		seq0 = append(seq0, strconv.Itoa(strings.Count(body, "\n")))
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			var c struct{ Layer, ID string }
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("change log line %.100q: %v", line, err)
			}
			if seen[c.Layer+"/"+c.ID] {
				t.Fatalf("%s/%s imported twice: the three nodes each imported --data", c.Layer, c.ID)
			}
			seen[c.Layer+"/"+c.ID] = true
		}
	}
	if seq0[0] != seq0[1] || seq0[1] != seq0[2] || seq0[0] == "0" {
		t.Fatalf("change log lengths seen by the nodes: %v", seq0)
	}

	type ack struct {
		id, risk string
		seq      uint64
		later    []string // risks sent after the acknowledged write, unanswered (the node was killed): may have committed
	}
	var mu sync.Mutex
	acked := map[string]ack{} // id → its last acknowledged write
	var maxSeq uint64
	stop := make(chan struct{})
	var nodesMu sync.RWMutex
	node := func(i int) *child { nodesMu.RLock(); defer nodesMu.RUnlock(); return nodes[i] }
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 20))
			var mine []string
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				risk := string("ABCD"[r.IntN(4)])
				var req *http.Request
				var id string
				base := node(w).base
				if len(mine) > 0 && r.IntN(2) == 0 {
					id = mine[r.IntN(len(mine))]
					req, _ = http.NewRequest("PATCH", base+"/api/v1/entities/"+id, strings.NewReader(`{"properties":{"risk":"`+risk+`"}}`))
				} else {
					n := 5000000 + w*100000 + k
					id = crashUSCC(n)
					req, _ = http.NewRequest("PUT", base+"/api/v1/entities/"+id, strings.NewReader(crashFeature(id, risk, n)))
				}
				req.Header.Set("Authorization", "Bearer "+pgToken("w", w))
				time.Sleep(15 * time.Millisecond) // under the token's rate limit
				resp, err := client.Do(req)
				if err != nil { // the node was killed: not acknowledged, but perhaps committed
					mu.Lock()
					a := acked[id]
					a.later = append(a.later, risk)
					acked[id] = a
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					if resp.StatusCode != http.StatusNotFound { // a PATCH of a PUT that never got through
						t.Errorf("node %d: %s %s answered %d: %s", w, req.Method, id, resp.StatusCode, b)
					}
					continue
				}
				seq, _ := strconv.ParseUint(resp.Header.Get("X-Marketgeo-Seq"), 10, 64)
				mu.Lock()
				if seq > acked[id].seq {
					acked[id] = ack{id: id, risk: risk, seq: seq}
				}
				maxSeq = max(maxSeq, seq)
				mu.Unlock()
				if req.Method == "PUT" {
					mine = append(mine, id)
				}
			}
		}()
	}
	time.Sleep(time.Duration(500+rand.IntN(700)) * time.Millisecond)
	nodes[2].kill()
	time.Sleep(300 * time.Millisecond)
	restarted := startChild(t, "--store", pgURL, "--tokens", tokens)
	nodesMu.Lock()
	nodes[2] = restarted
	nodesMu.Unlock()
	time.Sleep(800 * time.Millisecond)
	close(stop)
	wg.Wait()
	fresh := startChild(t, "--store", pgURL, "--tokens", tokens)
	defer fresh.kill()
	all := append(append([]*child{}, nodes...), fresh)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 20 {
		t.Fatalf("only %d entities written", len(acked))
	}
	t.Logf("%d entities acknowledged, last seq %d", len(acked), maxSeq)
	// every acknowledged write, read on every node with min_seq = its seq
	for _, a := range acked {
		if a.seq == 0 { // never acknowledged
			continue
		}
		for i, n := range all {
			code, body := getBody(t, client, n.base+"/api/v1/entities/"+a.id, a.seq)
			var f struct {
				Properties struct {
					Risk    string
					Version uint64
				}
			}
			_ = json.Unmarshal([]byte(body), &f)
			ok := code == 200 && f.Properties.Risk == a.risk && f.Properties.Version == a.seq
			if !ok && code == 200 && f.Properties.Version > a.seq { // a later write, unanswered but committed
				for _, r := range a.later {
					ok = ok || f.Properties.Risk == r
				}
			}
			if !ok {
				t.Fatalf("node %d: %s after seq %d: %d %s (want risk %s, or one of %v sent later)", i, a.id, a.seq, code, body, a.risk, a.later)
			}
		}
	}
	// the same answers everywhere (each read waits for the last write)
	queries := []string{
		"/api/v1/nearby?lon=106.45&lat=29.6&radius=3000&limit=500",
		"/api/v1/nearby?lon=106.55&lat=29.65&radius=2000&limit=500&risk=C,D",
		"/api/v1/knearest?lon=106.5&lat=29.6&k=50",
		"/api/v1/zones?lon=106.55&lat=29.65",
		"/api/v1/changes?since=0&limit=100000",
		"/tiles/entities/10/814/423.mvt",
		"/tiles/entities/12/3259/1695.mvt",
	}
	for _, q := range queries {
		code, want := getBody(t, client, all[0].base+q, maxSeq)
		if code != 200 || len(want) < 10 {
			t.Errorf("%s: %d %.200s", q, code, want)
		}
		for i, n := range all[1:] {
			if _, got := getBody(t, client, n.base+q, maxSeq); got != want {
				t.Errorf("%s: node %d answers differently from node 0:\n%.300s\nvs\n%.300s", q, i+1, got, want)
			}
		}
	}
	// each node reports its replication: caught up, connected, lag 0
	for i, n := range all {
		_, body := getBody(t, client, n.base+"/readyz", 0)
		var ready struct {
			Replication *struct {
				Applied, Head uint64
				Connected     bool
				LagSeconds    float64 `json:"lag_seconds"`
			}
		}
		if err := json.Unmarshal([]byte(body), &ready); err != nil || ready.Replication == nil {
			t.Fatalf("node %d /readyz: %v %s", i, err, body)
		}
		if r := ready.Replication; !r.Connected || r.Applied < maxSeq || r.Applied != r.Head || r.LagSeconds != 0 {
			t.Errorf("node %d replication %+v, want connected, applied = head ≥ %d, lag 0", i, *r, maxSeq)
		}
		if _, m := getBody(t, client, n.base+"/metrics", 0); !strings.Contains(m, "\nmarketgeo_replication_lag_seconds 0\n") {
			t.Errorf("node %d /metrics has no marketgeo_replication_lag_seconds 0", i)
		}
	}
	// the change log has no gap
	_, log := getBody(t, client, fresh.base+"/api/v1/changes?since=0&limit=100000", maxSeq)
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf(`{"seq":%d,`, i+1)) {
			t.Fatalf("change log line %d: %.80s", i+1, l)
		}
	}
	if uint64(len(lines)) < maxSeq {
		t.Errorf("change log of %d changes, acknowledged seq %d", len(lines), maxSeq)
	}
}
