package apply_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// minSamples is the least number of applies each side of BenchmarkApplyLab
// measures for its percentiles, whatever b.N is.
const minSamples = 15

// BenchmarkApplyLab applies one standard lab (testdata/lab.yaml) into a
// namespace whose default ServiceAccount already exists, with nublado and,
// on the same YAML in a namespace in the same state, with `kubectl apply
// --server-side` (warm discovery cache). ns/op is nublado's apply; the
// metrics are the p50 of both and their ratio.
func BenchmarkApplyLab(b *testing.B) {
	c := testcluster.Shared(b)
	a, rec := newApplier(b)
	ctx := context.Background()
	kubectl := kubectlCommand(b, c)

	// Warm up both: discovery, connections, kubectl's cache.
	_, err := a.Apply(ctx, lab(b, preparedNamespace(b, c), "warm"))
	require.NoError(b, err)
	require.NoError(b, kubectl(labFile(b, preparedNamespace(b, c))))

	var nublado, kube []time.Duration
	requests := 0
	b.ResetTimer()
	for i := 0; i < max(b.N, minSamples); i++ {
		timed := i < b.N
		b.StopTimer()
		objs := lab(b, preparedNamespace(b, c), "rachel")
		rec.reset()
		if timed {
			b.StartTimer()
		}
		began := time.Now()
		_, err := a.Apply(ctx, objs)
		nublado = append(nublado, time.Since(began))
		b.StopTimer()
		require.NoError(b, err, "Apply")
		requests += len(rec.list())

		file := labFile(b, preparedNamespace(b, c))
		began = time.Now()
		require.NoError(b, kubectl(file), "kubectl apply")
		kube = append(kube, time.Since(began))
	}
	b.StopTimer()
	pn, pk := percentile(nublado, 50), percentile(kube, 50)
	b.ReportMetric(ms(pn), "nublado-p50-ms")
	b.ReportMetric(ms(percentile(nublado, 90)), "nublado-p90-ms")
	b.ReportMetric(ms(pk), "kubectl-p50-ms")
	b.ReportMetric(float64(pn)/float64(pk), "ratio")
	b.ReportMetric(float64(requests)/float64(len(nublado)), "requests/lab")
}

// BenchmarkApply100Labs applies 100 labs concurrently, each into a new
// namespace, with one shared Applier; ns/op is the time for all 100. It
// counts the API requests per lab (after discovery) and checks that none is
// a polling read: the only plain GET per lab is the namespace's.
func BenchmarkApply100Labs(b *testing.B) {
	for _, rate := range []struct {
		name       string
		qps, burst int
	}{{"qps=50", apply.DefaultQPS, apply.DefaultBurst}, {"qps=1000", 1000, 2000}} {
		b.Run(rate.name, func(b *testing.B) {
			benchmarkLabs(b, 100, apply.WithClientRate(float32(rate.qps), rate.burst))
		})
	}
}

func benchmarkLabs(b *testing.B, n int, opts ...apply.Option) {
	c := testcluster.Shared(b)
	a, rec := newApplier(b, opts...)
	ctx := context.Background()
	warm := uniqueName("warm")
	cleanupNamespace(b, warm)
	_, err := a.Apply(ctx, lab(b, warm, "warm"))
	require.NoError(b, err)

	var total, gets int
	for range b.N {
		b.StopTimer()
		labs := make([][]*unstructured.Unstructured, n)
		for i := range labs {
			ns := uniqueName("many")
			cleanupNamespace(b, ns)
			labs[i] = lab(b, ns, fmt.Sprintf("user%d", i))
		}
		rec.reset()
		b.StartTimer()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range labs {
			wg.Go(func() {
				cs, err := a.Apply(ctx, labs[i])
				if err == nil && cs.Count(apply.Created) != len(labs[i]) {
					err = fmt.Errorf("lab %d: %s", i, cs)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		b.StopTimer()
		for _, err := range errs {
			require.NoError(b, err, "Apply")
		}
		for _, r := range rec.list() {
			total++
			if strings.HasPrefix(r, "GET ") && !strings.Contains(r, "watch=true") {
				gets++
			}
		}
	}
	_ = c
	b.ReportMetric(float64(total)/float64(b.N*n), "requests/lab")
	b.ReportMetric(float64(gets)/float64(b.N*n), "reads/lab")
}

// preparedNamespace creates a namespace and waits until its default
// ServiceAccount exists; it is deleted when the benchmark ends.
func preparedNamespace(b *testing.B, c *testcluster.Cluster) string {
	b.Helper()
	ctx := context.Background()
	ns, err := c.Client().CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}, metav1.CreateOptions{})
	require.NoError(b, err)
	cleanupNamespace(b, ns.Name)
	w, err := c.Client().CoreV1().ServiceAccounts(ns.Name).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=default"})
	require.NoError(b, err)
	defer w.Stop()
	<-w.ResultChan()
	return ns.Name
}

// labFile writes the lab for namespace as YAML and returns the file name.
func labFile(b *testing.B, namespace string) string {
	b.Helper()
	var buf strings.Builder
	for _, obj := range lab(b, namespace, "rachel") {
		data, err := yaml.Marshal(obj.Object)
		require.NoError(b, err)
		buf.WriteString("---\n")
		buf.Write(data)
	}
	file := filepath.Join(b.TempDir(), "lab.yaml")
	require.NoError(b, os.WriteFile(file, []byte(buf.String()), 0o600))
	return file
}

// kubectlCommand returns a function that runs `kubectl apply
// --server-side` on a file against the cluster, with a discovery cache
// kept for the whole benchmark.
func kubectlCommand(b *testing.B, c *testcluster.Cluster) func(file string) error {
	dir, err := testcluster.FindBinDir()
	require.NoError(b, err)
	bin := filepath.Join(dir, "kubectl")
	_, err = os.Stat(bin)
	require.NoError(b, err, "kubectl is built by make cluster-bins")
	home := b.TempDir()
	return func(file string) error {
		cmd := exec.Command(bin, "apply", "--server-side", "--force-conflicts", "--field-manager=nublado",
			"--kubeconfig", c.Kubeconfig(), "-f", file)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
