package labs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// hostileRequest is one request of TestHostileRequests: a method, a path
// under the controller's prefix (sent as written: no cleaning, escapes
// kept), headers (each value sent as its own header line) and a body.
type hostileRequest struct {
	method, path string
	headers      [][2]string
	body         string
	// chunked sends the body without Content-Length.
	chunked bool
}

// hostileCase is a request and the answer it must get.
type hostileCase struct {
	reason string
	req    hostileRequest
	status int
	// errType is the error type of the body ("" to check only the status).
	errType string
}

// recordingFileServers is a server.FileServers that records its calls:
// main has no file-server manager yet, and every request of the table is
// refused before the manager is asked, so any call is a failure.
type recordingFileServers struct {
	mu    sync.Mutex
	calls []string
}

func (f *recordingFileServers) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *recordingFileServers) Running(context.Context) []string {
	f.record("Running")
	return []string{}
}

func (f *recordingFileServers) Create(_ context.Context, user *nublado.User, _ string) error {
	f.record("Create " + user.Username)
	return nil
}

func (f *recordingFileServers) Delete(_ context.Context, user string) error {
	f.record("Delete " + user)
	return nil
}

func (f *recordingFileServers) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// as returns the auth headers of user with the token of tokenOf.
func as(user, tokenOf string) [][2]string {
	return [][2]string{{"X-Auth-Request-User", user}, {"X-Auth-Request-Token", "token-of-" + tokenOf}}
}

// hostileCases is the table of TestHostileRequests: rachel (no lab) and
// bob (running lab) are Gafaelfawr users; every request must be refused
// before anything reaches Kubernetes.
func hostileCases() []hostileCase {
	long := strings.Repeat("r", 300)
	sp := "/nublado/spawner/v1"
	create := func(pathUser string, headers [][2]string) hostileRequest {
		return hostileRequest{method: http.MethodPost, path: sp + "/labs/" + pathUser + "/create",
			headers: headers, body: createBody("rachel")}
	}
	events := func(pathUser string, headers [][2]string) hostileRequest {
		return hostileRequest{method: http.MethodGet, path: sp + "/labs/" + pathUser + "/events", headers: headers}
	}
	form := func(pathUser string, headers [][2]string) hostileRequest {
		return hostileRequest{method: http.MethodGet, path: sp + "/lab-form/" + pathUser, headers: headers}
	}
	files := func(headers [][2]string) hostileRequest {
		return hostileRequest{method: http.MethodGet, path: "/files", headers: headers}
	}
	rachel := as("rachel", "rachel")
	dupUser := append(as("rachel", "rachel"), [2]string{"X-Auth-Request-User", "bob"})
	dupToken := append(as("rachel", "rachel"), [2]string{"X-Auth-Request-Token", "token-of-bob"})
	userOnly := [][2]string{{"X-Auth-Request-User", "rachel"}}
	tokenOnly := [][2]string{{"X-Auth-Request-Token", "token-of-rachel"}}
	bigBody := func(n int) string {
		return `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/", "PAD": "` +
			strings.Repeat("x", n) + `"}}`
	}
	manyEnv := make([]string, server.MaxEnvKeys+1)
	for i := range manyEnv {
		manyEnv[i] = fmt.Sprintf(`"V%03d": "x"`, i)
	}
	const (
		denied  = "permission_denied"
		invalid = "invalid_token"
	)
	return []hostileCase{
		// Path usernames.
		{"slash in the path user splits the route", create("rachel/bob", rachel), http.StatusNotFound, ""},
		{"percent-encoded slash stays one segment, not rachel's name", create("rachel%2Fbob", rachel), http.StatusForbidden, denied},
		{"percent-encoded slash towards bob", create("rachel%2F..%2Fbob", rachel), http.StatusForbidden, denied},
		{"dot-dot as the path user", create("..", rachel), http.StatusForbidden, denied},
		{"encoded dot-dot as the path user", create("%2e%2e", rachel), http.StatusForbidden, denied},
		{"dot-dot walking to bob's create", create("rachel/../bob", rachel), http.StatusNotFound, ""},
		{"uppercase path user", create("Rachel", rachel), http.StatusForbidden, denied},
		{"uppercase header and path user", create("Rachel", as("Rachel", "rachel")), http.StatusForbidden, denied},
		{"300-character path user", create(long, rachel), http.StatusForbidden, denied},
		{"300-character header and path user", create(long, as(long, "rachel")), http.StatusForbidden, denied},
		{"NUL in the path user", create("rachel%00", rachel), http.StatusForbidden, denied},
		{"space in the path user", create("rachel%20", rachel), http.StatusForbidden, denied},
		{"trailing slash redirects (spec 1.2)", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create/",
			headers: rachel, body: createBody("rachel")}, http.StatusTemporaryRedirect, ""},
		{"events: encoded slash", events("bob%2F..%2Frachel", as("rachel", "rachel")), http.StatusForbidden, denied},
		{"events: uppercase", events("BOB", as("bob", "bob")), http.StatusForbidden, denied},
		{"events: 300 characters", events(long, as("rachel", "rachel")), http.StatusForbidden, denied},
		{"lab form: dot-dot", form("..", rachel), http.StatusForbidden, denied},
		{"lab form: 300 characters", form(long, rachel), http.StatusForbidden, denied},
		// User A acting on user B.
		{"rachel creates bob's lab", create("bob", rachel), http.StatusForbidden, denied},
		{"rachel claims to be bob with her token", create("bob", as("bob", "rachel")), http.StatusForbidden, denied},
		{"rachel reads bob's events", events("bob", rachel), http.StatusForbidden, denied},
		{"rachel opens bob's lab form", form("bob", rachel), http.StatusForbidden, denied},
		{"rachel asks for bob's file server", files(as("bob", "rachel")), http.StatusForbidden, denied},
		{"unknown token for bob's lab", create("bob", as("bob", "nobody")), http.StatusUnauthorized, invalid},
		{"unknown token for a file server", files(as("bob", "nobody")), http.StatusUnauthorized, invalid},
		// Missing auth headers.
		{"create without auth headers", create("rachel", nil), http.StatusUnprocessableEntity, "missing"},
		{"create without the token", create("rachel", userOnly), http.StatusUnprocessableEntity, "missing"},
		{"create without the user", create("rachel", tokenOnly), http.StatusUnprocessableEntity, "missing"},
		{"events without the user", events("bob", nil), http.StatusUnprocessableEntity, "missing"},
		{"lab form without the token", form("rachel", userOnly), http.StatusUnprocessableEntity, "missing"},
		{"file server without auth headers", files(nil), http.StatusUnprocessableEntity, "missing"},
		{"user status without the user", hostileRequest{method: http.MethodGet, path: sp + "/user-status"},
			http.StatusUnprocessableEntity, "missing"},
		// Duplicated auth headers.
		{"create with two users", create("rachel", dupUser), http.StatusUnprocessableEntity, "value_error"},
		{"create with two tokens", create("rachel", dupToken), http.StatusUnprocessableEntity, "value_error"},
		{"bob's create with rachel's user added", create("bob", append(as("bob", "bob"), [2]string{"X-Auth-Request-User", "rachel"})),
			http.StatusUnprocessableEntity, "value_error"},
		{"events with two users", events("bob", append([][2]string{{"X-Auth-Request-User", "bob"}}, [2]string{"X-Auth-Request-User", "rachel"})),
			http.StatusUnprocessableEntity, "value_error"},
		{"file server with two tokens", files(dupToken), http.StatusUnprocessableEntity, "value_error"},
		{"user status with two users", hostileRequest{method: http.MethodGet, path: sp + "/user-status", headers: dupUser},
			http.StatusUnprocessableEntity, "value_error"},
		// Oversized and hostile bodies.
		{"2 MiB body with Content-Length", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create",
			headers: rachel, body: bigBody(2 << 20)}, http.StatusRequestEntityTooLarge, ""},
		{"2 MiB chunked body", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create",
			headers: rachel, body: bigBody(2 << 20), chunked: true}, http.StatusRequestEntityTooLarge, ""},
		{"oversized body for bob's lab from rachel", hostileRequest{method: http.MethodPost, path: sp + "/labs/bob/create",
			headers: rachel, body: bigBody(4 << 20)}, http.StatusRequestEntityTooLarge, ""},
		{"100,000 nested arrays", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create", headers: rachel,
			body: strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)}, http.StatusUnprocessableEntity, "json_invalid"},
		{"too many env keys", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create", headers: rachel,
			body: `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/", ` +
				strings.Join(manyEnv, ", ") + `}}`}, http.StatusUnprocessableEntity, "too_long"},
		{"service prefix pointing at another host", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create",
			headers: rachel, body: `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "@evil.example/"}}`},
			http.StatusUnprocessableEntity, "value_error"},
		{"env key that is not a ConfigMap key", hostileRequest{method: http.MethodPost, path: sp + "/labs/rachel/create",
			headers: rachel, body: `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/", "../x": "y"}}`},
			http.StatusUnprocessableEntity, "string_pattern_mismatch"},
	}
}

// TestHostileRequests sends path, header and body tricks to the real
// router over the lab manager on the local control plane, with bob's lab
// running: each is answered with its 4xx, and none causes a Kubernetes
// write (the manager's client counts every request), creates a user
// record or namespace, calls the file-server manager, or changes bob's
// objects.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	rachel, bob := newUser("rachel", 1101), newUser("bob", 1102)
	fs := &recordingFileServers{}
	srv := hostileAPI(t, h, fs, rachel, bob)
	requireComplete(t, h.spawn(bob))

	before := clusterFingerprint(t, h)
	writesBefore := writes(h.calls.Snapshot())
	require.Positive(t, writesBefore, "writes counted for bob's spawn (the counter works)")
	cases := hostileCases()
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			w0 := writes(h.calls.Snapshot())
			status, body := sendHostile(t, srv, tc.req)
			assert.Equal(t, tc.status, status, "%s %s: %s", tc.req.method, tc.req.path, body)
			if tc.errType != "" {
				assert.Contains(t, body, `"type":"`+tc.errType+`"`, "%s %s", tc.req.method, tc.req.path)
			}
			assert.Equal(t, w0, writes(h.calls.Snapshot()), "Kubernetes writes caused by %s %s", tc.req.method, tc.req.path)
		})
	}
	// A refused create must not have started anything in the background.
	time.Sleep(2 * time.Second)
	assert.Equal(t, writesBefore, writes(h.calls.Snapshot()), "Kubernetes writes during the table")
	assert.Equal(t, before, clusterFingerprint(t, h), "namespaces and bob's objects")
	assert.Empty(t, fs.recorded(), "calls of the file-server manager")
	for _, u := range []string{"rachel", "Rachel", "..", "rachel%2Fbob", strings.Repeat("r", 300)} {
		_, err := h.m.State(context.Background(), u)
		assert.ErrorIs(t, err, nublado.ErrLabNotFound, "State(%q)", u)
	}
	assert.Equal(t, nublado.LabStatus("running"), h.status("bob"), "bob's lab")
	t.Logf("%d hostile requests, %d Kubernetes writes", len(cases), writes(h.calls.Snapshot())-writesBefore)
}

// hostileAPI serves the real router over the harness's manager and fs.
func hostileAPI(t *testing.T, h *harness, fs server.FileServers, users ...nublado.User) *httptest.Server {
	t.Helper()
	known := fakeUsers{}
	for _, u := range users {
		known["token-of-"+u.Username] = &u
	}
	log := logrus.New()
	log.SetOutput(h.log)
	log.SetFormatter(&logrus.JSONFormatter{})
	srv := httptest.NewServer(server.New(h.cfg, h.m, known, logrus.NewEntry(log), server.WithFileServers(fs)))
	t.Cleanup(srv.Close)
	return srv
}

// sendHostile sends req as written and returns the status and body.
func sendHostile(t *testing.T, srv *httptest.Server, hr hostileRequest) (int, string) {
	t.Helper()
	var body io.Reader
	if hr.body != "" {
		body = strings.NewReader(hr.body)
		if hr.chunked {
			body = io.MultiReader(body) // hides the length from NewRequest
		}
	}
	req, err := http.NewRequest(hr.method, srv.URL+hr.path, body)
	require.NoError(t, err, "building %s %s", hr.method, hr.path)
	for _, kv := range hr.headers {
		req.Header.Add(kv[0], kv[1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s %s", hr.method, hr.path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// writes counts the write requests of a calls snapshot.
func writes(verbs map[string]int) int {
	n := 0
	for verb, c := range verbs {
		switch verb {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			n += c
		}
	}
	return n
}

// clusterFingerprint lists the namespaces of the harness's prefix and the
// objects of every one of them, each with its resource version (pods by
// UID: the kubelet may update a pod's status).
func clusterFingerprint(t *testing.T, h *harness) []string {
	t.Helper()
	ctx := context.Background()
	client := h.c.Client()
	nss, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, ns := range nss.Items {
		if !strings.HasPrefix(ns.Name, h.cfg.Lab.NamespacePrefix+"-") {
			continue
		}
		out = append(out, "Namespace/"+ns.Name+"@"+ns.ResourceVersion)
		n := ns.Name
		cms, err := client.CoreV1().ConfigMaps(n).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, o := range cms.Items {
			out = append(out, "ConfigMap/"+n+"/"+o.Name+"@"+o.ResourceVersion)
		}
		secrets, err := client.CoreV1().Secrets(n).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, o := range secrets.Items {
			out = append(out, "Secret/"+n+"/"+o.Name+"@"+o.ResourceVersion)
		}
		svcs, err := client.CoreV1().Services(n).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, o := range svcs.Items {
			out = append(out, "Service/"+n+"/"+o.Name+"@"+o.ResourceVersion)
		}
		nps, err := client.NetworkingV1().NetworkPolicies(n).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, o := range nps.Items {
			out = append(out, "NetworkPolicy/"+n+"/"+o.Name+"@"+o.ResourceVersion)
		}
		pods, err := client.CoreV1().Pods(n).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, o := range pods.Items {
			out = append(out, "Pod/"+n+"/"+o.Name+"#"+string(o.UID))
		}
	}
	sort.Strings(out)
	return out
}
