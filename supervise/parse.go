package supervise

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The request parsers: one JSON object, strictly (unknown fields, wrong
// types and trailing data are errors naming the problem), then the
// request's validation. Each returns an error wrapping ErrInvalidRequest.

func decodeRequest(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return invalid("body", "empty: a JSON object is expected")
	}
	if b[0] != '{' {
		return invalid("body", "not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return invalid(te.Field, "%s is not a JSON %s", te.Value, te.Type)
		case errors.As(err, &se):
			return invalid("body", "malformed JSON at byte %d: %v", se.Offset, se)
		}
		return invalid("body", "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body", "data after the JSON object")
	}
	return nil
}

// ParseSpotCheckRequest parses and validates POST /spotchecks.
func ParseSpotCheckRequest(b []byte) (SpotCheckRequest, error) {
	var r SpotCheckRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	if err := r.validate(); err != nil {
		return r, err
	}
	return r, r.Filter.validate()
}

// ParseTaskRequest parses and validates POST /tasks.
func ParseTaskRequest(b []byte) (TaskRequest, error) {
	var r TaskRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	if err := r.validate(DefaultOptions().MaxTaskEntities); err != nil {
		return r, err
	}
	if r.Target.Filter != nil {
		return r, r.Target.Filter.validate()
	}
	return r, nil
}

// ParseComplaintRequest parses and validates POST /complaints.
func ParseComplaintRequest(b []byte) (ComplaintRequest, error) {
	var r ComplaintRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	return r, r.validate()
}

// ParseIncidentRequest parses and validates POST /incidents.
func ParseIncidentRequest(b []byte) (IncidentRequest, error) {
	var r IncidentRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	return r, r.validate(DefaultOptions().MaxRadiusM)
}

// ParseResultRequest parses and validates a check result.
func ParseResultRequest(b []byte) (ResultRequest, error) {
	var r ResultRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	return r, r.validate()
}

// ParseStatusRequest parses a complaint's status move.
func ParseStatusRequest(b []byte) (StatusRequest, error) {
	var r StatusRequest
	err := decodeRequest(b, &r)
	return r, err
}

// ParseLogStep parses an incident's dispatch step.
func ParseLogStep(b []byte) (LogStep, error) {
	var r LogStep
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	if err := checkText("step", r.Step, maxNameRunes, true); err != nil {
		return r, err
	}
	return r, checkText("note", r.Note, maxTextRunes, false)
}

// VerifyRequest is POST /spotchecks/verify: a stored spot check's ID, or a
// published notice.
type VerifyRequest struct {
	ID     string        `json:"id,omitempty"`
	Notice *PublicNotice `json:"notice,omitempty"`
}

// ParseVerifyRequest parses POST /spotchecks/verify.
func ParseVerifyRequest(b []byte) (VerifyRequest, error) {
	var r VerifyRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	if (r.ID == "") == (r.Notice == nil) {
		return r, invalid("id", "give the id of a stored spot check or a published notice, one of the two")
	}
	return r, nil
}

// ResourcesRequest is POST /resources.
type ResourcesRequest struct {
	Resources []Resource `json:"resources"`
}

// ParseResourcesRequest parses and validates POST /resources.
func ParseResourcesRequest(b []byte) (ResourcesRequest, error) {
	var r ResourcesRequest
	if err := decodeRequest(b, &r); err != nil {
		return r, err
	}
	if len(r.Resources) == 0 {
		return r, invalid("resources", "missing or empty")
	}
	for i := range r.Resources {
		if err := r.Resources[i].Validate(); err != nil {
			return r, fmt.Errorf("resources[%d]: %w", i, err)
		}
	}
	return r, nil
}

// validate checks a filter without an index (the zone is checked when the
// filter is compiled).
func (f Filter) validate() error {
	if len(f.Industries) > maxFilterValues || len(f.Risk) > maxFilterValues || len(f.Statuses) > maxFilterValues {
		return invalid("filter", "at most %d industries, risk classes and statuses", maxFilterValues)
	}
	for _, in := range f.Industries {
		if err := validIndustryPrefix(in); err != nil {
			return err
		}
	}
	if len(f.Polygon) > 0 {
		return validPolygon(f.Polygon)
	}
	return checkText("filter.zone", f.Zone, 100, false)
}
