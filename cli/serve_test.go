package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// serveConfig is a controller configuration for the serve tests; the
// placeholders are filled by fillServeConfig.
const serveConfig = `logLevel: DEBUG
logProfile: production
metadataPath: METADATA
lab:
  namespacePrefix: PREFIX
  pullSecret: pull-secret
  spawnTimeout: 1m
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
fsadmin: {}
`

func fillServeConfig(t *testing.T, r *strings.Replacer) string {
	t.Helper()
	return writeConfig(t, r.Replace(serveConfig))
}

// writeMetadata writes pod-metadata files into a new directory.
func writeMetadata(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

// runServe runs `nublado serve` in process and returns its exit code and
// standard error.
func runServe(t *testing.T, ctx context.Context, deps serveDeps, args ...string) (int, string) {
	t.Helper()
	var errb bytes.Buffer
	log := logrus.New()
	log.SetOutput(&errb)
	cmd := newCmdServe(log, deps)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(&errb)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	code := ExitOK
	if err := cmd.ExecuteContext(ctx); err != nil {
		code = exitCode(err, &errb)
	}
	return code, errb.String()
}

func noEnv(string) (string, bool) { return "", false }

// TestServeStartupErrors: what makes serve fail before it talks to
// Kubernetes, each with exit code 1 and the reason on standard error.
func TestServeStartupErrors(t *testing.T) {
	meta := writeMetadata(t, map[string]string{"name": "nublado-controller\n", "namespace": " nublado\n", "uid": "1234\n"})
	noUID := writeMetadata(t, map[string]string{"name": "nublado-controller", "namespace": "nublado", "uid": " \n"})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600))
	config := func(metadata, credentials string) string {
		return fillServeConfig(t, strings.NewReplacer("METADATA", metadata, "PREFIX", "userlabs",
			"REGISTRY", "localhost:1", "REPOSITORY", "r", "CREDENTIALS", credentials))
	}
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no config file", []string{"--config", missing}, "reading config"},
		{"invalid config", []string{"--config", writeConfig(t, "lab: {}\n")}, "lab.namespacePrefix"},
		{"no metadata files", []string{"--config", config(missing, missing), "--kubeconfig", kubeconfig},
			"reading pod metadata: open " + filepath.Join(missing, "")},
		{"empty metadata file", []string{"--config", config(noUID, missing), "--kubeconfig", kubeconfig},
			filepath.Join(noUID, "uid") + " is empty"},
		{"not in a cluster", []string{"--config", config(meta, missing)}, "in-cluster Kubernetes configuration"},
		{"no credentials file", []string{"--config", config(meta, missing), "--kubeconfig", kubeconfig},
			"reading Docker credentials: open " + missing},
		{"arguments", []string{"--config", config(meta, missing), "extra"}, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runServe(t, context.Background(), serveDeps{lookupEnv: noEnv}, tc.args...)
			assert.NotEqual(t, ExitOK, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// TestReadPodMetadata: the three files, whitespace-stripped.
func TestReadPodMetadata(t *testing.T) {
	dir := writeMetadata(t, map[string]string{"name": "nublado-controller\n", "namespace": " nublado\n", "uid": "12720beb\n"})
	m, err := readPodMetadata(dir)
	require.NoError(t, err)
	assert.Equal(t, podMetadata{name: "nublado-controller", namespace: "nublado", uid: "12720beb"}, m)
}

// stackEnv is the environment of a controller using a development stack.
func stackEnv(s *devstack.Stack) map[string]string {
	return map[string]string{
		"REPERTOIRE_BASE_URL":           s.RepertoireURL(),
		"NUBLADO_CONTROLLER_REPOSITORY": "ghcr.io/lsst-sqre/nublado",
		"NUBLADO_CONTROLLER_TAG":        "test",
	}
}

// trustCA returns a transport trusting the stack's CA, as a process whose
// SSL_CERT_FILE names the CA file does.
func trustCA(t *testing.T, s *devstack.Stack) *http.Transport {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr
}

// TestServeOnCluster runs the controller against a local control plane of
// its own and the development stack: in process (startup, the spawner
// API, graceful shutdown with an open event stream) and as the nublado
// binary that make run starts (SSL_CERT_FILE, SIGTERM).
func TestServeOnCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := testcluster.Start(ctx, testcluster.Options{Nodes: testcluster.DefaultNodes(2), CRDDir: "-"})
	require.NoError(t, err, "starting the local control plane")
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	stack, err := devstack.Start(devstack.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close(context.Background()) })
	meta := filepath.Join(t.TempDir(), "podinfo")
	require.NoError(t, stack.Seed(ctx, c.Client(), devstack.SeedOptions{MetadataDir: meta, PullSecret: "pull-secret"}))
	config := func(prefix string) string {
		return fillServeConfig(t, strings.NewReplacer("METADATA", meta, "PREFIX", prefix,
			"REGISTRY", stack.RegistryHost, "REPOSITORY", stack.Repository, "CREDENTIALS", stack.CredentialsFile))
	}
	t.Run("InProcess", func(t *testing.T) { testServeInProcess(t, c, stack, config("inproc")) })
	t.Run("FileServers", func(t *testing.T) { testServeFileServers(t, c, stack, config("files")) })
	t.Run("Binary", func(t *testing.T) { testServeBinary(t, stack, c.Kubeconfig(), config("binary")) })
}

func testServeInProcess(t *testing.T, c *testcluster.Cluster, stack *devstack.Stack, config string) {
	env := stackEnv(stack)
	slackHook := slacktest.NewReceiver(t)
	env["NUBLADO_SLACK_WEBHOOK"] = slackHook.URL()
	ready := make(chan string, 1)
	deps := serveDeps{
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		docker:    []images.DockerOption{images.WithTransport(trustCA(t, stack))},
		ready:     func(addr string) { ready <- addr },
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stderr := runServe(t, ctx, deps, "--config", config, "--kubeconfig", c.Kubeconfig(), "--listen", "127.0.0.1:0")
		done <- result{code, stderr}
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case r := <-done:
		t.Fatalf("serve exited early with %d: %s", r.code, r.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}
	api := &apiClient{t: t, base: base + "/nublado/spawner/v1"}

	body := api.expect(http.MethodGet, base+"/", nil, http.StatusOK)
	assert.Contains(t, body, `"name":"Nublado"`)
	body = api.expect(http.MethodGet, api.base+"/images", nil, http.StatusOK)
	assert.Contains(t, body, `"name":"Recommended (Weekly 2025_43)"`)
	assert.Contains(t, body, `"prepulled":true`, "the seeded node images count")
	body = api.expect(http.MethodGet, api.base+"/lab-form/rachel", userHeaders("rachel"), http.StatusOK)
	assert.Contains(t, body, stack.RegistryHost+"/"+stack.Repository+":recommended@"+stack.Digests["recommended"])

	checkFileServersDisabled(t, api, base)

	api.spawnAndDelete("rachel")
	metricsBody := api.expect(http.MethodGet, base+"/metrics", nil, http.StatusOK)
	assert.Contains(t, metricsBody, `nublado_kubernetes_request_duration_seconds_count{resource="namespaces",verb="DELETE"} 1`,
		"client-go request latencies are recorded")
	assert.Contains(t, metricsBody, `nublado_lab_spawns_total{outcome="success"} 1`)
	// The prepuller's first round followed the startup refresh: the node
	// without the seeded weekly gets it, and the prepull status shows it.
	require.Eventually(t, func() bool {
		return strings.Contains(api.expect(http.MethodGet, api.base+"/prepulls", nil, http.StatusOK), `"pending":[]`)
	}, time.Minute, 100*time.Millisecond, "every prepull-set image prepulled")
	metricsBody = api.expect(http.MethodGet, base+"/metrics", nil, http.StatusOK)
	assert.Contains(t, metricsBody, `nublado_prepulls_total{outcome="failure"} 0`)
	assert.NotContains(t, metricsBody, `nublado_prepulls_total{outcome="success"} 0`)

	// An open event stream at shutdown: the spawn is cancelled and the
	// stream ends with failed "Operation cancelled".
	require.NoError(t, c.SetNodesSchedulable(context.Background(), false))
	t.Cleanup(func() { _ = c.SetNodesSchedulable(context.Background(), true) })
	api.create("wanda")
	stream := api.events("wanda")
	first := stream.next()
	assert.Equal(t, sseEvent{"info", `{"message": "Starting lab creation for wanda", "progress": 1}`}, first)
	stop()
	rest := stream.all()
	require.NotEmpty(t, rest, "events after shutdown")
	assert.Equal(t, sseEvent{"failed", `{"message": "Operation cancelled"}`}, rest[len(rest)-1])
	select {
	case r := <-done:
		assert.Equal(t, ExitOK, r.code, "serve: %s", r.stderr)
		assert.Contains(t, r.stderr, `"event":"Shutting down"`, "JSON logs of the production profile")
		assert.NotContains(t, r.stderr, `"event":"Reconciling file server state"`, "file servers are disabled")
		assert.Empty(t, slackHook.Bodies(), "no Slack alerts in normal operation or for a cancelled spawn")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// apiClient calls the spawner API.
type apiClient struct {
	t    *testing.T
	base string
}

func userHeaders(user string) http.Header {
	return http.Header{"X-Auth-Request-User": {user}, "X-Auth-Request-Token": {user}}
}

func (a *apiClient) do(method, url string, header http.Header, body string) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(a.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err, "%s %s", method, url)
	return resp
}

func (a *apiClient) expect(method, url string, header http.Header, status int) string {
	a.t.Helper()
	resp := a.do(method, url, header, "")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	require.Equal(a.t, status, resp.StatusCode, "%s %s: %s", method, url, body)
	return string(body)
}

func (a *apiClient) create(user string) {
	a.t.Helper()
	spec := fmt.Sprintf(`{"options": {"image_class": "recommended", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/%s/"}}`, user)
	resp := a.do(http.MethodPost, a.base+"/labs/"+user+"/create", userHeaders(user), spec)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(a.t, http.StatusCreated, resp.StatusCode, "create %s: %s", user, body)
	assert.True(a.t, strings.HasSuffix(resp.Header.Get("Location"), "/nublado/spawner/v1/labs/"+user))
}

// spawnAndDelete creates a user's lab, follows its events to complete,
// reads its status, deletes it and checks it is gone.
func (a *apiClient) spawnAndDelete(user string) {
	a.t.Helper()
	a.create(user)
	evs := a.events(user).all()
	require.NotEmpty(a.t, evs)
	assert.Equal(a.t, sseEvent{"complete", `{"message": "Lab Kubernetes pod started for ` + user + `"}`}, evs[len(evs)-1])
	state := a.expect(http.MethodGet, a.base+"/labs/"+user, nil, http.StatusOK)
	assert.Contains(a.t, state, `"status":"running"`)
	assert.Contains(a.t, state, `"internal_url":"http://lab.`)
	a.expect(http.MethodDelete, a.base+"/labs/"+user, nil, http.StatusNoContent)
	a.expect(http.MethodGet, a.base+"/labs/"+user, nil, http.StatusNotFound)
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ Type, Data string }

// sseStream reads an event stream.
type sseStream struct {
	t    *testing.T
	body io.ReadCloser
	sc   *bufio.Scanner
	mu   sync.Mutex
}

func (a *apiClient) events(user string) *sseStream {
	a.t.Helper()
	resp := a.do(http.MethodGet, a.base+"/labs/"+user+"/events", http.Header{"X-Auth-Request-User": {user}}, "")
	require.Equal(a.t, http.StatusOK, resp.StatusCode)
	a.t.Cleanup(func() { resp.Body.Close() })
	return &sseStream{t: a.t, body: resp.Body, sc: bufio.NewScanner(resp.Body)}
}

// read returns the next event; ok is false at the end of the stream.
func (s *sseStream) read() (sseEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ev sseEvent
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "" && ev.Type != "":
			return ev, true
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = strings.TrimPrefix(line, "data: ")
		}
	}
	return ev, false
}

func (s *sseStream) next() sseEvent {
	s.t.Helper()
	ev, ok := s.read()
	require.True(s.t, ok, "an event")
	return ev
}

// all reads the events up to the end of the stream.
func (s *sseStream) all() []sseEvent {
	var out []sseEvent
	for {
		ev, ok := s.read()
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// testServeBinary runs the nublado binary as make run does: the registry's
// CA through SSL_CERT_FILE, the stand-ins through REPERTOIRE_BASE_URL, and
// SIGTERM to stop.
func testServeBinary(t *testing.T, stack *devstack.Stack, kubeconfig, config string) {
	bin := filepath.Join(t.TempDir(), "nublado")
	build := exec.Command("go", "build", "-o", bin, "github.com/nublado-go/nublado/cli/nublado")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	cmd := exec.Command(bin, "serve", "--config", config, "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+stack.CAFile)
	for k, v := range stackEnv(stack) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	var logs bytes.Buffer
	var logsMu sync.Mutex
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logsMu.Lock()
			logs.WriteString(line + "\n")
			logsMu.Unlock()
			var entry struct {
				Event   string `json:"event"`
				Address string `json:"address"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Event == "Serving the spawner API" {
				addr <- entry.Address
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-scanned:
		t.Fatalf("nublado exited early:\n%s", logs.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("nublado did not start")
	}
	api := &apiClient{t: t, base: base + "/nublado/spawner/v1"}
	api.spawnAndDelete("rachel")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	<-scanned
	err = cmd.Wait()
	exited = true
	logsMu.Lock()
	defer logsMu.Unlock()
	require.NoError(t, err, "nublado serve after SIGTERM:\n%s", logs.String())
	assert.Contains(t, logs.String(), `"event":"Shut down"`)
}
