package engine

import (
	"encoding/base64"
	"fmt"

	"cuelang.org/go/cue"
)

// RenderWalk renders like Render but exports the objects the slow, plain way:
// every field through Value.Fields and Value.List, no shortcut. Tests
// compare it with Render.
func RenderWalk(r *Renderer, template string, input any) (any, error) {
	v := r.c.templates[template].FillPath(inputPath, input)
	objs := v.LookupPath(objectsPath)
	if err := objs.Validate(cue.Concrete(true), cue.Final()); err != nil {
		return nil, err
	}
	return walk(objs)
}

func walk(v cue.Value) (any, error) {
	v, _ = v.Default()
	switch k := v.Kind(); k {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		for it.Next() {
			x, err := walk(it.Value())
			if err != nil {
				return nil, err
			}
			m[it.Selector().Unquoted()] = x
		}
		return m, nil
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, err
		}
		l := []any{}
		for it.Next() {
			x, err := walk(it.Value())
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
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
		return nil, fmt.Errorf("%s: cannot export a value of kind %s", v.Path(), k)
	}
}
