package testcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nublado-go/nublado/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }

// waitFor polls cond every 10 ms until it is true, failing the test after
// timeout or on error. It returns how long the wait took.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	for {
		ok, err := cond(ctx)
		require.NoError(t, err, "waiting for %s", what)
		if ok {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "timed out", "waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func newPod(name string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "main",
				Image: "example.org/lab:1",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				},
			}},
		},
	}
}

func podPhase(client kubernetes.Interface, ns, name string, phase corev1.PodPhase) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		pod, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return pod.Status.Phase == phase, nil
	}
}

func serviceAccountExists(client kubernetes.Interface, ns string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

func TestNamespaceGetsDefaultServiceAccount(t *testing.T) {
	c := testcluster.Shared(t)
	t.Logf("control plane started in %s", c.StartDuration())
	ns := c.Namespace(t)
	d := waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	t.Logf("default ServiceAccount appeared %s after the namespace", d)
	cm, err := c.Client().CoreV1().ConfigMaps(ns).Get(context.Background(), "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		waitFor(t, 10*time.Second, "kube-root-ca.crt", func(ctx context.Context) (bool, error) {
			cm, err = c.Client().CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			return err == nil, nil
		})
	}
	assert.Contains(t, cm.Data["ca.crt"], "BEGIN CERTIFICATE")
}

func TestPodRunsOnKwokNode(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	_, err := c.Client().CoreV1().Pods(ns).Create(ctx, newPod("lab", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	d := waitFor(t, 30*time.Second, "pod Running", podPhase(c.Client(), ns, "lab", corev1.PodRunning))
	t.Logf("pod Running %s after create", d)
	pod, err := c.Client().CoreV1().Pods(ns).Get(ctx, "lab", metav1.GetOptions{})
	require.NoError(t, err)
	node, err := c.Client().CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
	require.NoError(t, err, "node of the pod")
	assert.Equal(t, "fake", node.Annotations[testcluster.NodeAnnotation])
	assert.NotEmpty(t, pod.Status.PodIP)
	require.Len(t, pod.Status.ContainerStatuses, 1)
	assert.True(t, pod.Status.ContainerStatuses[0].Ready)
	assert.NotNil(t, pod.Status.ContainerStatuses[0].State.Running)
}

func TestResourceQuotaStatus(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "quota"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceLimitsCPU: resource.MustParse("2"), corev1.ResourceLimitsMemory: resource.MustParse("1Gi"),
		}},
	}
	_, err := c.Client().CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "quota status", func(ctx context.Context) (bool, error) {
		q, err := c.Client().CoreV1().ResourceQuotas(ns).Get(ctx, "quota", metav1.GetOptions{})
		return err == nil && len(q.Status.Hard) == 2, err
	})
	_, err = c.Client().CoreV1().Pods(ns).Create(ctx, newPod("lab", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "quota usage", func(ctx context.Context) (bool, error) {
		q, err := c.Client().CoreV1().ResourceQuotas(ns).Get(ctx, "quota", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		used := q.Status.Used[corev1.ResourceLimitsCPU]
		return used.Cmp(resource.MustParse("100m")) == 0, nil
	})
	// Over quota: the API server's ResourceQuota admission refuses the pod.
	big := newPod("big", nil)
	big.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("4")
	big.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("4")
	_, err = c.Client().CoreV1().Pods(ns).Create(ctx, big, metav1.CreateOptions{})
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "over-quota pod: %v", err)
}

func TestNamespaceDeletionCompletes(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns, err := c.Client().CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "delete-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns.Name))
	_, err = c.Client().CoreV1().Pods(ns.Name).Create(ctx, newPod("lab", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Client().CoreV1().ConfigMaps(ns.Name).Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "env"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "pod Running", podPhase(c.Client(), ns.Name, "lab", corev1.PodRunning))

	require.NoError(t, c.Client().CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}))
	d := waitFor(t, 2*time.Minute, "namespace deletion", func(ctx context.Context) (bool, error) {
		_, err := c.Client().CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	t.Logf("namespace with a running pod deleted in %s", d)
}

func TestJobPodSucceeds(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "purge"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "purge", Image: "example.org/purger:1"}},
		}}},
	}
	_, err := c.Client().BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "Job complete", func(ctx context.Context) (bool, error) {
		j, err := c.Client().BatchV1().Jobs(ns).Get(ctx, "purge", metav1.GetOptions{})
		return err == nil && j.Status.Succeeded == 1, err
	})
}

func TestHoldAndRelease(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	pod := newPod("held", map[string]string{testcluster.HoldAnnotation: "true"})
	_, err := c.Client().CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "pod scheduled", func(ctx context.Context) (bool, error) {
		p, err := c.Client().CoreV1().Pods(ns).Get(ctx, "held", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName != "", err
	})
	// Unheld pods reach Running in well under a second; give kwok ample time.
	time.Sleep(time.Second)
	got, err := c.Client().CoreV1().Pods(ns).Get(ctx, "held", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodPending, got.Status.Phase, "held pod phase")

	require.NoError(t, c.ReleasePod(ctx, ns, "held"))
	d := waitFor(t, 30*time.Second, "released pod Running", podPhase(c.Client(), ns, "held", corev1.PodRunning))
	t.Logf("released pod Running %s after release", d)
}

func TestSetNodesSchedulable(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	require.NoError(t, c.SetNodesSchedulable(ctx, false))
	t.Cleanup(func() { assert.NoError(t, c.SetNodesSchedulable(context.Background(), true)) })
	_, err := c.Client().CoreV1().Pods(ns).Create(ctx, newPod("waiting", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "pod Unschedulable", func(ctx context.Context) (bool, error) {
		p, err := c.Client().CoreV1().Pods(ns).Get(ctx, "waiting", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
				return cond.Reason == corev1.PodReasonUnschedulable, nil
			}
		}
		return false, nil
	})
	require.NoError(t, c.SetNodesSchedulable(ctx, true))
	waitFor(t, 30*time.Second, "pod Running after uncordon", podPhase(c.Client(), ns, "waiting", corev1.PodRunning))
}

func TestSetPodPhase(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	for _, tc := range []struct {
		name     string
		phase    corev1.PodPhase
		exitCode int32
	}{{"failed", corev1.PodFailed, 1}, {"succeeded", corev1.PodSucceeded, 0}} {
		name := tc.name
		_, err := c.Client().CoreV1().Pods(ns).Create(ctx, newPod(name, nil), metav1.CreateOptions{})
		require.NoError(t, err)
		waitFor(t, 30*time.Second, "pod Running", podPhase(c.Client(), ns, name, corev1.PodRunning))
		require.NoError(t, c.SetPodPhase(ctx, ns, name, tc.phase))
		// kwok must not move the pod back: check it stays put for a moment.
		time.Sleep(500 * time.Millisecond)
		pod, err := c.Client().CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, tc.phase, pod.Status.Phase)
		require.Len(t, pod.Status.ContainerStatuses, 1)
		require.NotNil(t, pod.Status.ContainerStatuses[0].State.Terminated)
		assert.Equal(t, tc.exitCode, pod.Status.ContainerStatuses[0].State.Terminated.ExitCode)
	}
}

func TestAddNodeWithLabelsTaintsAndImages(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	images := []corev1.ContainerImage{
		{Names: []string{"example.org/lab@sha256:0123", "example.org/lab:w_2025_01"}, SizeBytes: 5 << 30},
	}
	node, err := c.AddNode(ctx, testcluster.Node{
		Name:   "gpu-node",
		Labels: map[string]string{"pool": "gpu"},
		Taints: []corev1.Taint{{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}},
		Images: images,
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.RemoveNode(context.Background(), "gpu-node")) })
	assert.Equal(t, "gpu", node.Labels["pool"])
	assert.Equal(t, images, node.Status.Images)
	require.Len(t, node.Spec.Taints, 1)

	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	// Without a toleration the node is out of reach; with one the pod runs there.
	untolerated := newPod("untolerated", nil)
	untolerated.Spec.NodeSelector = map[string]string{"pool": "gpu"}
	_, err = c.Client().CoreV1().Pods(ns).Create(ctx, untolerated, metav1.CreateOptions{})
	require.NoError(t, err)
	tolerated := newPod("tolerated", nil)
	tolerated.Spec.NodeSelector = map[string]string{"pool": "gpu"}
	tolerated.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	_, err = c.Client().CoreV1().Pods(ns).Create(ctx, tolerated, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "tolerated pod Running", podPhase(c.Client(), ns, "tolerated", corev1.PodRunning))
	got, err := c.Client().CoreV1().Pods(ns).Get(ctx, "untolerated", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.Spec.NodeName, "untolerated pod must not be scheduled")

	newImages := []corev1.ContainerImage{{Names: []string{"example.org/lab:w_2025_02"}, SizeBytes: 1 << 30}}
	require.NoError(t, c.SetNodeImages(ctx, "gpu-node", newImages))
	n, err := c.Client().CoreV1().Nodes().Get(ctx, "gpu-node", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, newImages, n.Status.Images)
}

func TestInstallCRDs(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "widgets.yaml"), []byte(widgetCRD), 0o600))
	require.NoError(t, c.InstallCRDs(ctx, dir))
	// Applying again is a no-op.
	require.NoError(t, c.InstallCRDs(ctx, dir))

	dyn, err := dynamic.NewForConfig(c.Config())
	require.NoError(t, err)
	ns := c.Namespace(t)
	widget := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.nublado.io/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": int64(3)},
	}}
	gvr := schema.GroupVersionResource{Group: "example.nublado.io", Version: "v1", Resource: "widgets"}
	// Discovery of a new CRD can lag its Established condition briefly.
	waitFor(t, 30*time.Second, "Widget create", func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, widget, metav1.CreateOptions{})
		return err == nil, nil
	})

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), 0o600))
	err = c.InstallCRDs(ctx, bad)
	require.ErrorContains(t, err, "not a CustomResourceDefinition")
}

const widgetCRD = `
# A test CRD.
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.nublado.io
spec:
  group: example.nublado.io
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`

// TestRestartAPIServer runs last among the shared-cluster tests (file order)
// and checks that every component reconnects after the restart.
func TestRestartAPIServer(t *testing.T) {
	c := testcluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	require.NoError(t, c.RestartAPIServer(ctx))
	t.Logf("API server restarted in %s", time.Since(start))

	ns := c.Namespace(t)
	waitFor(t, time.Minute, "default ServiceAccount after restart", serviceAccountExists(c.Client(), ns))
	_, err := c.Client().CoreV1().Pods(ns).Create(ctx, newPod("after-restart", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, time.Minute, "pod Running after restart", podPhase(c.Client(), ns, "after-restart", corev1.PodRunning))
}

func TestStartFailsWithoutBinaries(t *testing.T) {
	_, err := testcluster.Start(context.Background(), testcluster.Options{BinDir: t.TempDir()})
	require.ErrorIs(t, err, testcluster.ErrBinariesMissing)
	assert.ErrorContains(t, err, "make cluster-bins")
	assert.ErrorContains(t, err, "kube-apiserver")
}

func TestFindBinDir(t *testing.T) {
	t.Setenv(testcluster.BinEnv, "/opt/bins")
	dir, err := testcluster.FindBinDir()
	require.NoError(t, err)
	assert.Equal(t, "/opt/bins", dir)

	t.Setenv(testcluster.BinEnv, "")
	dir, err = testcluster.FindBinDir()
	require.NoError(t, err)
	root, err := testcluster.RepoRoot()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, ".cache", "bin"), dir)
	_, err = os.Stat(filepath.Join(root, "deploy", "local", "build.sh"))
	assert.NoError(t, err, "RepoRoot must be the repository root, not deploy/local")
}

// TestAuditLog: a control plane started with Audit logs the requests of a
// service account, and only those.
func TestAuditLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := testcluster.Start(ctx, testcluster.Options{Audit: true, CRDDir: "-"})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })

	_, err = testcluster.Shared(t).Client().CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	admin := c.Client()
	_, err = admin.CoreV1().ServiceAccounts("default").Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "audited"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	tok, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "audited",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := rest.AnonymousClientConfig(c.Config())
	cfg.BearerToken = tok.Status.Token
	sa, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = sa.CoreV1().Pods("kube-system").Get(ctx, "nothing", metav1.GetOptions{})
	require.True(t, apierrors.IsForbidden(err), "RBAC refuses the service account: %v", err)

	events, err := c.AuditEvents("system:serviceaccount:default:audited")
	require.NoError(t, err)
	require.Len(t, events, 1, "only the service account's request: %+v", events)
	assert.Equal(t, testcluster.AuditEvent{
		User: "system:serviceaccount:default:audited", Verb: "get", Resource: "pods", Namespace: "kube-system",
		Name: "nothing", URI: "/api/v1/namespaces/kube-system/pods/nothing", Code: 403, Stage: "ResponseComplete",
	}, events[0])
	all, err := c.AuditEvents("")
	require.NoError(t, err)
	assert.Equal(t, events, all, "admin requests are not logged")

	_, err = testcluster.Shared(t).AuditEvents("")
	require.ErrorIs(t, err, testcluster.ErrNoAudit)
}
