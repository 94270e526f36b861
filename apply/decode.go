package apply

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Decode reads Kubernetes objects from r: a YAML stream (documents
// separated by "---"), or JSON (an object or an array of objects; JSON is
// YAML). Lists (kind List, or any object with an items array) are
// flattened; empty documents are skipped. Every object needs apiVersion and
// kind. Integers decode as int64, as client-go expects.
func Decode(r io.Reader) ([]*unstructured.Unstructured, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objects []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		raw, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading document %d: %w", doc, err)
		}
		data, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("decoding document %d: %w", doc, err)
		}
		var v any
		if err := utiljson.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("decoding document %d: %w", doc, err)
		}
		objs, err := flatten(v)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		objects = append(objects, objs...)
	}
}

// flatten turns one decoded document into objects.
func flatten(v any) ([]*unstructured.Unstructured, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		var objs []*unstructured.Unstructured
		for i, item := range t {
			sub, err := flatten(item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			objs = append(objs, sub...)
		}
		return objs, nil
	case map[string]any:
		if len(t) == 0 {
			return nil, nil
		}
		obj := &unstructured.Unstructured{Object: t}
		if obj.IsList() {
			return flatten(t["items"])
		}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
			return nil, fmt.Errorf("object %q has no apiVersion or kind", obj.GetName())
		}
		return []*unstructured.Unstructured{obj}, nil
	}
	return nil, fmt.Errorf("expected an object or a list of objects, found %T", v)
}
