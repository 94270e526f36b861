package engine

import (
	"fmt"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// render fills input into the named template and returns its objects.
func (c *compiled) render(name string, input any) ([]*unstructured.Unstructured, error) {
	tmpl, ok := c.templates[name]
	if !ok {
		return nil, fmt.Errorf("rendering template %q: %w", name, ErrUnknownTemplate)
	}
	v := tmpl.FillPath(inputPath, input)
	if err := v.LookupPath(inputPath).Validate(cue.Concrete(true), cue.Final()); err != nil {
		return nil, newRenderError(name, "", err, cue.Value{})
	}
	objs := v.LookupPath(objectsPath)
	if c.strict {
		if err := objs.Validate(cue.Concrete(true), cue.Final()); err != nil {
			return nil, newRenderError(name, "", err, objs)
		}
		if err := c.check(name, objs); err != nil {
			return nil, err
		}
	}
	// The export meets every error and incomplete value of the objects, so
	// the objects are validated (a walk as long as the export) only to
	// report an error as CUE does.
	list, err := c.exporter.export(name, objs)
	if err != nil {
		if verr := objs.Validate(cue.Concrete(true), cue.Final()); verr != nil {
			err = verr
		}
		return nil, newRenderError(name, "", err, objs)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.([]any)))
	for i, o := range list.([]any) {
		m, ok := o.(map[string]any)
		if !ok {
			return nil, &RenderError{Template: name, Path: fmt.Sprintf("objects.%d", i),
				Message: fmt.Sprintf("an object must be a struct, not %T", o), Err: ErrNotAnObject}
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// check unifies every object with its Kubernetes definition from #Kinds.
func (c *compiled) check(name string, objs cue.Value) error {
	it, err := objs.List()
	if err != nil {
		return newRenderError(name, "", err, objs)
	}
	for it.Next() {
		obj := it.Value()
		id := objectID(obj)
		apiVersion, _ := obj.LookupPath(cue.MakePath(cue.Str("apiVersion"))).String()
		kind, _ := obj.LookupPath(cue.MakePath(cue.Str("kind"))).String()
		def := c.kinds.LookupPath(cue.MakePath(cue.Str(apiVersion), cue.Str(kind)))
		if !def.Exists() {
			return &RenderError{
				Template: name,
				Object:   id,
				Path:     "kind",
				Message:  fmt.Sprintf("no Kubernetes schema for apiVersion %q kind %q", apiVersion, kind),
				Err:      ErrUnknownKind,
			}
		}
		if err := def.Unify(obj).Validate(cue.Concrete(true), cue.Final()); err != nil {
			return newRenderError(name, id, err, cue.Value{})
		}
	}
	return nil
}
