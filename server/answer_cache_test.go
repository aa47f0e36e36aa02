package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

// getRaw answers a GET to h (no token).
func getRaw(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// featureProps returns the properties of the feature with the id in a
// FeatureCollection answer (nil when it is not there).
func featureProps(t *testing.T, body []byte, id string) map[string]any {
	t.Helper()
	var fc struct {
		Features []struct {
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatalf("answer %.200s: %v", body, err)
	}
	for _, f := range fc.Features {
		if f.ID == id {
			return f.Properties
		}
	}
	return nil
}

// TestCachedAnswersFollowWrites: the nearby and knearest answers of a
// server with the cache of encoded features are the same
// bytes as those of a server without it over the same index, on random
// queries of every shape, before and after writes; and after a PATCH, a
// PUT and a DELETE the answer shows the entity as written (its new name
// and risk as the index holds them; gone once deleted), though its old
// feature was cached.
func TestCachedAnswersFollowWrites(t *testing.T) {
	f := newWriteServer(t, ":memory:") // the writes go through f.h
	cached, err := NewServer(Deps{Index: f.idx}, Options{AnswerCacheBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewServer(Deps{Index: f.idx}, Options{AnswerCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if cached.feats == nil || plain.feats != nil {
		t.Fatal("AnswerCacheBytes does not choose the cache")
	}
	r := rand.New(rand.NewPCG(22, 1))
	shapes := []string{"", "&fields=id", "&fields=id,name,risk", "&format=ids", "&count_only=true", "&crs=gcj02", "&risk=C,D", "&limit=7"}
	same := func(stage string, n int) {
		t.Helper()
		for range n {
			e := &f.ds.Entities[r.IntN(len(f.ds.Entities))]
			p := e.Location
			shape := shapes[r.IntN(len(shapes))]
			for _, target := range []string{
				fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=%d%s", p[0], p[1], 50+r.IntN(400), shape),
				fmt.Sprintf("/api/v1/knearest?lon=%v&lat=%v&k=%d%s", p[0], p[1], 1+r.IntN(40), shape),
			} {
				got, want := getRaw(cached, target), getRaw(plain, target)
				if got.Code != http.StatusOK || want.Code != http.StatusOK {
					t.Fatalf("%s %s: status %d and %d", stage, target, got.Code, want.Code)
				}
				if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
					t.Fatalf("%s %s: with the cache\n%.400s\nwithout\n%.400s", stage, target, got.Body.Bytes(), want.Body.Bytes())
				}
			}
		}
	}
	same("cold", 60)
	if cached.feats.Len() == 0 {
		t.Fatal("the answers cached no feature")
	}
	same("warm", 60)

	// an entity whose feature is in the cache (its full nearby answer written)
	e := &f.ds.Entities[17]
	near := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=100", e.Location[0], e.Location[1])
	if featureProps(t, getRaw(cached, near).Body.Bytes(), e.ID) == nil {
		t.Fatalf("%s is not in its own nearby answer", e.ID)
	}
	check := func(stage string, wantName string, wantRisk string) {
		t.Helper()
		got, want := getRaw(cached, near), getRaw(plain, near)
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("after %s: the answers with and without the cache differ", stage)
		}
		p := featureProps(t, got.Body.Bytes(), e.ID)
		cur, ok := f.idx.Snapshot().Entity(e.ID)
		switch {
		case wantName == "":
			if p != nil || ok {
				t.Fatalf("after %s: the deleted entity is still answered (%v) or held (%v)", stage, p, ok)
			}
		case p == nil || !ok:
			t.Fatalf("after %s: the entity is not answered (%v) or not held (%v)", stage, p, ok)
		case p["name"] != wantName || p["risk"] != wantRisk || p["name"] != cur.Name || p["risk"] != string(cur.Risk) ||
			p["version"] != float64(cur.Version):
			t.Fatalf("after %s: answered %v %v v%v, want %q %q (the index: %q %q v%d)", stage, p["name"], p["risk"], p["version"],
				wantName, wantRisk, cur.Name, cur.Risk, cur.Version)
		}
	}
	rec, _ := send(f.h, "PATCH", "/api/v1/entities/"+e.ID, `{"properties":{"name":"重庆市缓存失效测试有限公司","risk":"D"}}`,
		map[string]string{"Content-Type": "application/merge-patch+json"})
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body.String())
	}
	check("PATCH", "重庆市缓存失效测试有限公司", "D")
	rec, _ = send(f.h, "PUT", "/api/v1/entities/"+e.ID, entityJSON(e.ID, "重庆市缓存替换测试有限公司", e.Address, e.Location[0], e.Location[1]), nil)
	if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body.String())
	}
	check("PUT", "重庆市缓存替换测试有限公司", "C")
	rec, _ = send(f.h, "DELETE", "/api/v1/entities/"+e.ID, "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body.String())
	}
	check("DELETE", "", "")
	same("after the writes", 60)
}
