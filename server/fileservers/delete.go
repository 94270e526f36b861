package fileservers

import (
	"context"
	"errors"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	nschema "github.com/nublado-go/nublado/schema"
)

// errStale is the outcome of a watcher deletion for a pod of a Job that is
// not the running file server's.
var errStale = errors.New("the ended pod belongs to an earlier file server")

// Delete deletes the user's file server and waits until its objects are
// gone (§1.3 #14, §4.9), under the user's mutex: a creation in progress is
// waited for (ctx bounds the wait). It returns a *nublado.Error
// unknown_user "Unknown user {u}" when the user never had a record and
// "File server for {u} not running" when the file server does not run; a
// deletion that fails leaves the file server running and returns the
// error (a *TimeoutError after fileserver.deleteTimeout).
func (m *Manager) Delete(ctx context.Context, user string) error {
	rec := m.lookup(user)
	if rec == nil {
		return &nublado.Error{Code: nublado.CodeUnknownUser, Message: "Unknown user " + user}
	}
	return m.deleteServer(ctx, rec, "", "")
}

// deleteServer takes the user's mutex (waiting with ctx) and deletes the
// running file server. With a job UID it deletes only when that Job is the
// running file server's (errStale otherwise). reason, when set, is logged
// once the deletion starts.
func (m *Manager) deleteServer(ctx context.Context, rec *record, job types.UID, reason string) error {
	if err := rec.acquire(ctx); err != nil {
		return err
	}
	defer rec.release()
	running, current := rec.runningJob()
	switch {
	case !running:
		return &nublado.Error{Code: nublado.CodeUnknownUser, Message: "File server for " + rec.user + " not running"}
	case job != "" && current != "" && job != current:
		return errStale
	}
	if reason != "" {
		m.log.WithField(FieldUser, rec.user).Info(reason)
	}
	return m.deleteLocked(rec)
}

// deleteLocked deletes the running file server of rec, whose mutex the
// caller holds, under the manager's lifetime.
func (m *Manager) deleteLocked(rec *record) error {
	life, err := m.track()
	if err != nil {
		return err
	}
	defer m.ops.Done()
	rec.begin()
	defer rec.end()
	start := time.Now()
	err = m.deleteWithTimeout(life, rec.user)
	m.o.metrics.FileServerDeleted(err == nil)
	log := m.log.WithFields(logrus.Fields{FieldUser: rec.user, FieldDuration: time.Since(start).Milliseconds()})
	if err != nil {
		log.WithError(err).Error("File server deletion failed")
		reportUnlessStopped(life, m.o.reporter, rec.user, err)
		return err
	}
	rec.setRunning(false, "")
	m.publish()
	log.Info("File server deleted")
	return nil
}

// deleteWithTimeout deletes the user's file-server objects within
// fileserver.deleteTimeout.
func (m *Manager) deleteWithTimeout(life context.Context, user string) error {
	ctx, cancel := context.WithTimeoutCause(life, m.cfg.Fileserver.DeleteTimeout, errDeletionTimeout)
	defer cancel()
	start := time.Now()
	err := m.deleteObjects(ctx, user)
	if err != nil && errors.Is(context.Cause(ctx), errDeletionTimeout) {
		err = &TimeoutError{What: "File server deletion", Elapsed: time.Since(start)}
	}
	return err
}

// deleteObjects deletes a user's file-server objects in the original's
// order, waiting for each to be gone: the GafaelfawrIngress, the Ingress
// Gafaelfawr's operator made from it (the garbage collector deletes it
// with its owner; it is deleted here too, so as not to wait for the
// collector), the Service, the Job (propagation Foreground: its pods go
// first) and the PVCs labelled with the user. Objects that do not exist
// count as deleted.
func (m *Manager) deleteObjects(ctx context.Context, user string) error {
	ns, name := m.namespace(), nschema.FileserverName(user)
	for _, kind := range []schema.GroupVersionKind{
		{Group: "gafaelfawr.lsst.io", Version: "v1alpha1", Kind: "GafaelfawrIngress"},
		{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
		{Version: "v1", Kind: "Service"},
		{Group: "batch", Version: "v1", Kind: "Job"},
	} {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(kind)
		obj.SetNamespace(ns)
		obj.SetName(name)
		cs, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{obj}, true)
		cs.Log(m.log.WithField(FieldUser, user), "File server")
		if err != nil {
			return err
		}
	}
	cs, err := m.cluster.Applier.DeleteSelected(ctx, apply.Selection{
		Namespace:     ns,
		LabelSelector: fileserverSelector + "," + LabelUser + "=" + user,
		Kinds:         []schema.GroupVersionKind{{Version: "v1", Kind: "PersistentVolumeClaim"}},
	}, true)
	cs.Log(m.log.WithField(FieldUser, user), "File server")
	return err
}
