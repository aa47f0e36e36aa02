package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// DeptTable is a department's table as a department would send it to the
// exchange (issue 17): rows of text with the dirt real tables have —
// codes missing or written in lower case, with spaces or in full width,
// names with a wrong character, old addresses, rows of entities that do
// not exist, duplicate rows, a title row above the header, Excel serial
// dates, trailing empty rows.
type DeptTable struct {
	// Dept is the department.
	Dept string
	// Kind is the records' kind (exchange kinds: penalty, tax …).
	Kind string
	// File is the file name to write it as (.xlsx or .csv).
	File string
	// Charset of a CSV: "utf-8", "utf-8-bom" or "gbk".
	Charset string
	// MergeTitle: the first row is a title to merge across the header's
	// width (Excel tables).
	MergeTitle bool
	// DateCols are the columns (0-based) holding Excel serial dates (xlsx:
	// written as numbers).
	DateCols []int
	// Rows are the rows, the title and header included.
	Rows [][]string
}

// DeptOptions configure [DepartmentTables]. Zero values mean the defaults.
type DeptOptions struct {
	// Seed makes the tables deterministic. Default 20261207.
	Seed uint64
	// Scale multiplies the tables' sizes. Default 1 (about 24,000 rows
	// over 79,000 entities).
	Scale float64
}

// excelSerial is the Excel (1900 system) serial number of a date.
func excelSerial(t time.Time) int {
	return int(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

type deptGen struct {
	r  *rand.Rand
	es []geo.Entity
}

// dirtyCode writes a code the way departments do (or leaves it out).
func (g *deptGen) code(e *geo.Entity, missing float64) string {
	x := g.r.Float64()
	switch {
	case x < missing:
		return ""
	case x < missing+0.05:
		return strings.ToLower(e.ID)
	case x < missing+0.08:
		return e.ID[:6] + " " + e.ID[6:]
	case x < missing+0.10:
		return strings.Map(func(r rune) rune {
			if r < 0x7f && r > ' ' {
				return r + 0xFEE0
			}
			return r
		}, e.ID)
	}
	return e.ID
}

var typoChars = []rune("金银鑫森源达兴盛华瑞祥")

// name writes an entity's name, now and then with a wrong character.
func (g *deptGen) name(e *geo.Entity) string {
	if g.r.Float64() < 0.03 {
		rs := []rune(e.Name)
		if len(rs) > 6 {
			i := 2 + g.r.IntN(len(rs)-6)
			rs[i] = typoChars[g.r.IntN(len(typoChars))]
		}
		return string(rs)
	}
	return e.Name
}

// address writes an entity's address, now and then an old one.
func (g *deptGen) address(e *geo.Entity) string {
	if g.r.Float64() < 0.05 {
		return g.es[g.r.IntN(len(g.es))].Address
	}
	return e.Address
}

func (g *deptGen) date(from, to time.Time) time.Time {
	d := int(to.Sub(from).Hours() / 24)
	return from.AddDate(0, 0, g.r.IntN(max(1, d)))
}

// ghost is a row of an entity that does not exist.
func (g *deptGen) ghost() (string, string) {
	e := g.es[g.r.IntN(len(g.es))]
	rs := []rune(e.Name)
	if len(rs) > 6 {
		rs[2], rs[3] = '查', '无'
	}
	return string(rs), "重庆市渝北区不存在路" + strconv.Itoa(1+g.r.IntN(500)) + "号"
}

// DepartmentTables generates the demo's department tables from its
// entities: market supervision penalties and licences (xlsx), the
// abnormal list and annual reports, tax (GBK CSV), social insurance (CSV
// with a BOM), emergency-management inspections without codes (xlsx) and
// economic output (CSV). Entities flagged abnormal, blacklisted or with an
// annual report get the records that say so (the exchange derives the
// flags from them).
func DepartmentTables(ds *Dataset, opts DeptOptions) []DeptTable {
	if opts.Seed == 0 {
		opts.Seed = 20261207
	}
	if opts.Scale == 0 {
		opts.Scale = 1
	}
	g := &deptGen{r: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)), es: ds.Entities}
	if len(g.es) == 0 {
		return nil
	}
	n := func(k int) int { return max(1, int(float64(k)*opts.Scale*float64(len(g.es))/79000)) }
	pick := func() *geo.Entity { return &g.es[g.r.IntN(len(g.es))] }
	y2024, y2026 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var out []DeptTable

	// market supervision: penalties (xlsx, title row, serial dates)
	pen := DeptTable{Dept: "市场监督管理局", Kind: "penalty", File: "市场监管局_行政处罚.xlsx", MergeTitle: true, DateCols: []int{5}}
	pen.Rows = [][]string{{"重庆两江新区市场监督管理局行政处罚信息公示"}, {"序号", "统一社会信用代码", "企业名称", "住所", "处罚决定书文号", "处罚日期", "违法行为类型", "处罚内容", "罚没金额（万元）"}}
	acts := []string{"虚假宣传", "销售过期食品", "无照经营", "未按规定公示年报", "价格违法", "商标侵权"}
	for i := 0; i < n(3000); i++ {
		e := pick()
		d := g.date(y2024, y2026)
		row := []string{strconv.Itoa(i + 1), g.code(e, 0.15), g.name(e), g.address(e), fmt.Sprintf("渝两江市监罚〔%d〕%d号", d.Year(), 1000+i), strconv.Itoa(excelSerial(d)),
			acts[g.r.IntN(len(acts))], []string{"警告", "罚款", "没收违法所得并罚款"}[g.r.IntN(3)], fmt.Sprintf("%.1f", float64(1+g.r.IntN(500))/10)}
		if g.r.Float64() < 0.03 {
			row[2], row[3] = g.ghost()
			row[1] = ""
		}
		pen.Rows = append(pen.Rows, row)
		if g.r.Float64() < 0.02 {
			pen.Rows = append(pen.Rows, append([]string(nil), row...)) // sent twice
		}
	}
	pen.Rows = append(pen.Rows, []string{}, []string{})
	out = append(out, pen)

	// market supervision: licences with their expiry
	lic := DeptTable{Dept: "市场监督管理局", Kind: "licence", File: "市场监管局_食品经营许可.xlsx", DateCols: []int{4, 5}}
	lic.Rows = [][]string{{"统一社会信用代码", "企业名称", "经营场所", "许可证编号", "发证日期", "有效期至", "许可项目"}}
	for i := 0; i < n(4000); i++ {
		e := pick()
		d := g.date(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), y2026)
		lic.Rows = append(lic.Rows, []string{g.code(e, 0.05), g.name(e), g.address(e), fmt.Sprintf("JY1500112%08d", 100000+i),
			strconv.Itoa(excelSerial(d)), strconv.Itoa(excelSerial(d.AddDate(5, 0, -1))), []string{"预包装食品销售", "热食类食品制售", "保健食品销售"}[g.r.IntN(3)]})
	}
	out = append(out, lic)

	// market supervision: the abnormal list, the blacklist, annual reports (CSV)
	ab := DeptTable{Dept: "市场监督管理局", Kind: "", File: "市场监管局_信用监管.csv", Charset: "utf-8"}
	ab.Rows = [][]string{{"统一社会信用代码", "企业名称", "记录类型", "日期", "原因"}}
	for i := range g.es {
		e := &g.es[i]
		switch {
		case e.Abnormal:
			ab.Rows = append(ab.Rows, []string{e.ID, e.Name, "列入经营异常名录", g.date(y2024, y2026).Format("2006/1/2"), "未按规定报送年度报告"})
			if e.Blacklisted {
				ab.Rows = append(ab.Rows, []string{e.ID, e.Name, "列入严重违法失信名单", g.date(y2024, y2026).Format("2006-01-02"), "列入经营异常名录届满3年仍未履行"})
			}
		case e.AnnualReport && g.r.Float64() < 0.1*opts.Scale:
			ab.Rows = append(ab.Rows, []string{e.ID, e.Name, "年报", g.date(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)).Format("2006年1月2日"), "2025年度报告"})
		}
	}
	out = append(out, ab)

	// tax (GBK CSV)
	tax := DeptTable{Dept: "税务局", Kind: "tax", File: "税务局_纳税信息.csv", Charset: "gbk"}
	tax.Rows = [][]string{{"纳税人识别号", "纳税人名称", "生产经营地址", "所属期", "入库日期", "实缴金额（元）", "税种"}}
	for i := 0; i < n(6000); i++ {
		e := pick()
		d := g.date(y2024, y2026)
		row := []string{g.code(e, 0.02), g.name(e), g.address(e), d.Format("2006-01"), d.Format("20060102"), fmt.Sprintf("%.2f", float64(g.r.IntN(5000000))/100), []string{"增值税", "企业所得税", "个人所得税"}[g.r.IntN(3)]}
		if g.r.Float64() < 0.02 {
			row[1], row[2] = g.ghost()
			row[0] = ""
		}
		tax.Rows = append(tax.Rows, row)
	}
	out = append(out, tax)

	// social insurance (CSV with a BOM; codes often missing)
	si := DeptTable{Dept: "人力资源和社会保障局", Kind: "social_insurance", File: "人社局_社保缴费.csv", Charset: "utf-8-bom"}
	si.Rows = [][]string{{"单位名称", "单位地址", "统一社会信用代码", "缴费月份", "参保人数", "缴费基数合计（元）"}}
	for i := 0; i < n(4000); i++ {
		e := pick()
		d := g.date(y2024, y2026)
		si.Rows = append(si.Rows, []string{g.name(e), g.address(e), g.code(e, 0.4), d.Format("2006-01-02"), strconv.Itoa(1 + g.r.IntN(300)), strconv.Itoa(5000 * (1 + g.r.IntN(300)))})
	}
	out = append(out, si)

	// emergency management: inspections, names and addresses only (xlsx)
	ins := DeptTable{Dept: "应急管理局", Kind: "inspection", File: "应急管理局_安全检查.xlsx", DateCols: []int{2}}
	ins.Rows = [][]string{{"被检查单位", "地址", "检查日期", "检查结果", "发现隐患（项）"}}
	for i := 0; i < n(2000); i++ {
		e := pick()
		row := []string{g.name(e), g.address(e), strconv.Itoa(excelSerial(g.date(y2024, y2026))), []string{"合格", "责令整改", "合格"}[g.r.IntN(3)], strconv.Itoa(g.r.IntN(6))}
		if g.r.Float64() < 0.03 {
			row[0], row[1] = g.ghost()
		}
		ins.Rows = append(ins.Rows, row)
	}
	ins.Rows = append(ins.Rows, []string{"", "", "", "", ""})
	out = append(out, ins)

	// economic operations: output and employment (CSV)
	eco := DeptTable{Dept: "经济运行局", Kind: "output", File: "经济运行局_产值就业.csv", Charset: "utf-8"}
	eco.Rows = [][]string{{"统一社会信用代码", "企业名称", "统计日期", "工业总产值（万元）", "从业人员（人）"}}
	for i := 0; i < n(3000); i++ {
		e := pick()
		eco.Rows = append(eco.Rows, []string{g.code(e, 0.01), g.name(e), "2025-12-31", fmt.Sprintf("%.1f", float64(g.r.IntN(200000))/10), strconv.Itoa(1 + g.r.IntN(2000))})
	}
	out = append(out, eco)
	return out
}

// DepartmentRows generates n rows of a tax department's table (the header
// first) about ds's entities, for benchmarks: 90 % with a code (with the
// usual dirt), the rest by name and address.
func DepartmentRows(ds *Dataset, n int, seed uint64) [][]string {
	g := &deptGen{r: rand.New(rand.NewPCG(seed, seed^0xbe7c)), es: ds.Entities}
	rows := make([][]string, 0, n+1)
	rows = append(rows, []string{"纳税人识别号", "纳税人名称", "生产经营地址", "入库日期", "实缴金额（元）", "税种"})
	y2024, y2026 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for range n {
		e := &g.es[g.r.IntN(len(g.es))]
		rows = append(rows, []string{g.code(e, 0.1), g.name(e), g.address(e), g.date(y2024, y2026).Format("2006-01-02"),
			fmt.Sprintf("%.2f", float64(g.r.IntN(5000000))/100), []string{"增值税", "企业所得税", "个人所得税"}[g.r.IntN(3)]})
	}
	return rows
}
