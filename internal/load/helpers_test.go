package load_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/load"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// Four kwok nodes of 110 pods each hold 300 labs and the prepull pods.
func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Nodes: testcluster.DefaultNodes(4), CRDDir: "-"})
}

// controllerConfig is the controller configuration of the load runs:
// deploy/examples/local.yaml (what make run serves) with JSON logs, the
// paths of the development stack and a long spawn timeout, so that a slow
// spawn is measured rather than failed.
const controllerConfig = `logLevel: INFO
logProfile: production
metadataPath: METADATA
lab:
  namespacePrefix: PREFIX
  pullSecret: pull-secret
  spawnTimeout: 10m
  deleteTimeout: 10m
  reconcileInterval: 1m
  defaultSize: small
  sizes:
    - size: small
      resources:
        limits: {cpu: 1.0, memory: 4Gi}
        requests: {cpu: 250m, memory: 1Gi}
  volumes:
    - name: home
      source: {type: nfs, server: nfs.example.org, serverPath: /export/home}
  volumeMounts:
    - containerPath: /home
      volumeName: home
images:
  source: {type: docker, registry: REGISTRY, repository: REPOSITORY}
  refreshInterval: 1m
  numReleases: 1
  numWeeklies: 2
  numDailies: 2
  dockerCredentialsPath: CREDENTIALS
fsadmin: {}
`

// usersYAML returns a users file of n users named prefix0001... without
// notebook quota.
func usersYAML(prefix string, n int) []byte {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		name := fmt.Sprintf("%s%04d", prefix, i+1)
		uid := 20000 + i
		fmt.Fprintf(&b, "  - {username: %s, name: Load %d, uid: %d, gid: %d, groups: [{name: %s, id: %d}]}\n",
			name, i+1, uid, uid, name, uid)
	}
	return []byte(b.String())
}

func userNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i+1)
	}
	return out
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// nubladoBinary builds the nublado binary once per test process.
func nubladoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nublado-load-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "nublado")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/nublado-go/nublado/cli/nublado").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binary
}

// scenario is one load run: users spawn within spawnWindow (0: all at
// once), then delete within deleteWindow.
type scenario struct {
	prefix       string // namespace and username prefix
	users        int
	spawnWindow  time.Duration
	deleteWindow time.Duration
	// args are extra arguments of nublado serve (--qps, --burst); the
	// environment variables NUBLADO_LOAD_QPS and NUBLADO_LOAD_BURST add
	// --qps and --burst, to compare settings without editing the test.
	args []string
}

// report is what a run measured.
type report struct {
	spawn, create, del load.Summary
	// applied is from the request to the objects' creation, started from
	// there to complete.
	applied, started load.Summary
	// requestsPerSpawn are the controller's Kubernetes API requests of the
	// spawn phase per spawn, by method ("" the total); apiserverPerSpawn
	// the API server's requests of all clients (controller manager,
	// scheduler, kwok, the controller) in the same phase.
	requestsPerSpawn, apiserverPerSpawn map[string]float64
	// latencyPerSpawn are the controller's requests other than watches per
	// spawn, by verb and resource (client-go reports no latency of
	// watches).
	latencyPerSpawn map[string]float64
	// meanLatency is the mean latency of those requests.
	meanLatency map[string]time.Duration
	// limiterWaitPerSpawn is the time requests waited for the client-side
	// rate limiter, per spawn.
	limiterWaitPerSpawn time.Duration
	cpuPerSpawn         time.Duration
	peakRSS             int64
	loadBefore          string
	loadAfter           string
}

// runScenario runs the controller on the shared control plane with a
// development stack, runs the spawns and the deletes, checks that every
// operation succeeded and that nothing is left, and reports.
func runScenario(t *testing.T, sc scenario) report {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := testcluster.Shared(t)
	users, err := devstack.ParseUsers(usersYAML(sc.prefix, sc.users))
	require.NoError(t, err)
	stack, err := devstack.Start(devstack.Options{StateDir: t.TempDir(), Users: users})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close(context.Background()) })
	meta := filepath.Join(t.TempDir(), "podinfo")
	ns := "nublado-" + sc.prefix
	require.NoError(t, stack.Seed(ctx, c.Client(), devstack.SeedOptions{Namespace: ns, MetadataDir: meta, PullSecret: "pull-secret"}))
	config := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(config, []byte(strings.NewReplacer("METADATA", meta, "PREFIX", sc.prefix,
		"REGISTRY", stack.RegistryHost, "REPOSITORY", stack.Repository, "CREDENTIALS", stack.CredentialsFile,
	).Replace(controllerConfig)), 0o600))

	args := append([]string{"--config", config, "--kubeconfig", c.Kubeconfig()}, sc.args...)
	if v := os.Getenv("NUBLADO_LOAD_QPS"); v != "" {
		args = append(args, "--qps", v)
	}
	if v := os.Getenv("NUBLADO_LOAD_BURST"); v != "" {
		args = append(args, "--burst", v)
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), "nublado.log"))
	require.NoError(t, err)
	defer logFile.Close()
	ctrl, err := load.StartController(ctx, load.ControllerOptions{
		Binary: nubladoBinary(t), Args: args, Log: logFile,
		Env: []string{"SSL_CERT_FILE=" + stack.CAFile, "REPERTOIRE_BASE_URL=" + stack.RepertoireURL(),
			"NUBLADO_CONTROLLER_REPOSITORY=ghcr.io/lsst-sqre/nublado", "NUBLADO_CONTROLLER_TAG=test"},
	})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			_ = ctrl.Stop()
		}
		if t.Failed() {
			tailLog(t, logFile.Name(), 40)
		}
	}()
	client := load.NewClient(ctrl.Base, 2*sc.users)
	waitPrepulled(t, ctx, client)

	names := userNames(sc.prefix, sc.users)
	var r report
	r.loadBefore = loadAverage(t)
	before := scrapeAll(t, ctx, c, ctrl)
	cpuBefore, err := ctrl.CPU()
	require.NoError(t, err)
	spawns := load.Run(ctx, client, names, sc.spawnWindow, load.Spawn)
	after := scrapeAll(t, ctx, c, ctrl)
	cpuAfter, err := ctrl.CPU()
	require.NoError(t, err)
	r.spawn = load.Summarize(spawns)
	r.create = phaseSummary(spawns, func(r load.Result) time.Duration { return r.Accepted })
	r.applied = phaseSummary(spawns, func(r load.Result) time.Duration { return r.Applied })
	r.started = phaseSummary(spawns, func(r load.Result) time.Duration { return r.Done - r.Applied })
	r.requestsPerSpawn = perSpawn(load.Delta(
		before.ctrl.Sum("nublado_kubernetes_requests_total", nil, false, "method"),
		after.ctrl.Sum("nublado_kubernetes_requests_total", nil, false, "method")), sc.users)
	r.apiserverPerSpawn = perSpawn(load.Delta(
		before.apiserver.Sum("apiserver_request_total", nil, false, "verb", "resource"),
		after.apiserver.Sum("apiserver_request_total", nil, false, "verb", "resource")), sc.users)
	wait := load.Delta(before.ctrl.Sum("nublado_kubernetes_rate_limiter_duration_seconds", nil, true),
		after.ctrl.Sum("nublado_kubernetes_rate_limiter_duration_seconds", nil, true))[""]
	r.latencyPerSpawn = perSpawn(load.Delta(
		before.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, false, "verb", "resource"),
		after.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, false, "verb", "resource")), sc.users)
	sums := load.Delta(
		before.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, true, "verb", "resource"),
		after.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, true, "verb", "resource"))
	r.meanLatency = map[string]time.Duration{}
	for k, n := range load.Delta(
		before.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, false, "verb", "resource"),
		after.ctrl.Sum("nublado_kubernetes_request_duration_seconds", nil, false, "verb", "resource")) {
		r.meanLatency[k] = time.Duration(sums[k] / n * float64(time.Second)).Round(time.Millisecond)
	}
	r.limiterWaitPerSpawn = time.Duration(wait * float64(time.Second) / float64(sc.users))
	r.cpuPerSpawn = (cpuAfter - cpuBefore) / time.Duration(sc.users)
	for _, res := range spawns {
		assert.NoError(t, res.Err, "spawn of %s", res.User)
	}
	for _, user := range names[:min(len(names), 5)] {
		status, err := client.Status(ctx, user)
		require.NoError(t, err)
		assert.Equal(t, "running", status, "status of %s", user)
	}

	deletes := load.Run(ctx, client, names, sc.deleteWindow, load.Delete)
	r.loadAfter = loadAverage(t)
	r.del = load.Summarize(deletes)
	for _, res := range deletes {
		assert.NoError(t, res.Err, "delete of %s", res.User)
	}
	left, err := client.Labs(ctx)
	require.NoError(t, err)
	assert.Empty(t, left, "labs left after the deletes")
	assertNoNamespaces(t, ctx, c, sc.prefix+"-")
	_, r.peakRSS, err = ctrl.Memory()
	require.NoError(t, err)
	stopped = true
	assert.NoError(t, ctrl.Stop(), "the controller exits cleanly on SIGTERM")
	return r
}

// phaseSummary summarises the phase of each result that f returns.
func phaseSummary(results []load.Result, f func(load.Result) time.Duration) load.Summary {
	acc := make([]load.Result, len(results))
	for i, r := range results {
		acc[i] = r
		acc[i].Done = f(r)
	}
	return load.Summarize(acc)
}

func perSpawn(m map[string]float64, n int) map[string]float64 {
	out := map[string]float64{"": 0}
	for k, v := range m {
		out[k] = v / float64(n)
		out[""] += v / float64(n)
	}
	return out
}

type scrapes struct{ ctrl, apiserver load.Metrics }

func scrapeAll(t *testing.T, ctx context.Context, c *testcluster.Cluster, ctrl *load.Controller) scrapes {
	t.Helper()
	m, err := ctrl.Metrics(ctx)
	require.NoError(t, err)
	raw, err := c.Client().CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	require.NoError(t, err)
	a, err := load.ParseMetrics(strings.NewReader(string(raw)))
	require.NoError(t, err)
	return scrapes{ctrl: m, apiserver: a}
}

// waitPrepulled waits until the prepuller has nothing pending, so that its
// pods do not compete with the spawns.
func waitPrepulled(t *testing.T, ctx context.Context, client *load.Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		body, err := client.Prepulls(ctx)
		return err == nil && strings.Contains(body, `"pending":[]`) && !strings.Contains(body, `"pending":[{`)
	}, 2*time.Minute, 200*time.Millisecond, "the prepuller's first round")
}

func assertNoNamespaces(t *testing.T, ctx context.Context, c *testcluster.Cluster, prefix string) {
	t.Helper()
	list, err := c.Client().CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var left []string
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, prefix) {
			left = append(left, ns.Name+" ("+string(ns.Status.Phase)+")")
		}
	}
	assert.Empty(t, left, "lab namespaces left")
}

// loadAverage returns the 1, 5 and 15 minute load averages, as uptime
// prints them.
func loadAverage(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/loadavg")
	require.NoError(t, err)
	f := strings.Fields(string(data))
	return strings.Join(f[:3], " ")
}

func tailLog(t *testing.T, path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	t.Logf("controller log (last %d lines):\n%s", n, strings.Join(lines[max(0, len(lines)-n):], "\n"))
}

// logReport writes the report into the test's output.
func logReport(t *testing.T, sc scenario, r report) {
	t.Helper()
	t.Logf("%d users, spawns within %s, deletes within %s, serve %v (env qps=%q burst=%q)",
		sc.users, sc.spawnWindow, sc.deleteWindow, sc.args, os.Getenv("NUBLADO_LOAD_QPS"), os.Getenv("NUBLADO_LOAD_BURST"))
	t.Logf("load average before %s, after %s (2 cores)", r.loadBefore, r.loadAfter)
	t.Logf("spawn (POST → complete event): %s", r.spawn)
	t.Logf("create answered (POST → 201):   %s", r.create)
	t.Logf("objects created (POST → progress 30): %s", r.applied)
	t.Logf("pod started (progress 30 → complete): %s", r.started)
	t.Logf("delete (DELETE → 204):         %s", r.del)
	t.Logf("controller API requests per spawn: %s", formatCounts(r.requestsPerSpawn))
	t.Logf("controller non-watch requests per spawn: %s", formatCounts(r.latencyPerSpawn))
	t.Logf("controller mean request latency: %v", r.meanLatency)
	t.Logf("API server requests per spawn (all clients): %s", formatCounts(r.apiserverPerSpawn))
	t.Logf("client rate-limiter wait per spawn: %s; controller CPU per spawn: %s",
		r.limiterWaitPerSpawn.Round(time.Millisecond), r.cpuPerSpawn.Round(time.Millisecond))
	t.Logf("controller peak RSS (VmHWM): %.1f MiB", float64(r.peakRSS)/(1<<20))
}

func formatCounts(m map[string]float64) string {
	var keys []string
	for k := range m {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := []string{strconv.FormatFloat(m[""], 'f', 1, 64)}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.1f", k, m[k]))
	}
	return parts[0] + " (" + strings.Join(parts[1:], " ") + ")"
}
