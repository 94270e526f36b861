package prepuller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// ErrNoCatalog is returned by the queries of a [Service] whose first
// refresh has not succeeded yet.
var ErrNoCatalog = errors.New("image data not loaded yet")

// Nodes lists the nodes labs may be scheduled on (those matching the lab
// node selector), sorted by name. [*NodeWatcher] implements it.
type Nodes interface {
	Nodes(ctx context.Context) ([]images.Node, error)
}

// Service is the image service. Build it with [New].
type Service struct {
	source      images.Source
	nodes       Nodes
	tolerations []images.Toleration
	policy      images.FilterPolicy
	prepulls    images.PrepullerConfig
	interval    time.Duration
	now         func() time.Time
	log         *logrus.Entry
	reporter    Reporter
	metrics     *Metrics

	// mu serialises refreshes.
	mu        sync.Mutex
	catalog   atomic.Pointer[images.Catalog]
	refreshed chan struct{}
}

// Option configures a [Service].
type Option func(*Service)

// WithClock replaces time.Now as the basis of the drop-down filter's ages.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithReporter reports the failures of the refresh loop to r. Default:
// nothing is reported.
func WithReporter(r Reporter) Option { return func(s *Service) { s.reporter = r } }

// WithMetrics counts the refreshes in m (nublado_image_refreshes_total).
// Default: none.
func WithMetrics(m *Metrics) Option { return func(s *Service) { s.metrics = m } }

// New returns the image service of cfg over a registry source and the
// selected nodes. Nothing is read before the first [Service.Refresh]. log
// receives the refresh loop's lines.
func New(cfg *schema.Config, source images.Source, nodes Nodes, log *logrus.Entry, opts ...Option) *Service {
	s := &Service{
		source:      source,
		nodes:       nodes,
		tolerations: Tolerations(cfg.Lab.Tolerations),
		policy:      cfg.DropdownMenu,
		prepulls: images.PrepullerConfig{
			Source:          SourceConfig(cfg.Images.Source),
			RefreshInterval: cfg.Images.RefreshInterval,
			PrepullTimeout:  cfg.Images.PrepullTimeout,
			Settings:        Settings(cfg.Images),
		},
		interval:  cfg.Images.RefreshInterval,
		now:       time.Now,
		log:       log,
		reporter:  nopReporter{},
		refreshed: make(chan struct{}, 1),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Refresh reads the nodes and the registry and installs a new catalog
// (§5.7). Refreshes are serialised. On failure the previous catalog stays.
// A success raises the refreshed signal. The outcome is counted in the
// metrics (unless ctx ended).
func (s *Service) Refresh(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if err == nil || ctx.Err() == nil {
			s.metrics.refreshed(err == nil)
		}
	}()
	start := time.Now()
	nodes, err := s.nodes.Nodes(ctx)
	if err != nil {
		return err
	}
	cat, err := s.source.Refresh(ctx)
	if err != nil {
		return fmt.Errorf("refreshing images: %w", err)
	}
	states := make([]images.NodeState, 0, len(nodes))
	for _, n := range nodes {
		states = append(states, images.NewNodeState(n, s.tolerations))
	}
	cat.SetNodes(states)
	s.catalog.Store(cat)
	select {
	case s.refreshed <- struct{}{}:
	default:
	}
	s.log.WithFields(logrus.Fields{
		"nodes":       len(states),
		"eligible":    len(cat.EligibleNodes()),
		"prepull":     len(cat.PrepullImages()),
		"duration_ms": time.Since(start).Milliseconds(),
	}).Info("Refreshed image information")
	return nil
}

// Refreshed is raised by every successful refresh: it receives a value
// once after one or more refreshes since the last receive. It is meant for
// one consumer, the prepuller, which waits on it and then prepulls.
func (s *Service) Refreshed() <-chan struct{} { return s.refreshed }

// Catalog returns the catalog of the last successful refresh, or nil
// before the first one. The catalog is safe for concurrent use and is
// replaced, not changed, by later refreshes (except for
// [images.Catalog.MarkImageSeenOnNode]).
func (s *Service) Catalog() *images.Catalog { return s.catalog.Load() }

func (s *Service) current() (*images.Catalog, error) {
	if c := s.catalog.Load(); c != nil {
		return c, nil
	}
	return nil, ErrNoCatalog
}

// Run refreshes every images.refreshInterval until ctx ends, with the
// loop semantics of [RunLoop]. The first refresh of Run happens one
// interval after it starts: run the startup refresh with
// [Service.Refresh] first.
func (s *Service) Run(ctx context.Context) {
	RunLoop(ctx, s.interval, "refreshing image data", s.log, Reporting(s.reporter, s.Refresh))
}
