package apply

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// ObjectRef identifies an object in change sets and errors.
type ObjectRef struct {
	Group     string // API group, "" for the core group
	Kind      string
	Namespace string // "" for cluster-scoped objects
	Name      string
}

// Ref returns the reference of obj.
func Ref(obj *unstructured.Unstructured) ObjectRef {
	gvk := obj.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// String returns "Kind namespace/name", or "Kind name" for a cluster-scoped
// object: the form Nublado uses in messages ("Service userlabs-rachel/lab",
// "Namespace userlabs-rachel").
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// noun is what an operation on the object is called in messages: Nublado
// says "creating namespace" for namespaces and "creating object" otherwise.
func (r ObjectRef) noun() string {
	if r.Group == "" && r.Kind == "Namespace" {
		return "namespace"
	}
	return "object"
}

// target is an object resolved to its REST resource.
type target struct {
	obj     *unstructured.Unstructured
	ref     ObjectRef
	mapping *meta.RESTMapping
	index   int // position in the caller's list

	crd *crd // the CRD of the set that defines the kind, when plan deferred it

	once sync.Once // computes data, err: the apply patch
	data []byte
	err  error
}

// resource returns the dynamic client for the target's resource and
// namespace.
func (t *target) resource(dyn dynamic.Interface) dynamic.ResourceInterface {
	nri := dyn.Resource(t.mapping.Resource)
	if t.mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return nri.Namespace(t.ref.Namespace)
	}
	return nri
}

func (t *target) namespaced() bool {
	return t.mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

// is reports whether the target is of the given core or named group kind.
func (t *target) is(group, kind string) bool {
	return t.ref.Group == group && t.ref.Kind == kind
}

// plan maps every object to its resource, checking names and scopes. An
// object whose kind is unknown but defined by a CustomResourceDefinition of
// the same set is returned in deferred (mapping nil), to be resolved with
// resolveDeferred once the CRDs are applied.
func (a *Applier) plan(objects []*unstructured.Unstructured) (targets, deferred []*target, err error) {
	seen := map[ObjectRef]bool{}
	defined := crdKinds(objects)
	for i, obj := range objects {
		if obj == nil {
			return nil, nil, fmt.Errorf("object %d is nil", i)
		}
		t := &target{obj: obj, ref: Ref(obj), index: i}
		if t.ref.Kind == "" || obj.GetAPIVersion() == "" || t.ref.Name == "" {
			return nil, nil, fmt.Errorf("object %d (%s): apiVersion, kind and metadata.name are required", i, t.ref)
		}
		if seen[t.ref] {
			return nil, nil, fmt.Errorf("%s appears twice", t.ref)
		}
		seen[t.ref] = true
		m, err := a.mapping(obj.GroupVersionKind())
		if crd := defined[obj.GroupVersionKind().GroupKind()]; meta.IsNoMatchError(err) && crd != nil {
			t.crd = crd
			deferred = append(deferred, t)
			continue
		}
		if err := t.setMapping(m, err); err != nil {
			return nil, nil, err
		}
		targets = append(targets, t)
	}
	return targets, deferred, nil
}

// resolveDeferred maps the targets that plan deferred with what their
// CustomResourceDefinition says (discovery may not show a new CRD's kind
// for a while after it is established).
func resolveDeferred(deferred []*target) error {
	for _, t := range deferred {
		if err := t.setMapping(t.crd.mapping(t.obj.GroupVersionKind())); err != nil {
			return err
		}
	}
	return nil
}

// setMapping sets the target's mapping (or reports err) and checks its
// namespace against the kind's scope.
func (t *target) setMapping(m *meta.RESTMapping, err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("%s: %w", t.ref, err)
	}
	if err != nil {
		return NewObjectError("resolving "+t.ref.noun(), t.ref, err)
	}
	namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace
	if namespaced && t.ref.Namespace == "" {
		return fmt.Errorf("%s: metadata.namespace is required for a namespaced kind", t.ref)
	}
	if !namespaced && t.ref.Namespace != "" {
		return fmt.Errorf("%s: %s is cluster-scoped but has metadata.namespace", t.ref, t.ref.Kind)
	}
	t.mapping = m
	return nil
}

// crd is what a CustomResourceDefinition says about its kind.
type crd struct {
	plural     string
	namespaced bool
	versions   map[string]bool // served versions
}

// mapping returns the REST mapping of gvk, a kind of the CRD.
func (c *crd) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if !c.versions[gvk.Version] {
		return nil, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
	}
	scope := meta.RESTScopeRoot
	if c.namespaced {
		scope = meta.RESTScopeNamespace
	}
	return &meta.RESTMapping{
		Resource:         gvk.GroupVersion().WithResource(c.plural),
		GroupVersionKind: gvk,
		Scope:            scope,
	}, nil
}

// crdKinds returns the kinds that the CustomResourceDefinitions among
// objects define.
func crdKinds(objects []*unstructured.Unstructured) map[schema.GroupKind]*crd {
	kinds := map[schema.GroupKind]*crd{}
	for _, obj := range objects {
		if obj == nil || obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		str := func(path ...string) string {
			s, _, _ := unstructured.NestedString(obj.Object, path...)
			return s
		}
		c := &crd{plural: str("spec", "names", "plural"), namespaced: str("spec", "scope") == "Namespaced", versions: map[string]bool{}}
		versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
		for _, v := range versions {
			if m, ok := v.(map[string]any); ok && m["served"] == true {
				name, _ := m["name"].(string)
				c.versions[name] = true
			}
		}
		kinds[schema.GroupKind{Group: str("spec", "group"), Kind: str("spec", "names", "kind")}] = c
	}
	return kinds
}

// mapping returns the REST mapping of gvk, resetting the mapper once when
// the kind is unknown.
func (a *Applier) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil || !meta.IsNoMatchError(err) {
		return m, err
	}
	r, ok := a.mapper.(meta.ResettableRESTMapper)
	if !ok {
		return nil, err
	}
	r.Reset()
	return a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}
