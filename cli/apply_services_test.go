package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// gafaelfawrIngresses is the resource of deploy/crds/gafaelfawringress.yaml.
var gafaelfawrIngresses = schema.GroupVersionResource{
	Group: "gafaelfawr.lsst.io", Version: "v1alpha1", Resource: "gafaelfawringresses",
}

// controllerPod stands for the controller's own pod, the owner of prepull
// pods.
const controllerPod = `apiVersion: v1
kind: Pod
metadata: {name: nublado-controller, namespace: nublado}
spec:
  containers: [{name: controller, image: ghcr.io/lsst-sqre/nublado:15.1.0}]
`

// TestApplyServices applies rendered file-server, fsadmin and prepull
// objects to a local control plane with the GafaelfawrIngress CRD of
// deploy/crds installed: the API server accepts every object, a second
// apply changes nothing, and the GafaelfawrIngress keeps every field the
// template wrote.
func TestApplyServices(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcluster.Start(ctx, testcluster.Options{Nodes: testcluster.DefaultNodes(1)})
	require.NoError(t, err, "starting the local control plane")
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	kc := c.Kubeconfig()
	t.Setenv("NUBLADO_CONTROLLER_REPOSITORY", "ghcr.io/lsst-sqre/nublado")
	t.Setenv("NUBLADO_CONTROLLER_TAG", "15.1.0")
	t.Setenv("NUBLADO_CONTROLLER_PULL_POLICY", "IfNotPresent")

	namespaces := "apiVersion: v1\nkind: Namespace\nmetadata: {name: fileservers}\n---\n" +
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: nublado}\n---\n" + controllerPod
	var out, errb strings.Builder
	code := Execute(ctx, []string{"apply", "-f", "-", "--kubeconfig", kc}, strings.NewReader(namespaces), &out, &errb)
	require.Equal(t, ExitOK, code, "apply namespaces and controller pod: stderr %q", errb.String())
	pod, err := c.Client().CoreV1().Pods("nublado").Get(ctx, "nublado-controller", metav1.GetOptions{})
	require.NoError(t, err)
	f := writeServiceFiles(t, pod.Name, string(pod.UID))

	services := map[string]struct {
		args    []string
		objects []string
	}{
		"fileserver": {
			args: []string{"--user", f.user},
			objects: []string{"PersistentVolumeClaim fileservers/hypatia-fs-pvc-scratch", "GafaelfawrIngress fileservers/hypatia-fs",
				"Service fileservers/hypatia-fs", "Job fileservers/hypatia-fs"},
		},
		"fsadmin": {
			args:    []string{"--namespace", "nublado"},
			objects: []string{"PersistentVolumeClaim nublado/fsadmin-pvc-scratch", "Pod nublado/fsadmin"},
		},
		"prepull": {
			args: []string{"--metadata", f.metadata, "--node", "kwok-node-0",
				"--image", "registry.example.org/sciplat/lab:w_2077_43@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
			objects: []string{"Pod nublado/prepull-w-2077-43-kwok-node-0"},
		},
	}
	for _, name := range []string{"fileserver", "fsadmin", "prepull"} {
		s := services[name]
		args := append([]string{name, "--strict", "--config", f.config, "--kubeconfig", kc}, s.args...)
		lines := func(action string) string {
			var b strings.Builder
			for _, o := range s.objects {
				b.WriteString(o + " " + action + "\n")
			}
			return b.String()
		}
		code, out, stderr := execute(ctx, append([]string{"diff"}, args...)...)
		assert.Equal(t, exitDiffChanges, code, "diff %s before apply: stderr %q", name, stderr)
		assert.Contains(t, out, "+++ "+s.objects[0]+" (created)\n", "diff %s", name)

		code, out, stderr = execute(ctx, append([]string{"apply"}, args...)...)
		require.Equal(t, ExitOK, code, "apply %s: stderr %q", name, stderr)
		assert.Equal(t, lines("created"), out, "apply %s", name)
		// The API server rewrites a PersistentVolumeClaim once on its first
		// update (see apply's tests), so the first re-apply may report it
		// configured; the second changes nothing at all.
		code, out, stderr = execute(ctx, append([]string{"apply"}, args...)...)
		require.Equal(t, ExitOK, code, "apply %s again: stderr %q", name, stderr)
		got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		require.Len(t, got, len(s.objects), "apply %s again: %q", name, out)
		for i, o := range s.objects {
			if strings.HasPrefix(o, "PersistentVolumeClaim ") {
				assert.Contains(t, []string{o + " unchanged", o + " configured"}, got[i], "apply %s again", name)
				continue
			}
			assert.Equal(t, o+" unchanged", got[i], "apply %s again", name)
		}

		code, out, stderr = execute(ctx, append([]string{"apply"}, args...)...)
		require.Equal(t, ExitOK, code, "apply %s a third time: stderr %q", name, stderr)
		assert.Equal(t, lines("unchanged"), out, "apply %s a third time", name)
		code, out, stderr = execute(ctx, append([]string{"diff"}, args...)...)
		assert.Equal(t, exitDiffNone, code, "diff %s after apply: stderr %q", name, stderr)
		assert.Empty(t, out, "diff %s after apply", name)
	}

	t.Run("GafaelfawrIngressKeepsFields", func(t *testing.T) {
		code, out, stderr := execute(ctx, "render", "fileserver", "--config", f.config, "--user", f.user, "-o", "json")
		require.Equal(t, ExitOK, code, "render fileserver: stderr %q", stderr)
		var objs []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &objs))
		rendered := objs[1]
		require.Equal(t, "GafaelfawrIngress", rendered["kind"])
		dyn, err := dynamic.NewForConfig(c.Config())
		require.NoError(t, err)
		live, err := dyn.Resource(gafaelfawrIngresses).Namespace("fileservers").Get(ctx, "hypatia-fs", metav1.GetOptions{})
		require.NoError(t, err)
		for _, field := range []string{"config", "template"} {
			data, err := json.Marshal(live.Object[field])
			require.NoError(t, err)
			var got any
			require.NoError(t, json.Unmarshal(data, &got))
			assert.Equal(t, rendered[field], got, "GafaelfawrIngress %s: rendered vs stored", field)
		}
	})

	t.Run("PrepullOwner", func(t *testing.T) {
		p, err := c.Client().CoreV1().Pods("nublado").Get(ctx, "prepull-w-2077-43-kwok-node-0", metav1.GetOptions{})
		require.NoError(t, err)
		require.Len(t, p.OwnerReferences, 1)
		assert.Equal(t, pod.UID, p.OwnerReferences[0].UID, "prepull pod's owner")
		assert.Equal(t, "kwok-node-0", p.Spec.NodeName)
	})

	t.Run("CRDRejectsInvalid", func(t *testing.T) {
		bad := `{"apiVersion": "gafaelfawr.lsst.io/v1alpha1", "kind": "GafaelfawrIngress",
			"metadata": {"name": "bad", "namespace": "fileservers"},
			"config": {"baseUrl": "https://example.org", "scopes": {"all": ["read:all"]}, "authType": "digest"},
			"template": {"metadata": {"name": "bad"}, "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix"}]}}]}}}`
		var out, errb strings.Builder
		code := Execute(ctx, []string{"apply", "-f", "-", "--kubeconfig", kc}, strings.NewReader(bad), &out, &errb)
		assert.Equal(t, ExitFailure, code, "apply of an invalid GafaelfawrIngress")
		assert.Contains(t, errb.String(), "status 422")
		assert.Contains(t, errb.String(), "config.authType")
		assert.Contains(t, errb.String(), "backend")
	})
}
