package labs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/testcluster"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/labs"
	"github.com/nublado-go/nublado/server/metrics"
)

// held keeps lab pods Pending (kwok does not start them) until released.
func held(cfg *nschema.Config) {
	cfg.Lab.ExtraAnnotations = map[string]string{testcluster.HoldAnnotation: "true"}
}

// TestRestartAdopts: a second manager on the same cluster rebuilds the
// first one's state exactly (user, name, groups, quota, size, options,
// internal URL), counts the running labs, and monitors a lab it finds
// pending until it runs.
func TestRestartAdopts(t *testing.T) {
	t.Parallel()
	h1 := newHarness(t, harnessOptions{configure: held})
	ctx := context.Background()
	rachel := newUser("rachel", 1101)
	wanda := newUser("wanda", 1300)
	wanda.Name, wanda.Quota = nil, nil
	wandaReq := createRequest(wanda)
	wandaReq.Size, wandaReq.EnableDebug, wandaReq.ResetUserEnv = "medium", true, true

	h1.create(rachel)
	h1.waitEvent("rachel", 30)
	require.NoError(t, h1.c.ReleasePod(ctx, h1.cfg.LabNamespace("rachel"), "rachel-nb"))
	requireComplete(t, h1.events("rachel", time.Minute))
	require.NoError(t, h1.m.Create(ctx, wandaReq))
	h1.waitEvent("wanda", 30)

	before := map[string]*nublado.LabState{}
	for _, u := range []string{"rachel", "wanda"} {
		s, err := h1.m.State(ctx, u)
		require.NoError(t, err)
		before[u] = s
	}
	h1.m.Stop()

	reg := prometheus.NewRegistry()
	met := metrics.New(reg)
	h2 := newHarness(t, harnessOptions{from: h1, opts: []labs.Option{labs.WithMetrics(met)}})
	assert.Equal(t, 1.0, testutil.ToFloat64(met.ActiveLabs), "active labs after the start")
	assert.Equal(t, []string{"rachel"}, h2.m.Running(ctx))
	after, err := h2.m.State(ctx, "rachel")
	require.NoError(t, err)
	assert.Equal(t, before["rachel"], after, "rachel's state rebuilt from Kubernetes")
	after, err = h2.m.State(ctx, "wanda")
	require.NoError(t, err)
	assert.Equal(t, before["wanda"], after, "wanda's state rebuilt from Kubernetes")
	assert.Equal(t, nublado.LabPending, after.Status)
	assert.Equal(t, nublado.LabSize("medium"), after.Options.Size)
	assert.Contains(t, h2.log.String(), "Creating record for user rachel from Kubernetes")

	r, err := h2.m.Events(ctx, "wanda")
	require.NoError(t, err)
	first, err := r.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, nublado.Event{Type: nublado.EventInfo, Message: "Monitoring in-progress lab creation for wanda", Progress: 1}, first)
	require.NoError(t, h2.c.ReleasePod(ctx, h2.cfg.LabNamespace("wanda"), "wanda-nb"))
	requireComplete(t, h2.events("wanda", time.Minute))
	assert.Equal(t, nublado.LabRunning, h2.status("wanda"))
	assert.Equal(t, 1.0, testutil.ToFloat64(met.Spawns.WithLabelValues(metrics.Success)), "monitoring counts as a spawn")

	require.NoError(t, h2.m.Delete(ctx, "rachel"), "the second manager deletes the first one's lab")
	assert.False(t, h2.namespaceExists("rachel"))
}

// TestReconcileReapsFailedLab: a lab whose pod failed is terminated at
// once (informer) and deleted by the next reconcile.
func TestReconcileReapsFailedLab(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	requireComplete(t, h.spawn(newUser("rachel", 1101)))
	before, err := h.m.State(context.Background(), "rachel")
	require.NoError(t, err)
	require.NoError(t, h.m.Reconcile(context.Background()))
	after, err := h.m.State(context.Background(), "rachel")
	require.NoError(t, err)
	assert.Equal(t, before, after, "a reconcile leaves a healthy lab alone")

	h.setPodPhase("rachel", corev1.PodFailed)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })
	require.NoError(t, h.m.Reconcile(context.Background()))
	assert.Equal(t, []string{
		"info: Shutting down Kubernetes pod (25)",
		"info: Deleting user namespace (62)",
		"info: Lab for rachel deleted (100)",
	}, messages(h.events("rachel", time.Minute)))
	_, err = h.m.State(context.Background(), "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "reaped")
	assert.False(t, h.namespaceExists("rachel"))
}

// TestReconcileNamespaces (decision D9): a namespace with the prefix but
// without the lab label is never deleted, adopted or used for a lab; a
// labelled namespace without a lab in it is deleted.
func TestReconcileNamespaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	nss := h.c.Client().CoreV1().Namespaces()
	_, err := nss.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.cfg.LabNamespace("mallory")}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = nss.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.cfg.LabNamespace("ghost"),
		Labels: map[string]string{labs.LabelCategory: labs.CategoryLab, labs.LabelUser: "ghost"}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// Reconcile until the informer has seen the new namespace.
	waitFor(t, "the incomplete namespace deleted", func() bool {
		require.NoError(t, h.m.Reconcile(ctx))
		return strings.Contains(h.log.String(), "Deleting incomplete namespace")
	})
	ghost, err := nss.Get(ctx, h.cfg.LabNamespace("ghost"), metav1.GetOptions{})
	if err == nil {
		assert.NotNil(t, ghost.DeletionTimestamp, "the incomplete lab namespace is being deleted")
	}
	mallory, err := nss.Get(ctx, h.cfg.LabNamespace("mallory"), metav1.GetOptions{})
	require.NoError(t, err, "the unlabelled namespace still exists")
	assert.Nil(t, mallory.DeletionTimestamp)

	evs := h.spawn(newUser("mallory", 1600))
	ns := h.cfg.LabNamespace("mallory")
	assert.Equal(t, []string{
		"info: Starting lab creation for mallory (1)",
		`error: Error creating namespace (Namespace ` + ns + `, status 409): namespaces "` + ns + `" already exists (0)`,
		"failed: Lab spawn failed (0)",
	}, messages(evs))
	require.NoError(t, h.m.Delete(ctx, "mallory"), "deleting the failed lab")
	mallory, err = nss.Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err, "the unlabelled namespace survives the lab's deletion")
	assert.Nil(t, mallory.DeletionTimestamp)
	assert.NotContains(t, mallory.Labels, labs.LabelCategory, "nublado never labels it")
}

// TestAdoptPythonLab: a lab created by the Python controller (plain
// creates, no field manager nublado) is adopted at start with its exact
// state, and deleted like any other.
func TestAdoptPythonLab(t *testing.T) {
	t.Parallel()
	base := newHarness(t, harnessOptions{noStart: true})
	ctx := context.Background()
	user := newUser("pyuser", 1700)
	req := createRequest(user)
	in, err := base.cfg.LabInput(nschema.Environment{ControllerImage: nschema.ContainerImage{
		Repository: "ghcr.io/lsst-sqre/nublado", Tag: "11.0.0", PullPolicy: "IfNotPresent"}},
		nschema.LabRequest{
			User: user, Token: req.Token, Size: req.Size, Env: req.Env, Namespace: base.ns,
			Image: nschema.LabImage{Reference: imageRef + ":w_2077_43", Digest: digests["w_2077_43"], DisplayName: "Weekly 2077_43"},
			Secrets: map[string]map[string][]byte{
				"nublado-secret": {"butler-secret": []byte("b")}, "extra-secret": {"db-password": []byte("p")},
			},
			PullSecret: &nschema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		})
	require.NoError(t, err)
	objs, err := labRenderer(t, base.cfg, false).Render("lab", in)
	require.NoError(t, err)
	createPlainly(t, base, objs)
	waitPodRunning(t, base, "pyuser")

	h := newHarness(t, harnessOptions{from: base})
	state, err := h.m.State(ctx, "pyuser")
	require.NoError(t, err)
	url := "http://lab." + h.cfg.LabNamespace("pyuser") + ":8888/nb/user/pyuser/"
	assert.Equal(t, &nublado.LabState{
		User:    nublado.UserInfo{Username: "pyuser", Name: user.Name, UID: 1700, GID: 1700, Groups: user.Groups},
		Options: nublado.LabOptions{Size: "small", Image: imageRef + ":w_2077_43@" + digests["w_2077_43"]},
		Status:  nublado.LabRunning, InternalURL: &url,
		Resources: nublado.LabResources{
			Limits:   nublado.ResourceAmounts{CPU: 1, Memory: 3 << 30},
			Requests: nublado.ResourceAmounts{CPU: 0.25, Memory: 3 << 28},
		},
		Quota: &nublado.ResourceAmounts{CPU: 9, Memory: 28991029248},
	}, state, "adopted state")
	require.NoError(t, h.m.Delete(ctx, "pyuser"))
	assert.False(t, h.namespaceExists("pyuser"))
}

// createPlainly creates objects as the Python controller did: plain
// creates in order, with its client's field manager, retrying the pod
// until the namespace's default ServiceAccount exists.
func createPlainly(t *testing.T, h *harness, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	opts := metav1.CreateOptions{FieldManager: "OpenAPI-Generator"}
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resourceOf(gvk.Kind)}
		ri := h.dyn.Resource(gvr)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var err error
			if obj.GetNamespace() == "" {
				_, err = ri.Create(ctx, obj, opts)
			} else {
				_, err = ri.Namespace(obj.GetNamespace()).Create(ctx, obj, opts)
			}
			if err == nil {
				break
			}
			require.True(t, time.Now().Before(deadline), "creating %s %s: %v", gvk.Kind, obj.GetName(), err)
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func resourceOf(kind string) string {
	switch kind {
	case "NetworkPolicy":
		return "networkpolicies"
	case "ResourceQuota":
		return "resourcequotas"
	}
	return map[string]string{"Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets",
		"Service": "services", "Pod": "pods", "PersistentVolumeClaim": "persistentvolumeclaims"}[kind]
}

// waitPodRunning waits (reading the API) until a user's lab pod runs.
func waitPodRunning(t *testing.T, h *harness, user string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pod, err := h.c.Client().CoreV1().Pods(h.cfg.LabNamespace(user)).Get(context.Background(), user+"-nb", metav1.GetOptions{})
		if err == nil && pod.Status.Phase == corev1.PodRunning {
			return
		}
		require.True(t, time.Now().Before(deadline), "pod of %s not running: %v", user, err)
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWatchReconnect: with a short watchReconnectTimeout the informers'
// watches end and are started again, and pod changes are still seen.
func TestWatchReconnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: func(cfg *nschema.Config) { cfg.WatchReconnectTimeout = time.Second }})
	requireComplete(t, h.spawn(newUser("rachel", 1101)))
	watches := h.calls.Snapshot()["WATCH"]
	time.Sleep(3 * time.Second)
	assert.GreaterOrEqual(t, h.calls.Snapshot()["WATCH"]-watches, 8, "watch requests in 3 s with a 1 s timeout and 4 informers")
	h.setPodPhase("rachel", corev1.PodSucceeded)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })
}

// TestSilentWatch: a watch that the server never ends (timeoutSeconds
// dropped on the way) is cut by the client within watchReconnectTimeout
// (kwatch.Lifetime) and started again.
func TestSilentWatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{noStart: true, configure: func(cfg *nschema.Config) { cfg.WatchReconnectTimeout = time.Second }})
	h.silentWatches.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, h.m.Start(ctx))
	requireComplete(t, h.spawn(newUser("rachel", 1101)))
	watches := h.calls.Snapshot()["WATCH"]
	time.Sleep(5 * time.Second)
	assert.GreaterOrEqual(t, h.calls.Snapshot()["WATCH"]-watches, 4, "watch requests in 5 s, cut after 1 s, 4 informers")
	h.setPodPhase("rachel", corev1.PodSucceeded)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })
}

// TestAPIServerRestart: after the API server restarts, the informers
// resume and the manager sees pod changes and deletes labs. It restarts
// the shared API server, so it does not run in parallel with other tests.
func TestAPIServerRestart(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	requireComplete(t, h.spawn(newUser("rachel", 1101)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, h.c.RestartAPIServer(ctx))
	// The namespace deletion below and the tests after this one need
	// kube-controller-manager's caches current (see RestartControllers).
	require.NoError(t, h.c.RestartControllers(ctx))
	h.setPodPhase("rachel", corev1.PodSucceeded)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })
	require.NoError(t, h.m.Delete(ctx, "rachel"))
	assert.False(t, h.namespaceExists("rachel"))
}
