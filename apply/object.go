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
// the same set is returned in deferred, to be resolved with
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
		err := a.resolve(t)
		switch {
		case meta.IsNoMatchError(err) && defined[obj.GroupVersionKind().GroupKind()]:
			deferred = append(deferred, t)
		case err != nil:
			return nil, nil, err
		default:
			targets = append(targets, t)
		}
	}
	return targets, deferred, nil
}

// resolveDeferred resolves the targets that plan deferred.
func (a *Applier) resolveDeferred(deferred []*target) error {
	for _, t := range deferred {
		if err := a.resolve(t); err != nil {
			return err
		}
	}
	return nil
}

// resolve sets the target's mapping and checks its namespace against the
// kind's scope.
func (a *Applier) resolve(t *target) error {
	m, err := a.mapping(t.obj.GroupVersionKind())
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

// crdKinds returns the kinds that the CustomResourceDefinitions among
// objects define.
func crdKinds(objects []*unstructured.Unstructured) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	for _, obj := range objects {
		if obj == nil || obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		kinds[schema.GroupKind{Group: group, Kind: kind}] = true
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
