package prepuller

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
)

// Log field keys of the prepuller's lines, besides logrus.ErrorKey.
const (
	FieldNode     = "node"
	FieldImage    = "image"
	FieldName     = "name"
	FieldDuration = "duration_ms"
)

// NodeRemovals tells when a node leaves the set of selected nodes.
// [*NodeWatcher] implements it.
type NodeRemovals interface {
	// Removed returns a channel closed once the node is gone (at once if
	// it is gone already).
	Removed(node string) <-chan struct{}
}

// Cluster is how the puller reaches Kubernetes.
type Cluster struct {
	// Dynamic creates prepull pods and watches them.
	Dynamic dynamic.Interface
	// Applier deletes prepull pods.
	Applier *apply.Applier
	// Namespace is the controller's namespace, where prepull pods run.
	Namespace string
	// OwnerName and OwnerUID are the controller's own pod (the
	// pod-metadata files name and uid), the owner of every prepull pod:
	// Kubernetes deletes the prepull pods of a controller pod that is
	// gone.
	OwnerName, OwnerUID string
}

// errPullerNotStarted is returned by [Puller.Round] before
// [Puller.Start].
var errPullerNotStarted = errors.New("prepuller not started")

// Puller is the prepuller of §5.7: after each image refresh it runs a
// round that pulls the prepull-set images each eligible node lacks, with
// one pod per image and node. Build it with [NewPuller], then call
// [Puller.Run] (or [Puller.Start] and [Puller.Round]). Its methods are
// safe for concurrent use, but rounds should not overlap: two rounds
// would pull the same images twice.
type Puller struct {
	cfg      *schema.Config
	images   *Service
	nodes    NodeRemovals
	cluster  Cluster
	renderer server.Renderer
	log      *logrus.Entry
	o        pullerOptions

	pods    *podWatch
	backoff *backoff
	started atomic.Bool
	roundMu sync.Mutex // serialises rounds
}

// PullerOption configures a [Puller].
type PullerOption func(*pullerOptions)

type pullerOptions struct {
	workers    int
	maxBackoff int
	metrics    *Metrics
	reporter   Reporter
}

// DefaultNodeWorkers is the default of [WithNodeWorkers].
const DefaultNodeWorkers = 16

// WithNodeWorkers bounds how many nodes are prepulled at the same time
// (each node pulls its images one after the other). n < 1 means 1.
// Default: [DefaultNodeWorkers].
func WithNodeWorkers(n int) PullerOption {
	return func(o *pullerOptions) { o.workers = max(n, 1) }
}

// WithMaxBackoffRounds caps the number of rounds that an image that failed
// to prepull on a node is left out before the next try (decision D13; see
// [Puller.Round]). Default: [DefaultMaxBackoffRounds].
func WithMaxBackoffRounds(n int) PullerOption {
	return func(o *pullerOptions) { o.maxBackoff = max(n, 0) }
}

// WithPullerMetrics records prepulls and rounds in m. Default: none.
func WithPullerMetrics(m *Metrics) PullerOption {
	return func(o *pullerOptions) { o.metrics = m }
}

// WithPullerReporter reports failed prepulls and rounds to r. Default:
// nothing is reported.
func WithPullerReporter(r Reporter) PullerOption {
	return func(o *pullerOptions) { o.reporter = r }
}

// NewPuller returns the prepuller for the configuration cfg (lab pull
// secret and tolerations through the renderer, images.prepullTimeout,
// images.refreshInterval, watchReconnectTimeout), reading the catalogs of
// images and learning of removed nodes from nodes. log receives its lines.
// Nothing is sent to Kubernetes before [Puller.Start].
func NewPuller(cfg *schema.Config, images *Service, nodes NodeRemovals, cluster Cluster,
	renderer server.Renderer, log *logrus.Entry, opts ...PullerOption) (*Puller, error) {
	switch {
	case cfg == nil || images == nil || nodes == nil || renderer == nil || log == nil:
		return nil, errors.New("prepuller: configuration, image service, nodes, renderer and logger are required")
	case cluster.Dynamic == nil || cluster.Applier == nil:
		return nil, errors.New("prepuller: Kubernetes clients are nil")
	case cluster.Namespace == "" || cluster.OwnerName == "" || cluster.OwnerUID == "":
		return nil, errors.New("prepuller: controller namespace and pod are required")
	}
	o := pullerOptions{workers: DefaultNodeWorkers, maxBackoff: DefaultMaxBackoffRounds, reporter: nopReporter{}}
	for _, opt := range opts {
		opt(&o)
	}
	return &Puller{
		cfg: cfg, images: images, nodes: nodes, cluster: cluster, renderer: renderer,
		log: log, o: o,
		pods:    newPodWatch(cluster.Dynamic, cluster.Namespace, cfg.WatchReconnectTimeout),
		backoff: newBackoff(o.maxBackoff),
	}, nil
}

// Start starts the watch of prepull pods, which runs until the ctx of the
// first call ends, and waits until it has listed them; [Puller.Run] calls
// it too.
func (p *Puller) Start(ctx context.Context) error {
	if err := p.pods.start(ctx); err != nil {
		return err
	}
	p.started.Store(true)
	return nil
}

// Run is the prepuller's background task (§4.8): it starts the puller,
// then waits for the image service's refreshed signal and runs a round
// each time (so the first round follows the startup refresh at once). A
// round that fails as a whole is logged ("Uncaught exception prepulling
// images") and followed by a pause of images.refreshInterval. Run returns
// when ctx ends.
func (p *Puller) Run(ctx context.Context) {
	if err := p.Start(ctx); err != nil {
		if ctx.Err() == nil {
			p.log.WithError(err).Error("Uncaught exception starting the prepuller")
			p.o.reporter.Report("", err)
		}
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.images.Refreshed():
		}
		res, err := p.Round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.WithError(err).Error("Uncaught exception prepulling images")
			p.o.reporter.Report("", err)
			if sleep(ctx, p.cfg.Images.RefreshInterval) != nil {
				return
			}
			continue
		}
		res.log(p.log)
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
