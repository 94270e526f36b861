package testcluster

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

//go:embed stages.yaml
var stages []byte

// Binaries are the executables Start needs in Options.BinDir; build them with
// `make cluster-bins`.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// ErrBinariesMissing is returned (wrapped) by Start when a binary of
// [Binaries] is not in the binary directory.
var ErrBinariesMissing = errors.New("control-plane binaries missing: run `make cluster-bins`")

// Options configures Start. The zero value is ready to use.
type Options struct {
	// BinDir holds the binaries listed in [Binaries]. Default: [FindBinDir].
	BinDir string
	// Dir holds the state (etcd data, certificates, kubeconfig, logs). It
	// is created if needed and kept by Stop; Start discards etcd data that
	// an earlier control plane left there and appends to its logs. Default:
	// a new temporary directory that Stop removes.
	Dir string
	// Nodes are fake kwok nodes added before Start returns. Default: none;
	// [DefaultNodes] gives the three nodes `make cluster` and [Main] use.
	Nodes []Node
	// CRDDir is a directory whose *.yaml files are applied after start
	// (every object must be a CustomResourceDefinition; Start waits until
	// each is established). Default: the repository's deploy/crds when it
	// exists. Set it to "-" to install nothing.
	CRDDir string
	// Audit makes the API server log every request of a service account
	// (at audit level Metadata) into Dir/audit.log; read them with
	// [Cluster.AuditEvents]. Default: no audit log.
	Audit bool
}

// Cluster is a running local control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, all on 127.0.0.1.
//
// Its methods are safe for concurrent use, except that Stop and
// RestartAPIServer must not run concurrently with each other.
type Cluster struct {
	dir        string
	removeDir  bool
	kubeconfig string
	host       string
	config     *rest.Config
	client     kubernetes.Interface
	started    time.Duration
	audit      bool

	mu                sync.Mutex // guards the process fields
	etcd, apiserver   *process
	controllerManager *process
	scheduler, kwok   *process
}

// Start starts a control plane and returns once the API server is ready, the
// default ServiceAccount of namespace "default" exists (so the controller
// manager works), the nodes of opts.Nodes are Ready and the CRDs are
// established. On error nothing is left running. When a free port is taken
// by another process in the meantime, Start retries with new ports.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.BinDir == "" {
		dir, err := FindBinDir()
		if err != nil {
			return nil, err
		}
		opts.BinDir = dir
	}
	if err := checkBinaries(opts.BinDir); err != nil {
		return nil, err
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var c *Cluster
		c, err = start(ctx, opts)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
	return nil, err
}

// errPortInUse marks a start that failed because a port was taken between
// picking it and binding it.
var errPortInUse = errors.New("port already in use")

func start(ctx context.Context, opts Options) (c *Cluster, err error) {
	begin := time.Now()
	c = &Cluster{dir: opts.Dir, audit: opts.Audit}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "testcluster-"); err != nil {
			return nil, fmt.Errorf("creating state directory: %w", err)
		}
		c.removeDir = true
	}
	defer func() {
		if err != nil {
			err = c.annotateStartError(err)
			_ = c.Stop()
		}
	}()
	if err := c.launch(ctx, opts.BinDir); err != nil {
		return nil, err
	}
	// Create every node first: kwok then initialises them concurrently.
	for _, n := range opts.Nodes {
		if err := c.createNode(ctx, n); err != nil {
			return nil, err
		}
	}
	for _, n := range opts.Nodes {
		if _, err := c.waitNodeUsable(ctx, n.Name); err != nil {
			return nil, err
		}
	}
	crdDir, err := resolveCRDDir(opts.CRDDir)
	if err != nil {
		return nil, err
	}
	if crdDir != "" {
		if err := c.InstallCRDs(ctx, crdDir); err != nil {
			return nil, err
		}
	}
	c.started = time.Since(begin)
	return c, nil
}

// launch writes the credentials and configuration and starts the components.
func (c *Cluster) launch(ctx context.Context, binDir string) error {
	logDir := filepath.Join(c.dir, "logs")
	if err := os.RemoveAll(filepath.Join(c.dir, "etcd")); err != nil {
		return fmt.Errorf("removing old etcd data: %w", err)
	}
	for _, d := range []string{logDir, filepath.Join(c.dir, "etcd")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	p, err := writePKI(filepath.Join(c.dir, "pki"))
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	c.host = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := p.writeKubeconfig(c.kubeconfig, c.host); err != nil {
		return err
	}
	stagesPath := filepath.Join(c.dir, "kwok.yaml")
	if err := os.WriteFile(stagesPath, stages, 0o600); err != nil {
		return fmt.Errorf("writing kwok configuration: %w", err)
	}
	c.etcd = newProcess(binDir, logDir, "etcd", etcdArgs(c.dir, etcdURL, ports[1])...)
	apiArgs := apiserverArgs(p, etcdURL, ports[2])
	if c.audit {
		audit, err := auditArgs(c.dir)
		if err != nil {
			return err
		}
		apiArgs = append(apiArgs, audit...)
	}
	c.apiserver = newProcess(binDir, logDir, "kube-apiserver", apiArgs...)
	c.controllerManager = newProcess(binDir, logDir, "kube-controller-manager", controllerManagerArgs(p, c.kubeconfig)...)
	c.scheduler = newProcess(binDir, logDir, "kube-scheduler", schedulerArgs(c.kubeconfig)...)
	c.kwok = newProcess(binDir, logDir, "kwok", kwokArgs(c.kubeconfig, stagesPath)...)
	// kwok reads ~/.kwok/kwok.yaml when it exists: keep it out of the user's home.
	c.kwok.env = []string{"HOME=" + c.dir}

	if c.config, err = clientcmd.BuildConfigFromFlags("", c.kubeconfig); err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	c.config.QPS, c.config.Burst = 200, 400
	if c.client, err = kubernetes.NewForConfig(c.config); err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	if err := c.etcd.start(); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return err
	}
	for _, proc := range []*process{c.controllerManager, c.scheduler, c.kwok} {
		if err := proc.start(); err != nil {
			return err
		}
	}
	return c.waitDefaultServiceAccount(ctx)
}

// startAPIServer starts kube-apiserver and waits until /readyz answers ok.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	if err := c.apiserver.start(); err != nil {
		return err
	}
	return c.poll(ctx, "kube-apiserver to become ready", func(ctx context.Context) (bool, error) {
		body, err := c.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// waitDefaultServiceAccount waits for the ServiceAccount that
// kube-controller-manager creates in namespace "default".
func (c *Cluster) waitDefaultServiceAccount(ctx context.Context) error {
	return c.poll(ctx, "the default ServiceAccount (kube-controller-manager)", func(ctx context.Context) (bool, error) {
		_, err := c.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, nil
	})
}

// poll calls cond every 50 ms until it returns true or an error, a component
// exits, or ctx ends. Without a ctx deadline it gives up after a minute.
func (c *Cluster) poll(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := c.checkRunning(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		ok, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// checkRunning returns an error naming the first started component that has
// exited.
func (c *Cluster) checkRunning() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.processes() {
		if p == nil || p.cmd == nil {
			continue
		}
		if gone, err := p.exited(); gone {
			return err
		}
	}
	return nil
}

func (c *Cluster) processes() []*process {
	return []*process{c.etcd, c.apiserver, c.controllerManager, c.scheduler, c.kwok}
}

// annotateStartError marks err with errPortInUse when a component's log says
// that it could not bind its port.
func (c *Cluster) annotateStartError(err error) error {
	for _, p := range c.processes() {
		if p == nil {
			continue
		}
		out, _ := p.tail(0, 50)
		if strings.Contains(out, "address already in use") {
			return fmt.Errorf("%w (%s): %w", errPortInUse, p.name, err)
		}
	}
	return err
}

// Stop stops every component (kwok first, etcd last) and removes the state
// directory when Start created it. It returns every error at once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var result *multierror.Error
	procs := c.processes()
	for i := len(procs) - 1; i >= 0; i-- {
		if procs[i] == nil {
			continue
		}
		if err := procs[i].stop(); err != nil {
			result = multierror.Append(result, err)
		}
	}
	if c.removeDir {
		if err := os.RemoveAll(c.dir); err != nil {
			result = multierror.Append(result, fmt.Errorf("removing state directory: %w", err))
		}
	}
	return result.ErrorOrNil()
}

// RestartAPIServer stops kube-apiserver and starts it again on the same port
// with the same etcd, returning when it is ready. Clients built from Config
// reconnect by themselves; watches see an error or a closed channel meanwhile.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	err := c.apiserver.stop()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := waitPortFree(ctx, c.host); err != nil {
		return err
	}
	c.mu.Lock()
	err = c.apiserver.start()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.poll(ctx, "kube-apiserver to become ready", func(ctx context.Context) (bool, error) {
		body, err := c.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// RestartControllers stops kube-controller-manager and kube-scheduler and
// starts them again, so that their informers list the current state at once.
// After an API server restart they reconnect by themselves, but on this
// single-host control plane their caches can stay stale for minutes
// (measured: the quota controller computed a new namespace's quota 1 s
// after the restart in most runs, 74 s and over 120 s in others, while
// node-lifecycle logged "read version is not as new as written version"),
// and a pod can only be created in a namespace whose quota status is
// computed. Tests that restart the API server and then need the cluster's
// controllers (a new lab after the restart) call this too.
func (c *Cluster) RestartControllers(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, proc := range []*process{c.controllerManager, c.scheduler} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := proc.stop(); err != nil {
			return err
		}
		if err := proc.start(); err != nil {
			return err
		}
	}
	return nil
}

// Config returns a new copy of the admin (system:masters) client
// configuration, with QPS 200 and Burst 400.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.config) }

// Client returns a typed clientset with the admin configuration.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// Kubeconfig returns the path of an admin kubeconfig file for the cluster.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// Host returns the API server URL, https://127.0.0.1:PORT.
func (c *Cluster) Host() string { return c.host }

// Dir returns the state directory.
func (c *Cluster) Dir() string { return c.dir }

// StartDuration returns how long Start took.
func (c *Cluster) StartDuration() time.Duration { return c.started }

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitPortFree waits until the host's port can be bound again.
func waitPortFree(ctx context.Context, host string) error {
	addr := strings.TrimPrefix(host, "https://")
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to be free: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
