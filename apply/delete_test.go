package apply_test

import (
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestDeleteLab deletes a whole lab and waits until its namespace is
// really gone (the namespace controller empties it first).
func TestDeleteLab(t *testing.T) {
	c := testcluster.Shared(t)
	a, rec := newApplier(t)
	ns := uniqueName("del")
	cleanupNamespace(t, ns)
	objs := lab(t, ns, "rachel")
	ctx := timeout(t, 2*time.Minute)
	_, err := a.Apply(ctx, objs)
	require.NoError(t, err, "Apply")

	rec.reset()
	began := time.Now()
	cs, err := a.Delete(ctx, objs, true, apply.GracePeriod(time.Second))
	require.NoError(t, err, "Delete")
	t.Logf("deleting the lab took %v", time.Since(began))
	require.Len(t, cs.Changes, len(objs))
	for _, ch := range cs.Changes {
		assert.Equal(t, apply.Deleted, ch.Action, "%s", ch.Object)
	}
	assert.Equal(t, "Pod "+ns+"/rachel-nb", cs.Changes[0].Object.String(), "pods first")
	assert.Equal(t, "Namespace "+ns, cs.Changes[len(cs.Changes)-1].Object.String(), "namespaces last")
	_, err = c.Client().CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "namespace gone: %v", err)
	for _, r := range rec.list() {
		assert.NotRegexp(t, `^GET [^?]*$`, r, "no polling reads")
	}

	cs, err = a.Delete(ctx, objs, true)
	require.NoError(t, err, "Delete again")
	for _, ch := range cs.Changes {
		assert.Equal(t, apply.Unchanged, ch.Action, "%s was already gone", ch.Object)
	}
}

// TestDeleteSelected deletes a file server's objects by label, the Job in
// the foreground.
func TestDeleteSelected(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	_, err := a.Apply(ctx, decode(t, `
apiVersion: batch/v1
kind: Job
metadata: {name: rachel-fs, namespace: `+ns+`, labels: {nublado.lsst.io/category: fileserver}}
spec:
  template:
    metadata:
      annotations: {`+testcluster.HoldAnnotation+`: "true"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Service
metadata: {name: rachel-fs, namespace: `+ns+`, labels: {nublado.lsst.io/category: fileserver}}
spec: {ports: [{port: 8000}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: `+ns+`}
spec: {ports: [{port: 8000}]}
`))
	require.NoError(t, err, "Apply")
	cs, err := a.DeleteSelected(ctx, apply.Selection{
		Namespace:     ns,
		LabelSelector: "nublado.lsst.io/category=fileserver",
		Kinds: []schema.GroupVersionKind{
			{Group: "batch", Version: "v1", Kind: "Job"},
			{Version: "v1", Kind: "Service"},
		},
	}, true)
	require.NoError(t, err, "DeleteSelected")
	assert.Equal(t, map[string]apply.Action{
		"Job " + ns + "/rachel-fs":     apply.Deleted,
		"Service " + ns + "/rachel-fs": apply.Deleted,
	}, actions(cs))
	pods, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, pods.Items, "the job's pod went first (foreground deletion)")
	_, err = c.Client().CoreV1().Services(ns).Get(ctx, "other", metav1.GetOptions{})
	assert.NoError(t, err, "unselected objects stay")
}
