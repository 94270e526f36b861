package fileservers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/schema/units"
)

// nameSuffix ends the name of a user's file-server objects ({user}-fs).
const nameSuffix = "-fs"

// TimeoutError is the failure of a creation or deletion that ran out of
// time. Its text is the original's: "File server creation timed out after
// 1.002004", the elapsed seconds formatted as Python formats a float of
// microsecond precision.
type TimeoutError struct {
	// What is "File server creation" or "File server deletion".
	What string
	// Elapsed is how long the operation ran.
	Elapsed time.Duration
}

// Error returns "{What} timed out after {seconds}".
func (e *TimeoutError) Error() string {
	secs := float64(e.Elapsed.Microseconds()) / 1e6
	return e.What + " timed out after " + units.FormatPythonFloat(secs)
}

// Causes of an operation context's end.
var (
	errCreationTimeout = errors.New("file server creation timeout")
	errDeletionTimeout = errors.New("file server deletion timeout")
)

// Create makes sure the user has a running file server (§3.6, §4.9) and
// returns when it is ready: the Ingress that Gafaelfawr's operator makes
// from the GafaelfawrIngress has a load-balancer IP and the Job's pod has
// left Pending. It holds the user's mutex throughout: concurrent calls for
// one user wait for each other, and return at once when the file server
// runs. The creation runs under the manager's lifetime, bounded by
// fileserver.creationTimeout (a *TimeoutError then), not under ctx, which
// bounds only the wait for the mutex. On failure every object of the file
// server is deleted (within fileserver.deleteTimeout) before the error
// returns. The token is not used: Gafaelfawr authenticates the file
// server's users.
func (m *Manager) Create(ctx context.Context, user *nublado.User, _ string) error {
	if user == nil {
		return errors.New("creating file server: no user")
	}
	rec := m.recordFor(user.Username)
	if err := rec.acquire(ctx); err != nil {
		return err
	}
	defer rec.release()
	if rec.isRunning() {
		return nil
	}
	life, err := m.track()
	if err != nil {
		return err
	}
	defer m.ops.Done()
	rec.begin()
	defer rec.end()
	log := m.log.WithField(FieldUser, user.Username)
	log.Info("File server requested")
	start := time.Now()
	job, applied, err := m.create(life, rec, user)
	m.o.metrics.FileServerCreated(err == nil)
	log = log.WithField(FieldDuration, time.Since(start).Milliseconds())
	if err != nil {
		log.WithError(err).Error("File server creation failed")
		reportUnlessStopped(life, m.o.reporter, user.Username, err)
		if applied {
			m.cleanup(life, user.Username, log)
		}
		return err
	}
	rec.setRunning(true, job)
	m.publish()
	log.Info("File server created")
	return nil
}

// create creates the file server within fileserver.creationTimeout and
// returns the UID of its Job, and whether it applied anything.
func (m *Manager) create(life context.Context, rec *record, user *nublado.User) (types.UID, bool, error) {
	ctx, cancel := context.WithTimeoutCause(life, m.cfg.Fileserver.CreationTimeout, errCreationTimeout)
	defer cancel()
	start := time.Now()
	job, applied, err := m.createObjects(ctx, rec, user)
	if err != nil && errors.Is(context.Cause(ctx), errCreationTimeout) {
		err = &TimeoutError{What: "File server creation", Elapsed: time.Since(start)}
	}
	return job, applied, err
}

// createObjects renders and applies the file server's objects, replacing
// an existing Job, and waits until it is ready.
func (m *Manager) createObjects(ctx context.Context, rec *record, user *nublado.User) (types.UID, bool, error) {
	start := time.Now()
	in, err := m.cfg.FileserverInput(m.o.env, *user)
	if err != nil {
		return "", false, err
	}
	objs, err := m.renderer.Render("fileserver", in)
	if err != nil {
		return "", false, fmt.Errorf("rendering the file server of %q: %w", user.Username, err)
	}
	cs, err := m.cluster.Applier.Apply(ctx, objs, apply.Recreate())
	cs.Log(m.log.WithField(FieldUser, user.Username), "File server")
	if err != nil {
		return "", true, err
	}
	job, err := m.replaceJob(ctx, user.Username, objs, cs)
	if err != nil {
		return "", true, err
	}
	log := m.log.WithField(FieldUser, user.Username)
	log.WithField(FieldDuration, time.Since(start).Milliseconds()).Debug("File server objects applied")
	if err := m.waitIngress(ctx, rec); err != nil {
		return "", true, err
	}
	log.WithField(FieldDuration, time.Since(start).Milliseconds()).Debug("File server Ingress ready")
	return job, true, m.waitPod(ctx, rec, job)
}

// replaceJob returns the UID of the file server's Job as the apply left
// it. A Job that existed before (the remains of an earlier file server) is
// deleted, with its pods, and created again, as the original's
// delete-and-recreate on conflict does: its pod may have ended long ago.
func (m *Manager) replaceJob(ctx context.Context, user string, objs []*unstructured.Unstructured, cs apply.ChangeSet) (types.UID, error) {
	var job *unstructured.Unstructured
	for _, obj := range objs {
		if obj.GetKind() == "Job" {
			job = obj
		}
	}
	if job == nil {
		return "", errors.New("the fileserver template made no Job")
	}
	for _, c := range cs.Changes {
		if c.Object.Kind != "Job" || c.Result == nil {
			continue
		}
		if c.Action == apply.Created || c.Action == apply.Recreated {
			return c.Result.GetUID(), nil
		}
	}
	dcs, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{job}, true)
	dcs.Log(m.log.WithField(FieldUser, user), "File server")
	if err != nil {
		return "", err
	}
	cs, err = m.cluster.Applier.Apply(ctx, []*unstructured.Unstructured{job})
	cs.Log(m.log.WithField(FieldUser, user), "File server")
	if err != nil {
		return "", err
	}
	return cs.Changes[0].Result.GetUID(), nil
}

// waitIngress waits, on the Ingress informer, until the user's Ingress
// has a load-balancer IP.
func (m *Manager) waitIngress(ctx context.Context, rec *record) error {
	name := schema.FileserverName(rec.user)
	for {
		signal := rec.signal()
		ing := m.inf.ingress(m.namespace(), name)
		if ing != nil && ing.GetDeletionTimestamp() == nil && ingressIP(ing) != "" {
			return nil
		}
		select {
		case <-signal:
		case <-ctx.Done():
			return fmt.Errorf("waiting for Ingress %s/%s: %w", m.namespace(), name, ctx.Err())
		}
	}
}

// waitPod waits, on the pod informer, until a pod of the Job with the
// given UID has left Pending and Unknown (any other phase counts, as in
// the original: a pod that ended is the pod watcher's business).
func (m *Manager) waitPod(ctx context.Context, rec *record, job types.UID) error {
	name := schema.FileserverName(rec.user)
	for {
		signal := rec.signal()
		for _, pod := range m.inf.jobPods(name) {
			if ownerJob(pod) != job {
				continue
			}
			switch apply.PodPhase(pod) {
			case corev1.PodPending, corev1.PodUnknown, "":
			default:
				return nil
			}
		}
		select {
		case <-signal:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the pod of Job %s/%s: %w", m.namespace(), name, ctx.Err())
		}
	}
}

// reportUnlessStopped reports err unless it is the end of the manager's
// lifetime life.
func reportUnlessStopped(life context.Context, r Reporter, user string, err error) {
	if life.Err() == nil {
		r.Report(user, err)
	}
}

// cleanup deletes what a failed creation left, within
// fileserver.deleteTimeout.
func (m *Manager) cleanup(life context.Context, user string, log *logrus.Entry) {
	if err := m.deleteWithTimeout(life, user); err != nil {
		log.WithError(err).Error("Cleaning up after a failed file server creation failed")
	}
}
