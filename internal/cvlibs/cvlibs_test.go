package cvlibs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNeed(t *testing.T) {
	if err := Need(Imgcodecs, Videoio, Highgui); err != nil {
		t.Fatal(err)
	}
	if err := Need(Imgcodecs); err != nil { // once loaded, free
		t.Fatal(err)
	}
	err := Need("nosuchmodule")
	if err == nil || !strings.Contains(err.Error(), "nosuchmodule") {
		t.Fatalf("a missing module: %v", err)
	}
	if again := Need("nosuchmodule"); again == nil || again.Error() != err.Error() {
		t.Fatalf("the second try says %v, the first %v", again, err)
	}
}

// ioFuncs are gocv's functions in its imgcodecs, videoio and highgui files:
// whatever calls one of them must call Need first. (Methods need an object
// one of these made.)
func ioFuncs(t *testing.T) map[string]bool {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "gocv.io/x/gocv").Output()
	if err != nil {
		t.Fatalf("go list gocv: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	funcs := map[string]bool{}
	for _, name := range []string{"imgcodecs.go", "videoio.go", "highgui.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.IsExported() {
				funcs[fn.Name.Name] = true
			}
		}
	}
	if !funcs["IMEncode"] || !funcs["OpenVideoCapture"] || !funcs["NewWindow"] {
		t.Fatalf("gocv's I/O functions not found in %s: %v", dir, funcs)
	}
	return funcs
}

// TestIOCallsNeedFirst checks every function in the core's sources (tests
// and the bench, which run linked against everything, aside) that calls one
// of gocv's I/O functions: it must call Need earlier in its body.
func TestIOCallsNeedFirst(t *testing.T) {
	funcs := ioFuncs(t)
	root := filepath.Join("..", "..")
	calls := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || rel == filepath.Join("cmd", "vidbench") || rel == filepath.Join("internal", "cvlibs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		gocvName := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "gocv.io/x/gocv" {
				gocvName = "gocv"
				if imp.Name != nil {
					gocvName = imp.Name.Name
				}
			}
		}
		if gocvName == "" {
			return nil
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			need := token.NoPos // the first cvlibs.Need call
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				switch {
				case pkg.Name == "cvlibs" && sel.Sel.Name == "Need":
					if need == token.NoPos {
						need = call.Pos()
					}
				case pkg.Name == gocvName && funcs[sel.Sel.Name]:
					calls++
					if need == token.NoPos || need > call.Pos() {
						t.Errorf("%s: %s calls gocv.%s without cvlibs.Need before it", fset.Position(call.Pos()), fn.Name.Name, sel.Sel.Name)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("found no call to gocv's I/O functions: is the walk looking at the sources?")
	}
}
