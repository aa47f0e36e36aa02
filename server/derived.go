package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// Derived flags (issue 17): an entity's annual_report, abnormal and
// blacklisted flags follow its department records wherever records say
// (exchange.DerivedFlags). A write through the API that sets one against
// the records is refused, naming the flag and the record kind that would
// change it, so that the flags and the records can never disagree. A write
// that agrees is made conditional on the entity's version it was checked
// against (unless the client gave its own If-Match), and checked again if
// another write (a record import re-deriving the flags) came first.

// derivedRetries bounds the re-checks of a write whose entity changed
// between the check and the commit.
const derivedRetries = 5

// flagRecords names, per derived flag, the record kinds that change it.
var flagRecords = map[string]string{
	"annual_report": "an annual_report record",
	"abnormal":      "an abnormal_entry or abnormal_removal record",
	"blacklisted":   "a blacklist_entry or blacklist_removal record",
}

// derivedError is the refusal of a write that sets flags against the
// records.
func derivedError(id string, names []string) error {
	how := make([]string, len(names))
	for i, n := range names {
		how[i] = flagRecords[n]
	}
	return fmt.Errorf("%w: entity %q: properties.%s disagree with its department records, from which they are derived: import %s instead (GET /api/v1/entities/%s?include=records_summary shows the values the records imply)",
		store.ErrInvalidWrite, id, strings.Join(names, ", properties."), strings.Join(how, ", or "), id)
}

// checkDerived checks the entity writes of ws against the records (no-op
// without the exchange). Writes it checked and the client left without a
// precondition get IfVersion of the version checked; guarded reports
// whether any did (a conflict then means: check again).
func (s *Server) checkDerived(ws []store.Write) (guarded []bool, err error) {
	x := s.deps.Exchange
	if x == nil {
		return nil, nil
	}
	snap := s.deps.Index.Snapshot()
	guarded = make([]bool, len(ws))
	for i := range ws {
		w := &ws[i]
		e, ok := w.Feature.(*geo.Entity)
		if !ok || w.Layer != geo.LayerEntities {
			continue
		}
		f := x.Flags(w.ID)
		if bad := f.Disagree(e); len(bad) > 0 {
			return nil, derivedError(w.ID, bad)
		}
		if f.AnnualReport == nil && f.Abnormal == nil && f.Blacklisted == nil {
			continue // no record says: nothing to keep
		}
		if w.IfVersion == 0 && !w.IfAbsent {
			if cur, ok := snap.Entity(w.ID); ok {
				w.IfVersion, guarded[i] = cur.Version, true
			}
		}
	}
	return guarded, nil
}

// applyChecked commits ws (PUT, bulk) after checkDerived, and checks
// again (up to derivedRetries times) when a write it guarded met a newer
// version of its entity; a conflict on the client's own If-Match is the
// client's.
func (s *Server) applyChecked(ctx context.Context, st *store.Store, writer string, ws []store.Write) (store.Result, error) {
	own := make([]uint64, len(ws))
	for i := range ws {
		own[i] = ws[i].IfVersion
	}
	for attempt := 0; ; attempt++ {
		for i := range ws {
			ws[i].IfVersion = own[i]
		}
		guarded, err := s.checkDerived(ws)
		if err != nil {
			return store.Result{}, err
		}
		res, err := st.Apply(ctx, writer, ws)
		var we *store.WriteError
		if err == nil || attempt >= derivedRetries || !errors.Is(err, store.ErrConflict) || !errors.As(err, &we) ||
			we.Index < 0 || we.Index >= len(guarded) || !guarded[we.Index] {
			return res, err
		}
	}
}

// patchDerived checks a merge patch's flags against the records: the flags
// it sets must agree (flags it leaves alone keep their values, which
// follow the records). It returns the version to patch (the client's
// If-Match, or the version checked when the patch sets a derived flag).
func (s *Server) patchDerived(layer geo.Layer, id string, patch []byte, ifVersion uint64) (uint64, bool, error) {
	x := s.deps.Exchange
	if x == nil || layer != geo.LayerEntities {
		return ifVersion, false, nil
	}
	var p struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(patch, &p) != nil || len(p.Properties) == 0 {
		return ifVersion, false, nil // the store says what is wrong with it
	}
	f := x.Flags(id)
	derived := map[string]*bool{"annual_report": f.AnnualReport, "abnormal": f.Abnormal, "blacklisted": f.Blacklisted}
	var bad []string
	touched := false
	for _, name := range []string{"annual_report", "abnormal", "blacklisted"} {
		raw, ok := p.Properties[name]
		if !ok || derived[name] == nil {
			continue
		}
		touched = true
		var v *bool // null removes the flag: false
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // not a boolean: the store refuses it
		}
		if (v != nil && *v) != *derived[name] {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		return 0, false, derivedError(id, bad)
	}
	if !touched || ifVersion != 0 {
		return ifVersion, false, nil
	}
	cur, ok := s.deps.Index.Snapshot().Entity(id)
	if !ok {
		return ifVersion, false, nil // the store answers 404
	}
	return cur.Version, true, nil
}
