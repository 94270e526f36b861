package fileservers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/metrics"
	"github.com/nublado-go/nublado/server/prepuller"
)

var _ server.FileServers = (*Manager)(nil)

// Cluster is how the manager reaches Kubernetes.
type Cluster struct {
	// Dynamic is the client of the informers and of reconcile's lists.
	Dynamic dynamic.Interface
	// Applier applies and deletes file-server objects.
	Applier *apply.Applier
}

// Manager is the file-server manager: one record per user, kept in step
// with Kubernetes by informers, a pod watcher and a periodic reconcile
// (see the package documentation). Build it with [New], then call
// [Manager.Start]; it implements server.FileServers. All methods are safe
// for concurrent use.
type Manager struct {
	cfg      *schema.Config
	cluster  Cluster
	renderer server.Renderer
	log      *logrus.Entry
	o        options

	mu      sync.Mutex
	records map[string]*record

	inf *informers

	// life is the manager's lifetime, from Start to Stop. Operations run
	// under it rather than under the request that started them, so that a
	// creation or deletion is never left half done when a client goes
	// away.
	life    context.Context
	stop    context.CancelFunc
	started bool
	ops     sync.WaitGroup // running operations and watcher deletions
	loops   sync.WaitGroup // informers and the reconcile loop
}

// Option configures a [Manager].
type Option func(*options)

type options struct {
	env      schema.Environment
	metrics  *metrics.Metrics
	workers  int
	reporter Reporter
}

// Reporter reports failures to Slack (*alert.Reporter implements it).
type Reporter = alert.Sink

// nopReporter reports nothing.
type nopReporter = alert.Nop

// WithReporter reports failed creations and deletions (with their user)
// and failed reconciles to r. Default: nothing is reported.
func WithReporter(r Reporter) Option {
	return func(o *options) { o.reporter = r }
}

// WithEnvironment sets what the controller read from its environment (the
// controller image the file server runs). Default: what
// schema.ReadEnvironment returns for an empty environment.
func WithEnvironment(env schema.Environment) Option {
	return func(o *options) { o.env = env }
}

// WithMetrics records file-server creations, deletions and the number of
// running file servers in m. Default: no metrics.
func WithMetrics(m *metrics.Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithReconcileWorkers sets how many file servers a reconcile deletes at
// the same time. Default: 8.
func WithReconcileWorkers(n int) Option {
	return func(o *options) { o.workers = max(n, 1) }
}

// DirectDeleteTimeout bounds reconcile's deletion of the objects of a file
// server that has no running record (the original's generic 30 s
// Kubernetes timeout).
const DirectDeleteTimeout = 30 * time.Second

// New returns a file-server manager for the configuration cfg, which must
// enable file servers (fileserver section, watch settings; it must not
// change afterwards). renderer renders the fileserver template, log
// receives the manager's log lines. The manager does nothing until
// [Manager.Start].
func New(cfg *schema.Config, cluster Cluster, renderer server.Renderer, log *logrus.Entry, opts ...Option) (*Manager, error) {
	switch {
	case cfg == nil:
		return nil, errors.New("file-server manager: configuration is nil")
	case !cfg.Fileserver.Enabled:
		return nil, errors.New("file-server manager: " + schema.MsgFileserverDisabled)
	case cfg.Fileserver.Namespace == "":
		return nil, errors.New("file-server manager: fileserver.namespace is empty")
	case cluster.Dynamic == nil || cluster.Applier == nil:
		return nil, errors.New("file-server manager: Kubernetes clients are nil")
	case renderer == nil || log == nil:
		return nil, errors.New("file-server manager: renderer and logger are required")
	}
	env := schema.DefaultEnvironment()
	o := options{env: env, workers: 8, reporter: nopReporter{}}
	for _, opt := range opts {
		opt(&o)
	}
	m := &Manager{
		cfg: cfg, cluster: cluster, renderer: renderer, o: o,
		log:     log.WithField(FieldController, "fileservers"),
		records: map[string]*record{},
	}
	m.inf = newInformers(cluster.Dynamic, cfg.Fileserver.Namespace, cfg.WatchReconnectTimeout, m)
	return m, nil
}

// errNotStarted is returned by the operations of a manager that was not
// started or was stopped.
var errNotStarted = errors.New("file-server manager is not running")

// Start starts the informers (and with them the pod watcher), waits until
// their caches are filled, rebuilds the file-server state with a first
// reconcile and starts the reconcile loop (every
// fileserver.reconcileInterval). ctx bounds only this start-up; the
// manager then runs until [Manager.Stop]. An error aborts the start-up;
// call Stop then.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("file-server manager already started")
	}
	m.started = true
	m.life, m.stop = context.WithCancel(context.Background())
	m.mu.Unlock()

	m.inf.run(m.life, &m.loops)
	if err := m.inf.waitSynced(ctx); err != nil {
		return fmt.Errorf("starting file-server informers: %w", err)
	}
	if err := m.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling file servers at start: %w", err)
	}
	m.loops.Add(1)
	go func() {
		defer m.loops.Done()
		prepuller.RunLoop(m.life, m.cfg.Fileserver.ReconcileInterval, "reconciling file server state", m.log, prepuller.Reporting(m.o.reporter, m.Reconcile))
	}()
	return nil
}

// Stop cancels the operations in progress (a creation then fails, and its
// objects are left for the next controller's reconcile), stops the
// informers and the reconcile loop, waits for all of them and forgets all
// state. The manager cannot be started again.
func (m *Manager) Stop() {
	m.mu.Lock()
	stop := m.stop
	if stop != nil {
		stop()
	}
	m.mu.Unlock()
	if stop == nil {
		return
	}
	m.ops.Wait()
	m.loops.Wait()
	m.mu.Lock()
	m.records = map[string]*record{}
	m.mu.Unlock()
}

// track returns the manager's lifetime and counts one more running
// operation (the caller calls m.ops.Done), or returns errNotStarted.
func (m *Manager) track() (context.Context, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.life == nil || m.life.Err() != nil {
		return nil, errNotStarted
	}
	m.ops.Add(1)
	return m.life, nil
}

// Running returns the users whose file server is running, sorted.
func (m *Manager) Running(context.Context) []string {
	users := []string{}
	for _, rec := range m.allRecords() {
		if rec.isRunning() {
			users = append(users, rec.user)
		}
	}
	slices.Sort(users)
	return users
}

// publish records the number of running file servers.
func (m *Manager) publish() {
	m.o.metrics.SetFileServers(len(m.Running(context.Background())))
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
	}
	return rec
}

// allRecords returns every record.
func (m *Manager) allRecords() []*record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*record, 0, len(m.records))
	for _, rec := range m.records {
		out = append(out, rec)
	}
	return out
}

// namespace is the file servers' namespace.
func (m *Manager) namespace() string { return m.cfg.Fileserver.Namespace }
