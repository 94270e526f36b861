package engine

import (
	"encoding/base64"
	"fmt"

	"cuelang.org/go/cue"
)

// export converts a concrete, validated CUE value into the Go values of
// unstructured JSON: map[string]any, []any, string, int64, float64, bool and
// nil. Bytes become base64 strings, as in JSON. It replaces MarshalJSON
// followed by a JSON decode, which costs twice as much.
func export(v cue.Value) (any, error) {
	v, _ = v.Default()
	switch k := v.Kind(); k {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		for it.Next() {
			x, err := export(it.Value())
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
			x, err := export(it.Value())
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
		if err := v.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: cannot export a value of kind %s", v.Path(), k)
	}
}
