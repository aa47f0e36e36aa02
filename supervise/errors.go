package supervise

import "errors"

// Sentinel errors; the server maps them to HTTP statuses.
var (
	// ErrInvalidRequest: a request's content is wrong (400); the message
	// names the field.
	ErrInvalidRequest = errors.New("supervise: invalid request")
	// ErrNotFound: no spot check, task, complaint or incident with that ID.
	ErrNotFound = errors.New("supervise: not found")
	// ErrTransition: a complaint's status cannot move that way (409).
	ErrTransition = errors.New("supervise: invalid status transition")
	// ErrForbidden: the caller may not do this (an inspector marking an
	// entity of another inspector's part).
	ErrForbidden = errors.New("supervise: not allowed")
	// ErrNotReady: the service has no store attached yet (503).
	ErrNotReady = errors.New("supervise: not ready")
)

// invalid wraps ErrInvalidRequest with a message naming the field.
func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: sprintf(format, args...)}
}

// FieldError is an invalid request naming its field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "supervise: " + e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalidRequest.
func (e *FieldError) Unwrap() error { return ErrInvalidRequest }
