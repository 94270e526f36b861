package prepuller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/prepuller"
)

// prepullSelector selects prepull pods.
const prepullSelector = prepuller.LabelCategory + "=" + prepuller.CategoryPrepuller

// ownerName is the name of the stand-in controller pod that owns the
// prepull pods of a test.
const ownerName = "nublado-controller"

// kubeProxy is a reverse proxy in front of the shared API server through
// which the puller talks, so that tests can interfere with the creation of
// chosen prepull pods.
type kubeProxy struct {
	url string

	mu    sync.Mutex
	rules map[string]*podRule // by pod name
}

// podRule says what happens to the creation of a pod.
type podRule struct {
	// fail is the number of creations to answer with 400 "Something bad
	// happened".
	fail int
	// hold adds testcluster.HoldAnnotation to the created pod, so that
	// kwok leaves it Pending.
	hold bool
	// block, when set, holds the create request until it is closed;
	// blocked is then closed when the request arrives.
	block, blocked chan struct{}
}

func startKubeProxy(t testing.TB) *kubeProxy {
	t.Helper()
	c := testcluster.Shared(t)
	upstream, err := url.Parse(c.Host())
	require.NoError(t, err)
	transport, err := rest.TransportFor(c.Config())
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = transport
	rp.FlushInterval = -1 // stream watches
	p := &kubeProxy{rules: map[string]*podRule{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pods") && !p.intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// rule sets what happens to the creations of the pod called name.
func (p *kubeProxy) rule(name string, r *podRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules[name] = r
}

// intercept applies the rule of a pod creation; false means answered.
func (p *kubeProxy) intercept(w http.ResponseWriter, r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	var pod map[string]any
	if err := json.Unmarshal(body, &pod); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	meta, _ := pod["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	p.mu.Lock()
	rule := p.rules[name]
	fail := rule != nil && rule.fail > 0
	if fail {
		rule.fail--
	}
	p.mu.Unlock()
	switch {
	case rule == nil:
	case fail:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
			`"message":"Something bad happened","reason":"BadRequest","code":400}`))
		return false
	case rule.block != nil:
		close(rule.blocked)
		select {
		case <-rule.block:
		case <-r.Context().Done():
			return false
		}
	case rule.hold:
		meta["annotations"] = map[string]any{testcluster.HoldAnnotation: "true"}
		body, _ = json.Marshal(pod)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

// pullerEnv is a puller on the shared cluster, talking through a
// kubeProxy, with the image service it reads.
type pullerEnv struct {
	t      testing.TB
	c      *testcluster.Cluster
	cfg    *schema.Config
	svc    *prepuller.Service
	nodes  *prepuller.NodeWatcher
	puller *prepuller.Puller
	// dyn, applier and renderer are the puller's.
	dyn      dynamic.Interface
	applier  *apply.Applier
	renderer *engine.Renderer
	// log receives the puller's lines.
	log   *test.Hook
	proxy *kubeProxy
	ns    string
	owner *corev1.Pod
	pods  *podRecorder
}

// newPullerEnv builds the puller of cfg over the image source src, with
// its pods in namespace ns (a new one when empty), owned by a stand-in
// controller pod, and starts it.
func newPullerEnv(t testing.TB, cfg *schema.Config, src images.Source, ns string, opts ...prepuller.PullerOption) *pullerEnv {
	t.Helper()
	c := testcluster.Shared(t)
	if ns == "" {
		ns = c.Namespace(t)
	} else {
		ensureNamespace(t, c, ns)
	}
	e := &pullerEnv{t: t, c: c, cfg: cfg, ns: ns, proxy: startKubeProxy(t)}
	e.owner = ownerPod(t, c, ns)
	e.pods = recordPods(t, c, ns)
	e.svc, e.nodes, _ = newServiceOf(t, cfg, src)

	restCfg := &rest.Config{Host: e.proxy.url, QPS: apply.DefaultQPS, Burst: apply.DefaultBurst}
	var err error
	e.dyn, err = dynamic.NewForConfig(restCfg)
	require.NoError(t, err)
	e.applier, err = apply.NewForConfig(restCfg)
	require.NoError(t, err)
	e.renderer, err = engine.New(nublado.CUE, engine.Config(cfg))
	require.NoError(t, err)
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	e.log = hook
	e.puller, err = prepuller.NewPuller(cfg, e.svc, e.nodes, prepuller.Cluster{
		Dynamic: e.dyn, Applier: e.applier, Namespace: ns, OwnerName: e.owner.Name, OwnerUID: string(e.owner.UID),
	}, e.renderer, logrus.NewEntry(log), opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, e.puller.Start(ctx))
	return e
}

func ensureNamespace(t testing.TB, c *testcluster.Cluster, name string) {
	t.Helper()
	_, err := c.Client().CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// ownerPod creates the stand-in controller pod, which no node accepts, so
// that it stays Pending: Kubernetes' garbage collector would delete
// prepull pods whose owner does not exist.
func ownerPod(t testing.TB, c *testcluster.Cluster, ns string) *corev1.Pod {
	t.Helper()
	pods := c.Client().CoreV1().Pods(ns)
	pod, err := pods.Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ownerName},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"nublado.test/nowhere": "true"},
			Containers:   []corev1.Container{{Name: "controller", Image: "ghcr.io/lsst-sqre/nublado:test"}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		zero := int64(0)
		_ = pods.Delete(context.Background(), ownerName, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})
	return pod
}

// round runs one prepull round.
func (e *pullerEnv) round() prepuller.RoundResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.puller.Round(ctx)
	require.NoError(e.t, err, "Round")
	return res
}

// refresh refreshes the image service once the node watcher shows the
// selected nodes as the API server has them now (names and image counts:
// a node added a moment ago may not have reached the watcher yet), and
// again until the service satisfies until (nil: no further condition).
func (e *pullerEnv) refresh(until func(*prepuller.Service) bool) {
	e.t.Helper()
	require.Eventually(e.t, e.watcherCurrent, 10*time.Second, 20*time.Millisecond, "the node watcher catches up")
	require.Eventually(e.t, func() bool {
		require.NoError(e.t, e.svc.Refresh(context.Background()))
		return until == nil || until(e.svc)
	}, 10*time.Second, 50*time.Millisecond, "refresh")
}

// watcherCurrent reports whether the node watcher lists the nodes the API
// server selects, each with as many images as its status has.
func (e *pullerEnv) watcherCurrent() bool {
	ctx := context.Background()
	list, err := e.c.Client().CoreV1().Nodes().List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(e.cfg.Lab.NodeSelector).String(),
	})
	require.NoError(e.t, err)
	seen, err := e.nodes.Nodes(ctx)
	require.NoError(e.t, err)
	want := map[string]int{}
	for _, n := range list.Items {
		want[n.Name] = len(n.Status.Images)
	}
	got := map[string]int{}
	for _, n := range seen {
		got[n.Name] = len(n.Images)
	}
	return maps.Equal(want, got)
}

// messages returns the puller's log lines at level or above.
func (e *pullerEnv) messages(level logrus.Level) []string {
	var out []string
	for _, entry := range e.log.AllEntries() {
		if entry.Level <= level {
			out = append(out, entry.Message)
		}
	}
	return out
}

// entries returns the puller's log entries with this message.
func (e *pullerEnv) entries(msg string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, entry := range e.log.AllEntries() {
		if entry.Message == msg {
			out = append(out, entry)
		}
	}
	return out
}

// requireNoPods waits until no prepull pod is left in the namespace.
func (e *pullerEnv) requireNoPods() {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		l, err := e.c.Client().CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: prepullSelector})
		require.NoError(e.t, err)
		return len(l.Items) == 0
	}, 20*time.Second, 50*time.Millisecond, "prepull pods deleted")
}

// prepulls returns the body of GET /spawner/v1/prepulls.
func (e *pullerEnv) prepulls() images.PrepullerStatus {
	e.t.Helper()
	body, err := e.svc.Prepulls(context.Background())
	require.NoError(e.t, err)
	return body.(images.PrepullerStatus)
}

// reportPulled adds the images pulled by the succeeded prepull pods of
// node to its status.images, as a kubelet does after pulling.
func (e *pullerEnv) reportPulled(node string) {
	e.t.Helper()
	ctx := context.Background()
	n, err := e.c.Client().CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(e.t, err)
	imgs := n.Status.Images
	for _, pod := range e.pods.succeeded() {
		if pod.Spec.NodeName != node {
			continue
		}
		ref := pod.Spec.Containers[0].Image
		at, colon := strings.LastIndex(ref, "@"), strings.LastIndex(ref[:strings.LastIndex(ref, "@")], ":")
		imgs = append(imgs, corev1.ContainerImage{Names: []string{ref[:colon] + ref[at:], ref[:at]}, SizeBytes: 4242})
	}
	require.NoError(e.t, e.c.SetNodeImages(ctx, node, imgs))
}

// podRecorder records the prepull pods of a namespace through a watch.
type podRecorder struct {
	mu      sync.Mutex
	added   []*corev1.Pod          // in creation order
	last    map[string]*corev1.Pod // by uid: the last state seen
	ended   map[string]bool        // uids seen Succeeded
	onAdded map[string]func(*corev1.Pod)
}

func recordPods(t testing.TB, c *testcluster.Cluster, ns string) *podRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Client().CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: prepullSelector})
	require.NoError(t, err)
	r := &podRecorder{last: map[string]*corev1.Pod{}, ended: map[string]bool{}, onAdded: map[string]func(*corev1.Pod){}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if pod, ok := ev.Object.(*corev1.Pod); ok {
				r.record(ev.Type, pod)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		w.Stop()
		<-done
	})
	return r
}

func (r *podRecorder) record(typ watch.EventType, pod *corev1.Pod) {
	r.mu.Lock()
	uid := string(pod.UID)
	_, known := r.last[uid]
	r.last[uid] = pod
	if pod.Status.Phase == corev1.PodSucceeded {
		r.ended[uid] = true
	}
	var fn func(*corev1.Pod)
	if typ == watch.Added && !known {
		r.added = append(r.added, pod)
		fn = r.onAdded[pod.Name]
	}
	r.mu.Unlock()
	if fn != nil {
		fn(pod)
	}
}

// whenAdded calls fn (in the recorder's goroutine) when a pod called
// name is created.
func (r *podRecorder) whenAdded(name string, fn func(*corev1.Pod)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onAdded[name] = fn
}

// names returns the names of the pods created so far, in order.
func (r *podRecorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.added))
	for _, p := range r.added {
		out = append(out, p.Name)
	}
	return out
}

// created returns the pods created so far as created, in order.
func (r *podRecorder) created() []*corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*corev1.Pod(nil), r.added...)
}

// succeeded returns the pods seen Succeeded.
func (r *podRecorder) succeeded() []*corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*corev1.Pod
	for _, p := range r.added {
		if r.ended[string(p.UID)] {
			out = append(out, p)
		}
	}
	return out
}

// failWhenAdded makes the next pod called name fail: held Pending by the
// proxy, then set Failed as soon as it exists.
func (e *pullerEnv) failWhenAdded(name string) {
	e.proxy.rule(name, &podRule{hold: true})
	e.pods.whenAdded(name, func(pod *corev1.Pod) {
		assert.NoError(e.t, e.c.SetPodPhase(context.Background(), pod.Namespace, pod.Name, corev1.PodFailed))
	})
}

// wantPod is the prepull pod of spec §3.8 for an image on a node, owned by
// the env's controller pod, with the test configuration's tolerations.
func (e *pullerEnv) wantPod(name, image, node string, tolerations []corev1.Toleration) map[string]any {
	pod := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"name":      name,
			"namespace": e.ns,
			"labels":    map[string]any{prepuller.LabelCategory: prepuller.CategoryPrepuller},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1", "kind": "Pod", "name": e.owner.Name, "uid": string(e.owner.UID),
				"blockOwnerDeletion": true,
			}},
		},
		"spec": map[string]any{
			"containers": []any{map[string]any{
				"name":    "prepull",
				"command": []any{"/bin/true"},
				"image":   image,
				"resources": map[string]any{
					"limits":   map[string]any{"cpu": "1m", "memory": "16Mi"},
					"requests": map[string]any{"cpu": "1m", "memory": "16Mi"},
				},
				"workingDir": "/tmp",
			}},
			"nodeName":      node,
			"restartPolicy": "Never",
		},
	}
	spec := pod["spec"].(map[string]any)
	if e.cfg.Lab.PullSecret != "" {
		spec["imagePullSecrets"] = []any{map[string]any{"name": e.cfg.Lab.PullSecret}}
	}
	if len(tolerations) > 0 {
		var tols []any
		for _, tl := range tolerations {
			raw, err := json.Marshal(tl)
			require.NoError(e.t, err)
			var m map[string]any
			require.NoError(e.t, json.Unmarshal(raw, &m))
			tols = append(tols, m)
		}
		spec["tolerations"] = tols
	}
	return pod
}

// asSent returns what of a created pod nublado set: the fields of
// wantPod, without the API server's defaults.
func asSent(t testing.TB, pod *corev1.Pod) map[string]any {
	t.Helper()
	c := pod.Spec.Containers[0]
	ctr := map[string]any{
		"name": c.Name, "command": toAny(c.Command), "image": c.Image, "workingDir": c.WorkingDir,
		"resources": map[string]any{
			"limits":   map[string]any{"cpu": c.Resources.Limits.Cpu().String(), "memory": c.Resources.Limits.Memory().String()},
			"requests": map[string]any{"cpu": c.Resources.Requests.Cpu().String(), "memory": c.Resources.Requests.Memory().String()},
		},
	}
	var owners []any
	for _, o := range pod.OwnerReferences {
		owners = append(owners, map[string]any{
			"apiVersion": o.APIVersion, "kind": o.Kind, "name": o.Name, "uid": string(o.UID),
			"blockOwnerDeletion": *o.BlockOwnerDeletion,
		})
	}
	labels := map[string]any{}
	for k, v := range pod.Labels {
		labels[k] = v
	}
	spec := map[string]any{"containers": []any{ctr}, "nodeName": pod.Spec.NodeName, "restartPolicy": string(pod.Spec.RestartPolicy)}
	for _, s := range pod.Spec.ImagePullSecrets {
		spec["imagePullSecrets"] = append(asSlice(spec["imagePullSecrets"]), map[string]any{"name": s.Name})
	}
	var tols []any
	for _, tl := range pod.Spec.Tolerations {
		if strings.HasPrefix(tl.Key, "node.kubernetes.io/") {
			continue // added by the DefaultTolerationSeconds admission plugin
		}
		raw, err := json.Marshal(tl)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		tols = append(tols, m)
	}
	if tols != nil {
		spec["tolerations"] = tols
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace, "labels": labels, "ownerReferences": owners},
		"spec":     spec,
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
