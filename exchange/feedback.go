package exchange

import (
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
// header, and empty rows, are kept as they are).
func Feedback(t *Table, rep *Report) [][]string {
	byRow := make(map[int]*Outcome, len(rep.Outcomes))
	for i := range rep.Outcomes {
		byRow[rep.Outcomes[i].Row] = &rep.Outcomes[i]
	}
	width := 0
	for _, r := range t.Rows {
		width = max(width, len(r.Cells))
	}
	out := make([][]string, 0, len(t.Rows))
	for _, r := range t.Rows {
		line := make([]string, width, width+len(FeedbackColumns))
		copy(line, r.Cells)
		switch o := byRow[r.N]; {
		case r.N == rep.HeaderRow:
			line = append(line, FeedbackColumns...)
		case o != nil:
			conf := ""
			if o.Method != "" {
				conf = strconv.FormatFloat(o.Confidence, 'f', 3, 64)
			}
			line = append(line, o.EntityID, o.EntityName, o.Method, conf, string(o.Status), o.Reason+candidatesText(o))
		}
		out = append(out, line)
	}
	return out
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
