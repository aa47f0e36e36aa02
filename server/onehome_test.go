package server

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
)

// statusHome lists the functions allowed to turn errors into statuses:
// the one table of problem.go.
var statusHome = map[string]bool{"statusOf": true, "statusTable": true}

// mapperFindings reports, for one Go source file, the places that would
// make a second error → status mapper or match on error text (issue 15,
// item 2): a function other than statusOf that takes an error and returns
// an int while naming an http.Status constant; an if or case whose
// condition tests an error (errors.Is/As, err == …) and whose body names an
// http.Status constant; a strings/bytes/regexp call or a comparison or
// switch on the text of an error (x.Error(), or a variable holding it),
// outside an Error method (which formats its own text).
func mapperFindings(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	isErrorCall := func(e ast.Expr, texts map[string]bool) bool {
		switch x := ast.Unparen(e).(type) {
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			return ok && sel.Sel.Name == "Error" && len(x.Args) == 0
		case *ast.Ident:
			return texts[x.Name]
		}
		return false
	}
	namesStatus := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "http" && strings.HasPrefix(sel.Sel.Name, "Status") {
					found = true
				}
			}
			return !found
		})
		return found
	}
	testsError := func(cond ast.Expr) bool {
		found := false
		ast.Inspect(cond, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "errors" && (sel.Sel.Name == "Is" || sel.Sel.Name == "As") {
						found = true
					}
				}
			case *ast.BinaryExpr:
				for _, side := range []ast.Expr{x.X, x.Y} {
					if id, ok := side.(*ast.Ident); ok && id.Name == "err" && (x.Op == token.EQL || x.Op == token.NEQ) {
						other := x.Y
						if side == x.Y {
							other = x.X
						}
						if o, ok := other.(*ast.Ident); !ok || o.Name != "nil" {
							found = true
						}
					}
				}
			}
			return !found
		})
		return found
	}
	hasErrorParam := func(ft *ast.FuncType) bool {
		for _, p := range ft.Params.List {
			if id, ok := p.Type.(*ast.Ident); ok && id.Name == "error" {
				return true
			}
		}
		return false
	}
	returnsInt := func(ft *ast.FuncType) bool {
		if ft.Results == nil {
			return false
		}
		for _, r := range ft.Results.List {
			if id, ok := r.Type.(*ast.Ident); ok && id.Name == "int" {
				return true
			}
		}
		return false
	}
	checkFunc := func(name string, ft *ast.FuncType, body *ast.BlockStmt, isErrorMethod bool) {
		if body == nil || statusHome[name] {
			return
		}
		if hasErrorParam(ft) && returnsInt(ft) && namesStatus(body) {
			report(body, "%s maps an error to a status: add its errors to statusTable instead", name)
		}
		texts := map[string]bool{} // variables holding an error's text
		ast.Inspect(body, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncLit:
				if hasErrorParam(x.Type) && returnsInt(x.Type) && namesStatus(x.Body) {
					report(x, "a function literal in %s maps an error to a status", name)
				}
			case *ast.AssignStmt:
				for i, rhs := range x.Rhs {
					if i < len(x.Lhs) && isErrorCall(rhs, nil) {
						if id, ok := x.Lhs[i].(*ast.Ident); ok {
							texts[id.Name] = true
						}
					}
				}
			case *ast.IfStmt:
				if testsError(x.Cond) && namesStatus(x.Body) {
					report(x, "%s chooses a status from an error: use statusOf", name)
				}
			case *ast.CaseClause:
				for _, c := range x.List {
					if testsError(c) {
						for _, st := range x.Body {
							if namesStatus(st) {
								report(x, "%s chooses a status from an error in a switch: use statusOf", name)
								return true
							}
						}
					}
				}
			case *ast.SwitchStmt:
				if x.Tag != nil && isErrorCall(x.Tag, texts) && !isErrorMethod {
					report(x, "%s switches on an error's text", name)
				}
			case *ast.BinaryExpr:
				if (x.Op == token.EQL || x.Op == token.NEQ) && (isErrorCall(x.X, texts) || isErrorCall(x.Y, texts)) && !isErrorMethod {
					report(x, "%s compares an error's text", name)
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || isErrorMethod {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "strings" || id.Name == "bytes" || id.Name == "regexp") {
					for _, a := range x.Args {
						if isErrorCall(a, texts) {
							report(x, "%s matches on an error's text (%s.%s): test the error with errors.Is", name, id.Name, sel.Sel.Name)
						}
					}
				}
				if strings.HasPrefix(sel.Sel.Name, "Match") {
					for _, a := range x.Args {
						if isErrorCall(a, texts) {
							report(x, "%s matches a pattern on an error's text", name)
						}
					}
				}
			}
			return true
		})
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		checkFunc(fd.Name.Name, fd.Type, fd.Body, fd.Recv != nil && fd.Name.Name == "Error")
	}
	return out
}

// TestOneStatusMapper fails when a second error → status mapper or a match
// on error text comes back in the server: problem.go's statusTable is the
// one home of that rule (issue 15, item 2).
func TestOneStatusMapper(t *testing.T) {
	// the detector itself, on what it must find and what it must leave
	detector := []struct {
		name string
		src  string
		want int
	}{
		{"a mapper function", `func searchStatus(err error) int {
	switch {
	case errors.Is(err, search.ErrNotReady):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}`, 2},
		{"error text matching", `func h(err error) { if strings.Contains(err.Error(), "not ready") { println() } }`, 1},
		{"error text through a variable", `func h(err error) { msg := err.Error(); if strings.HasPrefix(msg, "zoneid:") { println() } }`, 1},
		{"error text compared", `func h(err error) bool { return err.Error() == "boom" }`, 1},
		{"status chosen in a handler", `func h(w http.ResponseWriter, err error) {
	if errors.Is(err, geo.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
	}
}`, 1},
		{"the table's own use", `func h(w http.ResponseWriter, err error) { writeJSON(w, statusOf(err), nil); w.WriteHeader(http.StatusOK) }`, 0},
		{"an error's message", `func h(err error) string { return "failed: " + err.Error() }`, 0},
		{"formatting its own text", `func (e *E) Error() string { msg := e.Err.Error(); if strings.HasPrefix(msg, "x") { return msg }; return "x: " + msg }`, 0},
		{"a status kept for nil", `func h(w http.ResponseWriter, err error) { if err != nil { return }; w.WriteHeader(http.StatusOK) }`, 0},
	}
	for _, tc := range detector {
		t.Run("detector/"+tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", "package server\n"+tc.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := mapperFindings(fset, f); len(got) != tc.want {
				t.Errorf("%d findings, want %d: %v", len(got), tc.want, got)
			}
		})
	}

	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, finding := range mapperFindings(fset, f) {
			t.Error(finding)
		}
	}
	if n < 10 {
		t.Fatalf("scanned %d files: run from the server directory", n)
	}
}

// TestParserMaxRunesConfig: the address length limit of every address
// endpoint is the parser's, set by parser.max_runes in the configuration
// (issue 15, item 2: one source for the limit).
func TestParserMaxRunesConfig(t *testing.T) {
	cfg, err := Parse(strings.NewReader("parser:\n  max_runes: 12\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ParserOptions().MaxRunes; got != 12 {
		t.Fatalf("ParserOptions().MaxRunes = %d, want 12", got)
	}
	p, err := addressmatch.NewParser(cfg.ParserOptions())
	if err != nil {
		t.Fatal(err)
	}
	db, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{Index: idx, Addresses: db}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fits := "深圳市南山区科苑路15号"  // 12 characters
	over := "深圳市南山区科苑路115号" // 13
	if n := len([]rune(fits)); n != 12 {
		t.Fatalf("fits has %d characters", n)
	}
	body := func(path, a string) string {
		q, _ := json.Marshal(a)
		switch {
		case strings.HasSuffix(path, "/compare"):
			return fmt.Sprintf(`{"a":%s,"b":%s}`, q, q)
		case strings.HasSuffix(path, "/batch"):
			return fmt.Sprintf(`{"addresses":[%s]}`, q)
		}
		return fmt.Sprintf(`{"address":%s}`, q)
	}
	for _, path := range []string{"/api/v1/address/check", "/api/v1/address/parse", "/api/v1/address/compare", "/api/v1/address/geocode", "/api/v1/address/batch"} {
		t.Run(path, func(t *testing.T) {
			rec, _ := post(t, h, path, body(path, fits))
			if rec.Code != http.StatusOK {
				t.Errorf("12 characters: status %d: %s", rec.Code, rec.Body.String())
			}
			rec, out := post(t, h, path, body(path, over))
			if strings.HasSuffix(path, "/batch") {
				// the batch answers 200 and reports the line
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "the limit is 12") {
					t.Errorf("13 characters: status %d: %s", rec.Code, rec.Body.String())
				}
				return
			}
			if rec.Code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out), "the limit is 12") {
				t.Errorf("13 characters: status %d: %s", rec.Code, rec.Body.String())
			}
		})
	}
}
