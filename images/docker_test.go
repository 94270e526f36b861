package images

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images/imagestest"
)

// testRepo is the repository the registry tests push to.
const testRepo = "lab/sciplat"

// newMemRegistry starts an in-memory registry holding fixture (tag →
// fixture digest) in testRepo. The returned map takes real digests back to
// fixture digests.
func newMemRegistry(t testing.TB, fixture map[string]string, opts ...imagestest.RegistryOption) (*imagestest.Registry, map[string]string) {
	t.Helper()
	reg := imagestest.NewRegistry(t, opts...)
	back := make(map[string]string)
	for fake, real := range reg.Push(t, reg.Host+"/"+testRepo, fixture) {
		back[real] = fake
	}
	return reg, back
}

func memClient(t testing.TB, reg *imagestest.Registry, opts ...DockerOption) *DockerClient {
	t.Helper()
	c, err := NewDockerClient(DockerConfig{Registry: reg.Host, Repository: testRepo}, append([]DockerOption{WithPlainHTTP()}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestDockerListTags(t *testing.T) {
	for name, tc := range map[string]struct {
		opts      []imagestest.RegistryOption
		wantPages int
	}{
		"Unpaginated":   {nil, 0},
		"RelativeLinks": {[]imagestest.RegistryOption{imagestest.PageSize(5)}, 3},
		"AbsoluteLinks": {[]imagestest.RegistryOption{imagestest.PageSize(4), imagestest.AbsoluteLinks()}, 3},
		"ExactLastPage": {[]imagestest.RegistryOption{imagestest.PageSize(6)}, 2},
		"OneTagPerPage": {[]imagestest.RegistryOption{imagestest.PageSize(1)}, 12},
	} {
		t.Run(name, func(t *testing.T) {
			reg, _ := newMemRegistry(t, testRegistry, tc.opts...)
			got, err := memClient(t, reg).ListTags(context.Background())
			require.NoError(t, err)
			var want []string
			for tag := range testRegistry {
				want = append(want, tag)
			}
			assert.ElementsMatch(t, want, got, "ListTags")
			assert.IsIncreasing(t, got, "ListTags is sorted")
			assert.Equal(t, tc.wantPages, reg.Pages(), "tag pages fetched")
		})
	}
}

// mapDigests replaces real digests by fixture digests in a body.
func mapDigests(t *testing.T, v any, back map[string]string) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	s := string(raw)
	for real, fake := range back {
		s = strings.ReplaceAll(s, real, fake)
	}
	return s
}

func TestDockerSourceRefresh(t *testing.T) {
	reg, back := newMemRegistry(t, testRegistry, imagestest.PageSize(4))
	src := NewDockerSource(memClient(t, reg), testSettings(), 3)
	got, err := src.Refresh(context.Background())
	require.NoError(t, err)

	want, looked := dockerCatalog(t, DockerConfig{Registry: reg.Host, Repository: testRepo}, testSettings(), testRegistry)
	wantJSON, err := json.Marshal(want.SpawnerImages())
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), mapDigests(t, got.SpawnerImages(), back), "SpawnerImages of the refreshed catalog")

	heads := make(map[string]int)
	for _, tag := range looked {
		heads[tag] = 1
	}
	assert.Equal(t, heads, reg.Heads(), "one HEAD per prepull-set tag, none for the others")

	d, err := src.Digest(context.Background(), "w_2077_44")
	require.NoError(t, err)
	assert.Equal(t, "sha256:ccc", back[d])
}

func TestDockerDigestAndDelete(t *testing.T) {
	reg, back := newMemRegistry(t, map[string]string{"w_2077_46": "sha256:1", "w_2077_45": "sha256:2"})
	c := memClient(t, reg)
	ctx := context.Background()
	d, err := c.Digest(ctx, "w_2077_45")
	require.NoError(t, err)
	assert.Equal(t, "sha256:2", back[d])
	require.NoError(t, c.Delete(ctx, d))
	_, err = c.Digest(ctx, "w_2077_45")
	var terr *transport.Error
	require.ErrorAs(t, err, &terr, "Digest after Delete")
	assert.Equal(t, http.StatusNotFound, terr.StatusCode)
	err = c.Delete(ctx, d)
	require.ErrorAs(t, err, &terr, "second Delete")
	assert.Equal(t, http.StatusNotFound, terr.StatusCode)
	tags, err := c.ListTags(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, tags)
}

func TestDockerTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(nilLogger())))
	srv.Config.ErrorLog = nilLogger() // the untrusted client's handshake failure
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	ref, err := name.NewTag(host + "/" + testRepo + ":w_2077_46")
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)))
	want, err := img.Digest()
	require.NoError(t, err)

	c, err := NewDockerClient(DockerConfig{Registry: host, Repository: testRepo}, WithTransport(srv.Client().Transport))
	require.NoError(t, err)
	tags, err := c.ListTags(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, tags)
	d, err := c.Digest(context.Background(), "w_2077_46")
	require.NoError(t, err)
	assert.Equal(t, want.String(), d)

	untrusted, err := NewDockerClient(DockerConfig{Registry: host, Repository: testRepo})
	require.NoError(t, err)
	_, err = untrusted.ListTags(context.Background())
	assert.Error(t, err, "the test CA is not trusted by default")
}

func TestNewDockerClientValidates(t *testing.T) {
	for _, cfg := range []DockerConfig{{"", "x"}, {"reg", ""}, {"reg/x", "y"}, {"reg", "Upper/case"}, {"reg:port", "x"}} {
		_, err := NewDockerClient(cfg)
		assert.Error(t, err, "NewDockerClient(%+v)", cfg)
	}
	c, err := NewDockerClient(DockerConfig{Registry: "docker.io", Repository: "library/sketchbook"})
	require.NoError(t, err)
	assert.Equal(t, "https://index.docker.io/v2/library/sketchbook", c.base(), "docker.io is index.docker.io")
	assert.Equal(t, DefaultDockerTimeout, c.timeout, "default timeout")
	assert.Equal(t, "docker.io", c.Config().Registry)
}
