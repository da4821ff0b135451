// Package api checks the surface of ghlogin's public packages as a program
// outside the module sees it.
package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// public are the packages other Go programs may import.
var public = []string{
	"oauth", "oauth/grammar", "deviceflow", "webflow",
	"store", "store/oskeyring", "store/storetest",
}

// TestPublicAPINamesNoInternalType fails when an exported declaration of a
// public package (a function's parameters or results, a method of an
// exported type, an exported field, variable or constant) names a type from
// an internal package: a program outside the module could not name it, so
// it could not declare a variable of that type, write a callback taking it,
// or use errors.As with it. Type aliases are how such a type is made
// public, so an alias's right-hand side is allowed.
func TestPublicAPINamesNoInternalType(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range public {
		dir := filepath.Join(root, rel)
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			for name, f := range pkg.Files {
				internal := map[string]bool{}
				for _, im := range f.Imports {
					p, _ := strconv.Unquote(im.Path.Value)
					if !strings.Contains(p, "/internal/") && !strings.HasSuffix(p, "/internal") {
						continue
					}
					local := filepath.Base(p)
					if im.Name != nil {
						local = im.Name.Name
					}
					internal[local] = true
				}
				if len(internal) == 0 {
					continue
				}
				report := func(n ast.Node, where string) {
					ast.Inspect(n, func(x ast.Node) bool {
						sel, ok := x.(*ast.SelectorExpr)
						if !ok {
							return true
						}
						if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] {
							t.Errorf("%s: %s names %s.%s, an internal type; give it a public alias", fset.Position(sel.Pos()), where, id.Name, sel.Sel.Name)
						}
						return true
					})
				}
				_ = name
				for _, d := range f.Decls {
					switch d := d.(type) {
					case *ast.FuncDecl:
						if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
							continue
						}
						report(d.Type, d.Name.Name)
					case *ast.GenDecl:
						for _, s := range d.Specs {
							switch s := s.(type) {
							case *ast.TypeSpec:
								if !s.Name.IsExported() || s.Assign.IsValid() {
									continue
								}
								exportedParts(s.Type, func(n ast.Node) { report(n, s.Name.Name) })
							case *ast.ValueSpec:
								for _, n := range s.Names {
									if n.IsExported() && s.Type != nil {
										report(s.Type, n.Name)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(fl *ast.FieldList) bool {
	if fl == nil || len(fl.List) == 0 {
		return false
	}
	t := fl.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// exportedParts calls fn with the parts of a type that a user of the
// package sees: exported fields of a struct, methods of an interface, the
// whole type otherwise.
func exportedParts(t ast.Expr, fn func(ast.Node)) {
	switch t := t.(type) {
	case *ast.StructType:
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 { // embedded: its exported members are promoted
				fn(f.Type)
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					fn(f.Type)
					break
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 || m.Names[0].IsExported() {
				fn(m.Type)
			}
		}
	default:
		fn(t)
	}
}
