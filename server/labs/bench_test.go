package labs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/server/labs"
)

// The benchmarks measure whole operations on the local control plane; run
// them once each: go test -run '^$' -bench . -benchtime 1x ./server/labs/

// timedSpawn creates a lab and reads its events as they come, returning
// the time to complete, the time from "Created Kubernetes objects" (30) to
// complete (the pod's start) and the error event, if any.
func timedSpawn(h *harness, req nublado.CreateRequest) (total, podStart time.Duration, err error) {
	start := time.Now()
	if err := h.m.Create(context.Background(), req); err != nil {
		return 0, 0, err
	}
	r, err := h.m.Events(context.Background(), req.User.Username)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var created time.Time
	for {
		ev, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return 0, 0, fmt.Errorf("spawn of %s ended without complete", req.User.Username)
		}
		if err != nil {
			return 0, 0, err
		}
		switch {
		case ev.Progress == 30:
			created = time.Now()
		case ev.Type == nublado.EventError:
			return 0, 0, errors.New(ev.Message)
		case ev.Type == nublado.EventComplete:
			now := time.Now()
			return now.Sub(start), now.Sub(created), nil
		}
	}
}

// serviceAccountWait returns how long the apply of user's lab waited,
// between the last object of its second stage and the pod, for the
// namespace's default ServiceAccount (and the quota's status).
func serviceAccountWait(traces []traceEntry, namespace, user string) time.Duration {
	var stageEnd, podStart time.Time
	prefix := "/api/v1/namespaces/" + namespace + "/"
	for _, tr := range traces {
		if tr.method != "PATCH" || !strings.Contains(tr.path, "/namespaces/"+namespace+"/") {
			continue
		}
		if tr.path == prefix+"pods/"+user+"-nb" {
			if podStart.IsZero() {
				podStart = tr.start
			}
			continue
		}
		if tr.end.After(stageEnd) {
			stageEnd = tr.end
		}
	}
	if stageEnd.IsZero() || podStart.IsZero() || podStart.Before(stageEnd) {
		return 0
	}
	return podStart.Sub(stageEnd)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkSpawnLatency: 50 sequential spawns, create → complete. The
// manager's own share is the total minus the wait for the namespace's
// default ServiceAccount (done by kube-controller-manager) and the pod's
// start (scheduler and kwok).
func BenchmarkSpawnLatency(b *testing.B) {
	for range b.N {
		h := newHarness(b, harnessOptions{})
		h.calls.startTrace()
		const n = 50
		var totals, owns, waits, starts []time.Duration
		for i := range n {
			user := newUser("lat"+strconv.Itoa(i), 3000+int64(i))
			total, podStart, err := timedSpawn(h, createRequest(user))
			require.NoError(b, err)
			wait := serviceAccountWait(h.calls.traced(), h.cfg.LabNamespace(user.Username), user.Username)
			totals, starts, waits = append(totals, total), append(starts, podStart), append(waits, wait)
			owns = append(owns, total-podStart-wait)
		}
		b.ReportMetric(ms(percentile(totals, 0.5)), "total-p50-ms")
		b.ReportMetric(ms(percentile(totals, 0.95)), "total-p95-ms")
		b.ReportMetric(ms(percentile(owns, 0.5)), "own-p50-ms")
		b.ReportMetric(ms(percentile(owns, 0.95)), "own-p95-ms")
		b.ReportMetric(ms(percentile(waits, 0.5)), "sa-wait-p50-ms")
		b.ReportMetric(ms(percentile(starts, 0.5)), "pod-start-p50-ms")
	}
}

// BenchmarkSpawnBurst: 200 users create at once; all must complete. It
// reports the p50 and p95 time to complete and the API requests per spawn.
func BenchmarkSpawnBurst(b *testing.B) {
	for range b.N {
		h := newHarness(b, harnessOptions{})
		before := h.calls.Snapshot()
		h.calls.startTrace()
		cpuBefore := cpuTime(b)
		const n = 200
		totals := make([]time.Duration, n)
		starts := make([]time.Duration, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := newUser("burst"+strconv.Itoa(i), 5000+int64(i))
				totals[i], starts[i], errs[i] = timedSpawn(h, createRequest(user))
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				failed++
				b.Log(err)
			}
		}
		after := h.calls.Snapshot()
		total := 0
		var verbs []string
		for verb, count := range after {
			d := count - before[verb]
			total += d
			verbs = append(verbs, fmt.Sprintf("%s=%.1f", verb, float64(d)/n))
		}
		slices.Sort(verbs)
		b.Logf("API requests per spawn: %.1f (%s)", float64(total)/n, strings.Join(verbs, " "))
		require.Zero(b, failed, "failed spawns")
		b.ReportMetric(ms(percentile(totals, 0.5)), "p50-ms")
		b.ReportMetric(ms(percentile(totals, 0.95)), "p95-ms")
		b.ReportMetric(ms(percentile(starts, 0.5)), "pod-start-p50-ms")
		b.ReportMetric(ms(percentile(starts, 0.95)), "pod-start-p95-ms")
		traces := h.calls.traced()
		waits := make([]time.Duration, n)
		phases := map[string][]time.Duration{}
		for i := range n {
			user := "burst" + strconv.Itoa(i)
			ns := h.cfg.LabNamespace(user)
			waits[i] = serviceAccountWait(traces, ns, user)
			var nsGet, nsPatch, nsPatchEnd, podPatch, podPatchEnd time.Time
			for _, tr := range traces {
				switch {
				case tr.method == "GET" && tr.path == "/api/v1/namespaces/"+ns && nsGet.IsZero():
					nsGet = tr.start
				case tr.method == "PATCH" && tr.path == "/api/v1/namespaces/"+ns:
					nsPatch, nsPatchEnd = tr.start, tr.end
				case tr.method == "PATCH" && tr.path == "/api/v1/namespaces/"+ns+"/pods/"+user+"-nb":
					podPatch, podPatchEnd = tr.start, tr.end
				}
			}
			phases["1 ns-get→ns-patch"] = append(phases["1 ns-get→ns-patch"], nsPatch.Sub(nsGet))
			phases["2 ns-patch"] = append(phases["2 ns-patch"], nsPatchEnd.Sub(nsPatch))
			phases["3 ns-patch-end→pod-patch"] = append(phases["3 ns-patch-end→pod-patch"], podPatch.Sub(nsPatchEnd))
			phases["4 pod-patch"] = append(phases["4 pod-patch"], podPatchEnd.Sub(podPatch))
		}
		for _, k := range slices.Sorted(maps.Keys(phases)) {
			b.Logf("%s: p50 %v p95 %v", k, percentile(phases[k], 0.5).Round(time.Millisecond), percentile(phases[k], 0.95).Round(time.Millisecond))
		}
		b.ReportMetric(ms(percentile(waits, 0.5)), "sa-wait-p50-ms")
		b.ReportMetric(ms(percentile(waits, 0.95)), "sa-wait-p95-ms")
		b.ReportMetric(float64(total)/n, "requests/spawn")
		b.ReportMetric(ms(cpuTime(b)-cpuBefore)/n, "cpu-ms/spawn")
	}
}

// BenchmarkRestart1000: a manager starts on a cluster with 1,000 running
// labs and rebuilds their state. The labs' objects (labelled namespace,
// env ConfigMap, ResourceQuota and a pod bound directly to a kwok node, so
// that the scheduler is not involved) are created directly beforehand. It
// reports the time from New to the end of Start and the process's RSS
// once the manager is ready.
func BenchmarkRestart1000(b *testing.B) {
	const n = 1000
	h := newHarness(b, harnessOptions{noStart: true})
	c := testcluster.Shared(b)
	ctx := context.Background()
	var nodes []string
	for i := range 6 {
		name := fmt.Sprintf("bench-node-%d", i)
		_, err := c.AddNode(ctx, testcluster.Node{Name: name, Capacity: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("256"), corev1.ResourceMemory: resource.MustParse("4Ti"),
			corev1.ResourcePods: resource.MustParse("250"),
		}})
		require.NoError(b, err)
		nodes = append(nodes, name)
	}
	began := time.Now()
	createLabs(b, h, nodes, n)
	b.Logf("created %d labs in %s", n, time.Since(began).Round(time.Millisecond))

	for range b.N {
		runtime.GC()
		base := rss(b)
		h2 := newHarness(b, harnessOptions{from: h, noStart: true})
		start := time.Now()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		require.NoError(b, h2.m.Start(sctx))
		cancel()
		ready := time.Since(start)
		runtime.GC()
		after := rss(b)
		require.Len(b, h2.m.Running(ctx), n, "running labs after the start")
		b.ReportMetric(ms(ready), "ready-ms")
		b.ReportMetric(float64(after)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(after-base)/(1<<20), "rss-delta-MiB")
		h2.m.Stop()
	}
}

// createLabs creates the objects of n running labs with 32 workers.
func createLabs(b *testing.B, h *harness, nodes []string, n int) {
	cfg := h.c.Config()
	cfg.QPS, cfg.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(b, err)
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createLab(client, h, nodes[i%len(nodes)], i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
	// Wait until kwok has started every pod.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		pods, err := client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{LabelSelector: labs.LabelCategory + "=" + labs.CategoryLab})
		require.NoError(b, err)
		running := 0
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Namespace, h.cfg.Lab.NamespacePrefix+"-") && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		if running == n {
			return
		}
		require.True(b, time.Now().Before(deadline), "%d of %d pods running", running, n)
		time.Sleep(time.Second)
	}
}

// createLab creates the objects reconcile reads of user i's lab.
func createLab(client kubernetes.Interface, h *harness, node string, i int) error {
	ctx := context.Background()
	user := "r" + strconv.Itoa(i)
	ns := h.cfg.LabNamespace(user)
	labels := map[string]string{labs.LabelCategory: labs.CategoryLab, labs.LabelUser: user}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
	}
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	env := map[string]string{
		"CPU_LIMIT": "1.0", "MEM_LIMIT": "3221225472", "CPU_GUARANTEE": "0.25", "MEM_GUARANTEE": "805306368",
		"JUPYTER_IMAGE_SPEC":        imageRef + ":w_2077_43@" + digests["w_2077_43"],
		"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/" + user + "/",
	}
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta(user + "-nb-env"), Data: env}, metav1.CreateOptions{}); err != nil {
		return err
	}
	quota := &corev1.ResourceQuota{ObjectMeta: meta(user + "-nb"), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		"limits.cpu": resource.MustParse("9.0"), "limits.memory": resource.MustParse("28991029248"),
	}}}
	if _, err := client.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		return err
	}
	uid := int64(10000 + i)
	pm := meta(user + "-nb")
	pm.Annotations = map[string]string{"nublado.lsst.io/user-groups": fmt.Sprintf(`[{"name": %q, "id": %d}]`, user, uid)}
	pod := &corev1.Pod{ObjectMeta: pm, Spec: corev1.PodSpec{
		NodeName:                     node,
		AutomountServiceAccountToken: ptr(false),
		Containers: []corev1.Container{{
			Name: "notebook", Image: imageRef + ":w_2077_43",
			SecurityContext: &corev1.SecurityContext{RunAsUser: &uid, RunAsGroup: &uid},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("3Gi")},
				Requests: corev1.ResourceList{"cpu": resource.MustParse("250m"), "memory": resource.MustParse("768Mi")},
			},
		}},
	}}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond) // the default ServiceAccount is not there yet
	}
}

// rss returns the resident set size of the process.
func rss(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// cpuTime returns the CPU time (user and system) the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
