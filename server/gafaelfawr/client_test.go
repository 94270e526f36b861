package gafaelfawr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
)

// fakeServices serves a Repertoire discovery document and Gafaelfawr's
// user-info from one test server. users maps tokens to user-info bodies;
// status, when set, overrides the user-info answer.
type fakeServices struct {
	srv        *httptest.Server
	discovery  atomic.Int32
	userInfo   atomic.Int32
	users      map[string]string
	status     int
	delay      time.Duration
	discoBody  string
	discoCode  atomic.Int32
	lastAuthzs chan string
}

func newFakeServices(t testing.TB) *fakeServices {
	t.Helper()
	f := &fakeServices{users: map[string]string{}, lastAuthzs: make(chan string, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repertoire/discovery", func(w http.ResponseWriter, r *http.Request) {
		f.discovery.Add(1)
		if code := f.discoCode.Load(); code != 0 {
			w.WriteHeader(int(code))
			return
		}
		body := f.discoBody
		if body == "" {
			body = fmt.Sprintf(`{"services":{"internal":{"gafaelfawr":{"url":"%[1]s/auth/api","versions":{"v1":{"url":"%[1]s/auth/api/v1"}}}}}}`, f.srv.URL)
		}
		_, _ = w.Write([]byte(body))
	})
	mux.HandleFunc("GET /auth/api/v1/user-info", func(w http.ResponseWriter, r *http.Request) {
		f.userInfo.Add(1)
		select {
		case f.lastAuthzs <- r.Header.Get("Authorization"):
		default:
		}
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.status != 0 {
			w.WriteHeader(f.status)
			_, _ = w.Write([]byte(`{"detail":[{"msg":"nope","type":"invalid_token"}]}`))
			return
		}
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		body, ok := f.users[token]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(body))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServices) client(opts ...Option) *Client {
	return New(f.srv.URL+"/repertoire/", opts...)
}

const rachel = `{"username":"rachel","name":"Rachel (?)","uid":1101,"gid":1101,
 "groups":[{"name":"rachel","id":1101},{"name":"lunatics","id":2028}],
 "quota":{"api":{"datalinker":5},"notebook":{"cpu":9.0,"memory":27}}}`

func ptr[T any](v T) *T { return &v }

func TestUserInfo(t *testing.T) {
	f := newFakeServices(t)
	f.users["tok-rachel"] = rachel
	f.users["tok-ribbon"] = `{"username":"ribbon","quota":{"notebook":{"cpu":4.0,"memory":16.0,"spawn":false}}}`
	f.users["tok-bare"] = `{"username":"bare"}`
	c := f.client()
	ctx := context.Background()

	u, err := c.UserInfo(ctx, "tok-rachel")
	require.NoError(t, err)
	assert.Equal(t, &nublado.User{
		Username: "rachel", Name: ptr("Rachel (?)"), UID: ptr[int64](1101), GID: ptr[int64](1101),
		Groups: []nublado.Group{{Name: "rachel", ID: 1101}, {Name: "lunatics", ID: 2028}},
		Quota:  &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: 9, Memory: 27, Spawn: true}},
	}, u)
	assert.Equal(t, "Bearer tok-rachel", <-f.lastAuthzs)

	u, err = c.UserInfo(ctx, "tok-ribbon")
	require.NoError(t, err)
	assert.False(t, u.Quota.Notebook.Spawn, "explicit spawn: false")

	u, err = c.UserInfo(ctx, "tok-bare")
	require.NoError(t, err)
	assert.Equal(t, &nublado.User{Username: "bare", Groups: []nublado.Group{}}, u)
	assert.Equal(t, int32(1), f.discovery.Load(), "discovery fetched once")
}

func TestUserInfoCache(t *testing.T) {
	f := newFakeServices(t)
	f.users["tok-rachel"] = rachel
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := f.client(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for range 3 {
		_, err := c.UserInfo(ctx, "tok-rachel")
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), f.userInfo.Load(), "cached for 5 minutes")
	now = now.Add(5*time.Minute - time.Second)
	_, err := c.UserInfo(ctx, "tok-rachel")
	require.NoError(t, err)
	assert.Equal(t, int32(1), f.userInfo.Load(), "still cached just before expiry")
	now = now.Add(time.Second)
	_, err = c.UserInfo(ctx, "tok-rachel")
	require.NoError(t, err)
	assert.Equal(t, int32(2), f.userInfo.Load(), "fetched again after 5 minutes")
}

func TestUserInfoCacheBounded(t *testing.T) {
	f := newFakeServices(t)
	for i := range 1100 {
		f.users[fmt.Sprint("tok-", i)] = fmt.Sprintf(`{"username":"u%d"}`, i)
	}
	c := f.client()
	ctx := context.Background()
	for i := range 1100 {
		u, err := c.UserInfo(ctx, fmt.Sprint("tok-", i))
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint("u", i), u.Username)
	}
	assert.Equal(t, DefaultCacheSize, c.cache.len())
	before := f.userInfo.Load()
	_, err := c.UserInfo(ctx, "tok-1099")
	require.NoError(t, err)
	assert.Equal(t, before, f.userInfo.Load(), "recent token still cached")
	_, err = c.UserInfo(ctx, "tok-0")
	require.NoError(t, err)
	assert.Equal(t, before+1, f.userInfo.Load(), "oldest token evicted")
}

func TestUserInfoErrors(t *testing.T) {
	cases := map[string]struct {
		status  int
		body    string
		invalid bool
	}{
		"Unauthorized": {status: http.StatusUnauthorized, invalid: true},
		"Forbidden":    {status: http.StatusForbidden, invalid: true},
		"NotFound":     {status: http.StatusNotFound},
		"ServerError":  {status: http.StatusInternalServerError},
		"BadJSON":      {body: `{"username": `},
		"NoUsername":   {body: `{"name": "x"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeServices(t)
			f.status = tc.status
			f.users["s3cr3t-t0ken"] = tc.body
			c := f.client()
			_, err := c.UserInfo(context.Background(), "s3cr3t-t0ken")
			require.Error(t, err)
			assert.Equal(t, tc.invalid, errors.Is(err, ErrInvalidToken), "UserInfo error %v", err)
			assert.NotContains(t, err.Error(), "s3cr3t-t0ken", "the token never appears in errors")
			// Failures are not cached.
			_, err = c.UserInfo(context.Background(), "s3cr3t-t0ken")
			require.Error(t, err)
			assert.Equal(t, int32(2), f.userInfo.Load(), "failures are not cached")
		})
	}
}

func TestUserInfoSlow(t *testing.T) {
	f := newFakeServices(t)
	f.users["tok"] = rachel
	f.delay = 2 * time.Second
	c := f.client(WithTimeout(100 * time.Millisecond))
	start := time.Now()
	_, err := c.UserInfo(context.Background(), "tok")
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrInvalidToken)
	assert.Less(t, time.Since(start), time.Second, "the timeout bounds the call")
}

func TestUserInfoServiceDown(t *testing.T) {
	f := newFakeServices(t)
	url := f.srv.URL
	f.srv.Close()
	_, err := New(url+"/repertoire").UserInfo(context.Background(), "tok")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service discovery")
}

func TestDiscovery(t *testing.T) {
	t.Run("CachedAfterSuccess", func(t *testing.T) {
		f := newFakeServices(t)
		c := f.client()
		doc, err := c.Discovery(context.Background())
		require.NoError(t, err)
		var parsed map[string]any
		require.NoError(t, json.Unmarshal(doc, &parsed))
		_, err = c.Discovery(context.Background())
		require.NoError(t, err)
		assert.Equal(t, int32(1), f.discovery.Load())
	})
	t.Run("FailureNotCached", func(t *testing.T) {
		f := newFakeServices(t)
		f.discoCode.Store(http.StatusBadGateway)
		c := f.client()
		_, err := c.Discovery(context.Background())
		var herr *HTTPError
		require.ErrorAs(t, err, &herr)
		assert.Equal(t, http.StatusBadGateway, herr.Status)
		f.discoCode.Store(0)
		_, err = c.Discovery(context.Background())
		require.NoError(t, err)
		assert.Equal(t, int32(2), f.discovery.Load())
	})
	t.Run("NoGafaelfawr", func(t *testing.T) {
		f := newFakeServices(t)
		f.discoBody = `{"services":{"internal":{"gafaelfawr":{"url":"https://x/auth/api"}}}}`
		_, err := f.client().UserInfo(context.Background(), "tok")
		require.ErrorContains(t, err, "services.internal.gafaelfawr.versions.v1.url")
	})
	t.Run("BadJSON", func(t *testing.T) {
		f := newFakeServices(t)
		f.discoBody = `not json`
		_, err := f.client().Discovery(context.Background())
		require.ErrorContains(t, err, "decoding discovery document")
	})
	t.Run("NoURL", func(t *testing.T) {
		_, err := New("").Discovery(context.Background())
		require.ErrorContains(t, err, "REPERTOIRE_BASE_URL is not set")
	})
}
