package apply_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestApplyLab walks a lab through its life: creation in a new namespace,
// an identical re-apply, drift, immutable changes and pod changes.
func TestApplyLab(t *testing.T) {
	c := testcluster.Shared(t)
	a, rec := newApplier(t)
	ns := uniqueName("lab")
	cleanupNamespace(t, ns)
	objs := lab(t, ns, "rachel")
	ctx := timeout(t, 2*time.Minute)

	var created apply.ChangeSet
	// Discover the API first: discovery is cached for the Applier's life.
	_, err := a.Diff(ctx, objs[:1])
	require.NoError(t, err, "Diff")

	t.Run("creates", func(t *testing.T) {
		rec.reset()
		cs, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		require.Len(t, cs.Changes, len(objs))
		for _, ch := range cs.Changes {
			assert.Equal(t, apply.Created, ch.Action, "Apply: %s", ch.Object)
		}
		// Staged: the namespace first, the pod last.
		assert.Equal(t, "Namespace "+ns, cs.Changes[0].Object.String())
		assert.Equal(t, "Pod "+ns+"/rachel-nb", cs.Changes[len(cs.Changes)-1].Object.String())
		requests := rec.list()
		assertOrder(t, requests,
			"PATCH /api/v1/namespaces/"+ns+"?",
			"PATCH /api/v1/namespaces/"+ns+"/configmaps/rachel-nb-env?",
			"GET /api/v1/namespaces/"+ns+"/serviceaccounts?",
			"PATCH /api/v1/namespaces/"+ns+"/pods/rachel-nb?")
		assert.LessOrEqual(t, len(requests), 15, "requests for a new lab: %q", requests)
		gets := 0
		for _, r := range requests {
			if strings.HasPrefix(r, "GET ") && !strings.Contains(r, "watch=true") {
				gets++
				assert.Equal(t, "GET /api/v1/namespaces/"+ns, r, "only the namespace is read")
			}
		}
		assert.Equal(t, 1, gets, "the namespace is read once, nothing else: %q", requests)
		created = cs
	})

	t.Run("unchanged on re-apply", func(t *testing.T) {
		// The API server rewrites a PersistentVolumeClaim once on its first
		// update, even an empty merge patch (checked with kubectl), so the
		// first re-apply may report it configured; from then on nothing
		// is written.
		cs, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		require.Len(t, cs.Changes, len(objs))
		for i, ch := range cs.Changes {
			if ch.Object.Kind == "PersistentVolumeClaim" {
				continue
			}
			assert.Equal(t, apply.Unchanged, ch.Action, "Apply: %s", ch.Object)
			// The pod and the quota have moved on since they were created
			// (scheduler, quota controller); the others must not have.
			if ch.Object.Kind != "Pod" && ch.Object.Kind != "ResourceQuota" {
				assert.Equal(t, created.Changes[i].Result.GetResourceVersion(), ch.Result.GetResourceVersion(),
					"resourceVersion of %s", ch.Object)
			}
		}
		again, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		require.Len(t, again.Changes, len(objs))
		for i, ch := range again.Changes {
			assert.Equal(t, apply.Unchanged, ch.Action, "Apply: %s", ch.Object)
			if ch.Object.Kind != "Pod" && ch.Object.Kind != "ResourceQuota" {
				assert.Equal(t, cs.Changes[i].Result.GetResourceVersion(), ch.Result.GetResourceVersion(),
					"resourceVersion of %s", ch.Object)
			}
		}
		// Re-read the pod: the apply's answer is its current version.
		pod, err := c.Client().CoreV1().Pods(ns).Get(ctx, "rachel-nb", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, again.Changes[len(again.Changes)-1].Result.GetResourceVersion(), pod.ResourceVersion)
	})

	t.Run("configures on drift", func(t *testing.T) {
		// Someone edits the service and the network policy by hand.
		_, err := c.Client().CoreV1().Services(ns).Patch(ctx, "lab", types.MergePatchType,
			[]byte(`{"spec":{"selector":{"nublado.lsst.io/user":"mallory"}}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
		require.NoError(t, err)
		cs, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		assert.Equal(t, apply.Configured, actions(cs)["Service "+ns+"/lab"])
		assert.Equal(t, 1, cs.Count(apply.Configured), "only the service changed: %s", cs)
		svc, err := c.Client().CoreV1().Services(ns).Get(ctx, "lab", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "rachel", svc.Spec.Selector["nublado.lsst.io/user"])
	})

	t.Run("force-recreates immutable", func(t *testing.T) {
		before, err := c.Client().CoreV1().ConfigMaps(ns).Get(ctx, "rachel-nb-env", metav1.GetOptions{})
		require.NoError(t, err)
		changed := clone(objs)
		env := find(t, changed, "ConfigMap", "rachel-nb-env")
		require.NoError(t, unstructured.SetNestedField(env.Object, "2.0", "data", "CPU_LIMIT"))
		sec := find(t, changed, "Secret", "rachel-nb")
		require.NoError(t, unstructured.SetNestedField(sec.Object, "bmV3LXRva2Vu", "data", "token"))
		cs, err := a.Apply(ctx, changed)
		require.NoError(t, err, "Apply")
		got := actions(cs)
		assert.Equal(t, apply.Recreated, got["ConfigMap "+ns+"/rachel-nb-env"])
		assert.Equal(t, apply.Recreated, got["Secret "+ns+"/rachel-nb"])
		assert.Equal(t, apply.Unchanged, got["ConfigMap "+ns+"/rachel-nb-nss"])
		after, err := c.Client().CoreV1().ConfigMaps(ns).Get(ctx, "rachel-nb-env", metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotEqual(t, before.UID, after.UID, "a new ConfigMap")
		assert.Equal(t, "2.0", after.Data["CPU_LIMIT"])
		objs = changed
	})

	t.Run("pod spec change needs Recreate", func(t *testing.T) {
		changed := clone(objs)
		pod := find(t, changed, "Pod", "rachel-nb")
		containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
		containers[0].(map[string]any)["workingDir"] = "/tmp"
		require.NoError(t, unstructured.SetNestedSlice(pod.Object, containers, "spec", "containers"))

		cs, err := a.Apply(ctx, changed)
		var oe *apply.ObjectError
		require.ErrorAs(t, err, &oe, "Apply with a changed pod spec")
		assert.Equal(t, http.StatusUnprocessableEntity, oe.Status)
		assert.Equal(t, "updating object", oe.Op)
		assert.Equal(t, "Pod "+ns+"/rachel-nb", oe.Object.String())
		assert.Contains(t, oe.Message, "pod updates may not change fields")
		assert.Len(t, cs.Changes, len(objs)-1, "everything but the pod was applied")

		before, err := c.Client().CoreV1().Pods(ns).Get(ctx, "rachel-nb", metav1.GetOptions{})
		require.NoError(t, err)
		cs, err = a.Apply(ctx, changed, apply.Recreate())
		require.NoError(t, err, "Apply(Recreate)")
		assert.Equal(t, apply.Recreated, actions(cs)["Pod "+ns+"/rachel-nb"])
		after, err := c.Client().CoreV1().Pods(ns).Get(ctx, "rachel-nb", metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotEqual(t, before.UID, after.UID)
		assert.Equal(t, "/tmp", after.Spec.Containers[0].WorkingDir)
	})
}

// TestApplyServiceAccountWait applies a pod whose ServiceAccount appears
// only later, in a namespace that already exists: admission refuses the
// pod, Apply waits for the account with a watch and applies it again.
func TestApplyServiceAccountWait(t *testing.T) {
	c := testcluster.Shared(t)
	a, rec := newApplier(t)
	ns := c.Namespace(t)
	objs := decode(t, `
apiVersion: v1
kind: Pod
metadata: {name: sa-pod, namespace: `+ns+`}
spec:
  serviceAccountName: late
  containers: [{name: c, image: busybox}]
`)
	ctx := timeout(t, time.Minute)
	began := time.Now() // before the ServiceAccount's delay starts
	go func() {
		time.Sleep(time.Second)
		_, err := c.Client().CoreV1().ServiceAccounts(ns).Create(context.Background(),
			newServiceAccount("late"), metav1.CreateOptions{})
		if err != nil {
			t.Errorf("creating ServiceAccount: %v", err)
		}
	}()
	cs, err := a.Apply(ctx, objs)
	require.NoError(t, err, "Apply")
	assert.GreaterOrEqual(t, time.Since(began), time.Second)
	assert.Equal(t, apply.Created, cs.Changes[0].Action)
	assert.Equal(t, 1, rec.count("GET /api/v1/namespaces/"+ns+"/serviceaccounts?"), "one watch: %q", rec.list())
}

// TestApplyTakeOver adopts objects written with plain creates by another
// field manager (as the Python controller wrote them): afterwards nublado
// owns what it sets, fields it no longer sets are gone, and fields of
// unrelated managers stay.
func TestApplyTakeOver(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	legacy := decode(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: env
  namespace: `+ns+`
  labels: {nublado.lsst.io/category: lab, legacy: "yes"}
data: {A: "1", OLD: "gone soon"}
---
apiVersion: v1
kind: Service
metadata: {name: lab, namespace: `+ns+`, labels: {nublado.lsst.io/category: lab, legacy: "yes"}}
spec:
  ports: [{name: lab, port: 8888, targetPort: 8888}, {name: extra, port: 9999}]
  selector: {app: lab}
---
apiVersion: v1
kind: Pod
metadata: {name: lab, namespace: `+ns+`, labels: {nublado.lsst.io/category: lab, legacy: "yes"}}
spec:
  containers: [{name: c, image: busybox}]
`)
	for _, obj := range legacy {
		createAs(t, ctx, obj, "OpenAPI-Generator")
	}
	// An unrelated controller annotates the service.
	_, err := c.Client().CoreV1().Services(ns).Patch(ctx, "lab", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"example.org/owner":"kopf"}}}`), metav1.PatchOptions{FieldManager: "kopf"})
	require.NoError(t, err)

	desired := decode(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: env
  namespace: `+ns+`
  labels: {nublado.lsst.io/category: lab}
data: {A: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: lab, namespace: `+ns+`, labels: {nublado.lsst.io/category: lab}}
spec:
  ports: [{name: lab, port: 8888, targetPort: 8888}]
  selector: {app: lab}
---
apiVersion: v1
kind: Pod
metadata: {name: lab, namespace: `+ns+`, labels: {nublado.lsst.io/category: lab}}
spec:
  containers: [{name: c, image: busybox}]
`)
	cs, err := a.Apply(ctx, desired)
	require.NoError(t, err, "Apply")
	for _, ch := range cs.Changes {
		assert.Equal(t, apply.Configured, ch.Action, "%s", ch.Object)
	}

	cm, err := c.Client().CoreV1().ConfigMaps(ns).Get(ctx, "env", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"A": "1"}, cm.Data)
	assert.Equal(t, map[string]string{"nublado.lsst.io/category": "lab"}, cm.Labels)
	assert.Equal(t, []string{"nublado/Apply"}, managers(cm.ManagedFields))

	svc, err := c.Client().CoreV1().Services(ns).Get(ctx, "lab", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(8888), svc.Spec.Ports[0].Port)
	assert.NotContains(t, svc.Labels, "legacy")
	assert.Equal(t, "kopf", svc.Annotations["example.org/owner"], "the unrelated manager's field stays")
	assert.Equal(t, []string{"kopf/Update", "nublado/Apply"}, managers(svc.ManagedFields))

	pod, err := c.Client().CoreV1().Pods(ns).Get(ctx, "lab", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, pod.Labels, "legacy")
	assert.NotContains(t, managers(pod.ManagedFields), "OpenAPI-Generator/Update")

	// And from now on a re-apply is a no-op.
	cs, err = a.Apply(ctx, desired)
	require.NoError(t, err, "Apply")
	for _, ch := range cs.Changes {
		assert.Equal(t, apply.Unchanged, ch.Action, "%s", ch.Object)
	}
}

// TestApplyInvalid checks the typed error for an object the API server
// rejects.
func TestApplyInvalid(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	objs := decode(t, `
apiVersion: v1
kind: Service
metadata: {name: ok, namespace: `+ns+`}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: `+ns+`}
spec:
  restartPolicy: Sometimes
  containers: [{name: c, image: busybox}]
`)
	cs, err := a.Apply(timeout(t, time.Minute), objs)
	var oe *apply.ObjectError
	require.ErrorAs(t, err, &oe, "Apply(invalid pod)")
	assert.Equal(t, "creating object", oe.Op)
	assert.Equal(t, apply.ObjectRef{Kind: "Pod", Namespace: ns, Name: "bad"}, oe.Object)
	assert.Equal(t, http.StatusUnprocessableEntity, oe.Status)
	assert.Contains(t, oe.Message, `spec.restartPolicy: Unsupported value: "Sometimes"`)
	assert.True(t, strings.HasPrefix(err.Error(), "Error creating object (Pod "+ns+"/bad, status 422): Pod \"bad\" is invalid"), err.Error())
	assert.Equal(t, map[string]apply.Action{"Service " + ns + "/ok": apply.Created}, actions(cs))

	// A missing namespace is the API's 404, not retried.
	_, err = a.Apply(timeout(t, time.Minute), decode(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: no-such-namespace}
`))
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusNotFound, oe.Status)
	assert.Equal(t, `Error creating object (ConfigMap no-such-namespace/x, status 404): namespaces "no-such-namespace" not found`, err.Error())
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// TestApplyCRD applies a CRD and an object of its kind in one set.
func TestApplyCRD(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	group := strings.ReplaceAll(uniqueName("t"), "-", "") + ".example.org"
	objs := decode(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.`+group+`}
spec:
  group: `+group+`
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
---
apiVersion: `+group+`/v1
kind: Widget
metadata: {name: w, namespace: `+ns+`}
spec: {size: 3}
`)
	t.Cleanup(func() {
		_, err := a.Delete(context.Background(), objs[:1], false)
		assert.NoError(t, err)
	})
	cs, err := a.Apply(timeout(t, time.Minute), objs)
	require.NoError(t, err, "Apply(CRD and CR)")
	assert.Equal(t, map[string]apply.Action{
		"CustomResourceDefinition widgets." + group: apply.Created,
		"Widget " + ns + "/w":                       apply.Created,
	}, actions(cs))
	size, _, _ := unstructured.NestedInt64(cs.Changes[1].Result.Object, "spec", "size")
	assert.Equal(t, int64(3), size)
}

// assertOrder checks that requests starting with each prefix appear, in
// that order.
func assertOrder(t *testing.T, requests []string, prefixes ...string) {
	t.Helper()
	last := -1
	for _, p := range prefixes {
		i := slices.IndexFunc(requests, func(r string) bool { return strings.HasPrefix(r, p) })
		if !assert.GreaterOrEqual(t, i, 0, "no request %q in %q", p, requests) {
			return
		}
		assert.Greater(t, i, last, "request %q out of order in %q", p, requests)
		last = i
	}
}

// clone deep-copies objects.
func clone(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}
