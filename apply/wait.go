package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

var pods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// Wait waits until every object is reconciled as kstatus computes it
// (status Current), following each object with a watch. In kstatus terms
// a Pod is Current when it is Ready or has ended (Succeeded or Failed: use
// [Applier.WaitPodPhase] to tell), a Job once it has started, a PVC when
// bound, a Namespace when active, and an object without status rules as
// soon as it exists. An object that does not exist yet is waited for. Wait
// fails with an *ObjectError (op "waiting for object") wrapping [ErrFailed]
// as soon as an object's status is Failed (a failed Job, a crash-looping
// Pod), and otherwise returns when all are Current or ctx ends.
func (a *Applier) Wait(ctx context.Context, objects []*unstructured.Unstructured) error {
	targets, deferred, err := a.plan(objects)
	if err != nil {
		return err
	}
	if len(deferred) > 0 {
		return fmt.Errorf("%s: %w", deferred[0].ref, errUnknownKind)
	}
	waits := make([]func() error, len(targets))
	for i, t := range targets {
		waits[i] = func() error { return a.waitReady(ctx, t) }
	}
	return all(waits)
}

// waitReady waits until one object's kstatus is Current.
func (a *Applier) waitReady(ctx context.Context, t *target) error {
	var last *status.Result
	err := a.watchObject(ctx, t.resource(a.dyn), t.ref.Name, func(obj *unstructured.Unstructured) (bool, error) {
		if obj == nil {
			return false, nil
		}
		res, err := status.Compute(obj)
		if err != nil {
			return false, err
		}
		last = res
		switch res.Status {
		case status.CurrentStatus:
			return true, nil
		case status.FailedStatus:
			return false, fmt.Errorf("%w: %s", ErrFailed, res.Message)
		}
		return false, nil
	})
	if err != nil {
		oe := NewObjectError("waiting for object", t.ref, err)
		if last != nil && last.Status != status.FailedStatus && last.Message != "" {
			oe.Message = fmt.Sprintf("%s (last status %s: %s)", oe.Message, last.Status, last.Message)
		}
		return oe
	}
	return nil
}

// ErrFailed is wrapped by the error of [Applier.Wait] when an object's
// kstatus is Failed (a failed Job, a crash-looping Pod, a stalled object).
var ErrFailed = errors.New("object failed")

// WaitPodPhase waits until the phase of a pod is not one of phases, or the
// pod does not exist, and returns that phase ("" when the pod does not
// exist). For example, waiting for a spawned lab to start:
//
//	phase, err := a.WaitPodPhase(ctx, ns, name, corev1.PodPending, corev1.PodUnknown)
func (a *Applier) WaitPodPhase(ctx context.Context, namespace, name string, phases ...corev1.PodPhase) (corev1.PodPhase, error) {
	var phase corev1.PodPhase
	ri := a.dyn.Resource(pods).Namespace(namespace)
	err := a.watchObject(ctx, ri, name, func(obj *unstructured.Unstructured) (bool, error) {
		if obj == nil {
			phase = ""
			return true, nil
		}
		phase = PodPhase(obj)
		return !slices.Contains(phases, phase), nil
	})
	if err != nil {
		return phase, NewObjectError("waiting for object", ObjectRef{Kind: "Pod", Namespace: namespace, Name: name}, err)
	}
	return phase, nil
}

// PodPhase returns the phase of a pod ("" when its status has none).
func PodPhase(pod *unstructured.Unstructured) corev1.PodPhase {
	p, _, _ := unstructured.NestedString(pod.Object, "status", "phase")
	return corev1.PodPhase(p)
}
