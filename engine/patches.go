package engine

import (
	"bytes"
	"errors"
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// ErrBadPatches is wrapped by [ParsePatches] for a patches file that is
// not a list of inline, targeted kustomize patches.
var ErrBadPatches = errors.New("invalid site patches")

// Patches are site patches: kustomize `patches` entries (a strategic-merge
// or a JSON 6902 patch, inline, with a target selector) applied to the
// objects of every render, so that a site changes what the templates
// produce (a lab Pod's priority class, a toleration, an annotation)
// without forking them. Build them with [ParsePatches] and give them to
// [New] with [WithPatches]. Patches are safe for concurrent use.
type Patches struct {
	patches []types.Patch
}

// patchesFile is the format of a patches file.
type patchesFile struct {
	Patches []types.Patch `json:"patches"`
}

// ParsePatches reads a patches file (YAML or JSON):
//
//	patches:
//	  - target: {kind: Pod, labelSelector: nublado.lsst.io/category=lab}
//	    patch: |-
//	      apiVersion: v1
//	      kind: Pod
//	      metadata: {name: lab}
//	      spec: {priorityClassName: interactive}
//
// Each entry is a kustomize patch with an inline patch and a target (the
// templates render different objects, so an untargeted patch, which must
// match an object of every render, is refused); patch files (path) are
// refused too. Unknown fields are errors. Each patch is decoded here, so
// a patch that is neither a strategic-merge patch nor a JSON 6902 patch
// fails now; an operation that cannot apply to an object (a JSON 6902
// replace of a missing path) fails the render of that object.
func ParsePatches(data []byte) (*Patches, error) {
	var f patchesFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPatches, err)
	}
	for i, p := range f.Patches {
		switch {
		case p.Path != "":
			return nil, fmt.Errorf("%w: patches[%d]: path %q: only inline patches (patch) are supported", ErrBadPatches, i, p.Path)
		case p.Patch == "":
			return nil, fmt.Errorf("%w: patches[%d]: no patch", ErrBadPatches, i)
		case p.Target == nil:
			return nil, fmt.Errorf("%w: patches[%d]: no target", ErrBadPatches, i)
		}
	}
	p := &Patches{patches: f.Patches}
	probe := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "nublado-patches-probe"},
	}}
	if _, err := p.Apply([]*unstructured.Unstructured{probe}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPatches, err)
	}
	return p, nil
}

// Len returns the number of patches.
func (p *Patches) Len() int { return len(p.patches) }

// kustomizationDir is the directory of the in-memory kustomization.
const kustomizationDir = "/nublado"

// Apply applies the patches to objs, in order, as `kustomize build` of a
// kustomization listing objs as its resources and the patches would, and
// returns the patched objects in the order of objs. objs are not changed.
// Errors are wrapped kustomize errors.
func (p *Patches) Apply(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if len(p.patches) == 0 || len(objs) == 0 {
		return objs, nil
	}
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
