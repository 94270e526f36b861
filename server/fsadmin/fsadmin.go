package fsadmin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/schema/units"
	"github.com/nublado-go/nublado/server"
)

var _ server.FSAdmin = (*Manager)(nil)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// Labels of fsadmin objects (§3.1).
const (
	LabelCategory   = "nublado.lsst.io/category"
	CategoryFSAdmin = "fsadmin"
)

// Log field keys of the manager's log lines, besides logrus.ErrorKey.
const (
	FieldController = "controller"
	FieldNamespace  = "namespace"
	FieldKind       = "kind"
	FieldName       = "name"
	FieldAction     = "action"
	FieldDuration   = "duration_ms"
)

// callTimeout bounds the read of the pod's status (the original's generic
// Kubernetes timeout).
const callTimeout = 30 * time.Second

// podGracePeriod is the grace period of the pod's deletion.
const podGracePeriod = time.Second

// Cluster is how the manager reaches Kubernetes.
type Cluster struct {
	// Dynamic reads the pod.
	Dynamic dynamic.Interface
	// Applier applies and deletes the pod and its PVCs.
	Applier *apply.Applier
	// Namespace is the controller's own namespace, where the pod runs.
	Namespace string
}

// Manager manages the fsadmin pod (see the package documentation). It
// implements server.FSAdmin; all methods are safe for concurrent use and
// run one at a time.
type Manager struct {
	cfg      *nschema.Config
	cluster  Cluster
	renderer server.Renderer
	log      *logrus.Entry
	env      nschema.Environment
	// lock serialises Status, Start and Stop (a channel, so that waiting
	// for it honours a context).
	lock chan struct{}
}

// Option configures a [Manager].
type Option func(*Manager)

// WithEnvironment sets what the controller read from its environment (the
// controller image the pod runs). Default: what schema.ReadEnvironment
// returns for an empty environment.
func WithEnvironment(env nschema.Environment) Option {
	return func(m *Manager) { m.env = env }
}

// New returns an fsadmin manager for the configuration cfg (fsadmin and
// lab sections; it must not change afterwards). renderer renders the
// fsadmin template, log receives the manager's log lines.
func New(cfg *nschema.Config, cluster Cluster, renderer server.Renderer, log *logrus.Entry, opts ...Option) (*Manager, error) {
	switch {
	case cfg == nil:
		return nil, errors.New("fsadmin manager: configuration is nil")
	case cluster.Dynamic == nil || cluster.Applier == nil:
		return nil, errors.New("fsadmin manager: Kubernetes clients are nil")
	case cluster.Namespace == "":
		return nil, errors.New("fsadmin manager: controller namespace is empty")
	case renderer == nil || log == nil:
		return nil, errors.New("fsadmin manager: renderer and logger are required")
	}
	env := nschema.DefaultEnvironment()
	m := &Manager{
		cfg: cfg, cluster: cluster, renderer: renderer, env: env,
		log:  log.WithField(FieldController, "fsadmin"),
		lock: make(chan struct{}, 1),
	}
	for _, opt := range opts {
		opt(m)
	}
	return m, nil
}

// TimeoutError is the failure of a start or stop that took longer than
// fsadmin.timeout.
type TimeoutError struct {
	// What is "fsadmin start" or "fsadmin stop".
	What string
	// Timeout is fsadmin.timeout.
	Timeout time.Duration
}

// Error returns "{What} timed out after {seconds}" (seconds as Python
// formats a float: "120.0").
func (e *TimeoutError) Error() string {
	return e.What + " timed out after " + units.FormatPythonFloat(e.Timeout.Seconds())
}

// acquire takes the manager's mutex, or returns ctx's error.
func (m *Manager) acquire(ctx context.Context) error {
	select {
	case m.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) release() { <-m.lock }

// Status returns the start time of the running fsadmin pod. It returns a
// *nublado.Error not_found "{namespace}/{podName}" when the pod does not
// exist and invalid_phase "{phase}" when it does not run; Kubernetes
// failures are *apply.ObjectError.
func (m *Manager) Status(ctx context.Context) (*server.FSAdminStatus, error) {
	if err := m.acquire(ctx); err != nil {
		return nil, err
	}
	defer m.release()
	return m.status(ctx)
}

// Start returns the status of the fsadmin pod when it runs. Otherwise it
// deletes a pod that exists but does not run, applies the PVCs and the pod
// of the fsadmin template (server-side apply takes existing PVCs over),
// waits until the pod has left Pending and returns its status, with the
// errors of Status when it does not run. It fails with a *TimeoutError
// after fsadmin.timeout. Once the mutex is held, the start runs to its end
// even when ctx ends.
func (m *Manager) Start(ctx context.Context) (*server.FSAdminStatus, error) {
	if err := m.acquire(ctx); err != nil {
		return nil, err
	}
	defer m.release()
	st, err := m.status(ctx)
	var nerr *nublado.Error
	if err == nil || !errors.As(err, &nerr) {
		return st, err
	}
	ctx, cancel := m.withTimeout(ctx, "fsadmin start")
	defer cancel()
	start := time.Now()
	m.log.Info("Starting fsadmin")
	if err := m.create(ctx, nerr.Code == nublado.CodeInvalidPhase); err != nil {
		err = timedOut(ctx, err)
		m.log.WithError(err).Error("Starting fsadmin failed")
		return nil, err
	}
	st, err = m.status(ctx)
	if err != nil {
		return nil, timedOut(ctx, err)
	}
	m.log.WithField(FieldDuration, time.Since(start).Milliseconds()).Info("fsadmin started")
	return st, nil
}

// create makes the PVCs and the pod, replacing an existing pod, and waits
// until the pod has left Pending and Unknown.
func (m *Manager) create(ctx context.Context, replace bool) error {
	in, err := m.cfg.FSAdminInput(m.env, m.cluster.Namespace)
	if err != nil {
		return err
	}
	objs, err := m.renderer.Render("fsadmin", in)
	if err != nil {
		return fmt.Errorf("rendering fsadmin: %w", err)
	}
	if replace {
		if err := m.deletePod(ctx); err != nil {
			return err
		}
	}
	cs, err := m.cluster.Applier.Apply(ctx, objs)
	cs.Log(m.log, "fsadmin")
	if err != nil {
		return err
	}
	_, err = m.cluster.Applier.WaitPodPhase(ctx, m.cluster.Namespace, m.cfg.FSAdmin.PodName,
		corev1.PodPending, corev1.PodUnknown)
	return err
}

// Stop deletes the fsadmin pod and then its PVCs (every PVC labelled
// nublado.lsst.io/category=fsadmin in the controller's namespace), waiting
// until each is gone; objects that do not exist count as deleted. It fails
// with a *TimeoutError after fsadmin.timeout. Once the mutex is held, the
// stop runs to its end even when ctx ends.
func (m *Manager) Stop(ctx context.Context) error {
	if err := m.acquire(ctx); err != nil {
		return err
	}
	defer m.release()
	ctx, cancel := m.withTimeout(ctx, "fsadmin stop")
	defer cancel()
	start := time.Now()
	m.log.Info("Stopping fsadmin")
	err := m.deletePod(ctx)
	if err == nil {
		var cs apply.ChangeSet
		cs, err = m.cluster.Applier.DeleteSelected(ctx, apply.Selection{
			Namespace:     m.cluster.Namespace,
			LabelSelector: LabelCategory + "=" + CategoryFSAdmin,
			Kinds:         []schema.GroupVersionKind{{Version: "v1", Kind: "PersistentVolumeClaim"}},
		}, true)
		cs.Log(m.log, "fsadmin")
	}
	if err != nil {
		err = timedOut(ctx, err)
		m.log.WithError(err).Error("Stopping fsadmin failed")
		return err
	}
	m.log.WithField(FieldDuration, time.Since(start).Milliseconds()).Info("fsadmin stopped")
	return nil
}

// deletePod deletes the pod and waits until it is gone.
func (m *Manager) deletePod(ctx context.Context) error {
	pod := &unstructured.Unstructured{}
	pod.SetAPIVersion("v1")
	pod.SetKind("Pod")
	pod.SetNamespace(m.cluster.Namespace)
	pod.SetName(m.cfg.FSAdmin.PodName)
	cs, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{pod}, true, apply.GracePeriod(podGracePeriod))
	cs.Log(m.log, "fsadmin")
	return err
}

// status reads the pod and returns its start time when it runs.
func (m *Manager) status(ctx context.Context) (*server.FSAdminStatus, error) {
	ns, name := m.cluster.Namespace, m.cfg.FSAdmin.PodName
	rctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	pod, err := m.cluster.Dynamic.Resource(podsGVR).Namespace(ns).Get(rctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, &nublado.Error{Code: nublado.CodeNotFound, Message: ns + "/" + name}
	case err != nil:
		return nil, apply.NewObjectError("reading object", apply.ObjectRef{Kind: "Pod", Namespace: ns, Name: name}, err)
	}
	if phase := apply.PodPhase(pod); phase != corev1.PodRunning {
		return nil, &nublado.Error{Code: nublado.CodeInvalidPhase, Message: string(phase)}
	}
	raw, _, _ := unstructured.NestedString(pod.Object, "status", "startTime")
	started, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: status.startTime %q: %w", ns, name, raw, err)
	}
	return &server.FSAdminStatus{StartTime: started.UTC()}, nil
}

// withTimeout returns the context of an operation: not cancelled with ctx,
// ended after fsadmin.timeout with a *TimeoutError as cause.
func (m *Manager) withTimeout(ctx context.Context, what string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(context.WithoutCancel(ctx), m.cfg.FSAdmin.Timeout,
		&TimeoutError{What: what, Timeout: m.cfg.FSAdmin.Timeout})
}

// timedOut returns the *TimeoutError of ctx when ctx ended because of it,
// else err.
func timedOut(ctx context.Context, err error) error {
	var terr *TimeoutError
	if errors.As(context.Cause(ctx), &terr) {
		return terr
	}
	return err
}
