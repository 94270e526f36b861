package labs

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/sirupsen/logrus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/alert"
)

// Reconcile brings the lab records in line with the cluster (§4.7), from
// the informer caches: every namespace {prefix}-{user} with the lab label
// is a lab (decision D9; other namespaces are never touched). It rebuilds
// the state of labs it did not know (adopting labs that an earlier
// controller made), adopts the observed status of known labs, marks known
// labs that are gone failed, deletes incomplete lab namespaces, starts
// monitoring labs found pending and starts the deletion of terminated and
// failed labs. Records modified since the reconcile began are left alone.
// Start runs it once; the manager then runs it every lab.reconcileInterval.
//
// The deletions it starts run in the background as ordinary delete
// operations; the error aggregates the namespace deletions that failed.
func (m *Manager) Reconcile(ctx context.Context) error {
	start := time.Now()
	m.log.Info("Reconciling user lab state with Kubernetes")
	observed, incomplete := m.observeAll(ctx)
	err := m.deleteIncomplete(ctx, start, incomplete)
	var monitor []string
	monitor = append(monitor, m.reconcileKnown(start, observed)...)
	monitor = append(monitor, m.adoptUnknown(start, observed)...)
	slices.Sort(monitor)
	for _, user := range slices.Compact(monitor) {
		m.startMonitor(user)
	}
	m.reap()
	running := len(m.Running(ctx))
	m.o.metrics.SetActiveLabs(running)
	m.log.WithFields(logrus.Fields{"labs": len(observed), "running": running,
		FieldDuration: time.Since(start).Milliseconds()}).Debug("Reconciled user lab state")
	return err
}

// observeAll rebuilds the state of every lab namespace in the caches. The
// namespaces whose cached objects do not make a lab are checked once more
// with direct reads (a cache may lag behind a lab being created); those
// still incomplete are returned with the reason. Namespaces being deleted
// are skipped.
func (m *Manager) observeAll(ctx context.Context) (map[string]*nublado.LabState, map[string]error) {
	observed := map[string]*nublado.LabState{}
	incomplete := map[string]error{}
	for _, ns := range m.inf.labNamespaces() {
		user, ok := m.userOf(ns.GetName())
		if !ok || ns.GetDeletionTimestamp() != nil {
			continue
		}
		s, err := m.observe(user, m.cached(user))
		if err != nil {
			s, err = m.observeLive(ctx, user)
		}
		if err != nil {
			incomplete[user] = err
			continue
		}
		observed[user] = s
	}
	return observed, incomplete
}

// observeLive rebuilds a lab's state from objects read from the API server.
func (m *Manager) observeLive(ctx context.Context, user string) (*nublado.LabState, error) {
	ns := m.namespace(user)
	var objs labObjects
	var errs error
	for _, r := range []struct {
		gvr  schema.GroupVersionResource
		name string
		dst  **unstructured.Unstructured
	}{
		{configMapsGVR, user + envConfigMapSuffix, &objs.env},
		{podsGVR, podName(user), &objs.pod},
		{quotasGVR, user + "-nb", &objs.quota},
	} {
		rctx, cancel := context.WithTimeout(ctx, callTimeout)
		obj, err := m.cluster.Dynamic.Resource(r.gvr).Namespace(ns).Get(rctx, r.name, metav1.GetOptions{})
		cancel()
		switch {
		case err == nil:
			*r.dst = obj
		case !apierrors.IsNotFound(err):
			errs = multierror.Append(errs, err)
		}
	}
	if errs != nil {
		return nil, errs
	}
	return m.observe(user, objs)
}

// callTimeout bounds one-off Kubernetes calls (§4.10).
const callTimeout = 30 * time.Second

// deleteIncomplete deletes the namespaces that do not hold a complete lab
// and whose user's record was not modified since start (§4.7 step 3). It
// does not wait for the namespace controller: a namespace being deleted is
// skipped by later reconciles, and a spawn waits for it to be gone.
func (m *Manager) deleteIncomplete(ctx context.Context, start time.Time, incomplete map[string]error) error {
	var (
		mu   sync.Mutex
		errs error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, m.o.workers)
	)
	for _, user := range slices.Sorted(maps.Keys(incomplete)) {
		var apiErr apierrors.APIStatus
		if errors.As(incomplete[user], &apiErr) {
			// Reading the objects failed: nothing is known about them.
			m.log.WithField(FieldUser, user).WithError(incomplete[user]).Warn("Cannot read lab objects")
			continue
		}
		if rec := m.lookup(user); rec != nil && rec.modified(start) {
			continue
		}
		entry := m.log.WithFields(logrus.Fields{FieldUser: user, FieldNamespace: m.namespace(user)})
		entry.WithError(incomplete[user]).Warn("Deleting incomplete namespace")
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, m.cfg.Lab.DeleteTimeout)
			defer cancel()
			if err := m.deleteNamespace(dctx, user, false); err != nil {
				entry.WithError(err).Error("Deleting incomplete namespace failed")
				mu.Lock()
				errs = multierror.Append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// modified locks the record and reports modifiedSince(t).
func (r *record) modified(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.modifiedSince(t)
}

// reconcileKnown updates the labs the manager knows (§4.7 step 4) and
// returns the users whose lab became pending.
func (m *Manager) reconcileKnown(start time.Time, observed map[string]*nublado.LabState) []string {
	var monitor []string
	for _, rec := range m.allRecords() {
		rec.mu.Lock()
		if rec.state == nil || rec.modifiedSince(start) || rec.state.Status == nublado.LabFailed {
			rec.mu.Unlock()
			continue
		}
		entry := m.log.WithField(FieldUser, rec.user)
		obs, ok := observed[rec.user]
		switch {
		case !ok:
			entry.Warnf("Expected user %s not found in Kubernetes", rec.user)
			rec.state.Status = nublado.LabFailed
		case obs.Status != rec.state.Status:
			entry.WithFields(logrus.Fields{"from": rec.state.Status, "to": obs.Status}).
				Warn("Lab status differs from Kubernetes, adopting it")
			rec.state.Status = obs.Status
			if obs.Status == nublado.LabPending {
				monitor = append(monitor, rec.user)
			}
		}
		rec.mu.Unlock()
	}
	return monitor
}

// adoptUnknown creates the records of the labs found in Kubernetes that
// the manager does not know (§4.7 step 5): labs of an earlier controller,
// this one or the Python original. It returns the users whose lab is
// pending.
func (m *Manager) adoptUnknown(start time.Time, observed map[string]*nublado.LabState) []string {
	var monitor []string
	for _, user := range slices.Sorted(maps.Keys(observed)) {
		if rec := m.lookup(user); rec != nil && rec.status() != "" {
			continue
		}
		rec := m.recordFor(user)
		rec.mu.Lock()
		if rec.state == nil && !rec.modifiedSince(start) {
			m.log.WithFields(logrus.Fields{FieldUser: user, "status": observed[user].Status}).
				Infof("Creating record for user %s from Kubernetes", user)
			rec.state = observed[user]
			if rec.state.Status == nublado.LabPending {
				monitor = append(monitor, user)
			}
		}
		rec.mu.Unlock()
	}
	return monitor
}

// startMonitor starts following the creation of a pending lab whose
// creation no operation follows (§4.7 step 6): a spawn-type operation that
// relays the pod's Kubernetes Events and ends when the pod has started.
func (m *Manager) startMonitor(user string) {
	rec := m.lookup(user)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.state == nil || rec.op != nil || rec.state.Status != nublado.LabPending {
		return
	}
	timeout := m.cfg.Lab.SpawnTimeout
	_, err := m.begin(rec, opSpec{
		kind: opSpawn, timeout: timeout,
		timeoutErr: &timeoutError{what: "Lab spawn", timeout: timeout},
		run: func(ctx context.Context) error {
			m.info(rec, "Monitoring in-progress lab creation for "+user, 1)
			var uid = podUIDOf(m.inf.pod(m.namespace(user), podName(user)))
			return m.waitStarted(ctx, rec, uid)
		},
		finish: m.finishSpawn(rec, time.Now()),
	})
	if err != nil {
		m.log.WithField(FieldUser, user).WithError(err).Warn("Cannot monitor lab creation")
	}
}

// reap starts the deletion of every terminated or failed lab that has no
// operation in progress (§4.7 step 7): how failed spawns and labs whose
// pod ended (culled, OOM-killed, evicted) go away.
func (m *Manager) reap() {
	for _, rec := range m.allRecords() {
		rec.mu.Lock()
		if rec.state != nil && rec.op == nil &&
			(rec.state.Status == nublado.LabTerminated || rec.state.Status == nublado.LabFailed) {
			m.log.WithFields(logrus.Fields{FieldUser: rec.user, "status": rec.state.Status}).Info("Deleting finished lab")
			if _, err := m.beginDelete(rec); err != nil {
				m.log.WithField(FieldUser, rec.user).WithError(err).Warn("Cannot delete finished lab")
			}
		}
		rec.mu.Unlock()
	}
}

// reconcileLoop runs Reconcile every lab.reconcileInterval until ctx ends;
// the first run is one interval after the start.
func (m *Manager) reconcileLoop(ctx context.Context) {
	interval := m.cfg.Lab.ReconcileInterval
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		m.runLoopOnce(ctx)
		elapsed := time.Since(began)
		if elapsed >= interval {
			m.log.WithField(FieldDuration, elapsed.Milliseconds()).Warn("Lab reconcile is running continuously")
			timer.Reset(0)
			continue
		}
		timer.Reset(interval - elapsed)
	}
}

// runLoopOnce runs one reconcile of the loop, logging its failure (or
// panic) and carrying on.
func (m *Manager) runLoopOnce(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			m.log.WithField("panic", p).Error("Uncaught exception in lab reconcile")
			m.o.reporter.Report("", &alert.PanicError{Value: p})
		}
	}()
	if err := m.Reconcile(ctx); err != nil && ctx.Err() == nil {
		m.log.WithError(err).Error("Uncaught exception in lab reconcile")
		m.o.reporter.Report("", err)
	}
}
