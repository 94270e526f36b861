package engine

import (
	"bytes"
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizationDir is the directory of the in-memory kustomization.
const kustomizationDir = "/nublado"

// applyKrusty applies the patches by running `kustomize build` on an
// in-memory kustomization listing objs as its resources and the patches.
// It is the reference of [Patches.Apply], which takes it for the inputs
// its fast path leaves to kustomize (see needsKrusty and renamed).
func (p *Patches) applyKrusty(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	fsys := filesys.MakeFsInMemory()
	var resources bytes.Buffer
	for _, obj := range objs {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("applying site patches: %s: %w", ObjectID(obj), err)
		}
		resources.WriteString("---\n")
		resources.Write(data)
	}
	k := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: []string{"objects.yaml"},
		Patches:   p.patches,
	}
	kdata, err := yaml.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("applying site patches: %w", err)
	}
	if err := writeFiles(fsys, map[string][]byte{"objects.yaml": resources.Bytes(), "kustomization.yaml": kdata}); err != nil {
		return nil, err
	}
	// The default options do not reorder the objects.
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, kustomizationDir)
	if err != nil {
		return nil, fmt.Errorf("applying site patches: %w", err)
	}
	out := make([]*unstructured.Unstructured, 0, m.Size())
	for _, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("applying site patches: %w", err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("applying site patches: %w", err)
		}
		out = append(out, obj)
	}
	return out, nil
}

func writeFiles(fsys filesys.FileSystem, files map[string][]byte) error {
	if err := fsys.MkdirAll(kustomizationDir); err != nil {
		return fmt.Errorf("applying site patches: %w", err)
	}
	for name, data := range files {
		if err := fsys.WriteFile(path.Join(kustomizationDir, name), data); err != nil {
			return fmt.Errorf("applying site patches: %w", err)
		}
	}
	return nil
}
