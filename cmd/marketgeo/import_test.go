package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestImportCommand runs `marketgeo import` on a GBK CSV against a store
// seeded from a generated data directory: the summary, the feedback
// workbook (read back with excelize), and a second run that changes
// nothing (the store's sequence number is the same).
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	if err := run([]string{"gen", "--entities", "1500", "--out", data}, &out, &out); err != nil {
		t.Fatalf("gen: %v\n%s", err, out.String())
	}
	ds, err := demo.Generate(demo.Options{Entities: 1500}) // the same region gen wrote
	if err != nil {
		t.Fatal(err)
	}
	a, b := ds.Entities[3], ds.Entities[4]
	csv := "统一社会信用代码,企业名称,住所,处罚日期,处罚内容\r\n" +
		strings.ToLower(a.ID) + "," + a.Name + "," + a.Address + ",2026-01-05,罚款\r\n" +
		"," + b.Name + "," + b.Address + ",2026-01-06,警告\r\n" +
		",重庆查无此企业商贸有限公司,重庆市渝北区无名路1号,2026-01-07,罚款\r\n\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "penalties.csv")
	if err := os.WriteFile(table, []byte(gbk), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.gpkg")
	fb := filepath.Join(dir, "feedback.xlsx")
	args := []string{"import", "--store", store, "--data", data, "--dept", "市场监管局", "--kind", "penalty", "--feedback", fb, table}
	out.Reset()
	if err := run(args, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	first := out.String()
	for _, want := range []string{"3 rows (gb18030", "attached (new or changed records): 2", "by USCC 1", "by name+address 1", "unmatched: 1"} {
		if !strings.Contains(first, want) {
			t.Errorf("summary lacks %q:\n%s", want, first)
		}
	}
	f, err := excelize.OpenFile(fb)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Sheet1")
	f.Close()
	if err != nil || len(rows) < 4 {
		t.Fatalf("feedback rows %v %v", rows, err)
	}
	if rows[0][9] != "状态" || rows[1][5] != a.ID || rows[1][9] != "attached" || rows[2][5] != b.ID || rows[3][9] != "unmatched" {
		t.Fatalf("feedback:\n%v", rows)
	}
	seq := regexp.MustCompile(`store at seq (\d+)`)
	out.Reset()
	if err := run(args, &out, &out); err != nil {
		t.Fatalf("second import: %v\n%s", err, out.String())
	}
	if s1, s2 := seq.FindStringSubmatch(first), seq.FindStringSubmatch(out.String()); s1 == nil || s2 == nil || s1[1] != s2[1] || !strings.Contains(out.String(), "unchanged (already stored): 2") {
		t.Fatalf("the second import changed the store:\n%s\n%s", first, out.String())
	}
}
