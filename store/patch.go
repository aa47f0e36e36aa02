package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/geojson"
)

// maxPatchRetries bounds the retries of a patch without a client version
// that lost a race to another write.
const maxPatchRetries = 8

// Patch applies an RFC 7396 JSON merge patch to the GeoJSON Feature of one
// feature (as [FeatureOf] renders it: {"type", "id", "geometry",
// "properties"}), validates the result like any write and stores it. With
// ifVersion > 0 the feature must be at that version (ErrConflict
// otherwise); without, the patch applies to the version it read, retried
// when another write comes first, so that no concurrent change is lost. A
// patch that changes the id, or is not a JSON object, fails with
// ErrInvalidWrite. It returns the result and the feature's new state.
func (s *Store) Patch(ctx context.Context, writer string, layer geo.Layer, id string, patch []byte, ifVersion uint64, opts geo.LoadOptions) (Result, any, error) {
	if _, err := geo.ParseLayer(string(layer)); err != nil {
		return Result{}, nil, err
	}
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return Result{}, nil, fmt.Errorf("%w: the patch is not JSON: %v", ErrInvalidWrite, err)
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return Result{}, nil, fmt.Errorf("%w: a merge patch of a feature must be a JSON object", ErrInvalidWrite)
	}
	if opts.MaxVertices == 0 {
		opts.MaxVertices = s.opts.MaxVertices
	}
	for attempt := 0; ; attempt++ {
		cur, ok := s.ix.Snapshot().Feature(layer, id)
		if !ok {
			return Result{}, nil, fmt.Errorf("%w: %s %q", ErrNotFound, layer, id)
		}
		ver := VersionOf(cur)
		if ifVersion > 0 && ver != ifVersion {
			return Result{}, nil, fmt.Errorf("%w: %s %q is at version %d, not %d", ErrConflict, layer, id, ver, ifVersion)
		}
		nv, err := patchFeature(layer, id, cur, pm, opts)
		if err != nil {
			return Result{}, nil, err
		}
		res, err := s.Apply(ctx, writer, []Write{{Layer: layer, ID: id, Feature: nv, IfVersion: ver, IfExists: true}})
		if err == nil {
			return res, res.Features[0], nil
		}
		if ifVersion > 0 || !errors.Is(err, ErrConflict) {
			return Result{}, nil, err
		}
		if attempt >= maxPatchRetries {
			return Result{}, nil, fmt.Errorf("%w: %s %q, %d attempts", ErrBusy, layer, id, attempt+1)
		}
	}
}

func patchFeature(layer geo.Layer, id string, cur any, patch map[string]any, opts geo.LoadOptions) (any, error) {
	b, err := json.Marshal(FeatureOf(cur))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWrite, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWrite, err)
	}
	out, _ := mergePatch(doc, patch).(map[string]any)
	if out == nil {
		return nil, fmt.Errorf("%w: the patch removes the whole feature", ErrInvalidWrite)
	}
	if v, ok := out["id"]; ok && fmt.Sprint(v) != id {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "id", Reason: "a PATCH cannot change the id", Err: ErrInvalidWrite}
	}
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	if v, ok := props["id"]; ok && fmt.Sprint(v) != id {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "id", Reason: "a PATCH cannot change the id", Err: ErrInvalidWrite}
	}
	props["id"] = id
	delete(props, "version")
	out["properties"] = props
	out["id"] = id
	nb, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWrite, err)
	}
	f, err := geojson.UnmarshalFeature(nb)
	if err != nil {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "geometry", Reason: err.Error(), Err: geo.ErrInvalidGeometry}
	}
	return geo.ParseFeature(layer, f, opts)
}

// mergePatch applies an RFC 7396 merge patch to target.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

// DecodeFeature decodes one GeoJSON Feature of layer (a PUT body) with
// the loaders' validation. id, when not empty, is the ID the feature must
// have (it is taken as the feature's ID when the feature has none).
func DecodeFeature(layer geo.Layer, id string, body []byte, opts geo.LoadOptions) (any, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "feature", Reason: "the body must be a GeoJSON Feature object", Err: geo.ErrInvalidFeature}
	}
	f, err := geojson.UnmarshalFeature(body)
	if err != nil {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "feature", Reason: err.Error(), Err: geo.ErrInvalidFeature}
	}
	if f.Type != "Feature" {
		return nil, &geo.FieldError{Index: -1, ID: id, Field: "type", Reason: fmt.Sprintf("%q, want Feature", f.Type), Err: geo.ErrInvalidFeature}
	}
	if id != "" {
		got := ""
		if v, ok := f.Properties["id"]; ok && v != nil {
			got = fmt.Sprint(v)
		} else if f.ID != nil {
			got = fmt.Sprint(f.ID)
		}
		if got != "" && got != id {
			return nil, &geo.FieldError{Index: -1, ID: id, Field: "id", Reason: fmt.Sprintf("the feature's id %q differs from the id %q of the URL", got, id), Err: ErrInvalidWrite}
		}
		if f.Properties == nil {
			f.Properties = geojson.Properties{}
		}
		f.Properties["id"] = id
	}
	return geo.ParseFeature(layer, f, opts)
}
