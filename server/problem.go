package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
)

// errBadParam marks a malformed or out-of-range request parameter.
var errBadParam = errors.New("bad parameter")

// errNotFound marks a resource that does not exist.
var errNotFound = errors.New("not found")

// errTooLarge marks a request body or field over its limit.
var errTooLarge = errors.New("too large")

// errUnavailable marks a dependency that is not configured or not ready.
var errUnavailable = errors.New("unavailable")

func badParam(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadParam, fmt.Sprintf(format, args...))
}

// statusOf maps an error to its HTTP status through the one table of the
// server: the server's own classes and the sentinels of every package it
// serves, tested with errors.Is, first match wins; anything else is a 500.
// Handlers return the packages' errors as they are (their text is the
// message); no handler maps errors itself and nothing matches error text.
func statusOf(err error) int {
	for _, row := range statusTable() {
		for _, e := range row.errs {
			if errors.Is(err, e) {
				return row.status
			}
		}
	}
	return http.StatusInternalServerError
}

// statusRow is one row of the table: the status of the errors.
type statusRow struct {
	status int
	errs   []error
}

// statusTable is the error → status table (a function: nothing mutable at
// package level).
func statusTable() []statusRow {
	return []statusRow{
		{http.StatusBadRequest, []error{errBadParam,
			geo.ErrInvalidQuery, geo.ErrInvalidCoordinate, geo.ErrUnknownLayer, geo.ErrInvalidUSCC,
			geo.ErrInvalidGeometry, geo.ErrInvalidFeature, geo.ErrInvalidIndustry, crs.ErrUnknownCRS,
			search.ErrEmptyQuery, search.ErrInvalidQuery,
			tiles.ErrOutOfRange, tiles.ErrInvalidFilter,
			addressmatch.ErrEmpty, addressmatch.ErrTooLong, store.ErrInvalidWrite,
			exchange.ErrInvalidRecord, exchange.ErrUnknownKind, exchange.ErrBadTable, exchange.ErrBadMapping,
			risk.ErrInvalidRules, risk.ErrInvalidOverride, risk.ErrInvalidQuery}},
		{http.StatusBadRequest, []error{supervise.ErrInvalidRequest}},
		{http.StatusUnauthorized, []error{errUnauthorized}},
		{http.StatusForbidden, []error{errForbidden, supervise.ErrForbidden}},
		{http.StatusConflict, []error{supervise.ErrTransition}},
		{http.StatusNotFound, []error{supervise.ErrNotFound}},
		{http.StatusServiceUnavailable, []error{supervise.ErrNotReady}},
		{http.StatusPreconditionFailed, []error{store.ErrConflict}},
		{http.StatusConflict, []error{store.ErrBusy}},
		{http.StatusNotFound, []error{errNotFound, search.ErrNoPlace, geo.ErrNotFound, store.ErrNotFound, tiles.ErrUnknownLayer, zoneid.ErrUnknownGrid, addressmatch.ErrNotFound, risk.ErrNotFound}},
		{http.StatusRequestEntityTooLarge, []error{errTooLarge, geo.ErrTooLarge, store.ErrTooLarge, tiles.ErrTooLarge, exchange.ErrTooLarge}},
		{http.StatusServiceUnavailable, []error{errUnavailable, store.ErrUnavailable, store.ErrClosed, exchange.ErrNotAttached, risk.ErrNotStarted,
			search.ErrNotReady, search.ErrClosed, tiles.ErrClosed, zoneid.ErrNoGeocoder, zoneid.ErrClosed}},
		{http.StatusGatewayTimeout, []error{context.DeadlineExceeded}},
		{499, []error{context.Canceled}}, // client closed the request
	}
}

// maxErrorBytes caps the text of an error answer.
const maxErrorBytes = 1000

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes {"error": msg} with the status of err. Internal errors
// are logged and their text is not shown to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	// An error never echoes much of the request back (a 100 KB path or
	// parameter): its text is cut at maxErrorBytes.
	body := map[string]string{"error": truncateString(err.Error(), maxErrorBytes)}
	if status == http.StatusInternalServerError {
		id := requestID(r)
		s.log.Error("request failed", "id", id, "method", r.Method, "path", truncateString(r.URL.Path, 200), "err", err)
		body = map[string]string{"error": "internal error", "request_id": id}
	}
	writeJSON(w, status, body)
}
