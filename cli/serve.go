package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientmetrics "k8s.io/client-go/tools/metrics"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/gafaelfawr"
	"github.com/nublado-go/nublado/server/labs"
	"github.com/nublado-go/nublado/server/metrics"
	"github.com/nublado-go/nublado/server/prepuller"
)

// ShutdownTimeout bounds how long serve waits at shutdown for requests
// to finish once every lab operation was cancelled; open event streams are
// then ended.
const ShutdownTimeout = 10 * time.Second

// serveDeps are what serve takes from the process; tests replace them.
type serveDeps struct {
	// lookupEnv reads the environment (os.LookupEnv).
	lookupEnv func(string) (string, bool)
	// docker are extra options of the Docker registry client.
	docker []images.DockerOption
	// ready, when set, is called with the listen address once the
	// controller serves.
	ready func(addr string)
}

// serveFlags are the options of nublado serve.
type serveFlags struct {
	config, kubeconfig, listen string
}

// NewCmdServe runs the lab controller.
func NewCmdServe(log *logrus.Logger) *cobra.Command {
	return newCmdServe(log, serveDeps{lookupEnv: os.LookupEnv})
}

func newCmdServe(log *logrus.Logger, deps serveDeps) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the lab controller (the spawner REST API)",
		Long: `Run the lab controller: the REST API that JupyterHub's spawner calls to
create, watch and delete user labs.

At start it loads the configuration (a bad one is fatal), reads the pod
metadata files (name, namespace, uid) under metadataPath, connects to
Kubernetes (the in-cluster configuration, or --kubeconfig), reads the Docker
credentials file, and then, in parallel, refreshes the image data and rebuilds
the lab state from the cluster; any failure aborts. It then serves until
SIGTERM or SIGINT, when every running lab operation is cancelled and open
event streams end.

Environment: EXTERNAL_INSTANCE_URL, REPERTOIRE_BASE_URL (service discovery,
to find Gafaelfawr), NUBLADO_CONTROLLER_REPOSITORY, NUBLADO_CONTROLLER_TAG,
NUBLADO_CONTROLLER_PULL_POLICY, and SSL_CERT_FILE for registries with a
private CA.`,
		Example: `  nublado serve --config /etc/nublado/config.yaml
  nublado serve --config deploy/examples/local.yaml --kubeconfig .cache/cluster/kubeconfig --listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), log, cmd.ErrOrStderr(), f, deps)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", schema.DefaultPath, "configuration file")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: the in-cluster configuration)")
	fs.StringVar(&f.listen, "listen", ":8080", "listen address")
	return cmd
}

// serve runs the controller until ctx ends.
func serve(ctx context.Context, log *logrus.Logger, stderr io.Writer, f serveFlags, deps serveDeps) error {
	cfg, err := schema.Load(f.config, schema.WithLookupEnv(deps.lookupEnv))
	if err != nil {
		return fmt.Errorf("loading %s: %w", f.config, err)
	}
	if err := configureLogger(log, stderr, cfg.LogProfile, cfg.LogLevel); err != nil {
		return err
	}
	routeKlogOnce(log)
	entry := logrus.NewEntry(log)
	for _, w := range cfg.Warnings() {
		entry.WithField("field", w.Path).Warn(w.Message)
	}
	env, warns := schema.ReadEnvironment(deps.lookupEnv)
	for _, w := range warns {
		entry.Warn(w.Message)
	}
	c, err := newController(ctx, cfg, env, f, deps, entry)
	if err != nil {
		return err
	}
	defer c.close()
	lis, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	defer lis.Close()
	if err := c.start(ctx); err != nil {
		return err
	}
	return c.serve(ctx, lis)
}

var klogOnce sync.Once

// routeKlogOnce sends client-go's logs to the first serve's logger (klog
// cannot be re-pointed safely while clients log).
func routeKlogOnce(log *logrus.Logger) { klogOnce.Do(func() { routeKlog(log) }) }

// clientLatency receives client-go's request latencies (client-go takes
// its metrics once per process) and hands them to the metrics of the
// controller that serves.
var (
	clientLatency     latencyForwarder
	clientLatencyOnce sync.Once
)

type latencyForwarder struct {
	m atomic.Pointer[metrics.Metrics]
}

// Observe implements client-go's metrics.LatencyMetric.
func (f *latencyForwarder) Observe(ctx context.Context, verb string, u url.URL, latency time.Duration) {
	f.m.Load().Observe(ctx, verb, u, latency) // a nil *Metrics records nothing
}

// recordClientLatency sends client-go's request latencies to m.
func recordClientLatency(m *metrics.Metrics) {
	clientLatencyOnce.Do(func() {
		clientmetrics.Register(clientmetrics.RegisterOpts{RequestLatency: &clientLatency})
	})
	clientLatency.m.Store(m)
}

// controller is the wired controller: the image service, the lab manager
// and the HTTP handler.
type controller struct {
	cfg     *schema.Config
	log     *logrus.Entry
	images  *prepuller.Service
	labs    *labs.Manager
	handler http.Handler
	ready   func(string)
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
	recordClientLatency(m)

	src, closer, err := prepuller.NewSource(ctx, cfg.Images, prepuller.SourceOptions{Docker: deps.docker})
	if err != nil {
		return nil, fmt.Errorf("building the image source: %w", err)
	}
	c := &controller{cfg: cfg, log: log, ready: deps.ready, closer: closer}
	if err := c.build(restCfg, src, meta, env, m, reg); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// build wires the image service, the lab manager and the HTTP handler.
func (c *controller) build(restCfg *rest.Config, src images.Source, meta podMetadata,
	env schema.Environment, m *metrics.Metrics, reg *prometheus.Registry) error {
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = apply.DefaultQPS, apply.DefaultBurst
	kube, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating dynamic client: %w", err)
	}
	applier, err := apply.NewForConfig(restCfg, apply.WithWatchTimeout(c.cfg.WatchReconnectTimeout))
	if err != nil {
		return err
	}
	renderer, err := engine.New(nublado.CUE, engine.Config(c.cfg))
	if err != nil {
		return fmt.Errorf("loading the templates: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	nodes := prepuller.NewNodeWatcher(kube, c.cfg.Lab.NodeSelector, c.cfg.WatchReconnectTimeout)
	nodes.Start(bg)
	c.images = prepuller.New(c.cfg, src, nodes, c.log.WithField(labs.FieldController, "images"))

	gaf := gafaelfawr.New(env.RepertoireBaseURL)
	opts := []labs.Option{labs.WithEnvironment(env), labs.WithMetrics(m)}
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
	if c.cfg.Fileserver.Enabled {
		c.log.Warn("File servers are enabled but this controller does not serve them yet: their routes answer 404")
	}
	c.handler = server.New(c.cfg, c.labs, gaf, c.log.WithField(labs.FieldController, "http"),
		server.WithImages(c.images), server.WithGatherer(reg), server.WithVersion(Version))
	return nil
}

// start runs the start-up work of §0 in parallel: the image refresh and
// the lab manager's start (informers and the first reconcile). The first
// failure cancels the other and aborts.
func (c *controller) start(ctx context.Context) error {
	begin := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
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
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("starting the controller: %w", err)
	}
	c.log.WithField("duration_ms", time.Since(begin).Milliseconds()).Info("Controller state populated")
	return nil
}

// serve starts the background tasks and serves on lis until ctx ends,
// then shuts down: the listener closes, every lab operation is cancelled
// (its stream ends with failed "Operation cancelled"), the handlers get
// ShutdownTimeout to finish and the streams still open are then ended.
func (c *controller) serve(ctx context.Context, lis net.Listener) error {
	go c.images.Run(ctx)
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
		c.labs.Stop()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	c.log.Info("Shutting down")
	shut := make(chan error, 1)
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	go func() { shut <- srv.Shutdown(sctx) }()
	c.labs.Stop()
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

// close stops the lab manager (if serve did not) and the background
// tasks, and closes the registry client.
func (c *controller) close() {
	if c.labs != nil {
		c.labs.Stop()
	}
	if c.stop != nil {
		c.stop()
	}
	if err := c.closer.Close(); err != nil {
		c.log.WithError(err).Warn("Closing the image source")
	}
}

// podMetadata is the controller pod's identity (the downward-API files).
type podMetadata struct {
	name, namespace, uid string
}

// readPodMetadata reads the files name, namespace and uid of dir,
// whitespace-stripped; each must exist and be non-empty.
func readPodMetadata(dir string) (podMetadata, error) {
	var m podMetadata
	for file, dst := range map[string]*string{"name": &m.name, "namespace": &m.namespace, "uid": &m.uid} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return m, fmt.Errorf("reading pod metadata: %w", err)
		}
		if *dst = strings.TrimSpace(string(data)); *dst == "" {
			return m, fmt.Errorf("reading pod metadata: %s is empty", filepath.Join(dir, file))
		}
	}
	return m, nil
}

// kubeConfig returns the in-cluster configuration, or that of a
// kubeconfig file.
func kubeConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster Kubernetes configuration (use --kubeconfig outside a cluster): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}
