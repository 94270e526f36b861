package fsadmin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/internal/testkit"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
	"github.com/nublado-go/nublado/server/fsadmin"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }

// baseConfig loads testdata/config.yaml once.
var baseConfig = testkit.ConfigOnce(filepath.Join("testdata", "config.yaml"))

// testConfig returns a copy of testdata/config.yaml.
func testConfig(t testing.TB) *nschema.Config {
	t.Helper()
	cfg := baseConfig(t)
	cfg.FSAdmin.ExtraAnnotations = maps.Clone(cfg.FSAdmin.ExtraAnnotations)
	if cfg.FSAdmin.ExtraAnnotations == nil {
		cfg.FSAdmin.ExtraAnnotations = map[string]string{}
	}
	cfg.Lab.Volumes = slices.Clone(cfg.Lab.Volumes)
	cfg.Lab.VolumeMounts = slices.Clone(cfg.Lab.VolumeMounts)
	return cfg
}

// harness is an fsadmin manager on the shared control plane, with a
// controller namespace of its own, and the HTTP API in front.
type harness struct {
	t        testing.TB
	c        *testcluster.Cluster
	cfg      *nschema.Config
	ns       string
	renderer *engine.Renderer
	m        *fsadmin.Manager
	faults   *faults
	log      *syncBuffer
	srv      *httptest.Server
}

// newHarness builds a manager for the test configuration as configure
// changes it.
func newHarness(t testing.TB, configure func(*nschema.Config)) *harness {
	t.Helper()
	c := testcluster.Shared(t)
	h := &harness{t: t, c: c, ns: c.Namespace(t), cfg: testConfig(t), log: &syncBuffer{}}
	if configure != nil {
		configure(h.cfg)
	}
	var err error
	h.renderer, err = engine.New(nublado.CUE, engine.Config(h.cfg))
	require.NoError(t, err, "engine.New")
	h.faults = &faults{}
	rc := c.Config()
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if resp := h.faults.Match(req); resp != nil {
				return resp, nil
			}
			return rt.RoundTrip(req)
		})
	})
	dyn, err := dynamic.NewForConfig(rc)
	require.NoError(t, err)
	applier, err := apply.NewForConfig(rc, apply.WithWatchTimeout(h.cfg.WatchReconnectTimeout))
	require.NoError(t, err)
	log := logrus.New()
	log.SetOutput(h.log)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)
	h.m, err = fsadmin.New(h.cfg, fsadmin.Cluster{Dynamic: dyn, Applier: applier, Namespace: h.ns}, h.renderer, logrus.NewEntry(log))
	require.NoError(t, err)
	h.srv = httptest.NewServer(server.New(h.cfg, noLabs{}, noUsers{}, logrus.NewEntry(log), server.WithFSAdmin(h.m)))
	t.Cleanup(h.srv.Close)
	return h
}

// noLabs is a lab manager without labs; the fsadmin tests call no lab
// route.
type noLabs struct{}

func (noLabs) Running(context.Context) []string { return []string{} }
func (noLabs) State(context.Context, string) (*nublado.LabState, error) {
	return nil, nublado.ErrLabNotFound
}
func (noLabs) Create(context.Context, nublado.CreateRequest) error { return nublado.ErrLabNotFound }
func (noLabs) Delete(context.Context, string) error                { return nublado.ErrLabNotFound }
func (noLabs) Events(context.Context, string) (*events.Reader, error) {
	return nil, nublado.ErrLabNotFound
}

// noUsers knows no token; the fsadmin routes authenticate nobody.
type noUsers struct{}

func (noUsers) UserInfo(context.Context, string) (*nublado.User, error) {
	return nil, fmt.Errorf("no users here")
}

// response is a finished HTTP exchange.
type response struct {
	status int
	body   string
}

// do sends a request to the fsadmin route.
func (h *harness) do(method, body string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+"/nublado/fsadmin/v1/service", rd)
	require.NoError(h.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return response{status: resp.StatusCode, body: string(data)}
}

// startTime returns the start_time of a status body.
func startTime(t testing.TB, body string) time.Time {
	t.Helper()
	var st struct {
		StartTime string `json:"start_time"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st), body)
	ts, err := time.Parse(time.RFC3339, st.StartTime)
	require.NoError(t, err, "start_time of %s", body)
	require.True(t, strings.HasSuffix(st.StartTime, "Z"), "start_time %q in UTC", st.StartTime)
	return ts
}

var (
	pods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	pvcs = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
)

// admin returns a dynamic client.
func (h *harness) admin() dynamic.Interface {
	h.t.Helper()
	dyn, err := dynamic.NewForConfig(h.c.Config())
	require.NoError(h.t, err)
	return dyn
}

// get reads an object of the namespace; nil when it does not exist.
func (h *harness) get(gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	h.t.Helper()
	obj, err := h.admin().Resource(gvr).Namespace(h.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	require.NoError(h.t, err, "reading %s %s", gvr.Resource, name)
	return obj
}

// names returns the names of the objects of a kind in the namespace.
func (h *harness) names(gvr schema.GroupVersionResource) []string {
	h.t.Helper()
	l, err := h.admin().Resource(gvr).Namespace(h.ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(h.t, err)
	out := []string{}
	for _, obj := range l.Items {
		out = append(out, obj.GetName())
	}
	return out
}

// render returns the objects of the fsadmin template for the harness.
func (h *harness) render() []*unstructured.Unstructured {
	h.t.Helper()
	in, err := h.cfg.FSAdminInput(defaultEnv(), h.ns)
	require.NoError(h.t, err)
	objs, err := h.renderer.Render("fsadmin", in)
	require.NoError(h.t, err)
	return objs
}

// checkObjects checks that the objects in the cluster carry everything
// the fsadmin template renders.
func (h *harness) checkObjects() {
	h.t.Helper()
	for _, want := range h.render() {
		gvr := map[string]schema.GroupVersionResource{"Pod": pods, "PersistentVolumeClaim": pvcs}[want.GetKind()]
		got := h.get(gvr, want.GetName())
		require.NotNil(h.t, got, "%s %s", want.GetKind(), want.GetName())
		if diff := testkit.SubsetDiff(h.t, want.Object, got.Object, want.GetKind()); diff != "" {
			h.t.Errorf("%s %s differs from the render: %s", want.GetKind(), want.GetName(), diff)
		}
	}
}

// defaultEnv is the environment the manager uses when given none.
func defaultEnv() nschema.Environment {
	env := nschema.DefaultEnvironment()
	return env
}

// waitFor polls cond until it holds, for a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for " + what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The shared test helpers under this package's names.
type (
	faults           = testkit.APIFaults
	syncBuffer       = testkit.SyncBuffer
	roundTripperFunc = testkit.RoundTripperFunc
)
