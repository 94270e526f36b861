package engine

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// MarshalYAML returns objs as a YAML stream: one document per object, in the
// order given (the apply order of [Renderer.Render]), separated by "---"
// lines, with the keys of every mapping sorted. The output is deterministic.
func MarshalYAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for i, obj := range objs {
		doc, err := yaml.Marshal(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("encoding %s as YAML: %w", ObjectID(obj), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// MarshalJSON returns objs as one JSON array in the order given, indented by
// two spaces, keys sorted, HTML characters not escaped, with a final newline.
// The output is deterministic.
func MarshalJSON(objs []*unstructured.Unstructured) ([]byte, error) {
	list := make([]map[string]any, len(objs))
	for i, obj := range objs {
		list[i] = obj.Object
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(list); err != nil {
		return nil, fmt.Errorf("encoding objects as JSON: %w", err)
	}
	return b.Bytes(), nil
}

// ObjectID returns "Kind/name" or "Kind/namespace/name" for messages.
func ObjectID(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}
