package exchange

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Table is a department's table as read: the header row and the data rows
// after it, every cell a string (Excel cells unformatted: a date is its
// serial number, read as such by the date column).
type Table struct {
	// Name is the file's name (for the records' source).
	Name string
	// Sheet is the Excel sheet read ("" for CSV).
	Sheet string
	// Encoding is what the bytes were: "xlsx", "utf-8", "utf-8-bom",
	// "gb18030" (GBK is a subset).
	Encoding string
	// Rows are every row of the file (1-based row numbers in Row.N),
	// header rows included; trailing empty rows are dropped.
	Rows []Row
}

// Row is one row of a table.
type Row struct {
	// N is the 1-based row of the sheet or line of the CSV.
	N int
	// Cells are the row's cells.
	Cells []string
}

// ReadOptions configure [ReadTable]. Zero values mean the defaults.
type ReadOptions struct {
	// Format is "csv" or "xlsx"; "" detects it from the content (a ZIP
	// archive is a workbook).
	Format string
	// Charset of a CSV: "utf-8", "gbk", "gb18030"; "" detects it (a BOM,
	// else valid UTF-8, else GB18030).
	Charset string
	// Sheet of a workbook; "" is the first.
	Sheet string
	// MaxBytes caps the input. Default 256 MiB.
	MaxBytes int64
	// MaxRows caps the rows. Default 2,000,000.
	MaxRows int
	// MaxCols caps the cells of a row. Default 500.
	MaxCols int
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.MaxBytes == 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxRows == 0 {
		o.MaxRows = 2_000_000
	}
	if o.MaxCols == 0 {
		o.MaxCols = 500
	}
	return o
}

// ReadTable reads a department's table (CSV or xlsx) whole. name is the
// file's name, kept as the records' source. Errors wrap ErrBadTable or
// ErrTooLarge.
func ReadTable(r io.Reader, name string, opts ReadOptions) (*Table, error) {
	opts = opts.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrBadTable, name, err)
	}
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, name, opts.MaxBytes)
	}
	format := strings.ToLower(opts.Format)
	if format == "" {
		format = "csv"
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			format = "xlsx"
		}
	}
	var t *Table
	switch format {
	case "csv":
		t, err = readCSV(data, opts)
	case "xlsx", "xls":
		t, err = readXLSX(data, opts)
	default:
		return nil, fmt.Errorf("%w: format %q (want csv or xlsx)", ErrBadTable, opts.Format)
	}
	if err != nil {
		return nil, err
	}
	t.Name = name
	// trailing empty rows (Excel's formatted-but-empty rows, blank lines)
	for len(t.Rows) > 0 && emptyRow(t.Rows[len(t.Rows)-1].Cells) {
		t.Rows = t.Rows[:len(t.Rows)-1]
	}
	return t, nil
}

func emptyRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// invalidUTF8At returns the offset of the first byte of b that is not
// valid UTF-8, or -1.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// decodeText returns data as UTF-8 and the encoding it was in.
func decodeText(data []byte, charset string) (string, string, error) {
	switch strings.ToLower(strings.ReplaceAll(charset, "-", "")) {
	case "":
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			if n := invalidUTF8At(data[3:]); n >= 0 {
				return "", "", fmt.Errorf("%w: starts with a UTF-8 byte-order mark but is not valid UTF-8 (byte %d)", ErrBadTable, 3+n)
			}
			return string(data[3:]), "utf-8-bom", nil
		}
		if utf8.Valid(data) {
			return string(data), "utf-8", nil
		}
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return "", "", fmt.Errorf("%w: neither UTF-8 nor GB18030: %v", ErrBadTable, err)
		}
		return string(out), "gb18030", nil
	case "utf8":
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(data) {
			return "", "", fmt.Errorf("%w: declared UTF-8 but is not valid UTF-8", ErrBadTable)
		}
		return string(data), "utf-8", nil
	case "gbk", "gb2312", "gb18030", "cp936":
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return "", "", fmt.Errorf("%w: not %s: %v", ErrBadTable, charset, err)
		}
		return string(out), "gb18030", nil
	}
	return "", "", fmt.Errorf("%w: charset %q (want utf-8, gbk or gb18030)", ErrBadTable, charset)
}

func readCSV(data []byte, opts ReadOptions) (*Table, error) {
	text, enc, err := decodeText(data, opts.Charset)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	cr.Comma = sniffComma(text)
	t := &Table{Encoding: enc}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: CSV: %v", ErrBadTable, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) > opts.MaxCols {
			return nil, fmt.Errorf("%w: line %d has %d cells, at most %d", ErrTooLarge, line, len(rec), opts.MaxCols)
		}
		if len(t.Rows) >= opts.MaxRows {
			return nil, fmt.Errorf("%w: more than %d rows", ErrTooLarge, opts.MaxRows)
		}
		t.Rows = append(t.Rows, Row{N: line, Cells: rec})
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%w: the CSV is empty", ErrBadTable)
	}
	return t, nil
}

// sniffComma picks the separator of the first line: comma, tab or semicolon.
func sniffComma(text string) rune {
	first, _, _ := strings.Cut(text, "\n")
	best, n := ',', strings.Count(first, ",")
	for _, c := range []rune{'\t', ';', '|'} {
		if k := strings.Count(first, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

func readXLSX(data []byte, opts ReadOptions) (t *Table, err error) {
	defer func() { // excelize on hostile archives: never let it take the process down
		if v := recover(); v != nil {
			t, err = nil, fmt.Errorf("%w: workbook: %v", ErrBadTable, v)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 4 * opts.MaxBytes, UnzipXMLSizeLimit: 4 * opts.MaxBytes})
	if err != nil {
		return nil, fmt.Errorf("%w: not a readable xlsx workbook: %v", ErrBadTable, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: the workbook has no sheet", ErrBadTable)
	}
	sheet := sheets[0]
	if opts.Sheet != "" {
		sheet = ""
		for _, s := range sheets {
			if s == opts.Sheet {
				sheet = s
			}
		}
		if sheet == "" {
			return nil, fmt.Errorf("%w: no sheet %q (the workbook has %s)", ErrBadTable, opts.Sheet, strings.Join(sheets, ", "))
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: sheet %s: %v", ErrBadTable, sheet, err)
	}
	defer rows.Close()
	t = &Table{Sheet: sheet, Encoding: "xlsx"}
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("%w: sheet %s row %d: %v", ErrBadTable, sheet, n, err)
		}
		if len(cells) > opts.MaxCols {
			return nil, fmt.Errorf("%w: row %d has %d cells, at most %d", ErrTooLarge, n, len(cells), opts.MaxCols)
		}
		if len(t.Rows) >= opts.MaxRows {
			return nil, fmt.Errorf("%w: more than %d rows", ErrTooLarge, opts.MaxRows)
		}
		t.Rows = append(t.Rows, Row{N: n, Cells: cells})
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%w: sheet %s: %v", ErrBadTable, sheet, err)
	}
	// merged cells: the value of the top-left cell fills the range
	merged, err := f.GetMergeCells(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: sheet %s merged cells: %v", ErrBadTable, sheet, err)
	}
	for _, m := range merged {
		c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		if err1 != nil || err2 != nil || r2-r1 > 10000 || c2-c1 > opts.MaxCols {
			continue
		}
		v := m.GetCellValue()
		for _, row := range t.Rows {
			if row.N < r1 || row.N > r2 {
				continue
			}
			for c := c1; c <= c2; c++ {
				for len(row.Cells) < c {
					row.Cells = append(row.Cells, "")
				}
				if row.Cells[c-1] == "" {
					row.Cells[c-1] = v
				}
			}
			t.setRow(row)
		}
	}
	return t, nil
}

func (t *Table) setRow(r Row) {
	// rows are sorted by N
	lo, hi := 0, len(t.Rows)
	for lo < hi {
		m := (lo + hi) / 2
		if t.Rows[m].N < r.N {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.Rows) && t.Rows[lo].N == r.N {
		t.Rows[lo] = r
	}
}

// WriteCSV writes rows as UTF-8 CSV with a BOM (so Excel opens it with the
// right encoding).
func WriteCSV(w io.Writer, rows [][]string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\xef\xbb\xbf")
	cw := csv.NewWriter(bw)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return bw.Flush()
}
