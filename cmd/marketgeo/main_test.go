package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gen writes a small region; load reads it back and reports the counts;
// a corrupted row is reported, and --strict rejects the file.
func TestGenThenLoad(t *testing.T) {
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if err := run([]string{"gen", "--entities", "800", "--out", dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wrote 800 entities") {
		t.Fatalf("gen said %q", out.String())
	}
	out.Reset()
	if err := run([]string{"load", "--data", dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "loaded 800 entities") {
		t.Fatalf("load said %q", out.String())
	}
	csvPath := filepath.Join(dir, "entities.csv")
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	bad := lines[0] + "\n" + strings.Replace(lines[1], ",", ",BROKEN", 5) + "\n" + lines[2]
	if err := os.WriteFile(csvPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errs.Reset()
	if err := run([]string{"load", "--data", dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "loaded 799 entities") || !strings.Contains(errs.String(), "rejected=1") {
		t.Fatalf("bad row not reported: %q / %q", out.String(), errs.String())
	}
	if err := run([]string{"load", "--data", dir, "--strict"}, &out, &errs); err == nil {
		t.Fatal("--strict accepted a bad row")
	}
	if err := run([]string{"nope"}, &out, &errs); err == nil {
		t.Fatal("unknown command accepted")
	}
}
