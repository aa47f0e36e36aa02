// Package archtest checks the import direction of the module's packages
// (CONVENTIONS.md §2): geo ← zoneid, addressmatch, search ← tiles ← server ← cmd.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/marketgeo/marketgeo/"

// allowed lists, for each package of the module, the module packages it may
// import directly. cmd/*, examples/* and benchmarks (with its programs,
// benchmarks/*) may import any library.
var allowed = map[string][]string{
	"geo":             {"geo/crs"},
	"geo/crs":         {},
	"geo/region":      {},
	"internal/cntext": {},
	"demo":            {"geo", "geo/crs", "geo/region"},
	"zoneid":          {"geo", "geo/crs"},
	"addressmatch":    {"geo", "geo/crs", "geo/region", "internal/cntext"},
	"search":          {"geo", "geo/crs", "geo/region", "internal/cntext"},
	"tiles":           {"geo", "geo/crs", "zoneid", "search"},
	"store":           {"geo"},
	// The PostgreSQL/PostGIS backend of the store (issue 20).
	"store/postgres": {"geo", "store"},
	// The department data exchange (issue 17): records on the store,
	// matched through search and addressmatch.
	"exchange": {"geo", "store", "search", "addressmatch", "internal/cntext"},
	// Supervision operations (issue 19): spot checks, tasks, complaints,
	// incidents and inboxes on the store; results as exchange records.
	"supervise": {"geo", "geo/crs", "geo/region", "store", "search", "addressmatch", "internal/cntext", "zoneid", "exchange"},
	// Risk classes, early warnings and the building economy (issue 18):
	// rules over entities and their exchange records, classes written
	// through the store.
	"risk": {"geo", "store", "exchange"},
	// The JSON answer writer (issue 22): features of geo hits, straight into bytes.
	"geojsonw": {"geo", "geo/crs"},
	"server":   {"geo", "geo/crs", "geo/region", "zoneid", "addressmatch", "search", "tiles", "internal/cntext", "store", "geojsonw", "exchange", "risk", "supervise"},
	// The regulator's web app is embedded files only: the server serves
	// them through Deps.WebMap, so it imports nothing of ours.
	"webapp": {},
}

// only lists third-party or standard packages that one package alone may import.
var only = map[string]string{
	"github.com/blevesearch/bleve/v2": "search",
	"github.com/gorilla/mux":          "server",
	"net/http":                        "server",
	// The answers' Content-Encoding (issue 22).
	"github.com/klauspost/compress/zstd": "server",
	"github.com/klauspost/compress/gzip": "server",
	// The configuration file (server.FileConfig, CONVENTIONS §3.9) and the
	// exchange's mapping files are the YAML of the library; cmd/* may use it too.
	"gopkg.in/yaml.v3": "server exchange risk",
	// Department tables: Excel workbooks and GBK text.
	"github.com/xuri/excelize/v2":                  "exchange",
	"golang.org/x/text/encoding/simplifiedchinese": "exchange",
	// Durability is the store's alone: no other library package opens a database.
	"modernc.org/sqlite": "store",
	"database/sql":       "store",
	// Metrics are the server's (issue 16): /metrics, a registry per server.
	"github.com/prometheus/client_golang/prometheus":          "server",
	"github.com/prometheus/client_golang/prometheus/promhttp": "server",
	// PostgreSQL is the postgres backend's alone (issue 20).
	"github.com/jackc/pgx/v5":        "store/postgres",
	"github.com/jackc/pgx/v5/pgconn": "store/postgres",
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", mod+"...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imps, _ := strings.Cut(line, "|")
		rel := strings.TrimPrefix(pkg, mod)
		seen[rel] = true
		free := strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "examples/") || rel == "benchmarks" || strings.HasPrefix(rel, "benchmarks/") || rel == "internal/archtest"
		allow, known := allowed[rel]
		if !known && !free {
			t.Errorf("package %s has no entry in the import table: add one", rel)
			continue
		}
		for _, imp := range strings.Split(imps, ",") {
			if imp == "" {
				continue
			}
			// examples and commands are programs, never libraries: the
			// web app a command serves lives in webapp/, not examples/.
			if tgt := strings.TrimPrefix(imp, mod); tgt != imp && (strings.HasPrefix(tgt, "examples/") || strings.HasPrefix(tgt, "cmd/")) {
				t.Errorf("%s imports %s: examples/ and cmd/ hold programs, not libraries", rel, tgt)
			}
			if owner, ok := only[imp]; ok && !slices.Contains(strings.Fields(owner), rel) && !free {
				t.Errorf("%s imports %s, which only %s may import", rel, imp, owner)
			}
			if !strings.HasPrefix(imp, mod) || free {
				continue
			}
			target := strings.TrimPrefix(imp, mod)
			ok := false
			for _, a := range allow {
				if a == target {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s against the flow (allowed: %v)", rel, target, allow)
			}
		}
	}
	for rel := range allowed {
		if !seen[rel] {
			t.Errorf("package %s of the table was not listed by go list", rel)
		}
	}
}
