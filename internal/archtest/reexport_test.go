package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// reexportAllowed lists the re-exports kept on purpose, with the reason.
var reexportAllowed = map[string]string{
	// the parser's level names are region.Level's (an alias, one type), kept
	// for the package's API and its many internal uses
	"addressmatch.AdminLevel": "alias of region.Level",
	"addressmatch.AdminNone":  "", "addressmatch.AdminProvince": "", "addressmatch.AdminCity": "",
	"addressmatch.AdminDistrict": "", "addressmatch.AdminTown": "", "addressmatch.AdminCommunity": "",
}

// TestNoReexports fails when a library package gives another package of
// ours' type or constant a second exported name (type Precision =
// geo.Precision, const PrecisionRoad = geo.PrecisionRoad): each identifier
// has one home (issue 15, item 2), and callers import it from there.
func TestNoReexports(t *testing.T) {
	root := filepath.Join("..", "..")
	var findings []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "cmd" || rel == "examples" || rel == "benchmarks" || rel == "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		ours := map[string]bool{} // local names of the module's imports
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, mod) {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			ours[name] = true
		}
		if len(ours) == 0 {
			return nil
		}
		f, err = parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		isOurs := func(e ast.Expr) bool {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok {
				return false
			}
			id, ok := sel.X.(*ast.Ident)
			return ok && ours[id.Name]
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Assign.IsValid() && s.Name.IsExported() && isOurs(s.Type) {
						findings = append(findings, pkg+"."+s.Name.Name+"@"+fset.Position(s.Pos()).String())
					}
				case *ast.ValueSpec:
					if gd.Tok != token.CONST {
						continue
					}
					for i, n := range s.Names {
						if i < len(s.Values) && n.IsExported() && isOurs(s.Values[i]) {
							findings = append(findings, pkg+"."+n.Name+"@"+fset.Position(n.Pos()).String())
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(findings)
	for _, f := range findings {
		name, pos, _ := strings.Cut(f, "@")
		if _, ok := reexportAllowed[name]; ok {
			continue
		}
		t.Errorf("%s: %s re-exports another package's identifier: use it from its home", pos, name)
	}
}
