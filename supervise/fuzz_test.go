package supervise

import (
	"encoding/json"
	"errors"
	"testing"
)

// fuzzParser checks a parser: never a panic; an error is always an invalid
// request; an accepted request re-encodes and parses again to the same.
func fuzzParser[T any](f *testing.F, seeds []string, parse func([]byte) (T, error)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("%q: error %v is not an invalid request", b, err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%q: accepted but does not re-encode: %v", b, err)
		}
		v2, err := parse(again)
		if err != nil {
			t.Fatalf("%q accepted, its re-encoding %s refused: %v", b, again, err)
		}
		a, _ := json.Marshal(v2)
		if string(a) != string(again) {
			t.Fatalf("round trip: %s vs %s", again, a)
		}
	})
}

func FuzzSpotCheckRequest(f *testing.F) {
	fuzzParser(f, []string{
		`{"items": ["食品经营许可检查"], "filter": {"industries": ["H62"], "risk": ["B","C","D"], "zone": "G1"}, "sample": 50, "seed": 20261207, "inspectors_per_entity": 2, "exclude_own_grid": true}`,
		`{"items":["a"],"ratio":0.1,"departments":["a","b"],"inspectors":[{"name":"x","dept":"a"}]}`,
		`{"items":["a"],"sample":1,"filter":{"polygon":[[[1,1],[2,1],[2,2],[1,1]]]}}`,
		`{"items":[],"sample":-1}`, `[]`, `{"items":["a"],"sample":1}x`,
	}, ParseSpotCheckRequest)
}

func FuzzComplaintRequest(f *testing.F) {
	fuzzParser(f, []string{
		`{"hotline": "12315", "text": "无证经营", "address": "重庆市江北区港城西路60号"}`,
		`{"hotline":"12358","text":"价格","lon":106.5,"lat":29.6,"uscc":"91500112MA5U7G4K3U"}`,
		`{"hotline":"12331","text":"x","entity_name":"重庆某某餐饮有限公司"}`, `{"hotline":12315}`,
	}, ParseComplaintRequest)
}

func FuzzTaskRequest(f *testing.F) {
	fuzzParser(f, []string{
		`{"title": "燃气安全", "target": {"zone": "ST500105005"}, "deadline": "2027-01-31"}`,
		`{"title":"t","target":{"filter":{"industries":["H"]}},"deadline":"2027-01-31","kind":"survey"}`,
		`{"title":"t","target":{"entities":["91500112MA5U7G4K3U"]},"deadline":"2027-02-30"}`,
	}, ParseTaskRequest)
}

func FuzzIncidentRequest(f *testing.F) {
	fuzzParser(f, []string{
		`{"kind": "fire", "lon": 106.57, "lat": 29.61, "radius": 500}`,
		`{"kind":"flood","polygon":[[[106.5,29.6],[106.6,29.6],[106.6,29.7],[106.5,29.6]]]}`,
		`{"kind":"fire","lon":1e400}`,
	}, ParseIncidentRequest)
}

func FuzzVerifyRequest(f *testing.F) {
	fuzzParser(f, []string{`{"id":"SC-20261207-00000000"}`, `{"notice":{"id":"x","sample":3,"seed":1,"entities":[{"entity_id":"a","inspectors":["b"]}]}}`}, ParseVerifyRequest)
}
