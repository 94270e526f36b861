package faults_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/faults"
)

// gafaelfawr is a Gafaelfawr and Repertoire stand-in whose parts can be
// taken down (the connection is closed unanswered) or slowed. Every token
// is the name of a user with a notebook quota.
type gafaelfawr struct {
	srv                         *httptest.Server
	discoveryDown, userInfoDown atomic.Bool
	delay                       atomic.Int64 // of user-info, in nanoseconds
	userInfos                   atomic.Int32
}

func newGafaelfawr(t *testing.T) *gafaelfawr {
	t.Helper()
	g := &gafaelfawr{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repertoire/discovery", func(w http.ResponseWriter, _ *http.Request) {
		if g.discoveryDown.Load() {
			hangUp(w)
			return
		}
		base := g.srv.URL
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"services":{"internal":{"gafaelfawr":{"url":%q,"versions":{"v1":{"url":%q}}}}}}`,
			base+"/auth/api", base+"/auth/api/v1")
	})
	mux.HandleFunc("GET /auth/api/v1/user-info", func(w http.ResponseWriter, r *http.Request) {
		g.userInfos.Add(1)
		time.Sleep(time.Duration(g.delay.Load()))
		if g.userInfoDown.Load() {
			hangUp(w)
			return
		}
		user := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"username":%q,"name":"Test User","uid":1101,"gid":1101,"groups":[{"name":%q,"id":1101}],`+
			`"quota":{"notebook":{"cpu":9.0,"memory":27.0}}}`, user, user)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// labForm asks for a user's lab form (which needs Gafaelfawr's user info)
// and returns the status, body and how long it took.
func (c *controller) labForm(user string) (int, string, time.Duration) {
	c.t.Helper()
	begin := time.Now()
	code, body := c.do(http.MethodGet, api+"/lab-form/"+user, userHeaders(user), "")
	return code, body, time.Since(begin)
}

// TestGafaelfawrFaults: discovery unreachable, Gafaelfawr down and
// Gafaelfawr slow each give a clear answer (500 with the reason, or a slow
// success) without harming the controller, and requests succeed as soon
// as the service is back.
func TestGafaelfawrFaults(t *testing.T) {
	t.Parallel()
	g := newGafaelfawr(t)
	g.discoveryDown.Store(true)
	e := newEnv(t, envOptions{repertoire: g.srv.URL + "/repertoire"})
	c := e.start()

	code, body, _ := c.labForm("rachel")
	assert.Equal(t, http.StatusInternalServerError, code)
	c.waitContaining("service discovery", 10*time.Second)
	g.discoveryDown.Store(false)
	code, body, took := c.labForm("rachel")
	require.Equal(t, http.StatusOK, code, body)
	t.Logf("discovery unreachable: 500, logged %q; back: lab form in %s",
		firstError(c.loggedContaining("service discovery")), took.Round(time.Millisecond))

	g.userInfoDown.Store(true)
	code, body, _ = c.labForm("wanda")
	assert.Equal(t, http.StatusInternalServerError, code)
	c.waitContaining("user-info", 10*time.Second)
	c.alive()
	g.userInfoDown.Store(false)
	code, _, took = c.labForm("wanda")
	require.Equal(t, http.StatusOK, code)
	t.Logf("Gafaelfawr down: 500, logged %q; back: lab form in %s",
		firstError(c.loggedContaining("user-info")), took.Round(time.Millisecond))

	g.delay.Store(int64(2 * time.Second))
	code, _, took = c.labForm("carol")
	require.Equal(t, http.StatusOK, code)
	assert.GreaterOrEqual(t, took, 2*time.Second)
	g.delay.Store(0)
	calls := g.userInfos.Load()
	code, _, cached := c.labForm("carol")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, calls, g.userInfos.Load(), "the user info is cached")
	t.Logf("Gafaelfawr slow (2 s): lab form in %s; then from the cache in %s", took.Round(time.Millisecond), cached.Round(time.Millisecond))

	// A spawn works once everything is back.
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	c.alive()
}

// TestRegistryDown takes the registry down between image refreshes (every
// 2 s): each failed refresh is logged and counted in
// nublado_image_refreshes_total{outcome="failure"}, the cached menu keeps
// serving, and the first refresh after the registry is back succeeds (and
// is counted as a success).
func TestRegistryDown(t *testing.T) {
	t.Parallel()
	s := sharedStack(t)
	reg, err := faults.NewTCPProxy(s.RegistryHost)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	host := fmt.Sprintf("localhost:%d", reg.Port())
	user, pass, ok := s.Credentials.Lookup(s.RegistryHost)
	require.True(t, ok)
	creds := &images.DockerCredentials{}
	creds.Set(host, user, pass)
	credFile := filepath.Join(t.TempDir(), "docker-config.json")
	require.NoError(t, creds.Save(credFile))
	e := newEnv(t, envOptions{registry: host, credentials: credFile, refresh: "2s"})
	c := e.start()
	code, menu := c.do(http.MethodGet, api+"/images", nil, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 0.0, c.metric(refreshFailures), "no failed refresh yet")
	assert.GreaterOrEqual(t, c.metric(refreshSuccesses), 1.0, "the startup refresh")

	reg.SetDown(true)
	down := time.Now()
	failed := c.waitLogged("Uncaught exception refreshing image data", 1, 30*time.Second)
	t.Logf("registry down: refresh failure logged %s later: %v", time.Since(down).Round(time.Millisecond), failed[0]["error"])
	assert.GreaterOrEqual(t, c.metric(refreshFailures), 1.0, "the failed refresh is counted")
	code, during := c.do(http.MethodGet, api+"/images", nil, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, withoutPrepulled(menu), withoutPrepulled(during), "the cached menu keeps serving")
	code, form, _ := c.labForm("rachel")
	assert.Equal(t, http.StatusOK, code, form)
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)), "spawns go on from the cached menu")

	refreshed := len(c.logged("Refreshed image information"))
	// A refresh is counted before its failure is logged.
	logged := len(c.logged("Uncaught exception refreshing image data"))
	successes := c.metric(refreshSuccesses)
	failures := c.metric(refreshFailures)
	assert.GreaterOrEqual(t, failures, float64(logged), "every logged refresh failure is counted")
	reg.SetDown(false)
	up := time.Now()
	c.waitLogged("Refreshed image information", refreshed+1, 30*time.Second)
	recovered := time.Since(up)
	assert.Greater(t, c.metric(refreshSuccesses), successes, "the refresh after the registry is back is counted")
	code, after := c.do(http.MethodGet, api+"/images", nil, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, withoutPrepulled(menu), withoutPrepulled(after))
	c.alive()
	t.Logf("registry back: refresh succeeded %s later (refresh interval 2 s); %v failed refreshes counted",
		recovered.Round(time.Millisecond), failures)
}

// The series of the image refresh counter.
const (
	refreshSuccesses = `nublado_image_refreshes_total{outcome="success"}`
	refreshFailures  = `nublado_image_refreshes_total{outcome="failure"}`
)

// metric returns the value of one series of the controller's metrics
// (name with its labels, as the text format writes it).
func (c *controller) metric(series string) float64 {
	c.t.Helper()
	for line := range strings.Lines(c.metrics()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(c.t, err, "value of %s", series)
			return f
		}
	}
	c.t.Fatalf("no series %s in the metrics", series)
	return 0
}

// withoutPrepulled drops the prepulled flags from an image menu, which the
// prepuller changes as it goes.
func withoutPrepulled(menu string) string {
	return strings.NewReplacer(`,"prepulled":true`, "", `,"prepulled":false`, "").Replace(menu)
}

// loggedContaining returns the log lines that contain s.
func (c *controller) loggedContaining(s string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// firstError returns the error field of the first JSON log line.
func firstError(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(lines[0]), &e)
	return e.Error
}

// waitContaining waits until a log line contains s.
func (c *controller) waitContaining(s string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for len(c.loggedContaining(s)) == 0 {
		if time.Now().After(deadline) {
			c.t.Fatalf("the controller did not log %q in %s:\n%s", s, timeout, c.tail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
