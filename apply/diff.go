package apply

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// ObjectDiff is what applying one object would do.
type ObjectDiff struct {
	Object ObjectRef
	// Action is Created, Configured, Unchanged or Recreated.
	Action Action
	// Diff is a unified diff from the live object to the object after the
	// apply, both as YAML without managedFields, resourceVersion,
	// generation, uid, creationTimestamp and status; "" when unchanged.
	// Secret values are masked.
	Diff string
}

// DiffResult is the result of [Applier.Diff].
type DiffResult struct {
	Objects []ObjectDiff
}

// Changed reports whether applying would change anything.
func (d DiffResult) Changed() bool {
	for _, o := range d.Objects {
		if o.Action != Unchanged {
			return true
		}
	}
	return false
}

// String returns the diffs of all changed objects, one after the other.
func (d DiffResult) String() string {
	var b strings.Builder
	for _, o := range d.Objects {
		b.WriteString(o.Diff)
	}
	return b.String()
}

// Diff shows what Apply would change, without changing anything: for each
// object it reads the live object and asks the API server for the result of
// a server-side apply dry run, then diffs the two. An object in a namespace
// that the set creates is diffed against nothing as given (the dry run
// would fail for want of the namespace); an object whose change cannot be
// made in place (see [Recreate]) is shown as recreated, as given. Diff
// does not show fields that a takeover of objects written by another
// manager would remove.
func (a *Applier) Diff(ctx context.Context, objects []*unstructured.Unstructured) (DiffResult, error) {
	targets, deferred, err := a.plan(objects)
	if err != nil {
		return DiffResult{}, err
	}
	targets = append(targets, deferred...)
	creating := map[string]bool{}
	for _, t := range targets {
		if t.is("", "Namespace") {
			creating[t.ref.Name] = true
		}
	}
	var out DiffResult
	for _, st := range stage(targets) {
		diffs, err := forEach(ctx, a, st, func(ctx context.Context, t *target) (ObjectDiff, error) {
			return a.diffOne(ctx, t, creating)
		})
		out.Objects = append(out.Objects, diffs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// diffOne diffs one object. namespaces are those the set holds.
func (a *Applier) diffOne(ctx context.Context, t *target, namespaces map[string]bool) (ObjectDiff, error) {
	if t.mapping == nil {
		// A kind of a CRD that the set would install.
		return a.render(t, nil, normalized(t.obj), Created)
	}
	ri := t.resource(a.dyn)
	live, err := a.get(ctx, ri, t.ref.Name)
	if err != nil {
		return ObjectDiff{}, NewObjectError("reading "+t.ref.noun(), t.ref, err)
	}
	would, err := a.ssa(ctx, t, ri, true)
	switch {
	case err == nil:
	case live == nil && apierrors.IsNotFound(err) && namespaces[t.ref.Namespace]:
		would = t.obj
	case live != nil && immutableChange(err):
		return a.render(t, live, normalized(t.obj), Recreated)
	default:
		return ObjectDiff{}, NewObjectError("creating "+t.ref.noun(), t.ref, err)
	}
	action := Configured
	if live == nil {
		action = Created
	}
	return a.render(t, live, normalized(would), action)
}

// render diffs live (nil when absent) against would.
func (a *Applier) render(t *target, live, would *unstructured.Unstructured, action Action) (ObjectDiff, error) {
	var before *unstructured.Unstructured
	if live != nil {
		before = normalized(live)
	}
	if t.is("", "Secret") {
		maskSecrets(before, would)
	}
	from, err := toYAML(before)
	if err != nil {
		return ObjectDiff{}, err
	}
	to, err := toYAML(would)
	if err != nil {
		return ObjectDiff{}, err
	}
	d := ObjectDiff{Object: t.ref, Action: action}
	if from == to && action == Configured {
		d.Action = Unchanged
		return d, nil
	}
	d.Diff = unifiedDiff(t.ref.String()+" (live)", t.ref.String()+" ("+string(d.Action)+")", from, to)
	return d, nil
}

// normalized returns a copy of obj without the fields a diff leaves out.
func normalized(obj *unstructured.Unstructured) *unstructured.Unstructured {
	obj = obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(obj.Object, "status")
	if m, ok := obj.Object["metadata"].(map[string]any); ok && len(m) == 0 {
		delete(obj.Object, "metadata")
	}
	return obj
}

// maskSecrets replaces the values of data and stringData in two versions
// of a Secret (either may be nil) by "***", marked "(before)" and
// "(after)" where they differ, so a diff shows which keys change but not
// their values.
func maskSecrets(before, after *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		var b, a map[string]any
		if before != nil {
			b, _, _ = unstructured.NestedMap(before.Object, field)
		}
		if after != nil {
			a, _, _ = unstructured.NestedMap(after.Object, field)
		}
		mb, ma := map[string]any{}, map[string]any{}
		for k, v := range b {
			mb[k] = "***"
			if w, ok := a[k]; ok && w != v {
				mb[k] = "*** (before)"
			}
		}
		for k, v := range a {
			ma[k] = "***"
			if w, ok := b[k]; ok && w != v {
				ma[k] = "*** (after)"
			}
		}
		if b != nil {
			_ = unstructured.SetNestedMap(before.Object, mb, field)
		}
		if a != nil {
			_ = unstructured.SetNestedMap(after.Object, ma, field)
		}
	}
}

// toYAML renders obj as YAML with sorted keys; nil is "".
func toYAML(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(obj.Object)
	return string(b), err
}
