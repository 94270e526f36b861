package engine

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// ApplyKrusty applies p with `kustomize build` (krusty on an in-memory
// kustomization), the reference of [Patches.Apply].
func ApplyKrusty(p *Patches, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	return p.applyKrusty(objs)
}

// NeedsKrusty reports whether Apply leaves objs to `kustomize build`.
func NeedsKrusty(objs []*unstructured.Unstructured) bool { return needsKrusty(objs) }
