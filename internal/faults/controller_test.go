package faults_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/faults"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// configTemplate is the controller configuration of the tests; env.write
// fills the upper-case placeholders.
const configTemplate = `logLevel: DEBUG
logProfile: production
metadataPath: METADATA
watchReconnectTimeout: WATCH
lab:
  namespacePrefix: PREFIX
  pullSecret: pull-secret
  spawnTimeout: 2m
  deleteTimeout: 1m
  reconcileInterval: RECONCILE
  nodeSelector: NODESELECTOR
  sizes:
    - size: small
      resources:
        limits: {cpu: 1.0, memory: 3Gi}
        requests: {cpu: 0.25, memory: 0.75Gi}
  volumes:
    - name: home
      source: {type: nfs, server: nfs.example.org, serverPath: /home}
  volumeMounts:
    - containerPath: /home
      volumeName: home
images:
  source: {type: docker, registry: REGISTRY, repository: REPOSITORY}
  dockerCredentialsPath: CREDENTIALS
  refreshInterval: REFRESH
fsadmin: {}
`

// envOptions change the configuration of an env; empty fields keep the
// defaults (watchReconnectTimeout 3m, reconcile every 5 s, image refresh
// every 5m, the stack's registry and Repertoire).
type envOptions struct {
	watch, reconcile, refresh string
	// registry and credentials replace the stack's registry host and
	// credentials file.
	registry, credentials string
	// repertoire replaces REPERTOIRE_BASE_URL.
	repertoire string
	// nodeSelector is lab.nodeSelector (a YAML flow map; default {}).
	nodeSelector string
	// fileservers enables file servers in this namespace (reconciled
	// every 5 s; their pods keep running on kwok's nodes) and sets
	// EXTERNAL_INSTANCE_URL to a DNS name, which their Ingress needs.
	fileservers string
	// fileserverCreation is fileserver.creationTimeout (default 1m).
	fileserverCreation string
}

// fileserverConfig is the file-server part of the configuration;
// NAMESPACE and CREATION are replaced.
const fileserverConfig = `fileserver:
  enabled: true
  namespace: NAMESPACE
  creationTimeout: CREATION
  deleteTimeout: 1m
  reconcileInterval: 5s
  extraAnnotations:
    testcluster.nublado.io/keep-running: "true"
  volumeMounts:
    - containerPath: /home
      volumeName: home
`

// env is what one test's controller runs with: a namespace prefix, a
// controller namespace seeded by the development stack, a fault proxy in
// front of the API server and a configuration file.
type env struct {
	t          *testing.T
	c          *testcluster.Cluster
	stack      *devstack.Stack
	proxy      *faults.Proxy
	prefix, ns string
	meta       string
	config     string
	kubeconfig string
	repertoire string
	// extraEnv is added to the controller's environment.
	extraEnv []string
}

var envCount atomic.Int32

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	n := envCount.Add(1)
	e := &env{t: t, c: testcluster.Shared(t), stack: sharedStack(t),
		prefix: fmt.Sprintf("ft%02d", n), ns: fmt.Sprintf("faults-%02d", n)}
	dir := t.TempDir()
	e.meta = filepath.Join(dir, "podinfo")
	// The new namespace may lack its default ServiceAccount for a while
	// (the controller manager may still be catching up after an API
	// server restart of an earlier test): then create it and seed again.
	deadline := time.Now().Add(time.Minute)
	for {
		err := e.stack.Seed(background, e.c.Client(), devstack.SeedOptions{
			Namespace: e.ns, MetadataDir: e.meta, PullSecret: "pull-secret"})
		if err == nil {
			break
		}
		require.True(t, strings.Contains(err.Error(), "serviceaccount") && time.Now().Before(deadline), "seeding: %v", err)
		// Do the controller manager's work rather than wait for it.
		_, err = e.c.Client().CoreV1().ServiceAccounts(e.ns).Create(background,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		require.True(t, err == nil || apierrors.IsAlreadyExists(err), "creating the default ServiceAccount: %v", err)
	}
	var err error
	e.proxy, err = faults.NewProxy(e.c.Config())
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.proxy.Close() })
	e.kubeconfig = filepath.Join(dir, "kubeconfig")
	require.NoError(t, e.proxy.WriteKubeconfig(e.kubeconfig))
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	e.repertoire = def(o.repertoire, e.stack.RepertoireURL())
	cfg := strings.NewReplacer("METADATA", e.meta, "PREFIX", e.prefix,
		"WATCH", def(o.watch, "3m"), "RECONCILE", def(o.reconcile, "5s"), "REFRESH", def(o.refresh, "5m"),
		"REGISTRY", def(o.registry, e.stack.RegistryHost), "REPOSITORY", e.stack.Repository,
		"CREDENTIALS", def(o.credentials, e.stack.CredentialsFile),
		"NODESELECTOR", def(o.nodeSelector, "{}")).Replace(configTemplate)
	if o.fileservers != "" {
		cfg += strings.NewReplacer("NAMESPACE", o.fileservers, "CREATION", def(o.fileserverCreation, "1m")).
			Replace(fileserverConfig)
		e.extraEnv = append(e.extraEnv, "EXTERNAL_INSTANCE_URL=http://localhost:8080")
	}
	e.config = filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(e.config, []byte(cfg), 0o600))
	t.Cleanup(func() { cleanupLabs(e.c, e.prefix) })
	return e
}

// labNamespace is the namespace of a user's lab.
func (e *env) labNamespace(user string) string { return e.prefix + "-" + user }

// controller is a running `nublado serve`.
type controller struct {
	t    *testing.T
	e    *env
	cmd  *exec.Cmd
	base string
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, valid once done is closed

	mu    sync.Mutex
	lines []string
}

// start runs the controller and waits until it serves.
func (e *env) start() *controller {
	e.t.Helper()
	cmd := exec.Command(binary, "serve", "--config", e.config, "--kubeconfig", e.kubeconfig, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+e.stack.CAFile, "REPERTOIRE_BASE_URL="+e.repertoire,
		"NUBLADO_CONTROLLER_REPOSITORY=ghcr.io/lsst-sqre/nublado", "NUBLADO_CONTROLLER_TAG=test")
	cmd.Env = append(cmd.Env, e.extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	require.NoError(e.t, err)
	require.NoError(e.t, cmd.Start())
	c := &controller{t: e.t, e: e, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.lines = append(c.lines, line)
			c.mu.Unlock()
			var entry struct {
				Event   string `json:"event"`
				Address string `json:"address"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Event == "Serving the spawner API" {
				addr <- entry.Address
			}
		}
	}()
	go func() {
		<-scanned
		c.err = cmd.Wait()
		close(c.done)
	}()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
		if e.t.Failed() {
			e.t.Logf("controller log (last 400 lines):\n%s", c.tail(400))
		}
	})
	begin := time.Now()
	select {
	case a := <-addr:
		c.base = "http://" + a
		if d := time.Since(begin); d > 10*time.Second {
			e.t.Logf("the controller took %s to start", d.Round(time.Millisecond))
		}
	case <-c.done:
		e.t.Fatalf("nublado serve exited early (%v):\n%s", c.err, c.tail(40))
	case <-time.After(2 * time.Minute):
		e.t.Fatalf("nublado serve did not start:\n%s", c.tail(40))
	}
	return c
}

// kill ends the controller with SIGKILL and waits for it.
func (c *controller) kill() {
	c.t.Helper()
	require.NoError(c.t, c.cmd.Process.Signal(syscall.SIGKILL))
	<-c.done
}

// alive fails the test if the controller has exited.
func (c *controller) alive() {
	c.t.Helper()
	select {
	case <-c.done:
		c.t.Fatalf("the controller exited (%v):\n%s", c.err, c.tail(40))
	default:
	}
}

// tail returns the last n log lines.
func (c *controller) tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines[max(len(c.lines)-n, 0):], "\n")
}

// logEntry is one JSON log line of the controller.
type logEntry map[string]any

// logged returns the log entries whose event is msg.
func (c *controller) logged(msg string) []logEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logEntry
	for _, l := range c.lines {
		var e logEntry
		if json.Unmarshal([]byte(l), &e) == nil && e["event"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// waitLogged waits until the controller has logged msg n times.
func (c *controller) waitLogged(msg string, n int, timeout time.Duration) []logEntry {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if got := c.logged(msg); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the controller did not log %q %d times in %s:\n%s", msg, n, timeout, c.tail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api is the spawner API's base path.
const api = "/nublado/spawner/v1"

func userHeaders(user string) http.Header {
	return http.Header{"X-Auth-Request-User": {user}, "X-Auth-Request-Token": {user}}
}

// do sends a request and returns the status and body.
func (c *controller) do(method, path string, header http.Header, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err, "%s %s", method, path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(data)
}

// create asks for a lab and requires 201.
func (c *controller) create(user string) {
	c.t.Helper()
	spec := fmt.Sprintf(`{"options": {"image_class": "recommended", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/%s/"}}`, user)
	code, body := c.do(http.MethodPost, api+"/labs/"+user+"/create", userHeaders(user), spec)
	require.Equal(c.t, http.StatusCreated, code, "create %s: %s", user, body)
}

// status returns the status of a user's lab, "" when there is none.
func (c *controller) status(user string) string {
	c.t.Helper()
	code, body := c.do(http.MethodGet, api+"/labs/"+user, nil, "")
	if code == http.StatusNotFound {
		return ""
	}
	require.Equal(c.t, http.StatusOK, code, "GET lab of %s: %s", user, body)
	var s struct {
		Status string `json:"status"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(body), &s))
	return s.Status
}

// waitStatus waits until the user's lab has status want ("" for none) and
// returns how long it took.
func (c *controller) waitStatus(user, want string, timeout time.Duration) time.Duration {
	c.t.Helper()
	begin := time.Now()
	for {
		got := c.status(user)
		if got == want {
			return time.Since(begin)
		}
		if time.Since(begin) > timeout {
			c.t.Fatalf("status of %s is %q, not %q, after %s:\n%s", user, got, want, timeout, c.tail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deleteLab deletes a user's lab and returns the HTTP status.
func (c *controller) deleteLab(user string) (int, string) {
	c.t.Helper()
	return c.do(http.MethodDelete, api+"/labs/"+user, nil, "")
}

// event is one server-sent event.
type event struct{ Type, Data string }

// events reads the events of the user's current operation until the
// stream ends (at most timeout).
func (c *controller) events(user string, timeout time.Duration) []event {
	c.t.Helper()
	return c.eventsUntil(user, timeout, nil)
}

// eventsUntil reads events until the stream ends or stop returns true for
// an event (which is then the last one returned).
func (c *controller) eventsUntil(user string, timeout time.Duration, stop func(event) bool) []event {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+api+"/labs/"+user+"/events", nil)
	require.NoError(c.t, err)
	req.Header.Set("X-Auth-Request-User", user)
	client := &http.Client{Timeout: timeout}
	resp, err := client.Do(req)
	require.NoError(c.t, err, "events of %s", user)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	var out []event
	var ev event
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && ev.Type != "":
			out = append(out, ev)
			if stop != nil && stop(ev) {
				return out
			}
			ev = event{}
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = strings.TrimPrefix(line, "data: ")
		}
	}
	require.NoError(c.t, sc.Err(), "reading the events of %s (so far %v)", user, out)
	return out
}

// last returns the type of the last event ("" for none).
func last(evs []event) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].Type
}

// metrics returns the controller's Prometheus metrics.
func (c *controller) metrics() string {
	c.t.Helper()
	code, body := c.do(http.MethodGet, "/metrics", nil, "")
	require.Equal(c.t, http.StatusOK, code)
	return body
}
