package server

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestReqInfoDeadlineActsAsWithDeadline: the request timeout a reqInfo
// carries without a timer (dispatch) behaves as the context.WithDeadline
// it replaces, the oracle here, run beside it on the same parent:
// Deadline, Err before and after the deadline, Done, contexts derived
// from it, AfterFunc, and the parent's cancellation.
func TestReqInfoDeadlineActsAsWithDeadline(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, c := range []struct {
		name        string
		askDone     bool // ask for Done before the deadline (makes the timer)
		derive      bool // derive a context with context.WithCancel
		cancelFirst bool // cancel the parent before the deadline
	}{
		{"err only", false, false, false},
		{"done", true, false, false},
		{"derived", false, true, false},
		{"parent cancelled", false, false, true},
		{"parent cancelled, done", true, false, true},
		{"parent cancelled, derived", false, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			d := time.Now().Add(timeout)
			oracle, cancelOracle := context.WithDeadline(parent, d)
			defer cancelOracle()
			ri := &reqInfo{Context: parent}
			ri.setDeadline(d)
			defer ri.stop()
			var got context.Context = ri
			if ri.Value(reqInfoKey{}) != ri {
				t.Fatal("Value(reqInfoKey{}) is not the reqInfo")
			}
			if gd, ok := got.Deadline(); !ok || !gd.Equal(d) {
				t.Fatalf("Deadline = %v, %v; want %v, true", gd, ok, d)
			}
			// never done before the deadline (a loaded machine may already be past it)
			if err := got.Err(); err != nil && time.Now().Before(d) {
				t.Fatalf("Err before the deadline = %v", err)
			}
			var derived context.Context
			var derivedOracle context.Context
			if c.derive {
				var cancel, cancelO context.CancelFunc
				derived, cancel = context.WithCancel(got)
				defer cancel()
				derivedOracle, cancelO = context.WithCancel(oracle)
				defer cancelO()
			}
			var done <-chan struct{}
			if c.askDone {
				done = got.Done()
			}
			fired := make(chan struct{})
			stop := context.AfterFunc(got, func() { close(fired) })
			defer stop()
			if c.cancelFirst {
				cancelParent()
			}
			<-oracle.Done()
			if !c.cancelFirst {
				time.Sleep(time.Millisecond) // past d on any clock reading
			}
			if done == nil {
				done = got.Done()
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Done not closed after the oracle's")
			}
			if !errors.Is(got.Err(), oracle.Err()) || got.Err() == nil {
				t.Fatalf("Err = %v, want the oracle's %v", got.Err(), oracle.Err())
			}
			if c.derive {
				select {
				case <-derived.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("a derived context is not cancelled")
				}
				<-derivedOracle.Done()
				if !errors.Is(derived.Err(), derivedOracle.Err()) {
					t.Fatalf("derived Err = %v, want %v", derived.Err(), derivedOracle.Err())
				}
				if !errors.Is(context.Cause(derived), context.Cause(derivedOracle)) {
					t.Fatalf("derived Cause = %v, want %v", context.Cause(derived), context.Cause(derivedOracle))
				}
			}
			select {
			case <-fired:
			case <-time.After(5 * time.Second):
				t.Fatal("AfterFunc not called")
			}
		})
	}
}

// TestReqInfoWithoutDeadline: without a request timeout (the live
// streams) the reqInfo is its parent's context, and an earlier parent
// deadline wins over a later request timeout.
func TestReqInfoWithoutDeadline(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ri := &reqInfo{Context: parent}
	if _, ok := ri.Deadline(); ok {
		t.Fatal("a deadline without setDeadline")
	}
	if ri.Done() != parent.Done() {
		t.Fatal("Done is not the parent's")
	}
	cancel()
	if !errors.Is(ri.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want Canceled", ri.Err())
	}
	ri.stop() // no timer made: nothing to release

	early := time.Now().Add(time.Hour)
	p2, cancel2 := context.WithDeadline(context.Background(), early)
	defer cancel2()
	ri2 := &reqInfo{Context: p2}
	ri2.setDeadline(early.Add(time.Hour))
	if d, ok := ri2.Deadline(); !ok || !d.Equal(early) {
		t.Fatalf("Deadline = %v, %v; want the parent's %v", d, ok, early)
	}
	ri3 := &reqInfo{Context: p2}
	late := early.Add(-30 * time.Minute)
	ri3.setDeadline(late)
	if d, ok := ri3.Deadline(); !ok || !d.Equal(late) {
		t.Fatalf("Deadline = %v, %v; want the request's %v", d, ok, late)
	}
}

// TestAppendOutPointMatchesOutPoint: the zones answer's location, written
// without allocating, is outPoint's value as encoding/json writes it, for
// random points in every CRS and for no point.
func TestAppendOutPointMatchesOutPoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 22))
	for i := range 20000 {
		var p orb.Point
		if i > 0 {
			p = orb.Point{105 + r.Float64()*5, 28 + r.Float64()*4}
		}
		c := crsNames[r.IntN(len(crsNames))]
		want, err := json.Marshal(outPoint(p, c))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendOutPoint(nil, p, c); string(got) != string(want) {
			t.Fatalf("%v in %s: %s, want %s", p, c, got, want)
		}
	}
}
