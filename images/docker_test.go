package images

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testRepo is the repository the registry tests push to.
const testRepo = "lab/sciplat"

// memRegistry is go-containerregistry's in-memory registry behind a
// handler that paginates tag lists and counts requests.
type memRegistry struct {
	srv      *httptest.Server
	host     string
	pageSize int  // 0: no pagination
	absolute bool // absolute Link URLs

	mu    sync.Mutex
	pages int
	heads map[string]int
}

// newMemRegistry starts a registry holding fixture: tag → fixture digest.
// One random image is pushed per distinct fixture digest; the returned map
// takes real digests back to fixture digests.
func newMemRegistry(t testing.TB, fixture map[string]string, pageSize int) (*memRegistry, map[string]string) {
	t.Helper()
	m := &memRegistry{pageSize: pageSize, heads: make(map[string]int)}
	inner := registry.New(registry.Logger(nilLogger()))
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(inner, w, r)
	}))
	t.Cleanup(m.srv.Close)
	m.host = strings.TrimPrefix(m.srv.URL, "http://")
	back := pushFixture(t, m.host, fixture)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pages, m.heads = 0, make(map[string]int) // forget the pushes
	return m, back
}

func pushFixture(t testing.TB, host string, fixture map[string]string) map[string]string {
	t.Helper()
	images := make(map[string]v1.Image)
	back := make(map[string]string)
	for tag, fake := range fixture {
		img, ok := images[fake]
		if !ok {
			var err error
			img, err = random.Image(64, 1)
			require.NoError(t, err)
			images[fake] = img
			d, err := img.Digest()
			require.NoError(t, err)
			back[d.String()] = fake
		}
		ref, err := name.NewTag(host+"/"+testRepo+":"+tag, name.Insecure)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img), "pushing %s", ref)
	}
	return back
}

func (m *memRegistry) serve(inner http.Handler, w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if r.Method == http.MethodHead {
		m.heads[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
	}
	m.mu.Unlock()
	if m.pageSize == 0 || !strings.HasSuffix(r.URL.Path, "/tags/list") {
		inner.ServeHTTP(w, r)
		return
	}
	m.mu.Lock()
	m.pages++
	m.mu.Unlock()
	// The registry's own n/last paging restarts from the first tag when
	// last is the final one, so page its full list here.
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = ""
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, r2)
	var body struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	tags := body.Tags
	if last := r.URL.Query().Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		for i < len(tags) && tags[i] <= last {
			i++
		}
		tags = tags[i:]
	}
	if len(tags) > m.pageSize {
		tags = tags[:m.pageSize]
		next := r.URL.Path + "?" + url.Values{"last": {tags[len(tags)-1]}}.Encode()
		if m.absolute {
			next = m.srv.URL + next
		}
		w.Header().Set("Link", `<`+next+`>; rel="next"`)
	}
	body.Tags = tags
	out, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (m *memRegistry) client(t testing.TB, opts ...DockerOption) *DockerClient {
	t.Helper()
	c, err := NewDockerClient(DockerConfig{Registry: m.host, Repository: testRepo}, append([]DockerOption{WithPlainHTTP()}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestDockerListTags(t *testing.T) {
	for name, tc := range map[string]struct {
		pageSize  int
		absolute  bool
		wantPages int
	}{
		"Unpaginated":   {0, false, 0},
		"RelativeLinks": {5, false, 3},
		"AbsoluteLinks": {4, true, 3},
		"ExactLastPage": {6, false, 2},
		"OneTagPerPage": {1, false, 12},
	} {
		t.Run(name, func(t *testing.T) {
			m, _ := newMemRegistry(t, testRegistry, tc.pageSize)
			m.absolute = tc.absolute
			got, err := m.client(t).ListTags(context.Background())
			require.NoError(t, err)
			var want []string
			for tag := range testRegistry {
				want = append(want, tag)
			}
			assert.ElementsMatch(t, want, got, "ListTags")
			assert.IsIncreasing(t, got, "ListTags is sorted")
			assert.Equal(t, tc.wantPages, m.pages, "tag pages fetched")
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
	m, back := newMemRegistry(t, testRegistry, 4)
	src := NewDockerSource(m.client(t), testSettings(), 3)
	got, err := src.Refresh(context.Background())
	require.NoError(t, err)

	want, looked := dockerCatalog(t, DockerConfig{Registry: m.host, Repository: testRepo}, testSettings(), testRegistry)
	wantJSON, err := json.Marshal(want.SpawnerImages())
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), mapDigests(t, got.SpawnerImages(), back), "SpawnerImages of the refreshed catalog")

	heads := make(map[string]int)
	for _, tag := range looked {
		heads[tag] = 1
	}
	assert.Equal(t, heads, m.heads, "one HEAD per prepull-set tag, none for the others")

	d, err := src.Digest(context.Background(), "w_2077_44")
	require.NoError(t, err)
	assert.Equal(t, "sha256:ccc", back[d])
}

func TestDockerDigestAndDelete(t *testing.T) {
	m, back := newMemRegistry(t, map[string]string{"w_2077_46": "sha256:1", "w_2077_45": "sha256:2"}, 0)
	c := m.client(t)
	ctx := context.Background()
	d, err := c.Digest(ctx, "w_2077_45")
	require.NoError(t, err)
	assert.Equal(t, "sha256:2", back[d])
	require.NoError(t, c.Delete(ctx, d))
	_, err = c.Digest(ctx, d)
	var re *RegistryError
	require.ErrorAs(t, err, &re, "Digest after Delete")
	assert.Equal(t, http.StatusNotFound, re.Status)
	err = c.Delete(ctx, d)
	require.ErrorAs(t, err, &re, "second Delete")
	assert.Equal(t, http.StatusNotFound, re.Status)
}

func TestDockerTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(nilLogger())))
	srv.Config.ErrorLog = nilLogger() // the untrusted client's handshake failure
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	back := pushFixtureTLS(t, srv, map[string]string{"w_2077_46": "sha256:1"})
	c, err := NewDockerClient(DockerConfig{Registry: host, Repository: testRepo}, WithTransport(srv.Client().Transport))
	require.NoError(t, err)
	tags, err := c.ListTags(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, tags)
	d, err := c.Digest(context.Background(), "w_2077_46")
	require.NoError(t, err)
	assert.Equal(t, "sha256:1", back[d])

	plain, err := NewDockerClient(DockerConfig{Registry: host, Repository: testRepo})
	require.NoError(t, err)
	_, err = plain.ListTags(context.Background())
	assert.Error(t, err, "the test CA is not trusted by default")
}

func pushFixtureTLS(t *testing.T, srv *httptest.Server, fixture map[string]string) map[string]string {
	t.Helper()
	host := strings.TrimPrefix(srv.URL, "https://")
	back := make(map[string]string)
	for tag, fake := range fixture {
		img, err := random.Image(64, 1)
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		back[d.String()] = fake
		ref, err := name.NewTag(host + "/" + testRepo + ":" + tag)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)))
	}
	return back
}

func TestNewDockerClientValidates(t *testing.T) {
	for _, cfg := range []DockerConfig{{"", "x"}, {"reg", ""}, {"reg/x", "y"}} {
		_, err := NewDockerClient(cfg)
		assert.Error(t, err, "NewDockerClient(%+v)", cfg)
	}
}

// faultServer is a registry double for the error paths: handler gets
// every request.
func faultServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, DockerConfig) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv, DockerConfig{Registry: strings.TrimPrefix(srv.URL, "http://"), Repository: testRepo}
}

func credsFor(t *testing.T, host, user, pass string) *DockerCredentials {
	t.Helper()
	c := &DockerCredentials{}
	c.Set(host, user, pass)
	return c
}

func TestDockerAuthBasic(t *testing.T) {
	var calls int
	_, cfg := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if u, p, ok := r.BasicAuth(); !ok || u != "bwk" || p != "/.,/.," {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		_, _ = w.Write([]byte(`{"name":"lab/sciplat","tags":["a","b"]}`))
	})
	c, err := NewDockerClient(cfg, WithPlainHTTP(), WithCredentials(credsFor(t, cfg.Registry, "bwk", "/.,/.,")))
	require.NoError(t, err)
	for range 2 {
		tags, err := c.ListTags(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b"}, tags)
	}
	assert.Equal(t, 3, calls, "one 401, then the cached header is sent")
}

func TestDockerAuthBearer(t *testing.T) {
	var tokenCalls int
	var realm string
	srv, cfg := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokenCalls++
			u, p, ok := r.BasicAuth()
			assert.True(t, ok && u == "ken" && p == "p/q2-q4!a", "token request with Basic auth")
			assert.Equal(t, url.Values{"realm": {realm}, "service": {"registry.docker.io"}, "scope": {"repository:pull"}},
				r.URL.Query(), "token request query")
			_, _ = w.Write([]byte(`{"token":"sekrit"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer sekrit" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="registry.docker.io",scope="repository:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.Method {
		case http.MethodHead:
			assert.Equal(t, manifestAccept, r.Header.Get("Accept"))
			w.Header().Set("Docker-Content-Digest", "sha256:abcd")
		default:
			_, _ = w.Write([]byte(`{"tags":["w_2077_46"]}`))
		}
	})
	realm = srv.URL + "/token"
	c, err := NewDockerClient(cfg, WithPlainHTTP(), WithCredentials(credsFor(t, cfg.Registry, "ken", "p/q2-q4!a")))
	require.NoError(t, err)
	tags, err := c.ListTags(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, tags)
	d, err := c.Digest(context.Background(), "w_2077_46")
	require.NoError(t, err)
	assert.Equal(t, "sha256:abcd", d)
	assert.Equal(t, 1, tokenCalls, "the token is cached")
}

func TestDockerFaults(t *testing.T) {
	unauthorized := func(challenge string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if challenge != "" {
				w.Header().Set("WWW-Authenticate", challenge)
			}
			w.WriteHeader(http.StatusUnauthorized)
		}
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte("boom"))
		}
	}
	body := func(link, s string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if link != "" {
				w.Header().Set("Link", link)
			}
			_, _ = w.Write([]byte(s))
		}
	}
	cases := map[string]struct {
		handler http.HandlerFunc
		creds   bool
		call    string // list or digest
		check   func(t *testing.T, err error)
	}{
		"NoCredentials": {unauthorized(`Basic realm="x"`), false, "list", authReason("no Docker API credentials available")},
		"NoChallenge":   {unauthorized(""), true, "list", authReason("Docker API 401 response contains no challenge")},
		"UnknownScheme": {unauthorized(`Negotiate abc`), true, "list", authReason(`unknown Docker authentication challenge "Negotiate"`)},
		"Rejected":      {unauthorized(`Basic realm="x"`), true, "digest", authReason("authentication credentials rejected")},
		"BearerTokenFails": {unauthorized(`Bearer realm="http://127.0.0.1:1/token",service="x"`), true, "list",
			authReason("requesting bearer token")},
		"NotFound":    {status(http.StatusNotFound), false, "digest", registryStatus(http.StatusNotFound)},
		"ServerError": {status(http.StatusInternalServerError), false, "list", registryStatus(http.StatusInternalServerError)},
		"Redirect":    {http.RedirectHandler("http://example.com/", http.StatusFound).ServeHTTP, false, "list", registryStatus(http.StatusFound)},
		"PaginationLoop": {body(`</v2/lab/sciplat/tags/list>; rel="next"`, `{"tags":["a"]}`), false, "list",
			invalidURL("Repeated tag page URL")},
		"PaginationLoopLater": {func(w http.ResponseWriter, r *http.Request) {
			next := "?page=2"
			if r.URL.Query().Get("page") == "2" {
				next = "?page=3"
			} else if r.URL.Query().Get("page") == "3" {
				next = "?page=2"
			}
			w.Header().Set("Link", `<`+r.URL.Path+next+`>; rel=next`)
			_, _ = w.Write([]byte(`{"tags":["a"]}`))
		}, false, "list", invalidURL("Repeated tag page URL")},
		"ForeignLink": {body(`<https://evil.example.com/v2/lab/sciplat/tags/list?page=2>; rel="next"`, `{"tags":["a"]}`), false, "list",
			invalidURL("Docker Link URL not relative to ")},
		"NoTags":   {body("", `{"name":"x"}`), false, "list", registryStatus(http.StatusOK)},
		"NotJSON":  {body("", `<html>`), false, "list", registryStatus(http.StatusOK)},
		"NoDigest": {body("", ``), false, "digest", registryStatus(http.StatusOK)},
		"Timeout": {func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, false, "list",
			func(t *testing.T, err error) {
				var re *RegistryError
				require.ErrorAs(t, err, &re)
				assert.Zero(t, re.Status)
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, cfg := faultServer(t, tc.handler)
			opts := []DockerOption{WithPlainHTTP(), WithTimeout(200 * time.Millisecond)}
			if tc.creds {
				opts = append(opts, WithCredentials(credsFor(t, cfg.Registry, "u", "p")))
			}
			c, err := NewDockerClient(cfg, opts...)
			require.NoError(t, err)
			if tc.call == "list" {
				_, err = c.ListTags(context.Background())
			} else {
				_, err = c.Digest(context.Background(), "w_2077_46")
			}
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestDockerNullTags(t *testing.T) {
	_, cfg := faultServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"tags":null}`)) })
	c, err := NewDockerClient(cfg, WithPlainHTTP())
	require.NoError(t, err)
	tags, err := c.ListTags(context.Background())
	require.NoError(t, err)
	assert.Empty(t, tags)
}

func TestDockerSourceRefreshFails(t *testing.T) {
	_, cfg := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"tags":["w_2077_46","w_2077_45","recommended"]}`))
	})
	c, err := NewDockerClient(cfg, WithPlainHTTP())
	require.NoError(t, err)
	_, err = NewDockerSource(c, DefaultSettings(), 0).Refresh(context.Background())
	var re *RegistryError
	require.ErrorAs(t, err, &re, "a failed digest lookup fails the refresh")
	assert.Equal(t, http.StatusInternalServerError, re.Status)
}

func authReason(reason string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, reason, ae.Reason)
	}
}

func registryStatus(code int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var re *RegistryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, code, re.Status)
	}
}

func invalidURL(prefix string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ie *InvalidURLError
		require.ErrorAs(t, err, &ie)
		assert.True(t, strings.HasPrefix(ie.Reason, prefix), "reason %q", ie.Reason)
	}
}
