// Command cueinline repairs the Kubernetes schemas that `cue get go` writes
// into cue.mod/gen: since k8s.io/api v0.37 the embedded structs carry the tag
// `json:""` instead of `json:",inline"`, and cue get go (v0.17.1) turns them
// into ordinary fields named after their type (`TypeMeta: metav1.#TypeMeta`),
// so `apiVersion`, `kind` or `configMapRef.name` become "field not allowed".
//
// For every generated package it reads the Go sources of the same import path
// and rewrites exactly the fields that Go embeds (anonymous struct fields
// without a JSON name) into CUE embeddings. A plain regular expression over
// the CUE files would also rewrite look-alikes such as the enum maps
// (`#values_Type: {String: #String}`) and the named field
// `watch.Event.Object`.
//
// Usage (from the module root, see hack/gen-cue.sh):
//
//	go run ./hack/cueinline cue.mod/gen
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	cueast "cuelang.org/go/cue/ast"
	cueparser "cuelang.org/go/cue/parser"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cueinline GENDIR")
		os.Exit(2)
	}
	n, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cueinline:", err)
		os.Exit(1)
	}
	fmt.Printf("cueinline: %d embeddings restored\n", n)
}

// run fixes every package under gen and returns the number of rewritten fields.
func run(gen string) (int, error) {
	dirs, err := packageDirs(gen)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, dir := range dirs {
		importPath := filepath.ToSlash(strings.TrimPrefix(dir, gen+string(filepath.Separator)))
		embeds, err := goEmbeddings(importPath)
		if err != nil {
			return 0, err
		}
		n, err := fixDir(dir, embeds)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// packageDirs lists the directories under gen that hold generated CUE files,
// sorted.
func packageDirs(gen string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(gen, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, "_go_gen.cue") {
			seen[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %q: %w", gen, err)
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs, nil
}

// goEmbeddings returns, per Go struct type of the package, the names of the
// fields that encoding/json inlines.
func goEmbeddings(importPath string) (map[string]map[string]bool, error) {
	out, err := exec.Command("go", "list", "-json", importPath).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", importPath, err)
	}
	var pkg struct {
		Dir     string
		GoFiles []string
	}
	if err := json.Unmarshal(out, &pkg); err != nil {
		return nil, fmt.Errorf("decoding go list %s: %w", importPath, err)
	}
	embeds := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", name, err)
		}
		collectEmbeddings(f, embeds)
	}
	return embeds, nil
}

func collectEmbeddings(f *ast.File, embeds map[string]map[string]bool) {
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return true
		}
		for _, fld := range st.Fields.List {
			if len(fld.Names) > 0 || jsonName(fld.Tag) != "" {
				continue
			}
			if name := typeName(fld.Type); name != "" {
				if embeds[ts.Name.Name] == nil {
					embeds[ts.Name.Name] = map[string]bool{}
				}
				embeds[ts.Name.Name][name] = true
			}
		}
		return true
	})
}

// jsonName returns the name part of a field's json tag ("" when absent).
func jsonName(tag *ast.BasicLit) string {
	if tag == nil {
		return ""
	}
	s, err := strconv.Unquote(tag.Value)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(reflect.StructTag(s).Get("json"), ",")
	return name
}

// typeName returns the field name Go gives an embedded field of type e.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.StarExpr:
		return typeName(t.X)
	}
	return ""
}

// fixDir rewrites the CUE files of one package in place.
func fixDir(dir string, embeds map[string]map[string]bool) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_go_gen.cue"))
	if err != nil {
		return 0, err
	}
	total := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return 0, err
		}
		fixed, n, err := fixFile(file, src, embeds)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			if err := os.WriteFile(file, fixed, 0o644); err != nil {
				return 0, err
			}
		}
		total += n
	}
	return total, nil
}

// fieldLine matches a generated field line `Name: [pkg.]#Type [@attrs]`.
var fieldLine = regexp.MustCompile(`^(\s*)([A-Za-z0-9_]+)[?!]?: ([^@]+?)(\s+@.*)?$`)

// fixFile returns src with the embedded fields of Go struct types turned into
// CUE embeddings, and how many it rewrote. Only lines that the CUE parser
// locates as such fields are touched; the rest of the file stays byte-equal.
func fixFile(name string, src []byte, embeds map[string]map[string]bool) ([]byte, int, error) {
	f, err := cueparser.ParseFile(name, src, cueparser.ParseComments)
	if err != nil {
		return nil, 0, fmt.Errorf("parsing %s: %w", name, err)
	}
	lines := map[int]bool{}
	for _, decl := range f.Decls {
		def, ok := decl.(*cueast.Field)
		if !ok {
			continue
		}
		goType := goTypeOf(def.Label)
		st, ok := def.Value.(*cueast.StructLit)
		if !ok || embeds[goType] == nil {
			continue
		}
		for _, elt := range st.Elts {
			fld, ok := elt.(*cueast.Field)
			if !ok {
				continue
			}
			if id, ok := fld.Label.(*cueast.Ident); ok && embeds[goType][id.Name] {
				lines[fld.Pos().Line()] = true
			}
		}
	}
	var out bytes.Buffer
	n := 0
	for i, line := range bytes.SplitAfter(src, []byte("\n")) {
		if lines[i+1] {
			body := bytes.TrimRight(line, "\n")
			m := fieldLine.FindSubmatch(body)
			if m == nil {
				return nil, 0, fmt.Errorf("%s:%d: unexpected embedded field %q", name, i+1, body)
			}
			line = append(append(append([]byte{}, m[1]...), m[3]...), '\n')
			n++
		}
		out.Write(line)
	}
	return out.Bytes(), n, nil
}

// goTypeOf maps a generated definition label (#Pod, _#codec) to its Go type
// name.
func goTypeOf(label cueast.Label) string {
	id, ok := label.(*cueast.Ident)
	if !ok {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(id.Name, "_"), "#")
}
