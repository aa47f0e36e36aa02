package webapp_test

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/webapp"
)

func TestFiles(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "app.css", "crs.js", "vendor/maplibre-gl/maplibre-gl.js"} {
		t.Run(name, func(t *testing.T) {
			b, err := fs.ReadFile(webapp.Files(), name)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) == 0 {
				t.Fatalf("%s is empty", name)
			}
		})
	}
}

// TestVerdicts: the web app names every verdict the address check returns,
// and only those, so that a new verdict cannot reach a clerk as a raw code.
func TestVerdicts(t *testing.T) {
	js, err := fs.ReadFile(webapp.Files(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`const VERDICTS = \{([^}]*)\}`).FindSubmatch(js)
	if table == nil {
		t.Fatal("app.js: no VERDICTS table")
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+): '([^']*)'`).FindAllSubmatch(table[1], -1) {
		got[string(m[1])] = string(m[2])
	}
	tests := []struct {
		verdict addressmatch.Verdict
		label   string
	}{
		{addressmatch.Matched, "地址有效"},
		{addressmatch.Doubtful, "存疑，需实地核查"},
		{addressmatch.Invalid, "不是有效地址"},
		{addressmatch.Outside, "不在本平台管辖范围"},
	}
	for _, tc := range tests {
		t.Run(string(tc.verdict), func(t *testing.T) {
			if l := got[string(tc.verdict)]; l != tc.label {
				t.Errorf("VERDICTS[%q] = %q, want %q", tc.verdict, l, tc.label)
			}
		})
	}
	if len(got) != len(tests) {
		t.Errorf("VERDICTS has %d entries %v, want %d", len(got), got, len(tests))
	}
	css, err := fs.ReadFile(webapp.Files(), "app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		if !regexp.MustCompile(`\.verdict\.` + string(tc.verdict) + `\b`).Match(css) {
			t.Errorf("app.css: no colour for .verdict.%s", tc.verdict)
		}
	}
}
