package exchange

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/internal/cntext"
	"gopkg.in/yaml.v3"
)

// Mapping says which columns of a department's table hold what. It is read
// from YAML ([ParseMapping], strict: unknown keys are errors); see
// docs/exchange.md and testdata/mappings/ for examples. Without a mapping
// (or for the roles it leaves empty) the common headers are recognised
// (统一社会信用代码, 企业名称, 住所 … and their English forms).
type Mapping struct {
	// Dept is the department, when the command line or URL does not say.
	Dept string `yaml:"dept"`
	// Kind is the records' kind, when the command line or URL does not say.
	Kind string `yaml:"kind"`
	// Sheet is the workbook's sheet ("" the first).
	Sheet string `yaml:"sheet"`
	// Encoding of a CSV (utf-8, gbk, gb18030; "" detects).
	Encoding string `yaml:"encoding"`
	// HeaderRow is the 1-based row of the header (0 detects it: the row
	// among the first 20 with the most recognised headers).
	HeaderRow int `yaml:"header_row"`
	// Columns maps the roles to header texts.
	Columns Columns `yaml:"columns"`
	// DateFormats are extra Go time layouts of the date column (the common
	// ones and Excel serial numbers are always read).
	DateFormats []string `yaml:"date_formats"`
}

// Columns maps the roles of a table's columns to their header texts (as in
// the table; compared after folding width and dropping spaces).
type Columns struct {
	// USCC is the unified social credit code column.
	USCC string `yaml:"uscc"`
	// RegNo is the former 15-digit registration number column.
	RegNo string `yaml:"reg_no"`
	// OrgCode is the organisation code column.
	OrgCode string `yaml:"org_code"`
	// Name is the entity name column.
	Name string `yaml:"name"`
	// Address is the address column.
	Address string `yaml:"address"`
	// Date is the record's date column.
	Date string `yaml:"date"`
	// Key is the department's own key of a row (a decision number): the
	// record's identity. Without it the identity is the content's hash.
	Key string `yaml:"key"`
	// Kind is a column holding the record's kind per row (overrides the
	// import's kind where it is not empty).
	Kind string `yaml:"kind"`
	// Fields maps record field names to columns. Without it every column
	// that has no role becomes a field named by its header.
	Fields map[string]string `yaml:"fields"`
}

// ParseMapping reads a mapping (YAML, strict).
func ParseMapping(r io.Reader) (*Mapping, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMapping, err)
	}
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", ErrBadMapping, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks what can be checked without the table.
func (m *Mapping) Validate() error {
	if m.Dept != "" {
		if err := ValidateDept(m.Dept); err != nil {
			return fmt.Errorf("%w: %v", ErrBadMapping, err)
		}
	}
	if m.Kind != "" {
		if _, err := ParseKind(m.Kind); err != nil {
			return &FieldError{Field: "kind", Err: fmt.Errorf("%w: %v", ErrBadMapping, err)}
		}
	}
	if m.HeaderRow < 0 || m.HeaderRow > 1000 {
		return &FieldError{Field: "header_row", Err: fmt.Errorf("%w: %d", ErrBadMapping, m.HeaderRow)}
	}
	if m.Encoding != "" {
		if _, _, err := decodeText(nil, m.Encoding); err != nil {
			return &FieldError{Field: "encoding", Err: fmt.Errorf("%w: %v", ErrBadMapping, err)}
		}
	}
	for k, v := range m.Columns.Fields {
		if k == "" || v == "" {
			return &FieldError{Field: "columns.fields", Err: fmt.Errorf("%w: empty field name or column", ErrBadMapping)}
		}
	}
	return nil
}

// roles in the order the header recogniser tries them.
const (
	roleUSCC = iota
	roleRegNo
	roleOrg
	roleName
	roleAddress
	roleDate
	roleKey
	roleKind
	nRoles
)

var roleNames = [nRoles]string{"uscc", "reg_no", "org_code", "name", "address", "date", "key", "kind"}

// headerSynonyms are the common headers of each role, compared after
// [normHeader]. One list: the recogniser and the docs use it.
var headerSynonyms = [nRoles][]string{
	roleUSCC:    {"统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "uscc", "unifiedsocialcreditcode", "socialcreditcode", "creditcode", "统一社会信用代码注册号", "纳税人识别号", "纳税人识别号统一社会信用代码"},
	roleRegNo:   {"注册号", "工商注册号", "营业执照注册号", "registrationno", "registrationnumber", "regno"},
	roleOrg:     {"组织机构代码", "机构代码", "organizationcode", "orgcode", "organisationcode"},
	roleName:    {"企业名称", "名称", "单位名称", "市场主体名称", "主体名称", "纳税人名称", "当事人名称", "经营者名称", "商户名称", "被检查单位", "被投诉单位", "当事人", "entityname", "companyname", "enterprisename", "name"},
	roleAddress: {"地址", "住所", "经营场所", "注册地址", "住所经营场所", "经营地址", "生产经营地址", "单位地址", "企业地址", "address", "registeredaddress"},
	roleDate:    {"日期", "处罚日期", "决定日期", "作出处罚决定日期", "检查日期", "许可日期", "发证日期", "列入日期", "移出日期", "登记日期", "投诉日期", "报送日期", "入库日期", "date", "decisiondate"},
	roleKey:     {"文号", "处罚决定书文号", "决定书文号", "许可证编号", "许可证号", "编号", "受理编号", "referenceno", "documentno"},
	roleKind:    {"记录类型", "类别", "recordkind", "kind"},
}

// normHeader folds a header: width, case, traditional characters; drops
// spaces, punctuation and line breaks (merged two-line headers).
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range cntext.Fold(s) {
		if cntext.IsSpaceOrPunct(r) || r == '*' || r == '＊' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// layout is a table's columns resolved: the role columns (-1 absent), the
// field columns, the header row.
type layout struct {
	headerIdx int // index into Table.Rows of the header row
	header    []string
	col       [nRoles]int
	fields    []fieldCol
	dates     []string
}

type fieldCol struct {
	name string
	col  int
}

// resolve finds the header row and the columns of a table.
func resolve(t *Table, m *Mapping) (*layout, error) {
	if m == nil {
		m = &Mapping{}
	}
	lo := &layout{headerIdx: -1, dates: m.DateFormats}
	explicit := [nRoles]string{m.Columns.USCC, m.Columns.RegNo, m.Columns.OrgCode, m.Columns.Name, m.Columns.Address, m.Columns.Date, m.Columns.Key, m.Columns.Kind}
	if m.HeaderRow > 0 {
		for i, r := range t.Rows {
			if r.N == m.HeaderRow {
				lo.headerIdx = i
			}
		}
		if lo.headerIdx < 0 {
			return nil, &FieldError{Field: "header_row", Err: fmt.Errorf("%w: the table has no row %d", ErrBadMapping, m.HeaderRow)}
		}
	} else {
		best := 0
		for i := 0; i < len(t.Rows) && i < 20; i++ {
			score := 0
			for _, c := range t.Rows[i].Cells {
				h := normHeader(c)
				if h == "" {
					continue
				}
				if roleOf(h) >= 0 {
					score += 2
				}
				for _, e := range explicit {
					if e != "" && normHeader(e) == h {
						score += 3
					}
				}
				for _, e := range m.Columns.Fields {
					if normHeader(e) == h {
						score++
					}
				}
			}
			if score > best {
				best, lo.headerIdx = score, i
			}
		}
		if lo.headerIdx < 0 {
			return nil, fmt.Errorf("%w: no header row found in the first 20 rows (no column is named like 统一社会信用代码, 企业名称, 地址 …; give a mapping)", ErrBadTable)
		}
	}
	hdr := t.Rows[lo.headerIdx].Cells
	lo.header = make([]string, len(hdr))
	norm := make([]string, len(hdr))
	for i, c := range hdr {
		lo.header[i] = strings.TrimSpace(c)
		norm[i] = normHeader(c)
	}
	find := func(h string) int {
		n := normHeader(h)
		for i, c := range norm {
			if c == n && n != "" {
				return i
			}
		}
		return -1
	}
	used := map[int]bool{}
	for role := range nRoles {
		lo.col[role] = -1
		if explicit[role] != "" {
			c := find(explicit[role])
			if c < 0 {
				return nil, &FieldError{Field: "columns." + roleNames[role], Err: fmt.Errorf("%w: the table has no column %q (its header: %s)", ErrBadMapping, explicit[role], strings.Join(lo.header, ", "))}
			}
			lo.col[role], used[c] = c, true
		}
	}
	for role := range nRoles {
		if lo.col[role] >= 0 || role == roleKey { // a key column is never guessed
			continue
		}
		// the first column recognised for the role, by the synonyms' order
		for _, syn := range headerSynonyms[role] {
			for i, c := range norm {
				if c == normHeader(syn) && !used[i] {
					lo.col[role], used[i] = i, true
					break
				}
			}
			if lo.col[role] >= 0 {
				break
			}
		}
	}
	if lo.col[roleUSCC] < 0 && lo.col[roleName] < 0 && lo.col[roleRegNo] < 0 && lo.col[roleOrg] < 0 {
		return nil, fmt.Errorf("%w: no column identifies the entity (a USCC, registration number, organisation code or name column; its header: %s)", ErrBadMapping, strings.Join(lo.header, ", "))
	}
	if len(m.Columns.Fields) > 0 {
		for name, h := range m.Columns.Fields {
			c := find(h)
			if c < 0 {
				return nil, &FieldError{Field: "columns.fields." + name, Err: fmt.Errorf("%w: the table has no column %q", ErrBadMapping, h)}
			}
			lo.fields = append(lo.fields, fieldCol{name, c})
		}
	} else {
		for i, h := range lo.header {
			if used[i] || h == "" || norm[i] == "序号" || norm[i] == "no" {
				continue
			}
			lo.fields = append(lo.fields, fieldCol{h, i})
		}
	}
	return lo, nil
}

func roleOf(h string) int {
	for role := range nRoles {
		for _, s := range headerSynonyms[role] {
			if normHeader(s) == h {
				return role
			}
		}
	}
	return -1
}

func (lo *layout) cell(r Row, role int) string {
	c := lo.col[role]
	if c < 0 || c >= len(r.Cells) {
		return ""
	}
	return strings.TrimSpace(r.Cells[c])
}

// excelEpoch is day 0 of Excel's 1900 date system (with its 1900 leap-year
// bug folded in: serial 60 is the fictitious 1900-02-29).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

var dateLayouts = []string{"2006-01-02", "2006/1/2", "2006-1-2", "2006.1.2", "2006年1月2日", "20060102", "2006-01-02 15:04:05", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05"}

// ParseDate reads a department's date: ISO and Chinese forms, 8 digits,
// Excel serial numbers (1900 system), full-width digits; extra layouts
// first. It returns YYYY-MM-DD.
func ParseDate(s string, extra []string) (string, error) {
	s = strings.TrimSpace(cntext.Fold(s))
	if s == "" {
		return "", nil
	}
	for _, l := range append(append([]string(nil), extra...), dateLayouts...) {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && f >= 1 && f < 2958466 && (len(s) != 8 || strings.Contains(s, ".")) {
		d := excelEpoch.Add(time.Duration(math.Floor(f)) * 24 * time.Hour)
		if d.Year() >= 1950 && d.Year() <= 2100 {
			return d.Format(time.DateOnly), nil
		}
	}
	return "", fmt.Errorf("%w: cannot read date %q", ErrInvalidRecord, s)
}
