package engine

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// exporter converts the rendered objects, concrete CUE values, into the Go
// values of unstructured JSON: map[string]any, []any, string, int64,
// float64, bool and nil. Bytes become base64 strings, as in JSON.
//
// Walking a value through the cue.Value API costs microseconds per field
// (Value.Fields sorts the fields topologically; every LookupPath, Fields and
// List builds an evaluation context), so the exporter avoids it where the
// templates' source tells it the answer (see the package documentation,
// "Export"):
//
//   - A struct or list whose value is exactly a plain reference (a name
//     followed by selectors) to a hidden top-level field of the templates
//     package (_labStatic.mounts) is exported once per Renderer: it lies
//     outside every template, so no input can change it. One to a hidden
//     field of the template being rendered (lab._resources) is exported once
//     per render, and so is one to a field of that template (input.user).
//     Every later occurrence is a copy, so that callers may modify the
//     objects. A reference to a scalar in a struct literal (see below) is
//     cached the same way.
//   - A struct whose only conjunct is a struct literal that declares its
//     fields plainly (see structPlan) has exactly these fields: their names,
//     constant values and references come from the literal, and only the
//     other fields are looked up.
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
	// plans maps an *ast.StructLit to its *structPlan, nil if the literal
	// does not qualify.
	plans sync.Map
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
		switch k = v.Kind(); k {
		case cue.StructKind, cue.ListKind:
			// The default is not what Source and ReferencePath describe.
			return r.exportComposite(v, k, nil)
		}
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
	// Source is the source of v's only conjunct if it has exactly one; for
	// a struct it is nil otherwise.
	src := v.Source()
	ref := r.e.ref(v, src)
	if x, ok := r.cached(ref); ok {
		return x, nil
	}
	x, err := r.exportComposite(v, k, src)
	if err != nil {
		return nil, err
	}
	return r.cache(ref, x), nil
}

// cached returns a copy of the exported value of a shared reference, if
// this render or Renderer has exported it already.
func (r *exportRun) cached(ref refInfo) (any, bool) {
	switch {
	case ref.kind == refStatic:
		if x, ok := r.e.static.Load(ref.key); ok {
			return deepCopy(x), true
		}
	case ref.kind == refPerRender && ref.template == r.template:
		if x, ok := r.memo[ref.key]; ok {
			return deepCopy(x), true
		}
	}
	return nil, false
}

// cache records the exported value x of a shared reference and returns the
// value to use.
func (r *exportRun) cache(ref refInfo, x any) any {
	switch {
	case ref.kind == refStatic:
		r.e.static.Store(ref.key, x)
		return deepCopy(x)
	case ref.kind == refPerRender && ref.template == r.template:
		if r.memo == nil {
			r.memo = map[string]any{}
		}
		r.memo[ref.key] = x
	}
	return x
}

// exportComposite converts a struct or a list. src is the source of v's only
// conjunct, or nil.
func (r *exportRun) exportComposite(v cue.Value, k cue.Kind, src ast.Node) (any, error) {
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
	if src != nil {
		// A shared value (x: _labStatic.y) has the shared vertex as its
		// default; that vertex's only conjunct is the literal, if any.
		d, _ := v.Default()
		if plan := r.e.plan(d.Source()); plan != nil {
			return r.exportPlan(d, plan)
		}
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

// exportPlan converts the struct v, whose only conjunct is the literal of
// plan, or, for a nested plan, the struct at the plan's path in v.
func (r *exportRun) exportPlan(v cue.Value, plan *structPlan) (map[string]any, error) {
	m := make(map[string]any, len(plan.fields))
	for i := range plan.fields {
		f := &plan.fields[i]
		switch {
		case f.isConst:
			m[f.name] = f.value
			continue
		case f.nested != nil:
			x, err := r.exportPlan(v, f.nested)
			if err != nil {
				return nil, err
			}
			m[f.name] = x
			continue
		case f.isRef:
			if info, ok := r.e.refs.Load(f.decl); ok {
				if x, ok := r.cached(*info.(*refInfo)); ok {
					m[f.name] = x
					continue
				}
			}
			// A reference to a scalar is cached too (a composite is cached
			// by export).
			fv := v.LookupPath(f.path)
			if k := fv.Kind(); k != cue.StructKind && k != cue.ListKind && k != cue.BottomKind {
				x, err := r.export(fv)
				if err != nil {
					return nil, err
				}
				m[f.name] = r.cache(r.e.ref(fv, f.decl), x)
				continue
			}
			x, err := r.export(fv)
			if err != nil {
				return nil, err
			}
			m[f.name] = x
			continue
		}
		fv := v.LookupPath(f.path)
		if f.optional && !fv.Exists() {
			continue
		}
		x, err := r.export(fv)
		if err != nil {
			return nil, err
		}
		m[f.name] = x
	}
	return m, nil
}

// structPlan is what the source says about a struct whose only conjunct is
// a struct literal whose elements are fields with a name for a label (no
// embedding, pattern, optional or required field, or label computed at
// evaluation time), each name declared once, and comprehensions whose
// bodies declare such fields, none of them declared by the literal. Such a
// struct has exactly the regular fields the literal declares and those the
// comprehensions yield. Each declared field's only conjunct is its
// declaration: a constant is the field's value, a plain reference is the
// field's value, and a literal of the same kind describes the field's
// struct.
type structPlan struct {
	fields []planField
}

// planField is a regular field of a structPlan.
type planField struct {
	name string
	// path is the field's path from the value the top-level plan describes.
	path cue.Path
	// decl is the field's declaration.
	decl *ast.Field
	// isConst says the field's value is the constant value.
	isConst bool
	value   any
	// isRef says the field's value is a plain reference without an index.
	isRef bool
	// nested describes the field's struct value.
	nested *structPlan
	// optional says the field is yielded by a comprehension: it is looked
	// up and left out if it does not exist.
	optional bool
}

// plan returns the structPlan of src (an *ast.StructLit or an *ast.Field
// with one as its value), or nil.
func (e *exporter) plan(src ast.Node) *structPlan {
	if f, ok := src.(*ast.Field); ok {
		src = f.Value
	}
	lit, ok := src.(*ast.StructLit)
	if !ok {
		return nil
	}
	if x, ok := e.plans.Load(lit); ok {
		return x.(*structPlan)
	}
	plan := buildPlan(lit, nil)
	e.plans.Store(lit, plan)
	return plan
}

// buildPlan returns the plan of lit, whose struct is at prefix, or nil if lit
// does not qualify.
func buildPlan(lit *ast.StructLit, prefix []cue.Selector) *structPlan {
	plan := &structPlan{}
	declared := map[string]bool{}
	yielded := map[string]bool{}
	for _, d := range lit.Elts {
		switch d := d.(type) {
		case *ast.Field:
			name, isIdent, ok := plainLabel(d)
			if !ok || declared[name] {
				return nil
			}
			declared[name] = true
			if !isIdent || !strings.HasPrefix(name, "_") && !strings.HasPrefix(name, "#") {
				plan.fields = append(plan.fields, newPlanField(d, name, prefix))
			}
		case *ast.Comprehension:
			// Its fields may or may not exist: they are looked up.
			body, ok := d.Value.(*ast.StructLit)
			if !ok {
				return nil
			}
			for _, d := range body.Elts {
				f, ok := d.(*ast.Field)
				if !ok {
					if !ignorable(d) {
						return nil
					}
					continue
				}
				name, isIdent, ok := plainLabel(f)
				if !ok {
					return nil
				}
				if yielded[name] || isIdent && (strings.HasPrefix(name, "_") || strings.HasPrefix(name, "#")) {
					continue
				}
				yielded[name] = true
				sels := append(append([]cue.Selector(nil), prefix...), cue.Str(name))
				plan.fields = append(plan.fields, planField{name: name, path: cue.MakePath(sels...), optional: true})
			}
		default:
			if !ignorable(d) {
				return nil
			}
		}
	}
	// A field both declared and yielded has several conjuncts.
	for name := range yielded {
		if declared[name] {
			return nil
		}
	}
	return plan
}

// newPlanField returns the plan of the field d of a qualifying literal.
func newPlanField(d *ast.Field, name string, prefix []cue.Selector) planField {
	sels := append(append([]cue.Selector(nil), prefix...), cue.Str(name))
	f := planField{name: name, path: cue.MakePath(sels...), decl: d}
	f.value, f.isConst = constant(d.Value)
	if !f.isConst {
		if sub, ok := d.Value.(*ast.StructLit); ok {
			f.nested = buildPlan(sub, sels)
		} else if n, indexed := plainReference(d.Value); n >= 0 && !indexed {
			f.isRef = true
		}
	}
	return f
}

// plainLabel returns the name of a field with a name for a label and no
// constraint marker, and whether it is an identifier.
func plainLabel(d *ast.Field) (name string, isIdent, ok bool) {
	name, isIdent, err := ast.LabelName(d.Label)
	return name, isIdent, err == nil && d.Constraint == token.ILLEGAL
}

// ignorable reports whether d declares no field.
func ignorable(d ast.Decl) bool {
	switch d.(type) {
	case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
		return true
	}
	return false
}

// constant returns the value of x if it is a double-quoted string, a
// decimal integer, a boolean or null literal.
func constant(x ast.Expr) (any, bool) {
	lit, ok := x.(*ast.BasicLit)
	if !ok {
		return nil, false
	}
	switch lit.Kind {
	case token.STRING:
		if !strings.HasPrefix(lit.Value, `"`) {
			return nil, false // bytes or raw string
		}
		s, err := literal.Unquote(lit.Value)
		return s, err == nil
	case token.INT:
		for _, c := range lit.Value {
			if c < '0' || c > '9' {
				return nil, false // 0x10, 1_000, 1Ki, ...
			}
		}
		n, err := strconv.ParseInt(lit.Value, 10, 64)
		return n, err == nil
	case token.TRUE, token.FALSE:
		return lit.Kind == token.TRUE, true
	case token.NULL:
		return nil, true
	}
	return nil, false
}

// ref classifies v, whose source is src.
func (e *exporter) ref(v cue.Value, src ast.Node) refInfo {
	// ReferencePath builds an evaluation context, so it runs once per source
	// unless the reference has an index.
	expr := src
	if f, ok := src.(*ast.Field); ok {
		expr = f.Value
	}
	selectors, indexed := plainReference(expr)
	if selectors < 0 {
		return refInfo{}
	}
	if x, ok := e.refs.Load(src); ok {
		info := x.(*refInfo)
		if !indexed || info.kind == refNone {
			return *info
		}
		// The kind of reference does not depend on the index, its path does.
		if root, p := v.ReferencePath(); root.Exists() && p.Err() == nil {
			return refInfo{kind: info.kind, template: info.template, key: p.String()}
		}
		return refInfo{}
	}
	info := refInfo{}
	if root, p := v.ReferencePath(); root.Exists() && p.Err() == nil {
		// The path is that of the struct the identifier was found in (its
		// scope), the identifier and the selectors. Only a scope that is
		// the package or a template is evaluated once per render: a struct
		// in a template may be evaluated several times (a comprehension's
		// body, a definition used twice), and the path of the identifier
		// found in it would depend on where.
		sels := p.Selectors()
		switch scope := len(sels) - 1 - selectors; {
		case scope == 0 && e.hidden(sels[0]):
			info = refInfo{kind: refStatic, key: p.String()}
		case scope == 1 && sels[0].LabelType() == cue.StringLabel:
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

// plainReference returns the number of selectors and indexes following the
// identifier if x is an identifier followed by field selectors and indexes,
// -1 otherwise, and whether there is an index. The kind of value such a
// reference resolves to does not depend on where it is evaluated; without
// an index, neither does its path.
func plainReference(x ast.Node) (selectors int, indexed bool) {
	for {
		switch y := x.(type) {
		case *ast.Ident:
			return selectors, indexed
		case *ast.SelectorExpr:
			x, selectors = y.X, selectors+1
		case *ast.IndexExpr:
			x, selectors, indexed = y.X, selectors+1, true
		default:
			return -1, false
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
