package prepuller_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/prepuller"
)

// repository is where the test images live; the registry's transport
// sends every host to the test server.
const repository = "lighthouse.ceres/library/sketchbook"

// fixture is the test registry: tag → fake digest. Tags sharing a fake
// digest share an image.
var fixture = map[string]string{
	"r21_0_1":         "sha256:r21",
	"r22_0_0":         "sha256:r22",
	"w_2077_44":       "sha256:w44",
	"w_2077_44-amd64": "sha256:w44amd",
	"w_2077_43":       "sha256:w43",
	"w_2077_42":       "sha256:w42",
	"d_2077_10_23":    "sha256:d23",
	"d_2077_10_22":    "sha256:d22",
	"recommended":     "sha256:w43",
	"latest_weekly":   "sha256:w44",
}

// loadConfig reads testdata/config.yaml and selects the nodes labelled
// selector=<value>.
func loadConfig(t *testing.T, value string) *schema.Config { return loadConfigTB(t, value) }

func loadConfigTB(t testing.TB, value string) *schema.Config {
	t.Helper()
	cfg, err := schema.Load(filepath.Join("testdata", "config.yaml"),
		schema.WithoutEnv())
	require.NoError(t, err)
	cfg.Lab.NodeSelector = map[string]string{"nublado.test/selector": value}
	return cfg
}

// registry is the in-memory registry loaded with fixture.
type registry struct {
	// server is the registry's test server.
	server *httptest.Server
	// transport reaches it whatever the host.
	transport *http.Transport
	// real maps fake digests to the real digests of the pushed images.
	real map[string]string
}

func startRegistry(t *testing.T) *registry {
	t.Helper()
	reg := imagestest.NewRegistry(t)
	return &registry{server: reg.Server, transport: reg.Transport(), real: reg.Push(t, repository, fixture)}
}

// dialTo returns a transport that connects to addr whatever host a
// request names.
func dialTo(addr string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
}

// fake replaces real digests by the fixture's in s.
func (r *registry) fake(s string) string {
	for fake, real := range r.real {
		s = strings.ReplaceAll(s, real, fake)
	}
	return s
}

// fakeJSON marshals v and replaces real digests by the fixture's.
func (r *registry) fakeJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return r.fake(string(raw)) + "\n"
}

// cached returns node images as a kubelet lists them for the given tags
// of fixture.
func (r *registry) cached(tags ...string) []corev1.ContainerImage {
	return r.cachedFrom(fixture, tags...)
}

// cachedFrom is cached for the tags of another fixture.
func (r *registry) cachedFrom(fix map[string]string, tags ...string) []corev1.ContainerImage {
	var out []corev1.ContainerImage
	for _, tag := range tags {
		out = append(out, corev1.ContainerImage{
			Names:     []string{repository + ":" + tag, repository + "@" + r.real[fix[tag]]},
			SizeBytes: int64(1000 + len(tag)),
		})
	}
	return out
}

// addNodes adds fake nodes and removes them when the test ends.
func addNodes(t *testing.T, nodes ...testcluster.Node) *testcluster.Cluster {
	t.Helper()
	c := testcluster.Shared(t)
	for _, n := range nodes {
		_, err := c.AddNode(context.Background(), n)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.RemoveNode(context.Background(), n.Name) })
	}
	return c
}

// selected returns a node carrying the selector label.
func selected(name, value string, imgs []corev1.ContainerImage, taints ...corev1.Taint) testcluster.Node {
	return testcluster.Node{Name: name, Labels: map[string]string{"nublado.test/selector": value}, Images: imgs, Taints: taints}
}

// newService builds the image service of cfg over the registry and a node
// watcher on the shared cluster; the watcher stops with the test.
func newService(t testing.TB, cfg *schema.Config, reg *registry, opts ...prepuller.Option) (*prepuller.Service, *test.Hook) {
	t.Helper()
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(reg.transport)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	svc, _, hook := newServiceOf(t, cfg, src, opts...)
	return svc, hook
}

// newServiceOf builds the image service of cfg over a source and a node
// watcher on the shared cluster, which stops with the test.
func newServiceOf(t testing.TB, cfg *schema.Config, src images.Source, opts ...prepuller.Option) (*prepuller.Service, *prepuller.NodeWatcher, *test.Hook) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := prepuller.NewNodeWatcher(testcluster.Shared(t).Client(), cfg.Lab.NodeSelector, cfg.WatchReconnectTimeout)
	w.Start(ctx)
	log, hook := test.NewNullLogger()
	log.SetOutput(io.Discard)
	log.SetLevel(logrus.DebugLevel)
	return prepuller.New(cfg, src, w, logrus.NewEntry(log), opts...), w, hook
}
