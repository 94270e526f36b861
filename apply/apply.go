package apply

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// ApplyOption configures one call of [Applier.Apply].
type ApplyOption func(*applyOptions)

type applyOptions struct {
	recreate bool
	absent   map[ObjectRef]bool
}

// Recreate lets Apply delete and create again a Pod or Job whose change the
// API server refuses to make in place (a changed pod spec or job
// template), waiting until the old one is gone. Without it such a change
// is an error. Immutable ConfigMaps and Secrets are always recreated.
func Recreate() ApplyOption {
	return func(o *applyOptions) { o.recreate = true }
}

// Absent tells Apply that the objects of refs do not exist, as the caller
// has just checked (a lab's namespace before a spawn): Apply then skips
// the read it otherwise makes before applying each object to tell a
// creation from an update. An object that exists after all is applied all
// the same; it is reported created when nublado is its only field manager,
// configured otherwise, and an immutable change to it is an error rather
// than a recreation.
func Absent(refs ...ObjectRef) ApplyOption {
	return func(o *applyOptions) {
		if o.absent == nil {
			o.absent = map[ObjectRef]bool{}
		}
		for _, ref := range refs {
			o.absent[ref] = true
		}
	}
}

// Apply applies objects with server-side apply in stages (see the package
// documentation) and returns what happened to each. On failure it returns
// the changes made so far and an *ObjectError (several, in a multierror,
// when objects of one stage failed together); later stages are not run.
// The objects are not modified.
func (a *Applier) Apply(ctx context.Context, objects []*unstructured.Unstructured, opts ...ApplyOption) (ChangeSet, error) {
	var o applyOptions
	for _, opt := range opts {
		opt(&o)
	}
	targets, deferred, err := a.plan(objects)
	if err != nil {
		return ChangeSet{}, err
	}
	r := &applyRun{a: a, o: o, created: map[string]bool{}, quotas: map[string][]*unstructured.Unstructured{}}
	var cs ChangeSet
	stages := stage(targets)
	for i := range stages {
		if i == 1 && len(deferred) > 0 {
			if err := resolveDeferred(deferred); err != nil {
				return cs, err
			}
			more := stage(deferred)
			stages[1] = append(stages[1], more[1]...)
			stages[2] = append(stages[2], more[2]...)
		}
		if i == 2 {
			if err := r.prepareWorkloads(ctx, stages[2], targets); err != nil {
				return cs, err
			}
		}
		changes, err := forEach(ctx, a, stages[i], r.applyOne)
		cs.Changes = append(cs.Changes, changes...)
		if err != nil {
			return cs, err
		}
		if i == 0 {
			if err := a.waitEstablished(ctx, changes); err != nil {
				return cs, err
			}
		}
	}
	return cs, nil
}

// stage splits targets into Namespaces and CRDs, everything else, and Pods
// and Jobs, keeping their order.
func stage(targets []*target) [3][]*target {
	var stages [3][]*target
	for _, t := range targets {
		switch {
		case t.is("", "Namespace"), t.is("apiextensions.k8s.io", "CustomResourceDefinition"):
			stages[0] = append(stages[0], t)
		case t.workload():
			stages[2] = append(stages[2], t)
		default:
			stages[1] = append(stages[1], t)
		}
	}
	return stages
}

// workload reports whether the target is a Pod or a Job.
func (t *target) workload() bool {
	return t.is("", "Pod") || t.is("batch", "Job")
}

// applyRun is the state of one Apply call.
type applyRun struct {
	a       *Applier
	o       applyOptions
	mu      sync.Mutex
	created map[string]bool                         // namespaces this apply created
	quotas  map[string][]*unstructured.Unstructured // per namespace: quotas whose status lags their spec
}

func (r *applyRun) createdNamespace(ns string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.created[ns]
}

// record remembers what later stages need from an applied object.
func (r *applyRun) record(t *target, action Action, res *unstructured.Unstructured) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case t.is("", "Namespace") && action == Created:
		r.created[t.ref.Name] = true
	case t.is("", "ResourceQuota") && !quotaSynced(res):
		r.quotas[t.ref.Namespace] = append(r.quotas[t.ref.Namespace], res)
	}
}

// applyOne applies one object and decides what happened to it.
func (r *applyRun) applyOne(ctx context.Context, t *target) (Change, error) {
	a := r.a
	ri := t.resource(a.dyn)
	// Nothing exists yet in a namespace this apply created, nor what the
	// caller said is absent: no need to read.
	fresh := t.namespaced() && r.createdNamespace(t.ref.Namespace) || r.o.absent[t.ref]
	var live *unstructured.Unstructured
	if !fresh {
		var err error
		if live, err = a.get(ctx, ri, t.ref.Name); err != nil {
			return Change{}, NewObjectError("reading "+t.ref.noun(), t.ref, err)
		}
	}
	op := "creating " + t.ref.noun()
	if live != nil {
		op = "updating " + t.ref.noun()
	}
	res, err := a.ssa(ctx, t, ri, false)
	if err != nil && t.workload() && missingServiceAccount(err) {
		if err = a.waitServiceAccount(ctx, t.ref.Namespace, serviceAccount(t.obj)); err == nil {
			res, err = a.ssa(ctx, t, ri, false)
		}
	}
	if err != nil && live != nil && immutableChange(err) {
		return r.recreate(ctx, t, ri, live, err)
	}
	if err != nil {
		return Change{}, NewObjectError(op, t.ref, err)
	}
	res, tookOver, err := a.takeOver(ctx, t, ri, res)
	if err != nil {
		return Change{}, NewObjectError("updating "+t.ref.noun(), t.ref, err)
	}
	action := decide(a.o.fieldManager, live, res, tookOver)
	r.record(t, action, res)
	return Change{Object: t.ref, Action: action, Result: res}, nil
}

// decide names what an apply did, given the object before (nil when it did
// not exist or was not read because its namespace is new) and after.
func decide(manager string, live, res *unstructured.Unstructured, tookOver bool) Action {
	switch {
	case live == nil && onlyManager(res, manager):
		return Created
	case live == nil, tookOver, live.GetResourceVersion() != res.GetResourceVersion():
		return Configured
	}
	return Unchanged
}

// onlyManager reports whether manager is the only field manager of obj,
// as it is of an object it just created.
func onlyManager(obj *unstructured.Unstructured, manager string) bool {
	for _, e := range obj.GetManagedFields() {
		if e.Manager != manager {
			return false
		}
	}
	return true
}

// get reads an object; a missing object is (nil, nil).
func (a *Applier) get(ctx context.Context, ri dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	var obj *unstructured.Unstructured
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		obj, err = ri.Get(ctx, name, metav1.GetOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// ssa sends the target as a server-side apply patch (force, as the
// Applier's field manager), optionally as a dry run.
func (a *Applier) ssa(ctx context.Context, t *target, ri dynamic.ResourceInterface, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := t.body()
	if err != nil {
		return nil, err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: a.o.fieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var res *unstructured.Unstructured
	err = a.retry(ctx, func(ctx context.Context) error {
		var err error
		res, err = ri.Patch(ctx, t.ref.Name, types.ApplyPatchType, body, opts)
		return err
	})
	return res, err
}

// body returns the apply patch for the target: the object without the
// server-owned metadata that an apply must not carry.
func (t *target) body() ([]byte, error) {
	t.once.Do(func() {
		obj := t.obj.DeepCopy()
		for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"} {
			unstructured.RemoveNestedField(obj.Object, "metadata", f)
		}
		t.data, t.err = obj.MarshalJSON()
	})
	return t.data, t.err
}
