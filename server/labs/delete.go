package labs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
)

// Labels of lab objects (§3.1).
const (
	LabelCategory = "nublado.lsst.io/category"
	LabelUser     = "nublado.lsst.io/user"
	CategoryLab   = "lab"
)

// podGracePeriod is the grace period of a lab pod's deletion.
const podGracePeriod = time.Second

// Delete deletes the user's lab and waits until it is gone (§1.3 #7,
// §4.6). A delete already in progress is waited for (all concurrent callers
// get its outcome); a spawn in progress is cancelled (its stream ends with
// `failed` "Operation cancelled") and then the lab is deleted. It returns
// nublado.ErrLabNotFound when the user has no record or no lab, and the
// deletion's failure otherwise (the server answers 500 delete_failed). The
// deletion runs under the manager's lifetime: when ctx ends first, Delete
// returns ctx's error and the deletion goes on.
func (m *Manager) Delete(ctx context.Context, user string) error {
	rec := m.lookup(user)
	if rec == nil {
		return nublado.ErrLabNotFound
	}
	for {
		rec.mu.Lock()
		if rec.state == nil {
			rec.mu.Unlock()
			return nublado.ErrLabNotFound
		}
		op := rec.op
		if op == nil {
			op, err := m.beginDelete(rec)
			rec.mu.Unlock()
			if err != nil {
				return err
			}
			return wait(ctx, op)
		}
		rec.mu.Unlock()
		if op.kind == opDelete {
			return wait(ctx, op)
		}
		op.cancel(errCancelled)
		select {
		case <-op.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// beginDelete starts a delete operation (§4.6); the caller holds the
// record's lock and the record has a state and no operation. Reconcile
// reaps labs with it too.
func (m *Manager) beginDelete(rec *record) (*operation, error) {
	previous := *rec.state
	rec.state.Status = nublado.LabTerminating
	rec.state.InternalURL = nil
	timeout := m.cfg.Lab.DeleteTimeout
	start := time.Now()
	op, err := m.begin(rec, opSpec{
		kind: opDelete, timeout: timeout,
		timeoutErr: &timeoutError{what: "Lab delete", timeout: timeout},
		run: func(ctx context.Context) error {
			return m.deleteObjects(ctx, rec, 25, 100)
		},
		finish: func(ctx context.Context, err error) error {
			return m.finishDelete(ctx, rec, start, err)
		},
	})
	if err != nil {
		*rec.state = previous
	}
	return op, err
}

// finishDelete ends a delete operation: the lab is forgotten (state null)
// on success and failed otherwise.
func (m *Manager) finishDelete(ctx context.Context, rec *record, start time.Time, err error) error {
	err = outcome(ctx, err)
	elapsed := time.Since(start)
	switch {
	case err == nil:
		rec.state = nil
	case errors.Is(err, errCancelled):
		m.emit(rec, nublado.EventFailed, errCancelled.Error(), 0)
	default:
		if rec.state != nil {
			rec.state.Status = nublado.LabFailed
		}
		m.log.WithFields(logrus.Fields{FieldUser: rec.user, FieldDuration: elapsed.Milliseconds()}).
			WithError(err).Error("Lab delete failed")
		m.o.reporter.Report(rec.user, err)
		m.emit(rec, nublado.EventError, userMessage(err), 0)
		m.emit(rec, nublado.EventFailed, "Lab delete failed", 0)
	}
	m.o.metrics.LabDeleted(err == nil, elapsed)
	return err
}

// deleteObjects deletes a lab's pod (grace period one second) and then its
// namespace, waiting for each to be gone, with progress events from start
// to end: "Shutting down Kubernetes pod" (start), "Deleting user namespace"
// (halfway) and "Lab for {u} deleted" (end). Objects that do not exist
// count as deleted.
func (m *Manager) deleteObjects(ctx context.Context, rec *record, start, end int) error {
	user := rec.user
	m.info(rec, "Shutting down Kubernetes pod", start)
	pod := &unstructured.Unstructured{}
	pod.SetAPIVersion("v1")
	pod.SetKind("Pod")
	pod.SetNamespace(m.namespace(user))
	pod.SetName(podName(user))
	cs, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{pod}, true, apply.GracePeriod(podGracePeriod))
	cs.Log(m.log.WithField(FieldUser, user), "Lab")
	if err != nil {
		return err
	}
	m.info(rec, "Deleting user namespace", start+(end-start)/2)
	if err := m.deleteNamespace(ctx, user, true); err != nil {
		return err
	}
	m.log.WithFields(logrus.Fields{FieldUser: user, FieldNamespace: m.namespace(user)}).Info("Lab deleted")
	m.info(rec, fmt.Sprintf("Lab for %s deleted", user), end)
	return nil
}

// deleteNamespace deletes the namespace of a user's lab if it exists and
// carries the lab label, waiting (wait) until the namespace controller has
// removed it. A namespace without the lab label is not nublado's (decision
// D9: nublado never deletes a namespace it did not label): it is left
// alone, with a warning, and the lab counts as deleted since none of its
// objects can be in there.
func (m *Manager) deleteNamespace(ctx context.Context, user string, wait bool) error {
	name := m.namespace(user)
	obj, err := m.getRetrying(ctx, m.cluster.Dynamic.Resource(namespacesGVR), name)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return apply.NewObjectError("reading namespace", apply.ObjectRef{Kind: "Namespace", Name: name}, err)
	case !isLab(obj):
		m.log.WithFields(logrus.Fields{FieldUser: user, FieldNamespace: name}).
			Warnf("Not deleting namespace %s: it is not labelled %s", name, labSelector)
		return nil
	}
	cs, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{namespaceObject(name)}, wait)
	cs.Log(m.log.WithField(FieldUser, user), "Lab")
	return err
}

// namespaceObject is a Namespace to delete.
func namespaceObject(name string) *unstructured.Unstructured {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	return ns
}

// isLab reports whether an object carries the lab label.
func isLab(obj *unstructured.Unstructured) bool {
	return obj.GetLabels()[LabelCategory] == CategoryLab
}

// getRetrying reads an object, retrying as the applier retries its own
// requests while the API server cannot be reached or answers 429 or 5xx
// (it is restarting, or a proxy in front of it is), until ctx ends.
func (m *Manager) getRetrying(ctx context.Context, ri dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	var obj *unstructured.Unstructured
	err := m.cluster.Applier.Retry(ctx, func(ctx context.Context) (err error) {
		obj, err = ri.Get(ctx, name, metav1.GetOptions{})
		return err
	})
	return obj, err
}
