package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// waitReady waits until the child's search index and address database
// answer (healthz), up to three minutes.
func (c *child) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		var h struct {
			Addresses bool `json:"addresses"`
			Search    struct {
				Ready bool `json:"ready"`
			} `json:"search"`
		}
		if r, err := http.Get(c.base + "/healthz"); err == nil {
			err = json.NewDecoder(r.Body).Decode(&h)
			r.Body.Close()
			if err == nil && h.Addresses && h.Search.Ready {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.kill() // before reading its log
	t.Fatalf("search and addresses not ready after 3 minutes:\n%s", c.log.String())
}

// answers asks the child every search and address check of qs and returns
// the bodies, in order.
func (c *child) answers(t *testing.T, qs []string) []string {
	t.Helper()
	var out []string
	for _, q := range qs {
		r, err := http.Get(c.base + "/api/v1/search?limit=20&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		out = append(out, fmt.Sprintf("search %q: %d %s", q, r.StatusCode, b))
		body, _ := json.Marshal(map[string]string{"address": q})
		r, err = http.Post(c.base+"/api/v1/address/check", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
		out = append(out, fmt.Sprintf("check %q: %d %s", q, r.StatusCode, b))
	}
	return out
}

// write sends a write and fails unless it is acknowledged.
func (c *child) write(t *testing.T, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+crashToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, r.StatusCode, b)
	}
}

// TestRestartFromPersistedIndexes (issue 13 item 6): a server restarted
// on its store, its persisted search index and its saved address parses,
// after writes acknowledged since they were saved and a SIGKILL, answers
// every search and address check exactly as a server that builds both
// from scratch over the same store; and it did restore them (its log
// says so), rather than build.
func TestRestartFromPersistedIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := run([]string{"gen", "--entities", "1500", "--out", data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("write persist-writer "+crashToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every Bleve match re-ranked (search.Options.Candidates): with the
	// default 200, which of many equally scored matches come back depends
	// on the order of the index's segments, which differs between two
	// fresh builds as well.
	conf := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(conf, []byte("server:\n  rate_limit: -1\nsearch:\n  candidates: 50000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "store", "mg.gpkg")
	args := []string{"--config", conf, "--store", storePath, "--tokens", tokens}

	// The queries: names, parts of names and addresses of the region.
	g, _ := geo.New(geo.Options{})
	if _, err := geo.LoadDir(context.Background(), g, data, geo.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	var qs []string
	var ids []string
	i := 0
	g.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if i++; i%60 == 0 {
			r := []rune(e.Name)
			qs = append(qs, e.Name, string(r[len(r)/2:]), e.Address)
			ids = append(ids, e.ID)
		}
		return true
	})

	c := startChild(t, append(args, "--data", data)...)
	c.waitReady(t)
	// the first start saves both once built
	deadline := time.Now().Add(time.Minute)
	for !(exists(storePath+".search/current/manifest") && exists(storePath+".addresses")) {
		if time.Now().After(deadline) {
			c.kill()
			t.Fatalf("nothing saved beside the store:\n%s", c.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Writes after the save, then SIGKILL: renames, moves, deletes, new entities.
	for k, id := range ids {
		switch k % 3 {
		case 0:
			c.write(t, "PATCH", "/api/v1/entities/"+id, fmt.Sprintf(`{"properties":{"name":"重庆市持久改名%d科技有限公司","address":"重庆市渝北区持久测试路%d号"}}`, k, k))
			qs = append(qs, fmt.Sprintf("持久改名%d", k), fmt.Sprintf("重庆市渝北区持久测试路%d号", k))
		case 1:
			c.write(t, "DELETE", "/api/v1/entities/"+id, "")
		}
	}
	for k := range 10 {
		id := crashUSCC(770000 + k)
		c.write(t, "PUT", "/api/v1/entities/"+id, fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[106.5,29.6]},"properties":{"name":"重庆持久新增%d商贸有限公司","address":"重庆市两江新区持久新路%d号","industry":"I6510"}}`, k, k+1))
		qs = append(qs, fmt.Sprintf("持久新增%d", k), fmt.Sprintf("重庆市两江新区持久新路%d号", k+1))
	}
	c.kill()

	restarted := startChild(t, args...)
	restarted.waitReady(t)
	got := restarted.answers(t, qs)
	restarted.kill()
	for _, want := range []string{"search index restored", "address parses read"} {
		if !strings.Contains(restarted.log.String(), want) {
			t.Fatalf("the restart's log lacks %q: it built instead of restoring:\n%s", want, restarted.log.String())
		}
	}
	// The same store without the persisted indexes: both built from scratch.
	for _, p := range []string{storePath + ".search", storePath + ".addresses"} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	fresh := startChild(t, args...)
	fresh.waitReady(t)
	want := fresh.answers(t, qs)
	fresh.kill() // before reading its log, which the child writes into
	if strings.Contains(fresh.log.String(), "search index restored") || strings.Contains(fresh.log.String(), "address parses read") {
		t.Fatalf("the fresh start restored something:\n%s", fresh.log.String())
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("restarted and fresh servers differ:\n restarted %s\n fresh     %s", got[k], want[k])
		}
	}
	t.Logf("%d answers compared", len(want))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
