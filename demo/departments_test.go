package demo

import (
	"reflect"
	"strings"
	"testing"
)

func TestDepartmentTables(t *testing.T) {
	ds, err := Generate(Options{Entities: 3000})
	if err != nil {
		t.Fatal(err)
	}
	a, b := DepartmentTables(ds, DeptOptions{}), DepartmentTables(ds, DeptOptions{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the tables differ between two runs with the same seed")
	}
	ids := map[string]bool{}
	for _, e := range ds.Entities {
		ids[e.ID] = true
	}
	depts, formats := map[string]bool{}, map[string]bool{}
	var lower, ghosts, rows int
	for _, tb := range a {
		depts[tb.Dept] = true
		formats[tb.Charset+strings.ToLower(tb.File[strings.LastIndexByte(tb.File, '.'):])] = true
		for _, r := range tb.Rows {
			rows++
			for _, c := range r {
				if len(c) == 18 && ids[strings.ToUpper(c)] && c != strings.ToUpper(c) {
					lower++
				}
				if strings.Contains(c, "查无") {
					ghosts++
				}
			}
		}
	}
	if len(depts) < 5 || !formats["gbk.csv"] || !formats[".xlsx"] || !formats["utf-8-bom.csv"] {
		t.Fatalf("departments %v, formats %v", depts, formats)
	}
	if lower == 0 || ghosts == 0 || rows < 1000 {
		t.Fatalf("%d rows, %d lower-case codes, %d rows of entities that do not exist", rows, lower, ghosts)
	}
}
