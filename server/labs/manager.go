package labs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sync/singleflight"
	"k8s.io/client-go/dynamic"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/events"
	"github.com/nublado-go/nublado/server/metrics"
)

var _ server.Labs = (*Manager)(nil)

// ImageResolver resolves the image a create request names (§5.6). Errors
// are *images.UnknownImageError and *images.InvalidReferenceError for
// requests that name no usable image, anything else for registry failures.
type ImageResolver interface {
	Resolve(ctx context.Context, req nublado.ImageRequest) (*images.Image, error)
}

// Discovery returns the Repertoire discovery document that the lab's
// discovery file is built from (*gafaelfawr.Client implements it).
type Discovery interface {
	Discovery(ctx context.Context) ([]byte, error)
}

// Cluster is how the manager reaches Kubernetes.
type Cluster struct {
	// Dynamic is the client of the informers and of the Secret reads.
	Dynamic dynamic.Interface
	// Applier applies lab objects, deletes them and watches Events.
	Applier *apply.Applier
	// Namespace is the controller's own namespace, where the Secrets of
	// lab.secrets and lab.pullSecret are read.
	Namespace string
}

// Manager is the lab manager: the per-user lab records, their operations
// and event queues, kept in step with Kubernetes by informers and a
// periodic reconcile (see the package documentation). Build it with [New],
// then call [Manager.Start]; it implements server.Labs. All methods are
// safe for concurrent use.
type Manager struct {
	cfg      *schema.Config
	cluster  Cluster
	renderer server.Renderer
	resolver ImageResolver
	log      *logrus.Entry
	o        options

	mu      sync.Mutex
	records map[string]*record
	order   []*record // in creation order

	inf   *informers
	slots chan struct{}

	// secretReads coalesces concurrent reads of a source Secret.
	secretReads singleflight.Group

	// life is the manager's lifetime, from Start to Stop. Operations run
	// under it rather than under the request that started them: a spawn
	// outlives its create request, and a delete must finish even when the
	// client goes away.
	life    context.Context
	stop    context.CancelCauseFunc
	started bool
	ops     sync.WaitGroup // running operations
	loops   sync.WaitGroup // background loops and informers
}

// Option configures a [Manager].
type Option func(*options)

type options struct {
	env       schema.Environment
	discovery Discovery
	metrics   *metrics.Metrics
	workers   int
	slots     int
	reporter  Reporter
}

// Reporter reports failures to Slack (*alert.Reporter implements it).
type Reporter = alert.Sink

// nopReporter reports nothing.
type nopReporter = alert.Nop

// WithReporter reports failed spawns and deletions (with their user) and
// failed lab reconciles to r. Default: nothing is reported.
func WithReporter(r Reporter) Option {
	return func(o *options) { o.reporter = r }
}

// WithApplySlots bounds how many spawns build and apply their objects at
// the same time (n < 1: unbounded). Default: [DefaultApplySlots]. In a
// burst, a bound lets the API server finish some labs early instead of
// thrashing on all of them: on the local control plane, 200 simultaneous
// spawns completed in 34 s with 24 slots against 43 s unbounded, with the
// median spawn twice as fast; through the spawner API (internal/load,
// client QPS 500), back to back on a loaded 2-core machine, p50/p95 were
// 8.8/14.3 s with 32 slots against 12.8/16.7 s unbounded.
func WithApplySlots(n int) Option {
	return func(o *options) { o.slots = n }
}

// DefaultApplySlots is the default of [WithApplySlots].
const DefaultApplySlots = 32

// WithEnvironment sets what the controller read from its environment (the
// controller image of the standard init containers, REPERTOIRE_BASE_URL).
// Default: what schema.ReadEnvironment returns for an empty environment.
func WithEnvironment(env schema.Environment) Option {
	return func(o *options) { o.env = env }
}

// WithDiscovery makes every spawn build the lab's discovery file from d's
// document. Default: an empty document ({}).
func WithDiscovery(d Discovery) Option {
	return func(o *options) { o.discovery = d }
}

// WithMetrics records spawns, deletions and active labs in m. Default: no
// metrics.
func WithMetrics(m *metrics.Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithReconcileWorkers sets how many namespaces a reconcile deletes at the
// same time. Default: 8.
func WithReconcileWorkers(n int) Option {
	return func(o *options) { o.workers = max(n, 1) }
}

// New returns a lab manager for the configuration cfg (lab section, path
// and watch settings; it must not change afterwards). renderer renders the
// lab template, resolver resolves images, log receives the manager's log
// lines. The manager does nothing until [Manager.Start].
func New(cfg *schema.Config, cluster Cluster, renderer server.Renderer, resolver ImageResolver,
	log *logrus.Entry, opts ...Option) (*Manager, error) {
	switch {
	case cfg == nil:
		return nil, errors.New("lab manager: configuration is nil")
	case cluster.Dynamic == nil || cluster.Applier == nil:
		return nil, errors.New("lab manager: Kubernetes clients are nil")
	case cluster.Namespace == "":
		return nil, errors.New("lab manager: controller namespace is empty")
	case renderer == nil || resolver == nil || log == nil:
		return nil, errors.New("lab manager: renderer, image resolver and logger are required")
	}
	env := schema.DefaultEnvironment()
	o := options{workers: 8, env: env, slots: DefaultApplySlots, reporter: nopReporter{}}
	for _, opt := range opts {
		opt(&o)
	}
	m := &Manager{
		cfg: cfg, cluster: cluster, renderer: renderer, resolver: resolver,
		log: log.WithField(FieldController, "labs"), o: o,
		records: map[string]*record{},
	}
	if o.slots > 0 {
		m.slots = make(chan struct{}, o.slots)
	}
	m.inf = newInformers(cluster.Dynamic, informerSettings{
		resync:       cfg.Lab.ReconcileInterval,
		watchTimeout: cfg.WatchReconnectTimeout,
		onPod:        m.onPod,
	})
	return m, nil
}

// errNotStarted is returned by the operations of a manager that was not
// started or was stopped.
var errNotStarted = errors.New("lab manager is not running")

// errCancelled is the cause of an operation's cancellation: by a delete of
// a spawning lab, or by Stop.
var errCancelled = errors.New("Operation cancelled") //nolint:staticcheck // the SSE message

// Start starts the informers, waits until their caches hold the cluster's
// lab objects, rebuilds the lab state from them with a first reconcile, and
// starts the reconcile loop; it returns when the state is complete. ctx
// bounds only this start-up; the manager then runs until [Manager.Stop].
// An error (the caches could not be filled, or the first reconcile could
// not delete an incomplete namespace) aborts the start-up; call Stop then.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("lab manager already started")
	}
	m.started = true
	m.life, m.stop = context.WithCancelCause(context.Background())
	m.mu.Unlock()

	m.log.Info("Populating internal state")
	m.inf.run(m.life, &m.loops)
	if err := m.inf.waitSynced(ctx); err != nil {
		return fmt.Errorf("starting lab informers: %w", err)
	}
	if err := m.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling labs at start: %w", err)
	}
	m.log.Info("Starting background tasks")
	m.loops.Add(1)
	go func() {
		defer m.loops.Done()
		m.reconcileLoop(m.life)
	}()
	return nil
}

// Stop cancels every running operation (its event stream ends with
// `failed` "Operation cancelled"), stops the informers and the reconcile
// loop, waits for all of them and forgets all state. The manager cannot be
// started again.
func (m *Manager) Stop() {
	m.mu.Lock()
	stop := m.stop
	if stop != nil {
		// Under the lock, so that no operation starts after this.
		stop(errCancelled)
	}
	m.mu.Unlock()
	if stop == nil {
		return
	}
	m.ops.Wait()
	m.loops.Wait()
	m.mu.Lock()
	m.records = map[string]*record{}
	m.order = nil
	m.mu.Unlock()
}

// Running returns the users whose lab is running, in the order their
// records were created.
func (m *Manager) Running(context.Context) []string {
	users := []string{}
	for _, rec := range m.allRecords() {
		if s := rec.status(); s == nublado.LabRunning {
			users = append(users, rec.user)
		}
	}
	return users
}

// State returns a copy of the user's lab state, or nublado.ErrLabNotFound
// when the user has no record or no lab.
func (m *Manager) State(_ context.Context, user string) (*nublado.LabState, error) {
	rec := m.lookup(user)
	if rec == nil {
		return nil, nublado.ErrLabNotFound
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.state == nil {
		return nil, nublado.ErrLabNotFound
	}
	return cloneState(rec.state), nil
}

// Events returns a reader of the events of the user's current or most
// recent operation, or nublado.ErrLabNotFound when the user never had a
// record.
func (m *Manager) Events(_ context.Context, user string) (*events.Reader, error) {
	rec := m.lookup(user)
	if rec == nil {
		return nil, nublado.ErrLabNotFound
	}
	return rec.events.Reader(), nil
}

// lookup returns the user's record, or nil.
func (m *Manager) lookup(user string) *record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.records[user]
}

// recordFor returns the user's record, creating it when absent.
func (m *Manager) recordFor(user string) *record {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.records[user]
	if !ok {
		rec = newRecord(user)
		m.records[user] = rec
		m.order = append(m.order, rec)
	}
	return rec
}

// allRecords returns the records in creation order.
func (m *Manager) allRecords() []*record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*record(nil), m.order...)
}

// namespace returns the namespace of a user's lab.
func (m *Manager) namespace(user string) string { return m.cfg.LabNamespace(user) }

// podName returns the name of a user's lab pod.
func podName(user string) string { return user + "-nb" }
