package engine

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// target is a patch's target selector, compiled: it selects objects as
// kustomize's ResMap.Select does (group, version, kind, name and
// namespace are anchored regular expressions, the namespace of a
// namespaced object without one is "default", labelSelector and
// annotationSelector are Kubernetes label selectors), so that only the
// objects a patch targets are converted for kustomize. Kustomize selects
// again among them.
type target struct {
	re          *types.SelectorRegex
	labels      labels.Selector
	annotations labels.Selector
}

// newTarget compiles a target; its errors are those of a bad regular
// expression or selector.
func newTarget(s *types.Selector) (*target, error) {
	re, err := types.NewSelectorRegex(s)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	t := &target{re: re}
	if t.labels, err = parseSelector(s.LabelSelector); err != nil {
		return nil, fmt.Errorf("target: labelSelector: %w", err)
	}
	if t.annotations, err = parseSelector(s.AnnotationSelector); err != nil {
		return nil, fmt.Errorf("target: annotationSelector: %w", err)
	}
	return t, nil
}

// parseSelector parses a label selector: kustomize's parser (checked on
// an object, as kustomize would) decides whether it is valid, and
// Kubernetes' parses it for matching (nil, matching everything, if that
// one disagrees, so that the selection is left to kustomize).
func parseSelector(s string) (labels.Selector, error) {
	if s == "" {
		return labels.Everything(), nil
	}
	probe := &resource.Resource{}
	probe.SetYNode(&kyaml.Node{Kind: kyaml.MappingNode})
	if _, err := probe.MatchesLabelSelector(s); err != nil {
		return nil, err
	}
	sel, err := labels.Parse(s)
	if err != nil {
		// Kustomize accepts it: kustomize selects.
		return nil, nil
	}
	return sel, nil
}

// matches reports whether obj, not changed by a patch yet, may be selected.
func (t *target) matches(obj *unstructured.Unstructured) bool {
	group, version := resid.ParseGroupVersion(obj.GetAPIVersion())
	id := resid.NewResIdWithNamespace(resid.NewGvk(group, version, obj.GetKind()), obj.GetName(), obj.GetNamespace())
	if !t.re.MatchNamespace(id.EffectiveNamespace()) || !t.re.MatchName(id.Name) || !t.re.MatchGvk(id.Gvk) {
		return false
	}
	return matchesMap(t.labels, obj, "labels") && matchesMap(t.annotations, obj, "annotations")
}

// matchesMap matches the labels or annotations of obj with sel; a nil
// selector matches (kustomize decides).
func matchesMap(sel labels.Selector, obj *unstructured.Unstructured, field string) bool {
	if sel == nil || sel.Empty() {
		return true
	}
	m, _, _ := unstructured.NestedStringMap(obj.Object, "metadata", field)
	return sel.Matches(labels.Set(m))
}
