package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func csvOf(rows [][]string) []byte {
	var b bytes.Buffer
	if err := exchange.WriteCSV(&b, rows); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TestImportAttachesAndIsIdempotent imports a penalty table (codes with
// dirt, a row by name and address, a row of an entity that does not
// exist, a duplicate) and checks each row against the dataset it was made
// from, the flags, the change log, a re-import, and a restarted store.
func TestImportAttachesAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.gpkg")
	w := newWorld(t, path, 2000, exchange.Options{})
	es := w.ds.Entities
	e0, e1, e2, e3 := es[10], es[20], es[30], es[40]
	lower := strings.ToLower(e0.ID[:9]) + " " + e0.ID[9:]
	full := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			return r + 0xFEE0
		}
		return r
	}, e1.ID)
	rows := [][]string{
		{"行政处罚信息公示表"},
		{"序号", "统一社会信用代码", "企业名称", "住所", "处罚决定书文号", "处罚日期", "处罚内容"},
		{"1", lower, e0.Name, e0.Address, "渝市监罚〔2026〕1号", "2026-03-01", "罚款5000元"},
		{"2", full, e1.Name, e1.Address, "渝市监罚〔2026〕2号", "45352", "警告"}, // Excel's serial 45292 is 2024-01-01
		{"3", "", e2.Name, e2.Address, "渝市监罚〔2026〕3号", "2026/3/5", "罚款"},
		{"4", "", "重庆不存在的某某某某公司", "重庆市渝北区无此路1号", "渝市监罚〔2026〕4号", "2026年3月6日", "罚款"},
		{"5", lower, e0.Name, e0.Address, "渝市监罚〔2026〕1号", "2026-03-01", "罚款5000元"},
		{"6", e3.ID, e3.Name, e3.Address, "渝市监罚〔2026〕6号", "not a date", "罚款"},
		{"", "", "", "", "", "", ""},
		{"", "", "", "", "", "", ""},
	}
	m, err := exchange.ParseMapping(strings.NewReader("columns:\n  key: 处罚决定书文号\n"))
	if err != nil {
		t.Fatal(err)
	}
	seq0 := w.st.Seq()
	rep, tbl, err := w.ex.ReadAndImport(ctx, bytes.NewReader(csvOf(rows)), "penalties.csv", exchange.ImportOptions{Dept: "市场监管局", Kind: "行政处罚", Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	if rep.HeaderRow != 2 || rep.Rows != 6 || rep.Encoding != "utf-8-bom" {
		t.Fatalf("report %+v", rep)
	}
	want := map[int]struct {
		status exchange.Status
		entity string
		method string
	}{
		3: {exchange.StatusAttached, e0.ID, exchange.MethodUSCC},
		4: {exchange.StatusAttached, e1.ID, exchange.MethodUSCC},
		5: {exchange.StatusAttached, e2.ID, exchange.MethodNameAddress},
		6: {exchange.StatusUnmatched, "", ""},
		7: {exchange.StatusDuplicate, e0.ID, exchange.MethodUSCC},
		8: {exchange.StatusRejected, "", ""},
	}
	for _, o := range rep.Outcomes {
		wnt, ok := want[o.Row]
		if !ok {
			t.Errorf("outcome for row %d", o.Row)
			continue
		}
		if o.Status != wnt.status || o.EntityID != wnt.entity || o.Method != wnt.method {
			t.Errorf("row %d: %s %s %s (%s), want %+v", o.Row, o.Status, o.EntityID, o.Method, o.Reason, wnt)
		}
	}
	if rep.Attached != 3 || w.ex.Len() != 3 {
		t.Fatalf("attached %d, stored %d, want 3", rep.Attached, w.ex.Len())
	}
	recs, err := w.ex.Records(ctx, e1.ID, exchange.Filter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("records of %s: %v %v", e1.ID, recs, err)
	}
	if r := recs[0]; r.Date != "2024-03-01" || r.Kind != exchange.KindPenalty || r.Fields["处罚内容"] != "警告" || r.Source.Row != 4 || r.Source.Key != "渝市监罚〔2026〕2号" {
		t.Fatalf("record %+v", r)
	}
	// the change log has the records, after the seq before
	ch, err := w.st.Changes(ctx, seq0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range ch {
		if c.Layer == exchange.Collection {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d record changes in the log, want 3", n)
	}
	// feedback: every data row has its status
	fb := exchange.Feedback(tbl, rep)
	if got := fb[1][len(fb[1])-2]; got != "状态" {
		t.Fatalf("feedback header %v", fb[1])
	}
	if got := fb[2][7]; got != e0.ID || fb[5][11] != "unmatched" || fb[7][11] != "rejected" {
		t.Fatalf("feedback rows %v / %v / %v", fb[2], fb[5], fb[7])
	}
	// the same file again: nothing changes
	seq := w.st.Seq()
	rep2, _, err := w.ex.ReadAndImport(ctx, bytes.NewReader(csvOf(rows)), "penalties-again.csv", exchange.ImportOptions{Dept: "市场监管局", Kind: "penalty", Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	if w.st.Seq() != seq || rep2.Attached != 0 || rep2.Unchanged != 3 {
		t.Fatalf("re-import: seq %d → %d, %+v", seq, w.st.Seq(), rep2)
	}
	// a restarted store has the same records
	sum, err := w.ex.Summarize(ctx, e0.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.st.Close()
	w2 := newWorld(t, path, 2000, exchange.Options{})
	sum2, err := w2.ex.Summarize(ctx, e0.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w2.ex.Len() != 3 || sum2.Total != 1 || sum2.Latest[exchange.KindPenalty].ID != sum.Latest[exchange.KindPenalty].ID {
		t.Fatalf("after restart: %d records, summary %+v", w2.ex.Len(), sum2)
	}
}

// TestFlagsDerivedInTheSameCommit: an abnormal-list entry sets the flag, a
// later removal clears it; the record and the flag change share a commit.
func TestFlagsDerivedInTheSameCommit(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", 500, exchange.Options{})
	var e geo.Entity
	for _, c := range w.ds.Entities {
		if !c.Abnormal && !c.Blacklisted {
			e = c
			break
		}
	}
	imp := func(kind, date string) *exchange.Report {
		rows := [][]string{{"统一社会信用代码", "企业名称", "列入日期"}, {e.ID, e.Name, date}}
		rep, _, err := w.ex.ReadAndImport(ctx, bytes.NewReader(csvOf(rows)), "a.csv", exchange.ImportOptions{Dept: "市场监管局", Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	flag := func() bool {
		v, _ := w.ix.Snapshot().Feature(geo.LayerEntities, e.ID)
		return v.(*geo.Entity).Abnormal
	}
	seq := w.st.Seq()
	rep := imp("abnormal_entry", "2025-05-01")
	if !flag() || rep.FlagsChanged != 1 {
		t.Fatalf("after an entry: abnormal %v, %+v", flag(), rep)
	}
	ch, _ := w.st.Changes(ctx, seq, 10)
	if len(ch) != 2 || ch[0].Seq != seq+1 || ch[1].Seq != seq+2 || ch[0].Time != ch[1].Time || ch[0].Layer == ch[1].Layer || w.st.Seq() != seq+2 {
		t.Fatalf("changes %+v", ch)
	}
	imp("abnormal_removal", "2025-09-01")
	if flag() {
		t.Fatal("still abnormal after a later removal")
	}
	imp("abnormal_entry", "2024-01-01") // an older entry does not set it again
	if flag() {
		t.Fatal("an older entry set the flag")
	}
	sum, err := w.ex.Summarize(ctx, e.ID)
	if err != nil || sum.Flags.Abnormal == nil || *sum.Flags.Abnormal || sum.ByKind[exchange.KindAbnormalEntry] != 2 {
		t.Fatalf("summary %+v %v", sum, err)
	}
}

// TestXLSXDirt: a workbook with a merged two-row header, Excel dates,
// lower-case codes and trailing empty rows; a GBK CSV; an English header.
func TestXLSXDirt(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", 500, exchange.Options{})
	es := w.ds.Entities
	f := excelize.NewFile()
	sh := "Sheet1"
	f.SetCellValue(sh, "A1", "企业信息")
	f.MergeCell(sh, "A1", "B1")
	f.SetCellValue(sh, "C1", "检查日期")
	f.MergeCell(sh, "C1", "C2")
	f.SetCellValue(sh, "D1", "检查结果")
	f.MergeCell(sh, "D1", "D2")
	f.SetCellValue(sh, "A2", "统一社会信用代码")
	f.SetCellValue(sh, "B2", "企业名称")
	for i := 0; i < 3; i++ {
		r := i + 3
		f.SetCellValue(sh, fmt.Sprintf("A%d", r), strings.ToLower(es[i].ID))
		f.SetCellValue(sh, fmt.Sprintf("B%d", r), es[i].Name)
		f.SetCellValue(sh, fmt.Sprintf("C%d", r), 46000+i) // a serial date: 46001 is 2025-12-10 (45292 is 2024-01-01)
		f.SetCellValue(sh, fmt.Sprintf("D%d", r), "合格")
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetCellStyle(sh, "A9", "D12", style) // formatted but empty rows
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rep, _, err := w.ex.ReadAndImport(ctx, &buf, "inspections.xlsx", exchange.ImportOptions{Dept: "应急管理局", Kind: "inspection"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.HeaderRow != 2 || rep.Rows != 3 || rep.Attached != 3 || rep.Columns["date"] != "检查日期" {
		t.Fatalf("report %+v %+v", rep, rep.Outcomes)
	}
	recs, _ := w.ex.Records(ctx, es[1].ID, exchange.Filter{Kind: exchange.KindInspection})
	if len(recs) != 1 || recs[0].Date != "2025-12-10" || recs[0].Fields["检查结果"] != "合格" {
		t.Fatalf("records %+v", recs)
	}
	// GBK, English header
	rows := [][]string{{"Credit Code", "Company Name", "Address", "Date", "Amount"}, {es[5].ID, es[5].Name, es[5].Address, "2026-01-02", "12.5"}}
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\r\n")
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err = w.ex.ReadAndImport(ctx, bytes.NewReader(gbk), "tax.csv", exchange.ImportOptions{Dept: "税务局", Kind: "tax"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encoding != "gb18030" || rep.Attached != 1 {
		t.Fatalf("GBK: %+v %+v", rep, rep.Outcomes)
	}
	recs, _ = w.ex.Records(ctx, es[5].ID, exchange.Filter{Dept: "税务局"})
	if len(recs) != 1 || recs[0].Fields["Amount"] != "12.5" {
		t.Fatalf("GBK records %+v", recs)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", 200, exchange.Options{})
	cases := []struct {
		name string
		data string
		opts exchange.ImportOptions
		want error
	}{
		{"no header", "a,b\n1,2\n", exchange.ImportOptions{Dept: "d", Kind: "tax"}, exchange.ErrBadTable},
		{"unknown kind", "统一社会信用代码\nx\n", exchange.ImportOptions{Dept: "d", Kind: "poetry"}, exchange.ErrUnknownKind},
		{"no kind", "统一社会信用代码\nx\n", exchange.ImportOptions{Dept: "d"}, exchange.ErrUnknownKind},
		{"bad dept", "统一社会信用代码\nx\n", exchange.ImportOptions{Dept: "a:b", Kind: "tax"}, exchange.ErrInvalidRecord},
		{"broken zip", "PK\x03\x04garbage", exchange.ImportOptions{Dept: "d", Kind: "tax"}, exchange.ErrBadTable},
		{"a UTF-8 BOM before bytes that are not UTF-8", "\xef\xbb\xbf统一社会信用代码\n\xe8\n", exchange.ImportOptions{Dept: "d", Kind: "tax"}, exchange.ErrBadTable},
		{"mapping names a missing column", "统一社会信用代码\nx\n", exchange.ImportOptions{Dept: "d", Kind: "tax", Mapping: &exchange.Mapping{Columns: exchange.Columns{Name: "名字"}}}, exchange.ErrBadMapping},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seq := w.st.Seq()
			_, _, err := w.ex.ReadAndImport(ctx, strings.NewReader(c.data), "t.csv", c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if w.st.Seq() != seq {
				t.Fatal("a rejected import wrote")
			}
		})
	}
	for _, m := range []string{"colums:\n  uscc: a\n", "kind: poetry\n", "header_row: -1\n", "columns:\n  fields:\n    a: ''\n"} {
		if _, err := exchange.ParseMapping(strings.NewReader(m)); !errors.Is(err, exchange.ErrBadMapping) {
			t.Errorf("mapping %q: %v", m, err)
		}
	}
	// a record written past the exchange is validated by the collection
	_, err := w.st.Apply(ctx, "x", []store.Write{{Layer: exchange.Collection, ID: "d:0000000000000000", Feature: []byte(`{"id":"d:0000000000000000","entity_id":"bad"}`)}})
	if !errors.Is(err, exchange.ErrInvalidRecord) {
		t.Fatalf("a bad record through the store: %v", err)
	}
	_ = os.Getenv
}
