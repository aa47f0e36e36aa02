package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
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

// statusOf maps an error to its HTTP status: the one table of the server.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadParam),
		errors.Is(err, geo.ErrInvalidQuery), errors.Is(err, geo.ErrInvalidCoordinate),
		errors.Is(err, geo.ErrUnknownLayer), errors.Is(err, geo.ErrInvalidUSCC),
		errors.Is(err, geo.ErrInvalidGeometry), errors.Is(err, geo.ErrInvalidFeature),
		errors.Is(err, crs.ErrUnknownCRS):
		return http.StatusBadRequest
	case errors.Is(err, errNotFound), errors.Is(err, geo.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errTooLarge), errors.Is(err, geo.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return 499 // client closed the request
	}
	return http.StatusInternalServerError
}

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
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
