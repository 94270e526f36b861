package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	slackalert "github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/fileservers"
	"github.com/nublado-go/nublado/server/fsadmin"
	"github.com/nublado-go/nublado/server/gafaelfawr"
	"github.com/nublado-go/nublado/server/labs"
	"github.com/nublado-go/nublado/server/metrics"
	"github.com/nublado-go/nublado/server/prepuller"
)

// Defaults of the client-side rate limit of serve's Kubernetes clients
// (--qps, --burst). Each client (the dynamic client of the informers and
// reads, the applier's, the node watcher's) has a limiter of its own.
// A spawn makes about 13 requests (watches included), so apply's 50/100
// throttled a burst of 200 spawns on the local control plane by 9.7 s per
// spawn (p95 38.7 s); with 500/1000 no request waits and the API server's
// own priority and fairness is what protects it.
const (
	DefaultServeQPS   = 500
	DefaultServeBurst = 1000
)

// controller is the wired controller: the image service, the lab manager,
// the file-server manager (when file servers are enabled), the fsadmin
// manager and the HTTP handler.
type controller struct {
	cfg         *schema.Config
	log         *logrus.Entry
	images      *prepuller.Service
	puller      *prepuller.Puller
	labs        *labs.Manager
	fileServers *fileservers.Manager // nil when file servers are disabled
	handler     http.Handler
	reporter    *slackalert.Reporter // Slack alerts; reports nothing without a webhook
	ready       func(string)
	// patches is the --patches file ("" for none).
	patches string
	// stop ends the background tasks (node informer, image refresh loop).
	stop   context.CancelFunc
	closer io.Closer
}

// newController builds every part; nothing talks to Kubernetes or the
// registry yet except the credentials file, which is read here.
func newController(ctx context.Context, cfg *schema.Config, env schema.Environment, f serveFlags,
	deps serveDeps, log *logrus.Entry) (*controller, error) {
	meta, err := readPodMetadata(cfg.MetadataPath)
	if err != nil {
		return nil, err
	}
	restCfg, err := kubeConfig(f.kubeconfig)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	recordClientMetrics(m)

	src, closer, err := prepuller.NewSource(ctx, cfg.Images, prepuller.SourceOptions{Docker: deps.docker})
	if err != nil {
		return nil, fmt.Errorf("building the image source: %w", err)
	}
	c := &controller{cfg: cfg, log: log, ready: deps.ready, closer: closer, patches: f.patches,
		reporter: slackalert.New(cfg.Name, cfg.SlackWebhook, log.WithField(labs.FieldController, "slack"))}
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = f.qps, f.burst
	if err := c.build(restCfg, src, meta, env, m, reg); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// build wires the image service, the lab manager and the HTTP handler.
// Each Kubernetes client gets the rate limit of restCfg.
func (c *controller) build(restCfg *rest.Config, src images.Source, meta podMetadata,
	env schema.Environment, m *metrics.Metrics, reg *prometheus.Registry) error {
	kube, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating dynamic client: %w", err)
	}
	applier, err := apply.NewForConfig(restCfg, apply.WithWatchTimeout(c.cfg.WatchReconnectTimeout),
		apply.WithClientRate(restCfg.QPS, restCfg.Burst))
	if err != nil {
		return err
	}
	patches, err := patchesOptions(c.patches)
	if err != nil {
		return err
	}
	renderer, err := engine.New(nublado.CUE, append(patches, engine.Config(c.cfg))...)
	if err != nil {
		return fmt.Errorf("loading the templates: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	nodes := prepuller.NewNodeWatcher(kube, c.cfg.Lab.NodeSelector, c.cfg.WatchReconnectTimeout)
	nodes.Start(bg)
	pm := prepuller.NewMetrics(reg)
	c.images = prepuller.New(c.cfg, src, nodes, c.log.WithField(labs.FieldController, "images"),
		prepuller.WithMetrics(pm), prepuller.WithReporter(c.reporter))
	c.puller, err = prepuller.NewPuller(c.cfg, c.images, nodes, prepuller.Cluster{
		Dynamic: dyn, Applier: applier, Namespace: meta.namespace, OwnerName: meta.name, OwnerUID: meta.uid,
	}, renderer, c.log.WithField(labs.FieldController, "prepuller"),
		prepuller.WithPullerMetrics(pm), prepuller.WithPullerReporter(c.reporter))
	if err != nil {
		return err
	}

	gaf := gafaelfawr.New(env.RepertoireBaseURL)
	opts := []labs.Option{labs.WithEnvironment(env), labs.WithMetrics(m), labs.WithReporter(c.reporter)}
	if env.RepertoireBaseURL == "" {
		c.log.Warn("REPERTOIRE_BASE_URL not set: authenticated routes will fail")
	} else {
		opts = append(opts, labs.WithDiscovery(gaf))
	}
	c.labs, err = labs.New(c.cfg, labs.Cluster{Dynamic: dyn, Applier: applier, Namespace: meta.namespace},
		renderer, c.images, c.log, opts...)
	if err != nil {
		return err
	}
	fsa, err := fsadmin.New(c.cfg, fsadmin.Cluster{Dynamic: dyn, Applier: applier, Namespace: meta.namespace},
		renderer, c.log, fsadmin.WithEnvironment(env))
	if err != nil {
		return err
	}
	serverOpts := []server.Option{server.WithImages(c.images), server.WithGatherer(reg),
		server.WithVersion(Version), server.WithFSAdmin(fsa), server.WithReporter(c.reporter)}
	if c.cfg.Fileserver.Enabled {
		c.fileServers, err = fileservers.New(c.cfg, fileservers.Cluster{Dynamic: dyn, Applier: applier},
			renderer, c.log, fileservers.WithEnvironment(env), fileservers.WithMetrics(m),
			fileservers.WithReporter(c.reporter))
		if err != nil {
			return err
		}
		serverOpts = append(serverOpts, server.WithFileServers(c.fileServers))
	}
	c.handler = server.New(c.cfg, c.labs, gaf, c.log.WithField(labs.FieldController, "http"), serverOpts...)
	return nil
}

// start runs the start-up work of §0 in parallel: the image refresh, the
// lab manager's start and, when file servers are enabled, the file-server
// manager's start (informers and the first reconcile of each). The first
// failure cancels the others and aborts.
func (c *controller) start(ctx context.Context) error {
	begin := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	run := func(i int, what string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", what, err)
				cancel(errs[i])
			}
		})
	}
	run(0, "refreshing images", c.images.Refresh)
	run(1, "starting the lab manager", c.labs.Start)
	if c.fileServers != nil {
		run(2, "starting the file-server manager", c.fileServers.Start)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("starting the controller: %w", err)
	}
	c.log.WithField("duration_ms", time.Since(begin).Milliseconds()).Info("Controller state populated")
	return nil
}

// serve starts the background tasks (the image refresh loop and the
// prepuller, whose first round follows the startup refresh) and serves on
// lis until ctx ends,
// then shuts down: the listener closes, every lab operation is cancelled
// (its stream ends with failed "Operation cancelled"), the handlers get
// ShutdownTimeout to finish and the streams still open are then ended.
func (c *controller) serve(ctx context.Context, lis net.Listener) error {
	loopCtx, stopLoop := context.WithCancel(ctx)
	var loops sync.WaitGroup
	loops.Go(func() { c.images.Run(loopCtx) })
	loops.Go(func() { c.puller.Run(loopCtx) })
	defer func() {
		stopLoop()
		loops.Wait()
	}()
	base, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	srv := server.NewHTTPServer(base, lis.Addr().String(), c.handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	c.log.WithField("address", lis.Addr().String()).Info("Serving the spawner API")
	if c.ready != nil {
		c.ready(lis.Addr().String())
	}
	select {
	case err := <-served:
		c.stopManagers()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	c.log.Info("Shutting down")
	shut := make(chan error, 1)
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	go func() { shut <- srv.Shutdown(sctx) }()
	c.stopManagers()
	err := <-shut
	if err != nil {
		endStreams()
		err = srv.Close()
	}
	if errors.Is(<-served, http.ErrServerClosed) {
		c.log.Info("Shut down")
	}
	return err
}

// stopManagers stops the lab and file-server managers, cancelling their
// operations in progress.
func (c *controller) stopManagers() {
	if c.labs != nil {
		c.labs.Stop()
	}
	if c.fileServers != nil {
		c.fileServers.Stop()
	}
}

// alertFlushTimeout bounds the wait for queued Slack alerts at shutdown.
const alertFlushTimeout = 5 * time.Second

// close stops the managers (if serve did not) and the background tasks,
// and closes the registry client.
func (c *controller) close() {
	c.stopManagers()
	if c.stop != nil {
		c.stop()
	}
	if err := c.closer.Close(); err != nil {
		c.log.WithError(err).Warn("Closing the image source")
	}
	ctx, cancel := context.WithTimeout(context.Background(), alertFlushTimeout)
	defer cancel()
	if err := c.reporter.Close(ctx); err != nil {
		c.log.WithError(err).Warn("Slack alerts left unsent at shutdown")
	}
}
