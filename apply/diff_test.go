package apply_test

import (
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDiff(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	objs := decode(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: `+ns+`, labels: {app: lab}}
data:
  a: "1"
  b: "2"
  c: "3"
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: `+ns+`}
data: {password: c2VjcmV0, user: cmFjaGVs}
`)

	t.Run("new objects", func(t *testing.T) {
		d, err := a.Diff(ctx, objs)
		require.NoError(t, err, "Diff")
		assert.True(t, d.Changed())
		want := `--- ConfigMap ` + ns + `/settings (live)
+++ ConfigMap ` + ns + `/settings (created)
@@ -0,0 +1,11 @@
+apiVersion: v1
+data:
+  a: "1"
+  b: "2"
+  c: "3"
+kind: ConfigMap
+metadata:
+  labels:
+    app: lab
+  name: settings
+  namespace: ` + ns + `
--- Secret ` + ns + `/creds (live)
+++ Secret ` + ns + `/creds (created)
@@ -0,0 +1,9 @@
+apiVersion: v1
+data:
+  password: '***'
+  user: '***'
+kind: Secret
+metadata:
+  name: creds
+  namespace: ` + ns + `
+type: Opaque
`
		assert.Equal(t, want, d.String(), "Diff: -want +got")
		assert.Equal(t, apply.Created, d.Objects[0].Action)
	})

	_, err := a.Apply(ctx, objs)
	require.NoError(t, err, "Apply")

	t.Run("unchanged", func(t *testing.T) {
		d, err := a.Diff(ctx, objs)
		require.NoError(t, err, "Diff")
		assert.False(t, d.Changed())
		assert.Empty(t, d.String())
		for _, o := range d.Objects {
			assert.Equal(t, apply.Unchanged, o.Action, "%s", o.Object)
		}
	})

	t.Run("changes", func(t *testing.T) {
		changed := clone(objs)
		require.NoError(t, unstructured.SetNestedField(changed[0].Object, "two", "data", "b"))
		require.NoError(t, unstructured.SetNestedField(changed[1].Object, "aHVudGVyMg==", "data", "password"))
		d, err := a.Diff(ctx, changed)
		require.NoError(t, err, "Diff")
		assert.True(t, d.Changed())
		want := `--- ConfigMap ` + ns + `/settings (live)
+++ ConfigMap ` + ns + `/settings (configured)
@@ -1,7 +1,7 @@
 apiVersion: v1
 data:
   a: "1"
-  b: "2"
+  b: two
   c: "3"
 kind: ConfigMap
 metadata:
--- Secret ` + ns + `/creds (live)
+++ Secret ` + ns + `/creds (configured)
@@ -1,6 +1,6 @@
 apiVersion: v1
 data:
-  password: '*** (before)'
+  password: '*** (after)'
   user: '***'
 kind: Secret
 metadata:
`
		assert.Equal(t, want, d.String(), "Diff: -want +got")
		// Nothing was applied.
		d, err = a.Diff(ctx, objs)
		require.NoError(t, err, "Diff")
		assert.False(t, d.Changed())
	})

	t.Run("new namespace", func(t *testing.T) {
		fresh := uniqueName("diff")
		d, err := a.Diff(ctx, decode(t, `
apiVersion: v1
kind: Namespace
metadata: {name: `+fresh+`}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: `+fresh+`}
data: {k: v}
`))
		require.NoError(t, err, "Diff")
		require.Len(t, d.Objects, 2)
		assert.Equal(t, apply.Created, d.Objects[0].Action)
		assert.Equal(t, apply.Created, d.Objects[1].Action)
		assert.Contains(t, d.Objects[1].Diff, "+  k: v\n")
	})
}
