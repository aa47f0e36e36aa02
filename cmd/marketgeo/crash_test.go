package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// TestMain lets the crash test run this test binary as the server: with
// MARKETGEO_CHILD_ARGS set it is `marketgeo` with those arguments.
func TestMain(m *testing.M) {
	if args := os.Getenv("MARKETGEO_CHILD_ARGS"); args != "" {
		if err := run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "marketgeo:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type child struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// crashToken is the write token of the crash test's clients.
const crashToken = "crash-test-write-token-0123456789"

// startChild starts `marketgeo serve` on the store and waits until it
// answers (geo queries: the address and search engines may still build).
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	addr := freeAddr(t)
	args = append([]string{"serve", "--addr", addr}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MARKETGEO_CHILD_ARGS="+strings.Join(args, "\x1f"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, base: "http://" + addr, log: &log}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(c.base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("server did not start:\n%s", log.String())
	return nil
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

func crashUSCC(i int) string {
	first := fmt.Sprintf("91500000%09d", i)
	ch, _ := geo.USCCCheckChar(first)
	return first + string(ch)
}

func crashFeature(id string, risk string, i int) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,29.6]},"properties":{"id":%q,"name":"重庆崩溃测试%d有限公司","risk":%q,"industry":"I6510"}}`,
		106.4+float64(i%1000)*1e-4, id, i, risk)
}

// a write the client sent: acked when the server answered 2xx.
type sent struct {
	ids   []string
	risk  string
	bulk  bool
	acked bool
	seq   uint64
}

// TestCrashRecovery SIGKILLs a server in the middle of a stream of single
// and bulk writes, several times, and checks after each restart that every
// acknowledged write is there with its content, that a bulk is there
// entirely or not at all, and that the change log has no gap.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := run([]string{"gen", "--entities", "1500", "--out", data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "store", "mg.gpkg")
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("write crash-writer "+crashToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// no rate limit: the writers may outrun the binary's default
	conf := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(conf, []byte("server:\n  rate_limit: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", conf, "--store", storePath, "--data", data, "--tokens", tokens}
	rng := rand.New(rand.NewPCG(20261207, 1))
	next := 0 // the next entity number
	var history []*sent
	// last holds, per id, the writes of it in the order sent.
	last := map[string][]*sent{}
	client := &http.Client{Timeout: 10 * time.Second}
	for round := range 4 {
		c := startChild(t, args...)
		verify(t, c, history, last)
		// eight writers, each with its own ids, one request at a time: the
		// server commits the requests that arrive together as one group
		// (one transaction, one fsync), the SIGKILL may fall in any of them
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			base := next + w*100000
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				var mine []string
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					s := &sent{risk: string("ABCD"[r.IntN(4)])}
					var req *http.Request
					switch x := r.IntN(10); {
					case x < 3: // a bulk of new entities
						var body strings.Builder
						for j := range 40 {
							id := crashUSCC(base + k*100 + j)
							s.ids = append(s.ids, id)
							body.WriteString(crashFeature(id, s.risk, base+k*100+j) + "\n")
						}
						s.bulk = true
						req, _ = http.NewRequest("POST", c.base+"/api/v1/entities/bulk", strings.NewReader(body.String()))
					case x < 6 && len(mine) > 0: // a patch of one of ours
						id := mine[r.IntN(len(mine))]
						s.ids = []string{id}
						req, _ = http.NewRequest("PATCH", c.base+"/api/v1/entities/"+id, strings.NewReader(`{"properties":{"risk":"`+s.risk+`"}}`))
					default: // a new entity
						id := crashUSCC(base + k*100)
						s.ids = []string{id}
						req, _ = http.NewRequest("PUT", c.base+"/api/v1/entities/"+id, strings.NewReader(crashFeature(id, s.risk, base+k*100)))
					}
					mu.Lock()
					history = append(history, s)
					for _, id := range s.ids {
						last[id] = append(last[id], s)
					}
					mu.Unlock()
					req.Header.Set("Authorization", "Bearer "+crashToken)
					resp, err := client.Do(req)
					if err != nil {
						return // the server died: this write stays unacknowledged
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						t.Errorf("write answered %d: %s", resp.StatusCode, b)
						return
					}
					seq, _ := strconv.ParseUint(resp.Header.Get("X-Marketgeo-Seq"), 10, 64)
					mu.Lock()
					s.acked, s.seq = true, seq
					mu.Unlock()
					if !s.bulk {
						mine = append(mine, s.ids[0])
					} else {
						mine = append(mine, s.ids...)
					}
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
		c.kill()
		close(stop)
		wg.Wait()
		next += 1000000
		acked := 0
		for _, s := range history {
			if s.acked {
				acked++
			}
		}
		t.Logf("round %d: %d writes sent, %d acknowledged in all", round, len(history), acked)
	}
	c := startChild(t, args...)
	defer c.kill()
	verify(t, c, history, last)
}

// verify checks the restarted server against what the clients sent.
func verify(t *testing.T, c *child, history []*sent, last map[string][]*sent) {
	t.Helper()
	get := func(path string) (int, []byte, http.Header) {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+crashToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header
	}
	risk := map[string]string{}
	exists := func(id string) bool {
		if _, ok := risk[id]; ok {
			return true
		}
		code, b, _ := get("/api/v1/entities/" + id)
		if code == 404 {
			return false
		}
		var f struct {
			Properties map[string]any `json:"properties"`
		}
		if code != 200 || json.Unmarshal(b, &f) != nil {
			t.Fatalf("GET %s: %d %s", id, code, b)
		}
		risk[id] = fmt.Sprint(f.Properties["risk"])
		return true
	}
	// every id: present if any acked write created it; its risk is that of
	// the last acked write or of a later unacknowledged one
	for id, ws := range last {
		lastAcked := -1
		for i, s := range ws {
			if s.acked {
				lastAcked = i
			}
		}
		if lastAcked < 0 {
			continue // checked below through its bulk, if any
		}
		if !exists(id) {
			t.Fatalf("acknowledged %s (seq %d) lost after the crash", id, ws[lastAcked].seq)
		}
		ok := false
		for _, s := range ws[lastAcked:] {
			if risk[id] == s.risk {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("%s has risk %s, not that of its last acknowledged write (%s)", id, risk[id], ws[lastAcked].risk)
		}
	}
	// a bulk is all or nothing
	for _, s := range history {
		if !s.bulk {
			continue
		}
		n := 0
		for _, id := range s.ids {
			if exists(id) {
				n++
			}
		}
		if n != 0 && n != len(s.ids) {
			t.Fatalf("half a bulk after the crash: %d of %d (acked %v)", n, len(s.ids), s.acked)
		}
		if s.acked && n == 0 {
			t.Fatalf("acknowledged bulk (seq %d) lost", s.seq)
		}
	}
	// the change log: 1..N without a gap, N the server's sequence
	var seq uint64
	for {
		code, b, hdr := get(fmt.Sprintf("/api/v1/changes?since=%d&limit=50000", seq))
		if code != 200 {
			t.Fatalf("changes: %d %s", code, b)
		}
		lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
		if len(b) == 0 {
			head, _ := strconv.ParseUint(hdr.Get("X-Marketgeo-Seq"), 10, 64)
			if head != seq {
				t.Fatalf("change log ends at %d, the server's sequence is %d", seq, head)
			}
			break
		}
		for _, l := range lines {
			var ch struct {
				Seq uint64 `json:"seq"`
			}
			if err := json.Unmarshal(l, &ch); err != nil {
				t.Fatal(err)
			}
			if ch.Seq != seq+1 {
				t.Fatalf("gap in the change log: %d after %d", ch.Seq, seq)
			}
			seq = ch.Seq
		}
	}
	for _, s := range history {
		if s.acked && s.seq > seq {
			t.Fatalf("acknowledged seq %d is past the log's end %d", s.seq, seq)
		}
	}
}
