package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientmetrics "k8s.io/client-go/tools/metrics"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/metrics"
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
	config, kubeconfig, listen, patches string
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
event streams end. In the background it refreshes the image data every
images.refreshInterval and, after each refresh, prepulls onto every eligible
node the images of the prepull set that the node lacks.

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
	addPatchesFlag(fs, &f.patches)
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
	entry.WithFields(logrus.Fields{"version": Version, "config": f.config}).Info("Starting the controller")
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
