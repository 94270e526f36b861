package devstack_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// TestSeed: the controller namespace, a stand-in controller pod whose
// metadata files are written, the pull secret and the node images; seeding
// twice changes nothing.
func TestSeed(t *testing.T) {
	c := testcluster.Shared(t)
	s := startStack(t)
	ctx := context.Background()
	meta := filepath.Join(t.TempDir(), "podinfo")
	opts := devstack.SeedOptions{Namespace: "seed-controller", MetadataDir: meta, PullSecret: "pull-secret"}
	require.NoError(t, s.Seed(ctx, c.Client(), opts))
	t.Cleanup(func() {
		_ = c.Client().CoreV1().Namespaces().Delete(context.Background(), "seed-controller", metav1.DeleteOptions{})
	})

	pod, err := c.Client().CoreV1().Pods("seed-controller").Get(ctx, "nublado-controller", metav1.GetOptions{})
	require.NoError(t, err)
	for file, want := range map[string]string{"name": "nublado-controller", "namespace": "seed-controller", "uid": string(pod.UID)} {
		got, err := os.ReadFile(filepath.Join(meta, file))
		require.NoError(t, err)
		assert.Equal(t, want, strings.TrimSpace(string(got)), "metadata file %s", file)
	}

	secret, err := c.Client().CoreV1().Secrets("seed-controller").Get(ctx, "pull-secret", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeDockerConfigJson, secret.Type)
	creds, err := images.ParseDockerCredentials(secret.Data[corev1.DockerConfigJsonKey])
	require.NoError(t, err)
	user, _, ok := creds.Lookup(s.RegistryHost)
	assert.True(t, ok, "the pull secret has the registry's credentials")
	assert.Equal(t, "devstack", user)

	nodes, err := c.Client().CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	sort.Slice(nodes.Items, func(i, j int) bool { return nodes.Items[i].Name < nodes.Items[j].Name })
	require.Len(t, nodes.Items, 3)
	repo := s.RegistryHost + "/" + s.Repository
	for i, n := range nodes.Items {
		var digests []string
		for _, img := range n.Status.Images {
			digests = append(digests, images.DigestOf(img.Names))
		}
		want := []string{s.Digests["recommended"], s.Digests["r29_1_0"]}
		if i < 2 {
			want = append(want, s.Digests["w_2025_44"])
		}
		assert.Equal(t, want, digests, "images of %s", n.Name)
		assert.Equal(t, []string{repo + ":recommended", repo + ":w_2025_43", repo + "@" + s.Digests["recommended"]},
			n.Status.Images[0].Names, "names of the recommended image on %s", n.Name)
	}

	// Seeding again keeps the pod (same uid) and updates the rest.
	require.NoError(t, s.Seed(ctx, c.Client(), opts))
	again, err := c.Client().CoreV1().Pods("seed-controller").Get(ctx, "nublado-controller", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, pod.UID, again.UID)
}

func TestSeedUnknownTag(t *testing.T) {
	s := startStack(t)
	_, err := s.NodeImages("w_1999_01")
	require.Error(t, err)
}

// TestRun: the command serves, seeds, writes the ready file, runs the
// Gafaelfawr stand-in and stops with its context, removing the ready file.
func TestRun(t *testing.T) {
	c := testcluster.Shared(t)
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- devstack.Run(ctx, []string{"--registry-addr", "127.0.0.1:0", "--services-addr", "127.0.0.1:0",
			"--state", state, "--kubeconfig", c.Kubeconfig(), "--namespace", "run-controller", "--pull-secret", "",
			"--fileserver-namespace", "run-fileservers"}, &out)
	}()
	t.Cleanup(func() {
		for _, ns := range []string{"run-controller", "run-fileservers"} {
			_ = c.Client().CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}
	})
	ready := filepath.Join(state, devstack.ReadyFile)
	require.Eventually(t, func() bool {
		_, err := os.Stat(ready)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "ready file")
	for _, f := range []string{devstack.CAFile, devstack.CredentialsFile, "podinfo/uid"} {
		assert.FileExists(t, filepath.Join(state, f))
	}
	_, err := c.Client().CoreV1().Secrets("run-controller").Get(context.Background(), "pull-secret", metav1.GetOptions{})
	assert.Error(t, err, "no pull secret with --pull-secret ''")
	checkGafaelfawrStandIn(t, c, "run-fileservers")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	assert.NoFileExists(t, ready)
	assert.Contains(t, out.String(), "REPERTOIRE_BASE_URL=http://127.0.0.1:")
}

func TestRunBadFlag(t *testing.T) {
	var out bytes.Buffer
	require.Error(t, devstack.Run(context.Background(), []string{"--nope"}, &out))
	require.NoError(t, devstack.Run(context.Background(), []string{"-h"}, &out), "help is no error")
}

// checkGafaelfawrStandIn creates a GafaelfawrIngress in namespace (which
// must exist) and waits for the stand-in's Ingress with an IP.
func checkGafaelfawrStandIn(t *testing.T, c *testcluster.Cluster, namespace string) {
	t.Helper()
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(c.Config())
	require.NoError(t, err)
	gi := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gafaelfawr.lsst.io/v1alpha1", "kind": "GafaelfawrIngress",
		"metadata": map[string]any{"name": "rachel-fs"},
		"config":   map[string]any{"baseUrl": "http://127.0.0.1:8080", "scopes": map[string]any{"all": []any{"write:files"}}},
		"template": map[string]any{
			"metadata": map[string]any{"name": "rachel-fs"},
			"spec": map[string]any{"rules": []any{map[string]any{"http": map[string]any{"paths": []any{map[string]any{
				"path": "/files/rachel", "pathType": "Prefix",
				"backend": map[string]any{"service": map[string]any{"name": "rachel-fs", "port": map[string]any{"number": int64(8000)}}},
			}}}}}},
		},
	}}
	_, err = dyn.Resource(testcluster.GafaelfawrIngressResource).Namespace(namespace).Create(ctx, gi, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ing, err := dyn.Resource(testcluster.IngressResource).Namespace(namespace).Get(ctx, "rachel-fs", metav1.GetOptions{})
		if err != nil {
			return false
		}
		lb, _, _ := unstructured.NestedSlice(ing.Object, "status", "loadBalancer", "ingress")
		return len(lb) == 1
	}, 30*time.Second, 20*time.Millisecond, "the stand-in's Ingress with an IP")
}
