package fileservers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nublado-go/nublado/apply"
)

// listTimeout bounds each list request of a reconcile (the original's
// generic Kubernetes timeout).
const listTimeout = 30 * time.Second

// observed is a file server found in the cluster: a Job and whether it
// makes a working file server.
type observed struct {
	user  string
	job   types.UID
	valid bool
}

// Reconcile brings the records in line with the cluster (§4.9, with the
// fix of decision D11). It lists the file-server Jobs, their pods and the
// Ingresses of the namespace from the API server (a fresh snapshot, so
// that its deletions never rest on a lagging cache); a Job makes a valid
// file server when exactly one pod of it exists and runs and its Ingress
// has a load-balancer IP. Valid file servers the manager does not know
// run are adopted (an earlier controller made them); invalid ones are
// deleted, as are the remains of running file servers whose Job is gone
// and file-server GafaelfawrIngresses, Services and PVCs of users without
// a Job.
// Users with an operation in progress or finished since the reconcile
// began are left alone, and every deletion holds the user's mutex.
// Start runs it once; the manager then runs it every
// fileserver.reconcileInterval. The error aggregates the lists and
// deletions that failed.
func (m *Manager) Reconcile(ctx context.Context) error {
	start := time.Now()
	m.log.Info("Reconciling file server state")
	found, err := m.observeAll(ctx)
	if err != nil {
		return err
	}
	others, err := m.otherUsers(ctx)
	if err != nil {
		return err
	}
	var doomed []string
	seen := map[string]bool{}
	for _, o := range found {
		seen[o.user] = true
		if o.valid {
			m.adopt(o, start)
		} else {
			doomed = append(doomed, o.user)
		}
	}
	for _, user := range others {
		if !seen[user] {
			seen[user] = true
			doomed = append(doomed, user)
		}
	}
	for _, rec := range m.allRecords() {
		if !seen[rec.user] && rec.isRunning() {
			doomed = append(doomed, rec.user)
		}
	}
	slices.Sort(doomed)
	err = m.deleteAll(ctx, start, doomed)
	m.publish()
	m.log.WithFields(logrus.Fields{"file_servers": len(found), FieldDuration: time.Since(start).Milliseconds()}).
		Debug("Reconciled file server state")
	return err
}

// observeAll lists the file-server Jobs, pods and Ingresses and returns
// one observation per user, sorted by user (the first Job by name when a
// user has several; Jobs without a user label are skipped).
func (m *Manager) observeAll(ctx context.Context) ([]observed, error) {
	jobs, err := m.list(ctx, jobsGVR, fileserverSelector)
	if err != nil {
		return nil, err
	}
	pods, err := m.list(ctx, podsGVR, fileserverSelector)
	if err != nil {
		return nil, err
	}
	ingresses, err := m.list(ctx, ingressesGVR, "")
	if err != nil {
		return nil, err
	}
	podsOf := map[types.UID][]*unstructured.Unstructured{}
	for i := range pods.Items {
		pod := &pods.Items[i]
		podsOf[ownerJob(pod)] = append(podsOf[ownerJob(pod)], pod)
	}
	ips := map[string]bool{}
	for i := range ingresses.Items {
		ing := &ingresses.Items[i]
		ips[ing.GetName()] = ing.GetDeletionTimestamp() == nil && ingressIP(ing) != ""
	}
	slices.SortFunc(jobs.Items, func(a, b unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	var out []observed
	users := map[string]bool{}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		user := job.GetLabels()[LabelUser]
		if user == "" || users[user] {
			continue
		}
		users[user] = true
		out = append(out, observed{user: user, job: job.GetUID(), valid: m.valid(job, podsOf[job.GetUID()], ips)})
	}
	slices.SortFunc(out, func(a, b observed) int { return strings.Compare(a.user, b.user) })
	return out, nil
}

// otherUsers returns the users of the file-server GafaelfawrIngresses,
// Services and PVCs: with no Job, they are the remains of a file server
// (a creation that failed before its Job and whose cleanup failed too).
func (m *Manager) otherUsers(ctx context.Context) ([]string, error) {
	var users []string
	for _, gvr := range []schema.GroupVersionResource{gafaelfawrIngressesGVR, servicesGVR, pvcsGVR} {
		l, err := m.list(ctx, gvr, fileserverSelector)
		if err != nil {
			return nil, err
		}
		for _, obj := range l.Items {
			if user := obj.GetLabels()[LabelUser]; user != "" {
				users = append(users, user)
			}
		}
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// valid reports whether a Job makes a working file server: it is not being
// deleted, exactly one pod of it exists and runs, and the Ingress of the
// Job's name has an IP. Several pods are a warning, as in the original.
func (m *Manager) valid(job *unstructured.Unstructured, pods []*unstructured.Unstructured, ips map[string]bool) bool {
	if len(pods) > 1 {
		m.log.WithFields(logrus.Fields{FieldUser: job.GetLabels()[LabelUser], FieldName: job.GetName(), "pods": len(pods)}).
			Warn("File server Job has more than one pod")
	}
	return job.GetDeletionTimestamp() == nil && len(pods) == 1 &&
		apply.PodPhase(pods[0]) == corev1.PodRunning && ips[job.GetName()]
}

// list lists the objects of a resource in the file servers' namespace.
func (m *Manager) list(ctx context.Context, gvr schema.GroupVersionResource, selector string) (*unstructured.UnstructuredList, error) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	l, err := m.cluster.Dynamic.Resource(gvr).Namespace(m.namespace()).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing %s in %s: %w", gvr.Resource, m.namespace(), err)
	}
	return l, nil
}

// adopt records a valid file server as running, unless its user's record
// says it runs already or was modified since start.
func (m *Manager) adopt(o observed, start time.Time) {
	rec := m.recordFor(o.user)
	if running, job := rec.runningJob(); running && job == o.job {
		return
	}
	if !rec.tryAcquire() {
		return
	}
	defer rec.release()
	if rec.modifiedSince(start) {
		return
	}
	if !rec.isRunning() {
		m.log.WithField(FieldUser, o.user).Info("Creating record for file server from Kubernetes")
	}
	rec.setRunning(true, o.job)
}

// deleteAll deletes the file servers of users, at most
// WithReconcileWorkers at a time, and returns the failures.
func (m *Manager) deleteAll(ctx context.Context, start time.Time, users []string) error {
	var (
		mu   sync.Mutex
		errs *multierror.Error
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, m.o.workers)
	for _, user := range users {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return multierror.Append(errs, ctx.Err()).ErrorOrNil()
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := m.reconcileDelete(user, start); err != nil {
				mu.Lock()
				errs = multierror.Append(errs, fmt.Errorf("deleting the file server of %q: %w", user, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs.ErrorOrNil()
}

// reconcileDelete deletes what the cluster holds of a user's file server,
// holding the user's mutex, unless an operation holds it or the record was
// modified since start. A running file server gets the ordinary deletion
// (fileserver.deleteTimeout); the objects of one that does not run (no
// record, a failed creation's remains) are deleted directly within
// [DirectDeleteTimeout].
func (m *Manager) reconcileDelete(user string, start time.Time) error {
	rec := m.recordFor(user)
	if !rec.tryAcquire() {
		return nil
	}
	defer rec.release()
	if rec.modifiedSince(start) {
		return nil
	}
	if rec.isRunning() {
		m.log.WithField(FieldUser, user).Info("Deleting file server that is not working")
		return m.deleteLocked(rec)
	}
	life, err := m.track()
	if err != nil {
		return err
	}
	defer m.ops.Done()
	m.log.WithField(FieldUser, user).Info("Deleting objects of file server that is not running")
	ctx, cancel := context.WithTimeout(life, DirectDeleteTimeout)
	defer cancel()
	return m.deleteObjects(ctx, user)
}
