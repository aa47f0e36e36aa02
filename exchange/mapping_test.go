package exchange_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/marketgeo/marketgeo/exchange"
)

// TestExampleMappings: the documented examples parse.
func TestExampleMappings(t *testing.T) {
	files, _ := filepath.Glob("testdata/mappings/*.yaml")
	if len(files) < 3 {
		t.Fatalf("%d example mappings, want 3", len(files))
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := exchange.ParseMapping(r)
		r.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if m.Dept == "" || m.Kind == "" || (m.Columns.USCC == "" && m.Columns.Name == "") {
			t.Errorf("%s: %+v", f, m)
		}
	}
}
