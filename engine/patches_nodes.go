package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// toResource converts an object of unstructured JSON (see needsKrusty) to
// a kustomize resource, building its YAML nodes directly: the nodes hold
// what kustomize reads from the object written as YAML.
func toResource(obj *unstructured.Unstructured) (*resource.Resource, error) {
	n, err := toNode(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ObjectID(obj), err)
	}
	r := &resource.Resource{}
	r.SetYNode(n)
	return r, nil
}

// toNode converts a value of unstructured JSON to a YAML node.
func toNode(v any) (*kyaml.Node, error) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		n := &kyaml.Node{Kind: kyaml.MappingNode, Tag: kyaml.NodeTagMap, Content: make([]*kyaml.Node, 0, 2*len(v))}
		for _, k := range keys {
			e, err := toNode(v[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar(kyaml.NodeTagString, k), e)
		}
		return n, nil
	case []any:
		n := &kyaml.Node{Kind: kyaml.SequenceNode, Tag: kyaml.NodeTagSeq, Content: make([]*kyaml.Node, 0, len(v))}
		for _, e := range v {
			c, err := toNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		return scalar(kyaml.NodeTagString, v), nil
	case int64:
		return scalar(kyaml.NodeTagInt, strconv.FormatInt(v, 10)), nil
	case float64:
		return floatNode(v)
	case bool:
		return scalar(kyaml.NodeTagBool, strconv.FormatBool(v)), nil
	case nil:
		return scalar(kyaml.NodeTagNull, "null"), nil
	}
	return nil, fmt.Errorf("unexpected value of type %T", v)
}

// floatNode returns a float as YAML reads it once written as JSON.
func floatNode(f float64) (*kyaml.Node, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	s := string(data)
	if strings.ContainsAny(s, ".eE") {
		return scalar(kyaml.NodeTagFloat, s), nil
	}
	return scalar(kyaml.NodeTagInt, s), nil
}

func scalar(tag, value string) *kyaml.Node {
	return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: tag, Value: value}
}

// fromResource converts a patched resource back to an object, as
// `kustomize build` does (its JSON read as unstructured JSON): directly
// where the nodes are plain YAML (string keys, scalars of the core
// schema written canonically), through JSON otherwise.
func fromResource(r *resource.Resource) (*unstructured.Unstructured, error) {
	if v, ok := fromNode(r.YNode()); ok {
		if m, ok := v.(map[string]any); ok {
			return &unstructured.Unstructured{Object: m}, nil
		}
	}
	data, err := r.MarshalJSON()
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return obj, nil
}

// fromNode converts a YAML node to unstructured JSON; false if the node
// is not plain YAML.
func fromNode(n *kyaml.Node) (any, bool) {
	switch n.Kind {
	case kyaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, false
		}
		return fromNode(n.Content[0])
	case kyaml.MappingNode:
		return fromMapping(n)
	case kyaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, ok := fromNode(c)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	case kyaml.ScalarNode:
		return fromScalar(n)
	}
	return nil, false
}

func fromMapping(n *kyaml.Node) (any, bool) {
	if len(n.Content)%2 != 0 {
		return nil, false
	}
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != kyaml.ScalarNode || k.ShortTag() != kyaml.NodeTagString || k.Value == "<<" {
			return nil, false
		}
		if _, dup := out[k.Value]; dup {
			return nil, false
		}
		v, ok := fromNode(n.Content[i+1])
		if !ok {
			return nil, false
		}
		out[k.Value] = v
	}
	return out, true
}

func fromScalar(n *kyaml.Node) (any, bool) {
	switch n.ShortTag() {
	case kyaml.NodeTagString:
		return n.Value, true
	case kyaml.NodeTagNull:
		return nil, true
	case kyaml.NodeTagBool:
		switch n.Value {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	case kyaml.NodeTagInt:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err == nil && strconv.FormatInt(i, 10) == n.Value {
			return i, true
		}
	case kyaml.NodeTagFloat:
		if strings.Trim(n.Value, "0123456789.eE+-") != "" {
			return nil, false
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err == nil && !math.IsInf(f, 0) {
			return jsonNumber(f), true
		}
	}
	return nil, false
}
