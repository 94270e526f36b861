package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// fileserverConfig enables file servers in namespace NAMESPACE; the
// keep-running annotation keeps their pods Running on kwok's nodes.
const fileserverConfig = `fileserver:
  enabled: true
  namespace: NAMESPACE
  extraAnnotations:
    testcluster.nublado.io/keep-running: "true"
  volumeMounts:
    - containerPath: /home
      volumeName: home
`

// testServeFileServers runs the controller with file servers enabled:
// GET /files makes rachel's file server (the Gafaelfawr stand-in provides
// the Ingress), the admin routes list and delete it, and fsadmin starts
// and stops.
func testServeFileServers(t *testing.T, c *testcluster.Cluster, stack *devstack.Stack, config string) {
	ctx := context.Background()
	root, err := testcluster.RepoRoot()
	require.NoError(t, err)
	require.NoError(t, c.InstallCRDs(ctx, filepath.Join(root, "deploy", "crds")))
	ns, err := c.Client().CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "fileservers-"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Client().CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	c.GafaelfawrOperator(t, ns.Name, testcluster.IngressBehaviour{})
	raw, err := os.ReadFile(config)
	require.NoError(t, err)
	config = writeConfig(t, string(raw)+strings.ReplaceAll(fileserverConfig, "NAMESPACE", ns.Name))

	// The Ingress rule's host is baseUrl's host name, which Kubernetes
	// requires to be a DNS name (the default 127.0.0.1 is refused).
	env := stackEnv(stack)
	env["EXTERNAL_INSTANCE_URL"] = "http://localhost:8080"
	ready := make(chan string, 1)
	deps := serveDeps{
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		docker:    []images.DockerOption{images.WithTransport(trustCA(t, stack))},
		ready:     func(addr string) { ready <- addr },
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan string, 1)
	go func() {
		_, stderr := runServe(t, sctx, deps, "--config", config, "--kubeconfig", c.Kubeconfig(), "--listen", "127.0.0.1:0")
		done <- stderr
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case stderr := <-done:
		t.Fatalf("serve exited early: %s", stderr)
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}
	api := &apiClient{t: t, base: base + "/nublado"}
	assert.Equal(t, `[]`, api.expect(http.MethodGet, api.base+"/fileserver/v1/users", nil, http.StatusOK))
	body := api.expect(http.MethodGet, base+"/files", userHeaders("rachel"), http.StatusOK)
	assert.Contains(t, body, "Your WebDAV fileserver is now ready.")
	assert.Contains(t, body, `<a href="http://localhost:8080/files/rachel">`)
	assert.Equal(t, `["rachel"]`, api.expect(http.MethodGet, api.base+"/fileserver/v1/users", nil, http.StatusOK))
	running := `{"running":true}`
	assert.JSONEq(t, running, api.expect(http.MethodGet, api.base+"/fileserver/v1/users/rachel", nil, http.StatusOK))
	assert.JSONEq(t, running, api.expect(http.MethodGet, api.base+"/fileserver/v1/user-status", userHeaders("rachel"), http.StatusOK))
	assert.Equal(t, body, api.expect(http.MethodGet, base+"/files", userHeaders("rachel"), http.StatusOK), "second GET /files")
	api.expect(http.MethodDelete, api.base+"/fileserver/v1/users/rachel", nil, http.StatusNoContent)
	assert.Equal(t, `[]`, api.expect(http.MethodGet, api.base+"/fileserver/v1/users", nil, http.StatusOK))
	assert.JSONEq(t, `{"detail":[{"msg":"No file server running","type":"unknown_user"}]}`,
		api.expect(http.MethodGet, api.base+"/fileserver/v1/users/rachel", nil, http.StatusNotFound))
	assert.JSONEq(t, `{"detail":[{"msg":"File server for rachel not running","type":"unknown_user"}]}`,
		api.expect(http.MethodDelete, api.base+"/fileserver/v1/users/rachel", nil, http.StatusNotFound))

	api.expect(http.MethodGet, api.base+"/fsadmin/v1/service", nil, http.StatusNotFound)
	resp := api.do(http.MethodPost, api.base+"/fsadmin/v1/service", nil, `{"start": true}`)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "POST fsadmin")
	api.expect(http.MethodGet, api.base+"/fsadmin/v1/service", nil, http.StatusOK)
	api.expect(http.MethodDelete, api.base+"/fsadmin/v1/service", nil, http.StatusNoContent)

	metricsBody := api.expect(http.MethodGet, base+"/metrics", nil, http.StatusOK)
	assert.Contains(t, metricsBody, `nublado_file_server_creates_total{outcome="success"} 1`)
	assert.Contains(t, metricsBody, `nublado_file_server_deletes_total{outcome="success"} 1`)
	stop()
	select {
	case stderr := <-done:
		assert.Contains(t, stderr, `"event":"Reconciling file server state"`)
		assert.Contains(t, stderr, `"event":"File server requested"`)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// checkFileServersDisabled: with fileserver.enabled false, serve wires no
// file-server manager: every file-server route answers 404 not_supported
// (the DELETE too, decision D4) and no file-server reconcile runs.
func checkFileServersDisabled(t *testing.T, api *apiClient, base string) {
	t.Helper()
	disabled := `{"detail":[{"msg":"Fileserver is disabled in configuration","type":"not_supported"}]}`
	for _, r := range []struct {
		method, url string
		header      http.Header
	}{
		{http.MethodGet, base + "/files", userHeaders("rachel")},
		{http.MethodGet, base + "/nublado/fileserver/v1/users", nil},
		{http.MethodGet, base + "/nublado/fileserver/v1/users/rachel", nil},
		{http.MethodDelete, base + "/nublado/fileserver/v1/users/rachel", nil},
		{http.MethodGet, base + "/nublado/fileserver/v1/user-status", userHeaders("rachel")},
	} {
		assert.JSONEq(t, disabled, api.expect(r.method, r.url, r.header, http.StatusNotFound), "%s %s", r.method, r.url)
	}
}
