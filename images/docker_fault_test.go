package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultServer is a registry double for the error paths: handler gets
// every request, the /v2/ ping included.
func faultServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, DockerConfig) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv, DockerConfig{Registry: strings.TrimPrefix(srv.URL, "http://"), Repository: testRepo}
}

// api answers the /v2/ ping with 200 (no authentication) and passes the
// other requests to h.
func api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		h(w, r)
	}
}

func credsFor(t *testing.T, host, user, pass string) *DockerCredentials {
	t.Helper()
	c := &DockerCredentials{}
	c.Set(host, user, pass)
	return c
}

// counter counts requests by path, safely.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[path]++
}

func (c *counter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

func TestDockerAuthBasic(t *testing.T) {
	var calls counter
	_, cfg := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.add("all")
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
	assert.Equal(t, 3, calls.get("all"), "the ping's 401, then Basic credentials sent with every request")
}

// tokenServer is a Bearer token realm on its own host, reached through a
// transport that sends auth.nublado.test to it. Tokens are "token-N",
// and the registry accepts only the latest one.
type tokenServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	n     int
	reqs  []url.Values
	valid string
}

func newTokenServer(t *testing.T, user, pass string) *tokenServer {
	ts := &tokenServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.n++
		ts.reqs = append(ts.reqs, r.URL.Query())
		ts.valid = fmt.Sprintf("token-%d", ts.n)
		_, _ = w.Write([]byte(`{"token":"` + ts.valid + `"}`))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) authorized(r *http.Request) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.valid != "" && r.Header.Get("Authorization") == "Bearer "+ts.valid
}

// expire invalidates the current token.
func (ts *tokenServer) expire() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.valid = "expired"
}

func (ts *tokenServer) requests() []url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]url.Values(nil), ts.reqs...)
}

// transport sends auth.nublado.test to the token server and everything
// else where it was addressed.
func (ts *tokenServer) transport() http.RoundTripper {
	tokenAddr := ts.srv.Listener.Addr().String()
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "auth.nublado.test:") {
			addr = tokenAddr
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
}

func TestDockerAuthBearer(t *testing.T) {
	ts := newTokenServer(t, "ken", "p/q2-q4!a")
	const realm = "http://auth.nublado.test/token"
	var deletes counter
	_, cfg := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		if !ts.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="registry.docker.io",scope="repository:lab/sciplat:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.Method {
		case http.MethodHead:
			assert.Equal(t, manifestAccept, r.Header.Get("Accept"))
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("ab", 32))
		case http.MethodDelete:
			deletes.add(r.URL.Path)
			w.WriteHeader(http.StatusAccepted)
		default:
			_, _ = w.Write([]byte(`{"tags":["w_2077_46"]}`))
		}
	})
	c, err := NewDockerClient(cfg, WithPlainHTTP(), WithTransport(ts.transport()),
		WithCredentials(credsFor(t, cfg.Registry, "ken", "p/q2-q4!a")))
	require.NoError(t, err)
	ctx := context.Background()
	tags, err := c.ListTags(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, tags)
	d, err := c.Digest(ctx, "w_2077_46")
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+strings.Repeat("ab", 32), d)
	require.Len(t, ts.requests(), 1, "one token for the pull scope, cached")
	assert.Equal(t, url.Values{"service": {"registry.docker.io"}, "scope": {"repository:lab/sciplat:pull"}}, ts.requests()[0],
		"token request query")

	ts.expire()
	_, err = c.Digest(ctx, "w_2077_46")
	require.NoError(t, err, "a 401 with an expired token refreshes it")
	require.Len(t, ts.requests(), 2)

	require.NoError(t, c.Delete(ctx, d))
	assert.Equal(t, 1, deletes.get("/v2/lab/sciplat/manifests/"+d))

	reqs := ts.requests()
	assert.Equal(t, []string{"repository:lab/sciplat:push,pull,delete"}, reqs[len(reqs)-1]["scope"], "delete scope")

	fresh, err := NewDockerClient(cfg, WithPlainHTTP(), WithTransport(ts.transport()),
		WithCredentials(credsFor(t, cfg.Registry, "ken", "p/q2-q4!a")))
	require.NoError(t, err)
	before := len(ts.requests())
	got, err := fresh.Digests(ctx, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"})
	require.NoError(t, err)
	assert.Len(t, got, 9)
	assert.Len(t, ts.requests(), before+1, "concurrent first requests share one handshake")
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
	// sameHostRealm challenges with a realm on the registry itself, whose
	// token endpoint refuses everyone.
	sameHostRealm := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
	cases := map[string]struct {
		handler http.HandlerFunc
		creds   bool
		call    string // list, digest or delete
		check   func(t *testing.T, err error)
	}{
		"NoCredentials":  {unauthorized(`Basic realm="x"`), false, "list", authReason(AuthNoCredentials, 401)},
		"NoChallenge":    {unauthorized(""), true, "list", authReason(AuthNoChallenge, 401)},
		"UnknownScheme":  {unauthorized(`Negotiate abc`), true, "list", authReason(`unknown Docker authentication challenge "Negotiate"`, 401)},
		"Rejected":       {unauthorized(`Basic realm="x"`), true, "digest", authReason(AuthRejected, 401)},
		"DeleteRejected": {unauthorized(`Basic realm="x"`), true, "delete", authReason(AuthRejected, 401)},
		"ForeignPrivateRealm": {unauthorized(`Bearer realm="http://127.0.0.1:1/token",service="x"`), true, "list",
			authReason(AuthBearerToken, 0)},
		"TokenRefused":   {sameHostRealm, true, "list", authReason(AuthBearerToken, 401)},
		"PingFails":      {status(http.StatusInternalServerError), false, "list", registryStatus(http.StatusInternalServerError)},
		"NotFound":       {api(status(http.StatusNotFound)), false, "digest", registryStatus(http.StatusNotFound)},
		"DeleteNotFound": {api(status(http.StatusNotFound)), false, "delete", registryStatus(http.StatusNotFound)},
		"ServerError":    {api(status(http.StatusInternalServerError)), false, "list", registryStatus(http.StatusInternalServerError)},
		"Redirect": {api(http.RedirectHandler("http://example.com/", http.StatusFound).ServeHTTP), false, "list",
			registryStatus(http.StatusFound)},
		"PaginationLoop": {api(body(`</v2/lab/sciplat/tags/list>; rel="next"`, `{"tags":["a"]}`)), false, "list",
			invalidURL("Repeated tag page URL")},
		"PaginationLoopLater": {api(func(w http.ResponseWriter, r *http.Request) {
			next := "?page=2"
			if r.URL.Query().Get("page") == "2" {
				next = "?page=3"
			} else if r.URL.Query().Get("page") == "3" {
				next = "?page=2"
			}
			w.Header().Set("Link", `<`+r.URL.Path+next+`>; rel=next`)
			_, _ = w.Write([]byte(`{"tags":["a"]}`))
		}), false, "list", invalidURL("Repeated tag page URL")},
		"ForeignLink": {api(body(`<http://evil.example.com/v2/lab/sciplat/tags/list?page=2>; rel="next"`, `{"tags":["a"]}`)), false, "list",
			invalidURL("Docker Link URL not relative to ")},
		"NoTags":   {api(body("", `{"name":"x"}`)), false, "list", responseError},
		"NotJSON":  {api(body("", `<html>`)), false, "list", responseError},
		"NoDigest": {api(body("", ``)), false, "digest", responseError},
		"Timeout": {api(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }), false, "list",
			timedOut},
		"PingTimeout": {func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, false, "digest",
			timedOut},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, cfg := faultServer(t, tc.handler)
			opts := []DockerOption{WithPlainHTTP(), WithTimeout(300 * time.Millisecond)}
			if tc.creds {
				opts = append(opts, WithCredentials(credsFor(t, cfg.Registry, "u", "p")))
			}
			c, err := NewDockerClient(cfg, opts...)
			require.NoError(t, err)
			switch tc.call {
			case "list":
				_, err = c.ListTags(context.Background())
			case "digest":
				_, err = c.Digest(context.Background(), "w_2077_46")
			default:
				err = c.Delete(context.Background(), "sha256:"+strings.Repeat("0", 64))
			}
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestDockerNullTags(t *testing.T) {
	_, cfg := faultServer(t, api(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"tags":null}`)) }))
	c, err := NewDockerClient(cfg, WithPlainHTTP())
	require.NoError(t, err)
	tags, err := c.ListTags(context.Background())
	require.NoError(t, err)
	assert.Empty(t, tags)
}

func TestDockerSourceRefreshFails(t *testing.T) {
	_, cfg := faultServer(t, api(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"tags":["w_2077_46","w_2077_45","recommended"]}`))
	}))
	c, err := NewDockerClient(cfg, WithPlainHTTP())
	require.NoError(t, err)
	_, err = NewDockerSource(c, DefaultSettings(), 0).Refresh(context.Background())
	var terr *transport.Error
	require.ErrorAs(t, err, &terr, "a failed digest lookup fails the refresh")
	assert.Equal(t, http.StatusInternalServerError, terr.StatusCode)
}

// authReason checks an AuthError's reason and, unless status is 0, the
// status of the transport error it wraps.
func authReason(reason string, status int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, reason, ae.Reason)
		if status != 0 {
			var terr *transport.Error
			require.ErrorAs(t, err, &terr)
			assert.Equal(t, status, terr.StatusCode)
		}
	}
}

func registryStatus(code int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var terr *transport.Error
		require.ErrorAs(t, err, &terr)
		assert.Equal(t, code, terr.StatusCode)
		var ae *AuthError
		assert.False(t, errors.As(err, &ae), "not an authentication error")
	}
}

func invalidURL(prefix string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ie *InvalidURLError
		require.ErrorAs(t, err, &ie)
		assert.True(t, strings.HasPrefix(ie.Reason, prefix), "reason %q", ie.Reason)
	}
}

func responseError(t *testing.T, err error) {
	var re *ResponseError
	require.ErrorAs(t, err, &re)
}

func timedOut(t *testing.T, err error) {
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
