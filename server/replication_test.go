package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// TestMinSeq: a read with X-Marketgeo-Min-Seq (or ?min_seq=) answers once
// the store has applied that sequence number: at once when it has, after
// the write when one comes during the wait, 503 with Retry-After when none
// comes in time, 400 for a value that is not a number.
func TestMinSeq(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	seq := f.st.Seq()
	path := "/api/v1/nearby?lon=106.55&lat=29.65&radius=100"
	cases := []struct {
		name   string
		hdr    map[string]string
		query  string
		write  bool // a write commits 100 ms into the wait
		status int
	}{
		{"applied already (header)", map[string]string{"X-Marketgeo-Min-Seq": strconv.FormatUint(seq, 10)}, "", false, http.StatusOK},
		{"applied already (query)", nil, "&min_seq=" + strconv.FormatUint(seq, 10), false, http.StatusOK},
		{"zero", nil, "&min_seq=0", false, http.StatusOK},
		{"the next write arrives during the wait", map[string]string{"X-Marketgeo-Min-Seq": strconv.FormatUint(seq+1, 10)}, "", true, http.StatusOK},
		{"not a number", map[string]string{"X-Marketgeo-Min-Seq": "12x"}, "", false, http.StatusBadRequest},
		{"negative", nil, "&min_seq=-1", false, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.write {
				go func() {
					time.Sleep(100 * time.Millisecond)
					e := geo.Entity{ID: validUSCC(777), Name: "重庆等待测试有限公司", Location: orb.Point{106.55, 29.65}, Industry: "I6510", Status: geo.StatusActive, Risk: geo.RiskA}
					if _, err := f.st.Apply(context.Background(), "t", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
						t.Error(err)
					}
				}()
			}
			start := time.Now()
			rec, body := send(f.h, "GET", path+c.query, "", c.hdr)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, c.status, body)
			}
			if c.write && time.Since(start) < 80*time.Millisecond {
				t.Errorf("answered after %s, before the write it waited for", time.Since(start))
			}
			if c.status == http.StatusBadRequest && body["error"] == nil {
				t.Errorf("no error named: %v", body)
			}
		})
	}
	// nothing comes: 503 after the bounded wait (the request's deadline
	// bounds it below the 5 s default)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", path, nil)
	req.Header.Set("X-Marketgeo-Min-Seq", strconv.FormatUint(f.st.Seq()+5, 10))
	rec := httptest.NewRecorder()
	start := time.Now()
	if !f.h.(*Server).awaitMinSeq(rec, req) && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("behind: status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("waited %s, want about the request's 300 ms", d)
	}
}
