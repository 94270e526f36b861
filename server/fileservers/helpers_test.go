package fileservers_test

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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/internal/testkit"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
	"github.com/nublado-go/nublado/server/fileservers"
	"github.com/nublado-go/nublado/server/gafaelfawr"
	"github.com/nublado-go/nublado/server/metrics"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }

// baseConfig loads testdata/config.yaml once.
var baseConfig = testkit.ConfigOnce(filepath.Join("testdata", "config.yaml"))

// testConfig returns a copy of testdata/config.yaml whose file servers
// live in namespace.
func testConfig(t testing.TB, namespace string) *nschema.Config {
	t.Helper()
	cfg := baseConfig(t)
	cfg.Fileserver.Namespace = namespace
	cfg.Fileserver.ExtraAnnotations = maps.Clone(cfg.Fileserver.ExtraAnnotations)
	cfg.Lab.Volumes = slices.Clone(cfg.Lab.Volumes)
	cfg.Fileserver.VolumeMounts = slices.Clone(cfg.Fileserver.VolumeMounts)
	return cfg
}

// withPVC adds a PVC volume "scratch" to the lab volumes and mounts it in
// file servers (conformance fileserver.yaml). No provisioner serves the
// claim on the local control plane, so a pod using it stays Pending.
func withPVC(cfg *nschema.Config) {
	cfg.Lab.Volumes = append(cfg.Lab.Volumes, nschema.Volume{Name: "scratch", Source: nschema.VolumeSource{
		Type: nschema.VolumePVC, StorageClassName: "sdf-home", AccessModes: []string{"ReadWriteMany"},
		Resources: &nschema.PVCResources{Requests: map[string]string{"storage": "1Gi"}},
	}})
	cfg.Fileserver.VolumeMounts = append(cfg.Fileserver.VolumeMounts,
		nschema.VolumeMount{ContainerPath: "/scratch", VolumeName: "scratch"})
}

// withHeldPods keeps file-server pods Pending.
func withHeldPods(cfg *nschema.Config) {
	cfg.Fileserver.ExtraAnnotations[testcluster.HoldAnnotation] = "true"
}

// harness is a file-server manager on the shared control plane, with a
// file-server namespace of its own, the Gafaelfawr stand-in and the HTTP
// API in front.
type harness struct {
	t        testing.TB
	c        *testcluster.Cluster
	cfg      *nschema.Config
	ns       string
	renderer *engine.Renderer
	dyn      dynamic.Interface
	applier  *apply.Applier
	op       *testcluster.GafaelfawrOperator
	faults   *faults
	calls    *calls
	log      *syncBuffer
	metrics  *metrics.Metrics
	m        *fileservers.Manager
	srv      *httptest.Server
}

type harnessOptions struct {
	configure func(*nschema.Config)
	ingress   testcluster.IngressBehaviour
	noStart   bool
	// opts and serverOpts are more options of the manager and the server.
	opts       []fileservers.Option
	serverOpts []server.Option
	// from reuses another harness's namespace and configuration (a second
	// controller).
	from *harness
}

// newHarness starts a manager; it is stopped when the test ends.
func newHarness(t testing.TB, ho harnessOptions) *harness {
	t.Helper()
	c := testcluster.Shared(t)
	h := &harness{t: t, c: c, faults: &faults{}, calls: &calls{}, log: &syncBuffer{}}
	if ho.from != nil {
		h.ns, h.cfg, h.renderer, h.op = ho.from.ns, ho.from.cfg, ho.from.renderer, ho.from.op
	} else {
		h.ns = c.Namespace(t)
		h.cfg = testConfig(t, h.ns)
		if ho.configure != nil {
			ho.configure(h.cfg)
		}
		var err error
		h.renderer, err = engine.New(nublado.CUE, engine.Config(h.cfg))
		require.NoError(t, err, "engine.New")
		h.op = c.GafaelfawrOperator(t, h.ns, ho.ingress)
	}
	rc := c.Config()
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			h.calls.Add(req)
			if resp := h.faults.Match(req); resp != nil {
				return resp, nil
			}
			return rt.RoundTrip(req)
		})
	})
	var err error
	h.dyn, err = dynamic.NewForConfig(rc)
	require.NoError(t, err)
	h.applier, err = apply.NewForConfig(rc, apply.WithWatchTimeout(h.cfg.WatchReconnectTimeout))
	require.NoError(t, err)
	log := logrus.New()
	log.SetOutput(h.log)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)
	h.metrics = metrics.New(prometheus.NewRegistry())
	h.m, err = fileservers.New(h.cfg, fileservers.Cluster{Dynamic: h.dyn, Applier: h.applier}, h.renderer,
		logrus.NewEntry(log), append([]fileservers.Option{fileservers.WithMetrics(h.metrics)}, ho.opts...)...)
	require.NoError(t, err)
	t.Cleanup(h.m.Stop)
	if !ho.noStart {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, h.m.Start(ctx), "Start")
	}
	users := fakeUsers{}
	for _, u := range []nublado.User{newUser("rachel", 1101), newUser("wanda", 1102)} {
		users["token-of-"+u.Username] = &u
	}
	h.srv = httptest.NewServer(server.New(h.cfg, noLabs{}, users, logrus.NewEntry(log),
		append([]server.Option{server.WithFileServers(h.m)}, ho.serverOpts...)...))
	t.Cleanup(h.srv.Close)
	return h
}

// defaultEnv is the environment the manager uses when given none.
func defaultEnv() nschema.Environment {
	env := nschema.DefaultEnvironment()
	return env
}

func ptr[T any](v T) *T { return &v }

// newUser returns a Gafaelfawr user with groups.
func newUser(name string, uid int64) nublado.User {
	return nublado.User{
		Username: name, UID: ptr(uid), GID: ptr(uid),
		Groups: []nublado.Group{{Name: name, ID: uid}, {Name: "lunatics", ID: 2028}},
	}
}

// fakeUsers is Gafaelfawr's user-info: token → user.
type fakeUsers map[string]*nublado.User

func (f fakeUsers) UserInfo(_ context.Context, token string) (*nublado.User, error) {
	if u, ok := f[token]; ok {
		return u, nil
	}
	return nil, fmt.Errorf("user info: %w", gafaelfawr.ErrInvalidToken)
}

// noLabs is a lab manager without labs; the file-server tests call no lab
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

// response is a finished HTTP exchange.
type response struct {
	status int
	body   string
}

// do sends a request; user, when set, authenticates as that user.
func (h *harness) do(method, path, user string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	require.NoError(h.t, err)
	if user != "" {
		req.Header.Set("X-Auth-Request-User", user)
		req.Header.Set("X-Auth-Request-Token", "token-of-"+user)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return response{status: resp.StatusCode, body: string(data)}
}

// files is GET /files as user.
func (h *harness) files(user string) response {
	h.t.Helper()
	return h.do(http.MethodGet, "/files", user)
}

// users is GET /nublado/fileserver/v1/users.
func (h *harness) users() string {
	h.t.Helper()
	r := h.do(http.MethodGet, "/nublado/fileserver/v1/users", "")
	require.Equal(h.t, http.StatusOK, r.status)
	return r.body
}

// Kinds of the objects of a file server, and what else a namespace holds.
var (
	gafaelfawrIngresses = testcluster.GafaelfawrIngressResource
	ingresses           = testcluster.IngressResource
	jobs                = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	pods                = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	services            = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	pvcs                = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	configMaps          = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	serviceAccounts     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	allKinds            = []schema.GroupVersionResource{gafaelfawrIngresses, ingresses, jobs, pods, services, pvcs, configMaps, serviceAccounts}
)

// inventory returns "resource/name" of every object in the namespace of
// the kinds a file server uses, and of ConfigMaps and ServiceAccounts,
// sorted; objects being deleted are marked "(deleting)".
func (h *harness) inventory() []string {
	h.t.Helper()
	var out []string
	for _, gvr := range allKinds {
		list, err := h.admin().Resource(gvr).Namespace(h.ns).List(context.Background(), metav1.ListOptions{})
		require.NoError(h.t, err, "listing %s", gvr.Resource)
		for _, obj := range list.Items {
			entry := gvr.Resource + "/" + obj.GetName()
			if obj.GetDeletionTimestamp() != nil {
				entry += " (deleting)"
			}
			out = append(out, entry)
		}
	}
	slices.Sort(out)
	return out
}

// emptyInventory is what a namespace holds of its own.
var emptyInventory = []string{"configmaps/kube-root-ca.crt", "serviceaccounts/default"}

// waitInventory waits until the namespace holds exactly want.
func (h *harness) waitInventory(want []string) {
	h.t.Helper()
	var got []string
	waitFor(h.t, "namespace inventory", func() bool {
		got = h.inventory()
		return slices.Equal(got, want)
	}, func() string { return fmt.Sprintf("want %v, got %v", want, got) })
}

// admin is a dynamic client that bypasses the harness's faults.
func (h *harness) admin() dynamic.Interface {
	h.t.Helper()
	dyn, err := dynamic.NewForConfig(h.c.Config())
	require.NoError(h.t, err)
	return dyn
}

// get reads an object of the namespace.
func (h *harness) get(gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	h.t.Helper()
	obj, err := h.admin().Resource(gvr).Namespace(h.ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(h.t, err, "reading %s %s", gvr.Resource, name)
	return obj
}

// exists reports whether an object of the namespace exists.
func (h *harness) exists(gvr schema.GroupVersionResource, name string) bool {
	h.t.Helper()
	_, err := h.admin().Resource(gvr).Namespace(h.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(h.t, err, "reading %s %s", gvr.Resource, name)
	return true
}

// jobPod returns the pod of the user's file-server Job.
func (h *harness) jobPod(user string) *unstructured.Unstructured {
	h.t.Helper()
	list, err := h.admin().Resource(pods).Namespace(h.ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: "job-name=" + user + "-fs"})
	require.NoError(h.t, err)
	require.Len(h.t, list.Items, 1, "pods of Job %s-fs", user)
	return &list.Items[0]
}

// setPodPhase sets the phase of the user's file-server pod as a kubelet
// would.
func (h *harness) setPodPhase(user string, phase corev1.PodPhase) {
	h.t.Helper()
	name := h.jobPod(user).GetName()
	err := retry.OnError(retry.DefaultRetry, func(err error) bool { return strings.Contains(err.Error(), "the object has been modified") },
		func() error { return h.c.SetPodPhase(context.Background(), h.ns, name, phase) })
	require.NoError(h.t, err, "setting the phase of %s's pod", user)
}

// waitFor polls cond until it holds, for a minute; detail describes the
// failure.
func waitFor(t testing.TB, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			msg := "timed out waiting for " + what
			for _, d := range detail {
				msg += ": " + d()
			}
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// calls counts the API requests of a harness by verb.
type calls = testkit.Verbs

// count returns how many log lines have the message msg.
func (b *syncBuffer) count(msg string) int {
	return strings.Count(b.String(), `"msg":"`+msg+`"`)
}

// fileServerObjects returns the inventory without the namespace's own
// objects.
func (h *harness) fileServerObjects() []string {
	h.t.Helper()
	var out []string
	for _, entry := range h.inventory() {
		if !strings.HasPrefix(entry, "configmaps/") && !strings.HasPrefix(entry, "serviceaccounts/") {
			out = append(out, entry)
		}
	}
	return out
}

// jobPods returns the pods of the user's file-server Job.
func (h *harness) jobPods(user string) []unstructured.Unstructured {
	h.t.Helper()
	list, err := h.admin().Resource(pods).Namespace(h.ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: "job-name=" + user + "-fs"})
	require.NoError(h.t, err)
	return list.Items
}

// checkObjects checks that the user's objects in the cluster carry
// everything the fileserver template renders for them (the API server
// adds defaults and status).
func (h *harness) checkObjects(user string) {
	h.t.Helper()
	in, err := h.cfg.FileserverInput(defaultEnv(), newUser(user, 1101))
	require.NoError(h.t, err)
	objs, err := h.renderer.Render("fileserver", in)
	require.NoError(h.t, err)
	require.NotEmpty(h.t, objs)
	for _, want := range objs {
		gvr := map[string]schema.GroupVersionResource{
			"GafaelfawrIngress": gafaelfawrIngresses, "Service": services, "Job": jobs, "PersistentVolumeClaim": pvcs,
		}[want.GetKind()]
		got := h.get(gvr, want.GetName())
		if diff := testkit.SubsetDiff(h.t, want.Object, got.Object, want.GetKind()); diff != "" {
			h.t.Errorf("%s %s differs from the render: %s", want.GetKind(), want.GetName(), diff)
		}
	}
}

// durations returns the duration_ms of the log lines with message msg.
func (b *syncBuffer) durations(msg string) []time.Duration {
	var out []time.Duration
	for _, line := range strings.Split(b.String(), "\n") {
		var entry struct {
			Msg      string  `json:"msg"`
			Duration float64 `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == msg {
			out = append(out, time.Duration(entry.Duration*float64(time.Millisecond)))
		}
	}
	return out
}

// The shared test helpers under this package's names.
type (
	faults           = testkit.APIFaults
	roundTripperFunc = testkit.RoundTripperFunc
)

// syncBuffer is the controller's log, with queries on its lines.
type syncBuffer struct{ testkit.SyncBuffer }
