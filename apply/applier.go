package apply

import (
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager nublado applies as.
const FieldManager = "nublado"

// Defaults of the options.
const (
	DefaultQPS          = 50              // client requests per second (client-go's default is 5)
	DefaultBurst        = 100             // client request burst (client-go's default is 10)
	DefaultWorkers      = 8               // objects applied at once within a stage
	DefaultWatchTimeout = 3 * time.Minute // longest single watch request
)

// Applier applies, diffs, deletes and waits for object sets. It is safe for
// concurrent use; create one per cluster and share it.
type Applier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	o      options
	// noWatchList is set once the API server has refused a watch with
	// sendInitialEvents (the WatchList feature); watches then list first.
	noWatchList atomic.Bool
}

type options struct {
	fieldManager   string
	workers        int
	watchTimeout   time.Duration
	backoffInitial time.Duration
	backoffMax     time.Duration
	qps            float32
	burst          int
}

// Option configures an Applier.
type Option func(*options)

// WithFieldManager sets the field manager name. Default: [FieldManager].
func WithFieldManager(name string) Option {
	return func(o *options) { o.fieldManager = name }
}

// WithWorkers sets how many objects of one stage are applied (or deleted)
// at the same time. Default: [DefaultWorkers]. Values below 1 mean 1.
func WithWorkers(n int) Option {
	return func(o *options) { o.workers = max(n, 1) }
}

// WithWatchTimeout sets the longest a single watch request may last (the
// server's timeoutSeconds, rounded up to whole seconds); watches that
// expire are restarted from where they were. Default:
// [DefaultWatchTimeout], the configuration's watchReconnectTimeout.
func WithWatchTimeout(d time.Duration) Option {
	return func(o *options) { o.watchTimeout = max(d, time.Second) }
}

// WithRetryBackoff sets the first and the longest wait between attempts
// of a request that failed transiently. Default: 100ms and 5s.
func WithRetryBackoff(initial, maximum time.Duration) Option {
	return func(o *options) {
		o.backoffInitial = max(initial, time.Millisecond)
		o.backoffMax = max(maximum, o.backoffInitial)
	}
}

// WithClientRate sets the client-side rate limit that [NewForConfig]
// configures. Default: [DefaultQPS] and [DefaultBurst]; client-go's own
// default of 5/10 would throttle a burst of spawns to minutes. New ignores
// it: the dynamic client passed there carries its own limit.
func WithClientRate(qps float32, burst int) Option {
	return func(o *options) { o.qps, o.burst = qps, burst }
}

func buildOptions(opts []Option) options {
	o := options{
		fieldManager:   FieldManager,
		workers:        DefaultWorkers,
		watchTimeout:   DefaultWatchTimeout,
		backoffInitial: 100 * time.Millisecond,
		backoffMax:     5 * time.Second,
		qps:            DefaultQPS,
		burst:          DefaultBurst,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// New returns an Applier that talks to the cluster through dyn and maps
// kinds to resources with mapper. When the mapper does not know a kind and
// implements meta.ResettableRESTMapper (as a discovery-backed
// restmapper.DeferredDiscoveryRESTMapper does), it is reset and asked once
// more, so kinds of CRDs installed later are found.
func New(dyn dynamic.Interface, mapper meta.RESTMapper, opts ...Option) *Applier {
	return &Applier{dyn: dyn, mapper: mapper, o: buildOptions(opts)}
}

// NewForConfig returns an Applier for the cluster of cfg: a dynamic client
// with the rate limit of [WithClientRate] (cfg itself is not modified) and
// a RESTMapper over in-memory cached discovery.
func NewForConfig(cfg *rest.Config, opts ...Option) (*Applier, error) {
	o := buildOptions(opts)
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = o.qps, o.burst
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return &Applier{dyn: dyn, mapper: mapper, o: o}, nil
}
