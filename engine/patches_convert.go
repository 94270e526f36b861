package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// pluginHelpers returns what kustomize's patch transformer is configured
// with: the default resource factory, and no loader (patches are inline).
var pluginHelpers = sync.OnceValue(func() *resmap.PluginHelpers {
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	return resmap.NewPluginHelpers(nil, nil, resmap.NewFactory(rf), nil)
})

// jsonPatchOps are the operations of a JSON 6902 patch.
var jsonPatchOps = map[string]bool{"add": true, "remove": true, "replace": true, "move": true, "copy": true, "test": true}

// checkJSONPatch checks the operations of a patch that is a JSON 6902
// patch (a list); a strategic-merge patch is kustomize's to check.
func checkJSONPatch(text string) error {
	data, err := yaml.YAMLToJSON([]byte(strings.TrimSpace(text)))
	var ops []map[string]any
	if err != nil || json.Unmarshal(data, &ops) != nil {
		return nil // Not a JSON 6902 patch, parsed by kustomize.
	}
	for i, op := range ops {
		name, _ := op["op"].(string)
		if !jsonPatchOps[name] {
			return fmt.Errorf("operation %d: unknown op %q", i, name)
		}
		if _, ok := op["path"].(string); !ok {
			return fmt.Errorf("operation %d (%s): no path", i, name)
		}
		if _, ok := op["from"].(string); !ok && (name == "move" || name == "copy") {
			return fmt.Errorf("operation %d (%s): no from", i, name)
		}
	}
	return nil
}

// reservedAnnotation reports whether kustomize acts on an annotation
// (its build, origin, local-config and index annotations).
func reservedAnnotation(key string) bool {
	return strings.Contains(key, "config.kubernetes.io/") || strings.Contains(key, "config.k8s.io/")
}

// needsKrusty reports whether `kustomize build` would do more with objs
// than apply the patches and tidy annotations: refuse an object (no kind
// or name, a duplicate), expand a list, act on its own annotations, or
// convert values that are not those of unstructured JSON. Those inputs
// take applyKrusty. It errs on the side of kustomize.
func needsKrusty(objs []*unstructured.Unstructured) bool {
	seen := make(map[[3]string]bool, len(objs))
	for _, obj := range objs {
		kind, _ := obj.Object["kind"].(string)
		apiVersion, _ := obj.Object["apiVersion"].(string)
		md, _ := obj.Object["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		if kind == "" || apiVersion == "" || name == "" || strings.HasSuffix(kind, "List") {
			return true
		}
		if ns, ok := md["namespace"]; ok {
			if _, ok := ns.(string); !ok {
				return true
			}
		}
		if !stringMap(md["labels"], false) || !stringMap(md["annotations"], true) || !plainJSON(obj.Object) {
			return true
		}
		group, _ := resid.ParseGroupVersion(apiVersion)
		key := [3]string{group, kind, name}
		if seen[key] {
			return true
		}
		seen[key] = true
	}
	return false
}

// stringMap reports whether v is absent or a map of strings (without
// kustomize's annotations if annotations).
func stringMap(v any, annotations bool) bool {
	if v == nil {
		return true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		if _, ok := v.(string); !ok || annotations && reservedAnnotation(k) {
			return false
		}
	}
	return true
}

// plainJSON reports whether v holds only the values of unstructured JSON,
// valid UTF-8 strings and finite numbers.
func plainJSON(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !plainJSON(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !plainJSON(e) {
				return false
			}
		}
	case string:
		return utf8.ValidString(v)
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case int64, bool, nil:
	default:
		return false
	}
	return true
}

// normalized returns obj as `kustomize build` returns an object no patch
// selects: an empty annotations map is removed, and a float that JSON
// writes as an integer is an integer. obj is returned if unchanged, a copy
// otherwise.
func normalized(obj *unstructured.Unstructured) *unstructured.Unstructured {
	m, changed := obj.Object, false
	if md, _ := m["metadata"].(map[string]any); md != nil {
		if a, ok := md["annotations"]; ok && (a == nil || len(a.(map[string]any)) == 0) {
			md = maps.Clone(md)
			delete(md, "annotations")
			m = maps.Clone(m)
			m["metadata"] = md
			changed = true
		}
	}
	if v, ok := integralFloats(m); ok {
		m, changed = v.(map[string]any), true
	}
	if !changed {
		return obj
	}
	return &unstructured.Unstructured{Object: m}
}

// integralFloats returns v with the floats that JSON writes as integers
// (which kustomize reads back as integers) made int64, and whether there
// were any; v is copied where it changes.
func integralFloats(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range v {
			if n, ok := integralFloats(e); ok {
				if out == nil {
					out = maps.Clone(v)
				}
				out[k] = n
			}
		}
		return out, out != nil
	case []any:
		var out []any
		for i, e := range v {
			if n, ok := integralFloats(e); ok {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = n
			}
		}
		return out, out != nil
	case float64:
		n := jsonNumber(v)
		_, isInt := n.(int64)
		return n, isInt
	}
	return nil, false
}

// jsonNumber returns f as unstructured JSON reads it back once written:
// an int64 if JSON writes it as an integer that fits, f otherwise.
func jsonNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return f
}
