package labs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/internal/testkit"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/labs"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }

var (
	rendererOnce sync.Once
	renderer     *engine.Renderer
	rendererErr  error

	prefixes atomic.Int32
)

// baseConfig loads testdata/config.yaml once.
var baseConfig = testkit.ConfigOnce(filepath.Join("testdata", "config.yaml"))

// testConfig returns a copy of testdata/config.yaml with a namespace prefix
// of its own, so that tests running at the same time never see each
// other's labs.
func testConfig(t testing.TB) *schema.Config {
	t.Helper()
	cfg := baseConfig(t)
	cfg.Lab.NamespacePrefix = fmt.Sprintf("lt%02d", prefixes.Add(1))
	return cfg
}

// labRenderer returns the real render engine for cfg. The templates read
// the configuration when they are compiled; the engine of the unmodified
// test configuration is compiled once and shared (the lab template does
// not read the namespace prefix, which is all that differs between the
// tests' configurations).
func labRenderer(t testing.TB, cfg *schema.Config, modified bool) *engine.Renderer {
	t.Helper()
	if modified {
		r, err := engine.New(nublado.CUE, engine.Config(cfg))
		require.NoError(t, err, "engine.New")
		return r
	}
	rendererOnce.Do(func() {
		renderer, rendererErr = engine.New(nublado.CUE, engine.Config(testConfig(t)))
	})
	require.NoError(t, rendererErr, "engine.New")
	return renderer
}

// Test images of the fake resolver: a registry with these tags.
const (
	registry   = "lighthouse.ceres"
	repository = "library/sketchbook"
	imageRef   = registry + "/" + repository
)

var digests = map[string]string{
	"w_2077_43":    "sha256:" + strings.Repeat("4", 64),
	"d_2077_10_23": "sha256:" + strings.Repeat("1", 64),
	"recommended":  "sha256:" + strings.Repeat("4", 64),
}

// fakeImages resolves image requests against the tags of digests, as the
// image service does: a reference must name a tag, and the tag must exist.
type fakeImages struct{}

func (fakeImages) Resolve(_ context.Context, req nublado.ImageRequest) (*images.Image, error) {
	tag := req.Value
	switch req.Attribute {
	case nublado.ImageList, nublado.ImageDropdown:
		ref := strings.SplitN(req.Value, "@", 2)[0]
		repo, t, ok := strings.Cut(strings.TrimPrefix(ref, registry+"/"), ":")
		if !ok {
			return nil, &images.InvalidReferenceError{Attribute: req.Attribute, Reference: ref, Reason: images.ReasonNoTag}
		}
		if repo != repository {
			return nil, &images.UnknownImageError{Attribute: req.Attribute, Message: fmt.Sprintf("Docker reference %q not found", req.Value)}
		}
		tag = t
	case nublado.ImageClass:
		tag = "recommended"
	}
	digest, ok := digests[tag]
	if !ok {
		return nil, &images.UnknownImageError{Attribute: req.Attribute, Message: fmt.Sprintf("Docker tag %q not found", tag)}
	}
	return images.NewImage(images.ParseTag(tag), registry, repository, digest), nil
}

// harness is a lab manager on the shared control plane with a controller
// namespace of its own holding the Secrets of testdata/config.yaml.
type harness struct {
	t      testing.TB
	c      *testcluster.Cluster
	cfg    *schema.Config
	ns     string
	m      *labs.Manager
	dyn    dynamic.Interface
	calls  *calls
	faults *faults
	log    *syncBuffer
	// modified is set when the test changed the configuration.
	modified bool
	// silentWatches drops timeoutSeconds from watch requests.
	silentWatches atomic.Bool
}

type harnessOptions struct {
	configure func(*schema.Config)
	opts      []labs.Option
	noStart   bool
	// debug logs at debug level (default info).
	debug bool
	// cfg reuses another harness's configuration and controller namespace
	// (a second controller on the same labs).
	from *harness
}

// newHarness starts a manager; it is stopped when the test ends.
func newHarness(t testing.TB, ho harnessOptions) *harness {
	t.Helper()
	c := testcluster.Shared(t)
	h := &harness{t: t, c: c, calls: &calls{}, faults: &faults{}, log: &syncBuffer{}}
	if ho.from != nil {
		h.cfg, h.ns, h.modified = ho.from.cfg, ho.from.ns, ho.from.modified
	} else {
		h.cfg = testConfig(t)
		h.cfg.Lab.SpawnTimeout = time.Minute
		h.cfg.Lab.DeleteTimeout = time.Minute
		if ho.configure != nil {
			ho.configure(h.cfg)
			h.modified = true
		}
		h.ns = c.Namespace(t)
		createSecrets(t, c, h.ns)
		t.Cleanup(func() { cleanupLabs(c, h.cfg.Lab.NamespacePrefix) })
	}
	rc := c.Config()
	rc.QPS, rc.Burst = 1000, 2000
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			h.calls.Add(req)
			if h.silentWatches.Load() && isWatch(req) {
				// A watch the server never ends: a proxy that drops
				// timeoutSeconds.
				q := req.URL.Query()
				q.Del("timeoutSeconds")
				req = req.Clone(req.Context())
				req.URL.RawQuery = q.Encode()
			}
			if resp := h.faults.Match(req); resp != nil {
				return resp, nil
			}
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			h.calls.trace(req, start, time.Now())
			return resp, err
		})
	})
	var err error
	h.dyn, err = dynamic.NewForConfig(rc)
	require.NoError(t, err)
	applier, err := apply.NewForConfig(rc, apply.WithWatchTimeout(h.cfg.WatchReconnectTimeout), apply.WithClientRate(1000, 2000))
	require.NoError(t, err)
	log := logrus.New()
	log.SetOutput(h.log)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.InfoLevel)
	if ho.debug {
		log.SetLevel(logrus.DebugLevel)
	}
	h.m, err = labs.New(h.cfg, labs.Cluster{Dynamic: h.dyn, Applier: applier, Namespace: h.ns},
		labRenderer(t, h.cfg, h.modified), fakeImages{}, logrus.NewEntry(log), ho.opts...)
	require.NoError(t, err)
	t.Cleanup(h.m.Stop)
	if !ho.noStart {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, h.m.Start(ctx), "Start")
	}
	return h
}

// createSecrets creates the Secrets that testdata/config.yaml names.
func createSecrets(t testing.TB, c *testcluster.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "nublado-secret"},
			StringData: map[string]string{"butler-secret": "some butler secret", "other-key": "some other key that isn't used"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "extra-secret"},
			StringData: map[string]string{"db-password": "some database password"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pull-secret"}, Type: corev1.SecretTypeDockerConfigJson,
			StringData: map[string]string{".dockerconfigjson": `{"auths":{}}`}},
	} {
		_, err := c.Client().CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
		require.NoError(t, err, "creating Secret %s/%s", ns, s.Name)
	}
}

// cleanupLabs deletes the namespaces a test left behind, without waiting.
func cleanupLabs(c *testcluster.Cluster, prefix string) {
	ctx := context.Background()
	list, err := c.Client().CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, prefix+"-") && ns.DeletionTimestamp == nil {
			_ = c.Client().CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		}
	}
}

func ptr[T any](v T) *T { return &v }

// newUser returns a Gafaelfawr user with a name, groups and a notebook
// quota of 9 CPUs and 27 GiB (conformance users/rachel.json for rachel).
func newUser(name string, uid int64) nublado.User {
	return nublado.User{
		Username: name, Name: ptr(strings.ToUpper(name[:1]) + name[1:] + " (?)"),
		UID: ptr(uid), GID: ptr(uid),
		Groups: []nublado.Group{
			{Name: name, ID: uid}, {Name: "lunatics", ID: 2028}, {Name: "mechanics", ID: 2001},
			{Name: "storytellers", ID: 2021}, {Name: "99numbers", ID: 2029},
		},
		Quota: &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: 9, Memory: 27, Spawn: true}},
	}
}

// createRequest is a create request for user with the standard options.
func createRequest(user nublado.User) nublado.CreateRequest {
	return nublado.CreateRequest{
		User: user, Token: "token-of-" + user.Username, Size: "small",
		Image: nublado.ImageRequest{Attribute: nublado.ImageList, Value: imageRef + ":w_2077_43@" + digests["w_2077_43"]},
		Env:   map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/" + user.Username + "/"},
	}
}

// create creates a lab and returns a reader of its events from the start.
func (h *harness) create(user nublado.User) {
	h.t.Helper()
	require.NoError(h.t, h.m.Create(context.Background(), createRequest(user)), "Create(%s)", user.Username)
}

// events reads the events of the user's current operation until it ends.
func (h *harness) events(user string, timeout time.Duration) []nublado.Event {
	h.t.Helper()
	r, err := h.m.Events(context.Background(), user)
	require.NoError(h.t, err, "Events(%s)", user)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []nublado.Event
	for {
		ev, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(h.t, err, "reading the events of %s (so far %v)", user, out)
		out = append(out, ev)
	}
}

// spawn creates a lab and waits until its spawn has ended; it returns the
// events.
func (h *harness) spawn(user nublado.User) []nublado.Event {
	h.t.Helper()
	h.create(user)
	return h.events(user.Username, 2*time.Minute)
}

// requireComplete checks that a spawn ended with complete.
func requireComplete(t testing.TB, evs []nublado.Event) {
	t.Helper()
	require.NotEmpty(t, evs)
	last := evs[len(evs)-1]
	require.Equal(t, nublado.EventComplete, last.Type, "last event of %v", evs)
}

// waitFor polls cond (reading in-memory state only) until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status returns the user's lab status, "" when there is no lab.
func (h *harness) status(user string) nublado.LabStatus {
	s, err := h.m.State(context.Background(), user)
	if err != nil {
		return ""
	}
	return s.Status
}

// namespaceExists reports whether the user's lab namespace exists.
func (h *harness) namespaceExists(user string) bool {
	h.t.Helper()
	_, err := h.c.Client().CoreV1().Namespaces().Get(context.Background(), h.cfg.LabNamespace(user), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(h.t, err)
	return true
}

// messages returns "type: message (progress)" lines of events.
func messages(evs []nublado.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s: %s (%d)", ev.Type, ev.Message, ev.Progress)
	}
	return out
}

// withoutKubernetesEvents drops the info events relayed from Kubernetes
// Events (progress 35 to 74): the original's tests ran against a mock
// that emits none, while a real scheduler reports each pod it binds.
func withoutKubernetesEvents(evs []nublado.Event) []nublado.Event {
	var out []nublado.Event
	for _, ev := range evs {
		if ev.Type == nublado.EventInfo && ev.Progress >= 35 && ev.Progress < 75 {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// calls counts the API requests of a harness by verb and, when tracing,
// records when each started and ended.
type calls struct {
	testkit.Verbs
	mu      sync.Mutex
	tracing bool
	traces  []traceEntry
}

// traceEntry is one API request.
type traceEntry struct {
	method, path string
	start, end   time.Time
}

func (c *calls) trace(req *http.Request, start, end time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tracing {
		c.traces = append(c.traces, traceEntry{req.Method, req.URL.Path, start, end})
	}
}

// startTrace starts recording requests, forgetting earlier ones.
func (c *calls) startTrace() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tracing, c.traces = true, nil
}

// traced returns the requests recorded so far.
func (c *calls) traced() []traceEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]traceEntry(nil), c.traces...)
}

func isWatch(req *http.Request) bool {
	w := req.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

// setPodPhase sets the phase of a user's lab pod as a kubelet would,
// retrying when the pod changed meanwhile (the scheduler, kwok).
func (h *harness) setPodPhase(user string, phase corev1.PodPhase) {
	h.t.Helper()
	err := retry.OnError(retry.DefaultRetry, func(err error) bool { return strings.Contains(err.Error(), "the object has been modified") },
		func() error {
			return h.c.SetPodPhase(context.Background(), h.cfg.LabNamespace(user), user+"-nb", phase)
		})
	require.NoError(h.t, err, "setting the phase of %s's pod", user)
}

// The shared test helpers under this package's names.
type (
	faults           = testkit.APIFaults
	syncBuffer       = testkit.SyncBuffer
	roundTripperFunc = testkit.RoundTripperFunc
)
