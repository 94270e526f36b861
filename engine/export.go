package engine

import (
	"encoding/base64"
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
)

// exporter converts the rendered objects, concrete CUE values, into the Go
// values of unstructured JSON: map[string]any, []any, string, int64,
// float64, bool and nil. Bytes become base64 strings, as in JSON. It
// replaces MarshalJSON followed by a JSON decode, which costs twice as much.
//
// Walking a value through the cue.Value API costs microseconds per field,
// so the exporter walks shared values once (see the package documentation,
// "Static parts"). A struct or list whose value is exactly a plain reference
// (a name followed by field selectors) to
//   - a hidden top-level field of the templates package (_labStatic.mounts)
//     is exported once per Renderer: it lies outside every template, so no
//     input can change it;
//   - a hidden field of the template being rendered (lab._resources) is
//     exported once per render.
//
// Every later occurrence is a copy, so that callers may modify the objects.
type exporter struct {
	// pkgPath qualifies the hidden fields of the templates package.
	pkgPath string
	// refs maps the source of a value (an *ast.Field or an expression) that
	// is a plain reference to its *refInfo. A plain reference resolves the
	// same way wherever it is evaluated, so this is decided once per source.
	refs sync.Map
	// static maps the path of a hidden top-level field (string) to its
	// exported value (any), never modified once stored.
	static sync.Map
}

// refKind classifies a plain reference.
type refKind uint8

const (
	refNone      refKind = iota // anything else: walked every time
	refStatic                   // hidden top-level field: once per Renderer
	refPerRender                // hidden field of the template: once per render
)

// refInfo is what the exporter learnt about one plain reference.
type refInfo struct {
	kind refKind
	// template is the template a refPerRender reference belongs to.
	template string
	// key is the path of the referenced value.
	key string
}

// exportRun is the state of one export: the per-render memo.
type exportRun struct {
	e        *exporter
	template string
	memo     map[string]any
}

// export converts the value v of the given template.
func (e *exporter) export(template string, v cue.Value) (any, error) {
	r := exportRun{e: e, template: template}
	return r.export(v)
}

// export converts v.
func (r *exportRun) export(v cue.Value) (any, error) {
	k := v.Kind()
	if k == cue.BottomKind {
		// A disjunction with a default, or an error.
		v, _ = v.Default()
		k = v.Kind()
	}
	switch k {
	case cue.StructKind, cue.ListKind:
		return r.exportShared(v, k)
	case cue.StringKind:
		return v.String()
	case cue.IntKind:
		return v.Int64()
	case cue.FloatKind:
		return v.Float64()
	case cue.BoolKind:
		return v.Bool()
	case cue.NullKind:
		return nil, nil
	case cue.BytesKind:
		b, err := v.Bytes()
		return base64.StdEncoding.EncodeToString(b), err
	default:
		if err := v.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: cannot export a value of kind %s", v.Path(), k)
	}
}

// exportShared converts a struct or a list, once if it is shared.
func (r *exportRun) exportShared(v cue.Value, k cue.Kind) (any, error) {
	ref := r.e.ref(v)
	switch {
	case ref.kind == refStatic:
		if x, ok := r.e.static.Load(ref.key); ok {
			return deepCopy(x), nil
		}
		x, err := r.exportComposite(v, k)
		if err != nil {
			return nil, err
		}
		r.e.static.Store(ref.key, x)
		return deepCopy(x), nil
	case ref.kind == refPerRender && ref.template == r.template:
		if x, ok := r.memo[ref.key]; ok {
			return deepCopy(x), nil
		}
		x, err := r.exportComposite(v, k)
		if err != nil {
			return nil, err
		}
		if r.memo == nil {
			r.memo = map[string]any{}
		}
		r.memo[ref.key] = x
		return x, nil
	default:
		return r.exportComposite(v, k)
	}
}

// exportComposite converts a struct or a list.
func (r *exportRun) exportComposite(v cue.Value, k cue.Kind) (any, error) {
	v, _ = v.Default()
	if expCount != nil {
		expCount(v, k)
	}
	if k == cue.ListKind {
		it, err := v.List()
		if err != nil {
			return nil, err
		}
		l := []any{}
		for it.Next() {
			x, err := r.export(it.Value())
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
	}
	it, err := v.Fields()
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for it.Next() {
		x, err := r.export(it.Value())
		if err != nil {
			return nil, err
		}
		m[it.Selector().Unquoted()] = x
	}
	return m, nil
}

// ref classifies v.
func (e *exporter) ref(v cue.Value) refInfo {
	// Source is cheap and is v's only conjunct if it has one; ReferencePath
	// builds an evaluation context, so it runs once per source unless the
	// reference has an index.
	src := v.Source()
	expr := src
	if f, ok := src.(*ast.Field); ok {
		expr = f.Value
	}
	plain, indexed := isPlainReference(expr)
	if !plain {
		return refInfo{}
	}
	if x, ok := e.refs.Load(src); ok {
		info := x.(*refInfo)
		if !indexed || info.kind == refNone {
			return *info
		}
		// The kind of reference does not depend on the index, its path does.
		if root, p := v.ReferencePath(); root.Exists() {
			return refInfo{kind: info.kind, template: info.template, key: p.String()}
		}
		return refInfo{}
	}
	info := refInfo{}
	if root, p := v.ReferencePath(); root.Exists() {
		sels := p.Selectors()
		switch {
		case len(sels) >= 1 && e.hidden(sels[0]):
			info = refInfo{kind: refStatic, key: p.String()}
		case len(sels) >= 2 && sels[0].LabelType() == cue.StringLabel && e.hidden(sels[1]):
			info = refInfo{kind: refPerRender, template: sels[0].Unquoted(), key: p.String()}
		}
	}
	e.refs.Store(src, &info)
	return info
}

// hidden reports whether sel is a hidden field of the templates package.
func (e *exporter) hidden(sel cue.Selector) bool {
	return sel.LabelType() == cue.HiddenLabel && sel.PkgPath() == e.pkgPath
}

// isPlainReference reports whether x is an identifier followed by field
// selectors and indexes, and whether it has an index. The kind of value such
// a reference resolves to does not depend on where it is evaluated; without
// an index, neither does the value.
func isPlainReference(x ast.Node) (plain, indexed bool) {
	for {
		switch y := x.(type) {
		case *ast.Ident:
			return true, indexed
		case *ast.SelectorExpr:
			x = y.X
		case *ast.IndexExpr:
			x, indexed = y.X, true
		default:
			return false, false
		}
	}
}

// deepCopy copies an exported value.
func deepCopy(x any) any {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = deepCopy(v)
		}
		return l
	default:
		return x
	}
}

var expCount func(v cue.Value, k cue.Kind)
