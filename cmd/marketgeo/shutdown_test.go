package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM during requests (issue 16): a request in flight when the signal
// comes is answered in full, new connections are refused, the process
// exits cleanly and the store reopens with every acknowledged write.
func TestSigtermFinishesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("write term-writer "+crashToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// a small region, not the 79k demo: seeding the demo (and its
	// departments' tables) under -race on a loaded 2-core machine took
	// longer than startChild waits
	data := filepath.Join(dir, "data")
	if err := run([]string{"gen", "--entities", "1500", "--out", data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "mg.gpkg")
	c := startChild(t, "--store", storePath, "--data", data, "--tokens", tokens)
	auth := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+crashToken)
		return req
	}
	// an acknowledged write
	id := crashUSCC(424242)
	req, _ := http.NewRequest("PUT", c.base+"/api/v1/entities/"+id, strings.NewReader(crashFeature(id, "B", 1)))
	resp, err := http.DefaultClient.Do(auth(req))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("write: %v %v", err, resp)
	}
	resp.Body.Close()
	// a batch large enough to be in flight when the signal comes
	var body strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&body, "[%.5f,29.6]\n", 106.4+float64(i%1000)*1e-4)
	}
	type result struct {
		code  int
		lines int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", c.base+"/api/v1/zones/batch", strings.NewReader(body.String()))
		resp, err := http.DefaultClient.Do(auth(req))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{code: resp.StatusCode, lines: strings.Count(string(b), "\n"), err: err}
	}()
	time.Sleep(150 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.code != 200 || r.lines != 100001 {
		t.Fatalf("the request in flight: %+v\n%s", r, c.log.String())
	}
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, c.log.String())
		}
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		t.Fatalf("no exit 60 s after SIGTERM\n%s", c.log.String())
	}
	if !strings.Contains(c.log.String(), "stopped") {
		t.Fatalf("no clean stop in the log:\n%s", c.log.String())
	}
	// the store reopens with the write
	c2 := startChild(t, "--store", storePath, "--data", data, "--tokens", tokens)
	defer c2.kill()
	req, _ = http.NewRequest("GET", c2.base+"/api/v1/entities/"+id, nil)
	resp, err = http.DefaultClient.Do(auth(req))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the restart: %v %v", err, resp)
	}
	resp.Body.Close()
}
