package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// writeDeptTables writes the demo's department tables into dir as the
// departments would send them: workbooks with a merged title row and
// dates as Excel serial numbers, CSV in UTF-8, UTF-8 with a BOM or GBK.
func writeDeptTables(dir string, tables []demo.DeptTable) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range tables {
		var buf bytes.Buffer
		if filepath.Ext(t.File) == ".xlsx" {
			f := excelize.NewFile()
			sh := "Sheet1"
			width := 0
			for i, r := range t.Rows {
				width = max(width, len(r))
				for j, c := range r {
					cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
					if n, err := strconv.Atoi(c); err == nil && slices.Contains(t.DateCols, j) {
						f.SetCellValue(sh, cell, n)
					} else {
						f.SetCellValue(sh, cell, c)
					}
				}
			}
			if t.MergeTitle && width > 1 {
				end, _ := excelize.CoordinatesToCellName(width, 1)
				f.MergeCell(sh, "A1", end)
			}
			if _, err := f.WriteTo(&buf); err != nil {
				return err
			}
			f.Close()
		} else {
			if err := exchange.WriteCSV(&buf, t.Rows); err != nil {
				return err
			}
			b := buf.Bytes()
			switch t.Charset {
			case "utf-8":
				b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
			case "gbk":
				enc, err := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
				if err != nil {
					return fmt.Errorf("%s: %w", t.File, err)
				}
				b = enc
			}
			buf.Reset()
			buf.Write(b)
		}
		if err := os.WriteFile(filepath.Join(dir, t.File), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// demoRecordsKey marks a store whose demo department tables were
// imported; seededKey says what a new store was seeded with ("demo").
const (
	demoRecordsKey = "demo_records"
	seededKey      = "seeded"
)

// importDemoRecords imports the demo's department tables into a store
// seeded with the embedded demo, once (the store remembers it), so that
// the map shows records out of the box. It reports whether it imported
// (or began to).
func importDemoRecords(ctx context.Context, ex *exchange.Exchange, st *store.Store, log *slog.Logger) (bool, error) {
	if seeded, err := st.Backend().Meta(ctx, seededKey); err != nil || seeded != "demo" {
		return false, err // a store of the user's data: no demo records in it
	}
	if done, err := st.Backend().Meta(ctx, demoRecordsKey); err != nil || done != "" {
		return false, err
	}
	t0 := time.Now()
	var ents []geo.Entity
	var planted []geo.Entity // demo.Plant's: their own tables, not drawn into the others
	st.Index().Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.Attrs[demo.PlantedAttr] != "" {
			planted = append(planted, *e)
		} else {
			ents = append(ents, *e)
		}
		return true
	})
	sort.Slice(ents, func(i, j int) bool { return ents[i].ID < ents[j].ID })
	total := 0
	for _, dt := range append(demo.DepartmentTables(&demo.Dataset{Entities: ents}, demo.DeptOptions{}), demo.PlantedTables(planted)...) {
		t := &exchange.Table{Name: dt.File, Encoding: "demo"}
		for i, r := range dt.Rows {
			t.Rows = append(t.Rows, exchange.Row{N: i + 1, Cells: r})
		}
		rep, err := ex.Import(ctx, t, exchange.ImportOptions{Dept: dt.Dept, Kind: dt.Kind, Writer: "import:demo"})
		if err != nil {
			return true, fmt.Errorf("demo records %s: %w", dt.File, err)
		}
		total += rep.Attached
		log.Info("demo department table imported", "file", dt.File, "rows", rep.Rows, "attached", rep.Attached, "unmatched", rep.Unmatched, "ambiguous", rep.Ambiguous, "rejected", rep.Rejected)
	}
	log.Info("demo records imported", "records", total, "took", time.Since(t0).Round(time.Millisecond))
	return true, st.Backend().SetMeta(ctx, demoRecordsKey, time.Now().UTC().Format(time.RFC3339))
}
