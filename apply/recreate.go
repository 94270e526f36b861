package apply

import (
	"context"
	"errors"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// immutableChange recognises the API server refusing an update because it
// changes immutable fields: the data of an immutable ConfigMap or Secret, a
// pod spec, a job template.
func immutableChange(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return false
	}
	immutable := func(msg string) bool {
		return strings.Contains(msg, "field is immutable") || strings.Contains(msg, "may not change fields")
	}
	s := status.Status()
	if s.Details == nil || len(s.Details.Causes) == 0 {
		return immutable(s.Message)
	}
	for _, c := range s.Details.Causes {
		if !immutable(c.Message) {
			return false
		}
	}
	return true
}

// recreate deletes an object whose change cannot be made in place, waits
// until it is gone and applies it again. Pods and Jobs are recreated only
// when the caller passed Recreate; applyErr is the refusal to update.
func (r *applyRun) recreate(ctx context.Context, t *target, ri dynamic.ResourceInterface,
	live *unstructured.Unstructured, applyErr error) (Change, error) {
	a := r.a
	if t.workload() && !r.o.recreate {
		return Change{}, NewObjectError("updating "+t.ref.noun(), t.ref, applyErr)
	}
	uid := live.GetUID()
	opts := metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: propagation(t),
	}
	err := a.retry(ctx, func(ctx context.Context) error {
		return ri.Delete(ctx, t.ref.Name, opts)
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return Change{}, NewObjectError("deleting "+t.ref.noun(), t.ref, err)
	}
	if err := a.waitGone(ctx, ri, t.ref, uid); err != nil {
		return Change{}, err
	}
	res, err := a.ssa(ctx, t, ri, false)
	if err != nil {
		return Change{}, NewObjectError("creating "+t.ref.noun(), t.ref, err)
	}
	r.record(t, Recreated, res)
	return Change{Object: t.ref, Action: Recreated, Result: res}, nil
}
