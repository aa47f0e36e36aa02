package exchange

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// FeedbackColumns are the columns appended to the department's table:
// matched USCC, matched name, method, confidence, status, reason.
var FeedbackColumns = []string{"匹配统一社会信用代码", "匹配企业名称", "匹配方式", "置信度", "状态", "原因"}

// Feedback returns the department's table with the feedback columns
// appended to the header row and to every data row (rows before the
// header, and empty rows, are kept as they are). Each row is padded to
// the width of the rows before the first data row, so that the feedback
// columns line up (a data row wider than the header keeps its cells).
func Feedback(t *Table, rep *Report) [][]string {
	byRow := make(map[int]*Outcome, len(rep.Outcomes))
	for i := range rep.Outcomes {
		byRow[rep.Outcomes[i].Row] = &rep.Outcomes[i]
	}
	var fw FeedbackWriter
	out := make([][]string, 0, len(t.Rows))
	for _, r := range t.Rows {
		out = append(out, fw.line(RowOutcome{Row: r, Header: r.N == rep.HeaderRow, Outcome: byRow[r.N]}))
	}
	return out
}

// feedbackLine appends the feedback columns' headers (the header row) or
// a row's outcome (a data row) to line.
func feedbackLine(line []string, header bool, o *Outcome) []string {
	switch {
	case header:
		line = append(line, FeedbackColumns...)
	case o != nil:
		conf := ""
		if o.Method != "" {
			conf = strconv.FormatFloat(o.Confidence, 'f', 3, 64)
		}
		line = append(line, o.EntityID, o.EntityName, o.Method, conf, string(o.Status), o.Reason+candidatesText(o))
	}
	return line
}

// FeedbackWriter writes the feedback table as an import goes (its Row
// method is an [ImportOptions.OnRow]): CSV (UTF-8 with a BOM) line by
// line, or xlsx through excelize's stream writer. The data rows are
// padded to the width of the rows before them (the header's), so that the
// feedback columns line up.
type FeedbackWriter struct {
	w     io.Writer
	bw    *bufio.Writer
	cw    *csv.Writer
	f     *excelize.File
	sw    *excelize.StreamWriter
	width int
	n     int
}

// NewFeedbackWriter returns a writer of the feedback table in format
// "csv" or "xlsx" to w; Close finishes it.
func NewFeedbackWriter(w io.Writer, format string) (*FeedbackWriter, error) {
	fw := &FeedbackWriter{w: w}
	switch format {
	case "csv":
		fw.bw = bufio.NewWriter(w)
		fw.bw.WriteString("\xef\xbb\xbf")
		fw.cw = csv.NewWriter(fw.bw)
	case "xlsx":
		fw.f = excelize.NewFile()
		sw, err := fw.f.NewStreamWriter("Sheet1")
		if err != nil {
			fw.f.Close()
			return nil, err
		}
		fw.sw = sw
	default:
		return nil, fmt.Errorf("%w: feedback format %q (want csv or xlsx)", ErrBadTable, format)
	}
	return fw, nil
}

// line is a row with its feedback columns; the width is that of the
// widest row that is no data row so far (the header's, usually).
func (fw *FeedbackWriter) line(r RowOutcome) []string {
	if r.Outcome == nil {
		fw.width = max(fw.width, len(r.Row.Cells))
	}
	w := max(fw.width, len(r.Row.Cells))
	line := make([]string, w, w+len(FeedbackColumns))
	copy(line, r.Row.Cells)
	return feedbackLine(line, r.Header, r.Outcome)
}

// Row writes one row of the table with its feedback columns.
func (fw *FeedbackWriter) Row(r RowOutcome) error {
	line := fw.line(r)
	fw.n++
	if fw.cw != nil {
		return fw.cw.Write(line)
	}
	vals := make([]any, len(line))
	for j, c := range line {
		vals[j] = c
	}
	cell, _ := excelize.CoordinatesToCellName(1, fw.n)
	return fw.sw.SetRow(cell, vals)
}

// Close flushes the table (an xlsx is written to w here).
func (fw *FeedbackWriter) Close() error {
	if fw.cw != nil {
		fw.cw.Flush()
		if err := fw.cw.Error(); err != nil {
			return err
		}
		return fw.bw.Flush()
	}
	defer fw.f.Close()
	if err := fw.sw.Flush(); err != nil {
		return err
	}
	_, err := fw.f.WriteTo(fw.w)
	return err
}

func candidatesText(o *Outcome) string {
	s := ""
	for i, c := range o.Candidates {
		if i == 0 {
			s = "; 候选: "
		} else {
			s += ", "
		}
		s += fmt.Sprintf("%s %s (%.2f)", c.EntityID, c.Name, c.Confidence)
	}
	return s
}

// WriteFeedback writes the feedback table as "csv" (UTF-8 with a BOM) or
// "xlsx".
func WriteFeedback(w io.Writer, format string, t *Table, rep *Report) error {
	rows := Feedback(t, rep)
	switch format {
	case "csv":
		return WriteCSV(w, rows)
	case "xlsx":
		return writeXLSX(w, rows)
	}
	return fmt.Errorf("%w: feedback format %q (want csv or xlsx)", ErrBadTable, format)
}

func writeXLSX(w io.Writer, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, c := range r {
			vals[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
