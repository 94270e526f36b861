package apply

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// DeleteOption configures one call of [Applier.Delete] or
// [Applier.DeleteSelected].
type DeleteOption func(*deleteOptions)

type deleteOptions struct {
	grace *int64
}

// GracePeriod sets the deletion grace period (whole seconds, rounded up),
// for example one second for a lab's pod. Default: each object's own.
func GracePeriod(d time.Duration) DeleteOption {
	return func(o *deleteOptions) {
		s := int64(math.Ceil(d.Seconds()))
		o.grace = &s
	}
}

// Delete deletes objects, Pods and Jobs first and Namespaces and CRDs
// last, with propagation Foreground for Jobs (their pods go first) and
// Background otherwise. An object that does not exist counts as deleted
// already (action unchanged). With wait, Delete waits (with watches) until
// each stage's objects are gone before deleting the next stage, and returns
// when all are gone; a namespace is gone when the namespace controller has
// emptied and removed it.
func (a *Applier) Delete(ctx context.Context, objects []*unstructured.Unstructured, wait bool, opts ...DeleteOption) (ChangeSet, error) {
	var o deleteOptions
	for _, opt := range opts {
		opt(&o)
	}
	targets, deferred, err := a.plan(objects)
	if err != nil {
		return ChangeSet{}, err
	}
	if len(deferred) > 0 {
		return ChangeSet{}, fmt.Errorf("%s: %w", deferred[0].ref, errUnknownKind)
	}
	var cs ChangeSet
	stages := stage(targets)
	for i := len(stages) - 1; i >= 0; i-- {
		changes, err := forEach(ctx, a, stages[i], func(ctx context.Context, t *target) (Change, error) {
			return a.deleteOne(ctx, t, o, wait)
		})
		cs.Changes = append(cs.Changes, changes...)
		if err != nil {
			return cs, err
		}
	}
	return cs, nil
}

// errUnknownKind reports a kind that the API server does not serve.
var errUnknownKind = errors.New("kind not served by the API server")

// Selection selects objects to delete by label.
type Selection struct {
	// Namespace limits the selection to one namespace; "" selects in all
	// namespaces (and cluster-scoped kinds).
	Namespace string
	// LabelSelector is a label selector, for example
	// "nublado.lsst.io/category=fileserver,nublado.lsst.io/user=rachel".
	LabelSelector string
	// Kinds are the kinds to look at, for example {Group: "batch",
	// Version: "v1", Kind: "Job"}.
	Kinds []schema.GroupVersionKind
}

// DeleteSelected lists the objects of sel (one list request per kind) and
// deletes them like Delete.
func (a *Applier) DeleteSelected(ctx context.Context, sel Selection, wait bool, opts ...DeleteOption) (ChangeSet, error) {
	var objects []*unstructured.Unstructured
	for _, gvk := range sel.Kinds {
		m, err := a.mapping(gvk)
		if err != nil {
			return ChangeSet{}, fmt.Errorf("%s: %w", gvk.Kind, err)
		}
		var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
		if sel.Namespace != "" && m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = a.dyn.Resource(m.Resource).Namespace(sel.Namespace)
		}
		var l *unstructured.UnstructuredList
		err = a.retry(ctx, func(ctx context.Context) error {
			l, err = ri.List(ctx, metav1.ListOptions{LabelSelector: sel.LabelSelector})
			return err
		})
		if err != nil {
			ref := ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: sel.Namespace, Name: sel.LabelSelector}
			return ChangeSet{}, NewObjectError("listing objects", ref, err)
		}
		for i := range l.Items {
			l.Items[i].SetGroupVersionKind(gvk)
			objects = append(objects, &l.Items[i])
		}
	}
	return a.Delete(ctx, objects, wait, opts...)
}

// deleteOne deletes one object and, with wait, waits until it is gone.
func (a *Applier) deleteOne(ctx context.Context, t *target, o deleteOptions, wait bool) (Change, error) {
	ri := t.resource(a.dyn)
	opts := metav1.DeleteOptions{PropagationPolicy: propagation(t), GracePeriodSeconds: o.grace}
	err := a.retry(ctx, func(ctx context.Context) error {
		return ri.Delete(ctx, t.ref.Name, opts)
	})
	if apierrors.IsNotFound(err) {
		return Change{Object: t.ref, Action: Unchanged}, nil
	}
	if err != nil {
		return Change{}, NewObjectError("deleting "+t.ref.noun(), t.ref, err)
	}
	if wait {
		if err := a.waitGone(ctx, ri, t.ref, ""); err != nil {
			return Change{}, err
		}
	}
	return Change{Object: t.ref, Action: Deleted}, nil
}

// propagation returns the deletion propagation policy of a kind: Jobs go
// after their pods, everything else at once.
func propagation(t *target) *metav1.DeletionPropagation {
	p := metav1.DeletePropagationBackground
	if t.is("batch", "Job") {
		p = metav1.DeletePropagationForeground
	}
	return &p
}

// waitGone waits with a watch until the object does not exist (or, when uid
// is set, until no object with that uid exists).
func (a *Applier) waitGone(ctx context.Context, ri dynamic.ResourceInterface, ref ObjectRef, uid types.UID) error {
	err := a.watchObject(ctx, ri, ref.Name, func(obj *unstructured.Unstructured) (bool, error) {
		return obj == nil || (uid != "" && obj.GetUID() != uid), nil
	})
	if err != nil {
		return NewObjectError("waiting for deletion of "+ref.noun(), ref, err)
	}
	return nil
}
