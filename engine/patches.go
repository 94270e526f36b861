package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
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
	// patches are the entries of the file, for applyKrusty.
	patches []types.Patch
	// compiled are the same entries, parsed once.
	compiled []*compiledPatch
}

// compiledPatch is a patches entry parsed by kustomize's own patch
// transformer, with its target compiled for the preselection of objects.
type compiledPatch struct {
	plugin *builtins.PatchTransformerPlugin
	target *target
	// selector and json are the target and the operations of a JSON 6902
	// patch, which Apply runs as the transformer does, without its
	// conversions through YAML text (json is nil for a strategic merge).
	selector types.Selector
	json     jsonpatch.Patch
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
// refused too. Unknown fields are errors. Each patch and target is parsed
// and checked here, so a patch that is neither a strategic-merge patch
// nor a JSON 6902 patch (or has an unknown operation), a target with a bad
// regular expression or selector, fails now; an operation that cannot
// apply to an object (a JSON 6902 replace of a missing path) fails the
// render of that object.
func ParsePatches(data []byte) (*Patches, error) {
	var f patchesFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPatches, err)
	}
	p := &Patches{patches: f.Patches}
	for i, entry := range f.Patches {
		c, err := compilePatch(entry)
		if err != nil {
			return nil, fmt.Errorf("%w: patches[%d]: %w", ErrBadPatches, i, err)
		}
		p.compiled = append(p.compiled, c)
	}
	return p, nil
}

// compilePatch checks a patches entry and parses it with kustomize's
// patch transformer, as `kustomize build` would.
func compilePatch(entry types.Patch) (*compiledPatch, error) {
	switch {
	case entry.Path != "":
		return nil, fmt.Errorf("path %q: only inline patches (patch) are supported", entry.Path)
	case entry.Patch == "":
		return nil, errors.New("no patch")
	case entry.Target == nil:
		return nil, errors.New("no target")
	}
	t, err := newTarget(entry.Target)
	if err != nil {
		return nil, err
	}
	config, err := yaml.Marshal(entry)
	if err != nil {
		return nil, err
	}
	plugin := builtins.NewPatchTransformerPlugin().(*builtins.PatchTransformerPlugin)
	if err := plugin.Config(pluginHelpers(), config); err != nil {
		return nil, err
	}
	if err := checkJSONPatch(entry.Patch); err != nil {
		return nil, err
	}
	// Without objects, the transformer still meets the errors that do not
	// depend on them (several strategic-merge patches for one target).
	if err := plugin.Transform(resmap.New()); err != nil {
		return nil, err
	}
	c := &compiledPatch{plugin: plugin, target: t, selector: *entry.Target}
	if c.json, err = jsonPatch(entry.Patch); err != nil {
		return nil, err
	}
	return c, nil
}

// jsonPatch returns the operations of a patch that kustomize takes for a
// JSON 6902 patch (one that is not a strategic-merge patch), decoded as
// kustomize's JSON 6902 filter does, or nil.
func jsonPatch(text string) (jsonpatch.Patch, error) {
	text = strings.TrimSpace(text)
	if _, err := pluginHelpers().ResmapFactory().RF().SliceFromBytes([]byte(text)); err == nil {
		return nil, nil
	}
	data := []byte(text)
	if !strings.HasPrefix(text, "[") {
		var err error
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return nil, err
		}
	}
	return jsonpatch.DecodePatch(data)
}

// Apply applies the patches to objs, in order, as `kustomize build` of a
// kustomization listing objs as its resources and the patches would, and
// returns the patched objects in the order of objs. objs are not changed;
// the objects no patch targets are returned as they are (or, where
// kustomize would normalize them, as kustomize would). Errors are
// wrapped kustomize errors.
//
// The patches run through kustomize's own patch transformer, on the
// targeted objects only; inputs where `kustomize build` would do more
// than patch (lists, duplicate objects, kustomize's own annotations, a
// patch that renames an object, whose references kustomize then fixes)
// take the whole kustomize build.
func (p *Patches) Apply(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if len(p.compiled) == 0 || len(objs) == 0 {
		return objs, nil
	}
	if needsKrusty(objs) {
		return p.applyKrusty(objs)
	}
	res, err := p.transform(objs)
	if err != nil {
		return nil, fmt.Errorf("applying site patches: %w", err)
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for i, obj := range objs {
		switch {
		case res[i] == nil:
			out = append(out, normalized(obj))
		case res[i].IsNilOrEmpty():
			// A strategic-merge patch deleted the object.
		case renamed(obj, res[i]) || !finish(res[i]):
			return p.applyKrusty(objs)
		default:
			u, err := fromResource(res[i])
			if err != nil {
				return nil, fmt.Errorf("applying site patches: %w", err)
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// transform runs each patch on the objects its target may select (those
// a previous patch changed are always given to it) and returns the
// changed objects as kustomize resources, nil for the others.
func (p *Patches) transform(objs []*unstructured.Unstructured) ([]*resource.Resource, error) {
	res := make([]*resource.Resource, len(objs))
	for _, c := range p.compiled {
		m := resmap.New()
		for i, obj := range objs {
			if res[i] == nil {
				if !c.target.matches(obj) {
					continue
				}
				r, err := toResource(obj)
				if err != nil {
					return nil, err
				}
				res[i] = r
			}
			if res[i].IsNilOrEmpty() {
				continue
			}
			if err := m.Append(res[i]); err != nil {
				return nil, err
			}
		}
		if m.Size() == 0 {
			continue
		}
		if err := c.transform(m); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// finish removes kustomize's build annotations from a patched resource,
// as `kustomize build` does at its end, and reports whether the resource
// is done: false if a patch gave it an annotation that kustomize acts on.
func finish(r *resource.Resource) bool {
	r.RemoveBuildAnnotations()
	for k := range r.GetAnnotations() {
		if reservedAnnotation(k) {
			return false
		}
	}
	// What `kustomize build` does to every object, and to the
	// annotations map: an empty one is removed.
	return r.SetOrigin(nil) == nil && r.ClearTransformations() == nil
}

// renamed reports whether a patch changed the kind, name or namespace of
// obj (kustomize then fixes the references to it in the other objects).
func renamed(obj *unstructured.Unstructured, r *resource.Resource) bool {
	if len(r.PrevIds()) > 0 && !r.OrgId().Equals(r.CurId()) {
		return true
	}
	return r.GetApiVersion() != obj.GetAPIVersion() || r.GetKind() != obj.GetKind() ||
		r.GetName() != obj.GetName() || r.GetNamespace() != obj.GetNamespace()
}

// Len returns the number of patches.
func (p *Patches) Len() int { return len(p.patches) }

// transform runs the patch on the resources of m.
func (c *compiledPatch) transform(m resmap.ResMap) error {
	if c.json == nil {
		return c.plugin.Transform(m)
	}
	// As kustomize's patch transformer runs a JSON 6902 patch.
	selected, err := m.Select(c.selector)
	if err != nil {
		return err
	}
	for _, r := range selected {
		r.StorePreviousId()
		internal := kioutil.GetInternalAnnotations(&r.RNode)
		if err := applyJSONPatch(c.json, r); err != nil {
			return err
		}
		annotations := r.GetAnnotations()
		maps.Copy(annotations, internal)
		if err := r.SetAnnotations(annotations); err != nil {
			return err
		}
	}
	return nil
}

// applyJSONPatch applies a JSON 6902 patch to r as kustomize's filter does
// (on r written as JSON, read back with float numbers), with direct
// conversions.
func applyJSONPatch(p jsonpatch.Patch, r *resource.Resource) error {
	var data []byte
	var err error
	if v, ok := fromNode(r.YNode()); ok {
		data, err = json.Marshal(v)
	} else {
		data, err = r.MarshalJSON()
	}
	if err != nil {
		return err
	}
	if data, err = p.Apply(data); err != nil {
		return err
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	n, err := toNode(m)
	if err != nil {
		return err
	}
	r.SetYNode(n)
	return nil
}
