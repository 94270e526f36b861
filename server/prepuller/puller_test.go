package prepuller_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/prepuller"
)

// labsToleration is the toleration of testdata/config.yaml.
var labsToleration = corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "labs", Effect: corev1.TaintEffectNoSchedule}

// dockerPuller returns a puller over the fixture registry for the nodes
// labelled value.
func dockerPuller(t *testing.T, value string, opts ...prepuller.PullerOption) (*pullerEnv, *registry) {
	t.Helper()
	reg := startRegistry(t)
	cfg := loadConfig(t, value)
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(reg.transport)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	return newPullerEnv(t, cfg, src, "", opts...), reg
}

// TestPullerRound: a round pulls onto each eligible node the prepull-set
// images it lacks, with pods as §3.8 describes (owned by the controller
// pod), one node at a time per node, images in catalog order; the pods are
// deleted and the status shows the images on the node at once. A tainted
// node is left alone and keeps its comment (D12). Once the kubelet reports
// the images, the next refresh and round have nothing to do.
func TestPullerRound(t *testing.T) {
	other := corev1.Taint{Key: "dedicated", Value: "other", Effect: corev1.TaintEffectNoSchedule}
	labs := corev1.Taint{Key: "dedicated", Value: "labs", Effect: corev1.TaintEffectNoSchedule}
	e, reg := dockerPuller(t, "round")
	addNodes(t,
		selected("round-a", "round", reg.cached("r22_0_0", "w_2077_44", "w_2077_43", "d_2077_10_23")),
		selected("round-b", "round", reg.cached("w_2077_43")),
		selected("round-c", "round", nil, other),
		selected("round-d", "round", reg.cached("r22_0_0", "w_2077_44", "w_2077_43"), labs),
	)
	e.refresh(nil)

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 2, Pods: 4, Succeeded: 4, Duration: res.Duration}, res, "Round")
	var onB, onD []string
	for _, pod := range e.pods.created() {
		switch pod.Spec.NodeName {
		case "round-b":
			onB = append(onB, pod.Name)
		case "round-d":
			onD = append(onD, pod.Name)
		default:
			t.Errorf("prepull pod %s on node %s", pod.Name, pod.Spec.NodeName)
		}
	}
	assert.Equal(t, []string{"prepull-r22-0-0-round-b", "prepull-w-2077-44-round-b", "prepull-d-2077-10-23-round-b"}, onB,
		"the images missing on b, in catalog order")
	assert.Equal(t, []string{"prepull-d-2077-10-23-round-d"}, onD)

	created := e.pods.created()
	ref := repository + ":r22_0_0@" + reg.real["sha256:r22"]
	assert.Equal(t, e.wantPod("prepull-r22-0-0-round-b", ref, "round-b", []corev1.Toleration{labsToleration}),
		asSent(t, created[slices.IndexFunc(created, func(p *corev1.Pod) bool { return p.Name == "prepull-r22-0-0-round-b" })]),
		"the prepull pod: -want +got")
	for _, pod := range created {
		require.Len(t, pod.OwnerReferences, 1, "pod %s", pod.Name)
		assert.Equal(t, e.owner.UID, pod.OwnerReferences[0].UID, "pod %s is owned by the controller pod", pod.Name)
	}
	e.requireNoPods()

	status := e.prepulls()
	assert.Empty(t, status.Images.Pending, "every image is on every eligible node")
	for _, img := range status.Images.Prepulled {
		assert.Contains(t, img.Nodes, "round-b", "%s is on b", img.Tag)
		assert.NotContains(t, img.Nodes, "round-c", "%s was not pulled onto the tainted node", img.Tag)
	}
	require.Len(t, status.Nodes, 4)
	assert.Equal(t, "round-c", status.Nodes[2].Name)
	assert.False(t, status.Nodes[2].Eligible)
	require.NotNil(t, status.Nodes[2].Comment)
	assert.Equal(t, "Node is tainted (NoSchedule, dedicated = other)", *status.Nodes[2].Comment)
	assert.Len(t, e.entries("Beginning prepulls for node"), 2)
	assert.Len(t, e.entries("Prepulled image"), 4)
	assert.Empty(t, e.messages(logrus.WarnLevel), "no warnings or errors")

	// Without a refresh, the catalog knows the images are there.
	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Duration: res.Duration}, res, "a second round")

	// The kubelets report the images; the refreshed catalog has them from
	// status.images and the next round has nothing to do.
	e.reportPulled("round-b")
	e.reportPulled("round-d")
	e.refresh(func(s *prepuller.Service) bool {
		return len(s.Catalog().Missing("round-b")) == 0 && len(s.Catalog().Missing("round-d")) == 0
	})
	res = e.round()
	assert.Zero(t, res.Pods, "a round after the kubelets reported the images")
	assert.Len(t, e.pods.names(), 4, "no more pods")
}

// TestPullerCreateError: a Kubernetes error creating a pod is logged
// ("Failed to prepull image", with the API's message and the object), the
// image is not marked present (D13), the node's other images are pulled,
// and the next round tries again.
func TestPullerCreateError(t *testing.T) {
	e, reg := dockerPuller(t, "create")
	addNodes(t, selected("create-a", "create", reg.cached("r22_0_0", "w_2077_43")))
	e.refresh(nil)
	e.proxy.rule("prepull-w-2077-44-create-a", &podRule{fail: 1})

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Succeeded: 1, Failed: 1, Duration: res.Duration}, res)
	failed := e.entries("Failed to prepull image")
	require.Len(t, failed, 1)
	assert.Equal(t, logrus.ErrorLevel, failed[0].Level)
	err, _ := failed[0].Data[logrus.ErrorKey].(error)
	require.Error(t, err)
	assert.Equal(t, "Error creating object (Pod "+e.ns+"/prepull-w-2077-44-create-a, status 400): Something bad happened", err.Error())
	var oe *apply.ObjectError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, 400, oe.Status)
	assert.Equal(t, "create-a", failed[0].Data[prepuller.FieldNode])
	assert.Equal(t, repository+":w_2077_44", failed[0].Data[prepuller.FieldImage])

	pending := e.prepulls().Images.Pending
	require.Len(t, pending, 1, "the image that failed is still pending")
	assert.Equal(t, "w_2077_44", pending[0].Tag)
	assert.Equal(t, []string{"create-a"}, pending[0].Missing)

	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Succeeded: 1, Duration: res.Duration}, res, "the next round retries")
	assert.Empty(t, e.prepulls().Images.Pending)
	e.requireNoPods()
}

// TestPullerFailedPodBackoff: a prepull pod that fails is not marked
// present (D13); the image is tried again in the next round, and after a
// second failure left out for one round, then tried again.
func TestPullerFailedPodBackoff(t *testing.T) {
	e, reg := dockerPuller(t, "backoff")
	addNodes(t, selected("backoff-a", "backoff", reg.cached("r22_0_0", "w_2077_44", "w_2077_43")))
	e.refresh(nil)
	name := "prepull-d-2077-10-23-backoff-a"

	e.failWhenAdded(name)
	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Failed: 1, Duration: res.Duration}, res, "first round")
	failed := e.entries("Failed to prepull image")
	require.Len(t, failed, 1)
	err, _ := failed[0].Data[logrus.ErrorKey].(error)
	var ended *prepuller.PodEndedError
	require.ErrorAs(t, err, &ended)
	assert.Equal(t, corev1.PodFailed, ended.Phase)
	assert.Equal(t, "prepull pod Pod "+e.ns+"/"+name+" ended in phase Failed", err.Error())
	assert.Equal(t, 0, failed[0].Data["skip_rounds"], "retried in the next round")
	require.Len(t, e.prepulls().Images.Pending, 1, "a failed pull is not marked present")

	e.failWhenAdded(name)
	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Failed: 1, Duration: res.Duration}, res, "second round")
	failed = e.entries("Failed to prepull image")
	require.Len(t, failed, 2)
	assert.Equal(t, 1, failed[1].Data["skip_rounds"])

	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Deferred: 1, Duration: res.Duration}, res, "third round: backing off")

	e.proxy.rule(name, nil)
	e.pods.whenAdded(name, nil)
	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Succeeded: 1, Duration: res.Duration}, res, "fourth round")
	assert.Empty(t, e.prepulls().Images.Pending)
	assert.Len(t, e.pods.names(), 3)
	e.requireNoPods()
}

// TestPullerReplacesPod: a pod that exists already under the name of a
// prepull pod (left by an earlier controller) is deleted and the prepull
// pod created in its place.
func TestPullerReplacesPod(t *testing.T) {
	e, reg := dockerPuller(t, "replace")
	addNodes(t, selected("replace-a", "replace", reg.cached("r22_0_0", "w_2077_44", "w_2077_43")))
	e.refresh(nil)
	name := "prepull-d-2077-10-23-replace-a"
	old, err := e.c.Client().CoreV1().Pods(e.ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Labels: map[string]string{prepuller.LabelCategory: prepuller.CategoryPrepuller},
			Annotations: map[string]string{testcluster.HoldAnnotation: "true"},
		},
		Spec: corev1.PodSpec{
			NodeName:      "replace-a",
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "prepull", Image: repository + ":old", Command: []string{"/bin/true"}}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Replaced: 1, Succeeded: 1, Duration: res.Duration}, res)
	created := e.pods.created()
	require.Len(t, created, 2, "the old pod and its replacement")
	assert.Equal(t, old.UID, created[0].UID)
	assert.Equal(t, name, created[1].Name)
	assert.NotEqual(t, old.UID, created[1].UID)
	assert.Equal(t, repository+":d_2077_10_23@"+reg.real["sha256:d23"], created[1].Spec.Containers[0].Image)
	assert.Empty(t, e.prepulls().Images.Pending)
	assert.Empty(t, e.messages(logrus.WarnLevel))
	e.requireNoPods()
}

// TestPullerNodeRemoved: a node that goes away in the middle of a round,
// while its pod is waited for or being created, or before its turn, ends
// its prepulls quietly; the other nodes are served.
func TestPullerNodeRemoved(t *testing.T) {
	e, reg := dockerPuller(t, "removed", prepuller.WithNodeWorkers(2))
	addNodes(t,
		selected("removed-a", "removed", reg.cached("w_2077_43")),
		selected("removed-b", "removed", reg.cached("w_2077_43")),
		selected("removed-c", "removed", reg.cached("w_2077_43")),
		selected("removed-d", "removed", reg.cached("r22_0_0", "w_2077_44", "w_2077_43")),
	)
	e.refresh(nil)
	ctx := context.Background()
	// a: the first pod stays Pending until the node goes.
	e.proxy.rule("prepull-r22-0-0-removed-a", &podRule{hold: true})
	e.pods.whenAdded("prepull-r22-0-0-removed-a", func(*corev1.Pod) {
		assert.NoError(t, e.c.RemoveNode(ctx, "removed-a"))
	})
	// b: the second pod's creation is held until the node is gone.
	blockB := &podRule{block: make(chan struct{}), blocked: make(chan struct{})}
	e.proxy.rule("prepull-w-2077-44-removed-b", blockB)
	go func() {
		<-blockB.blocked
		assert.NoError(t, e.c.RemoveNode(ctx, "removed-b"))
		assert.Eventually(t, func() bool {
			_, err := e.c.Client().CoreV1().Nodes().Get(ctx, "removed-b", metav1.GetOptions{})
			return err != nil
		}, 10*time.Second, 10*time.Millisecond)
		time.Sleep(200 * time.Millisecond) // the puller's node watch sees it
		close(blockB.block)
	}()
	// c: removed before the round starts; the catalog still lists it.
	require.NoError(t, e.c.RemoveNode(ctx, "removed-c"))
	require.Eventually(t, func() bool {
		select {
		case <-e.nodes.Removed("removed-c"):
			return true
		default:
			return false
		}
	}, 10*time.Second, 10*time.Millisecond, "the node watcher sees c removed")

	res := e.round()
	assert.Equal(t, 4, res.Nodes)
	assert.Equal(t, 2, res.Succeeded, "b's first image and d's only one")
	assert.Equal(t, 0, res.Failed, "no failures")
	assert.Equal(t, 3+2+3, res.Abandoned, "a's three images, b's last two, c's three")
	assert.Empty(t, e.messages(logrus.WarnLevel), "node removals are no errors")
	assert.Len(t, e.entries("Node removed, ending its prepulls"), 2, "a and b")
	e.requireNoPods()
}

// TestPullerTimeout: a pod that does not finish within prepullTimeout is
// a failure, and is deleted.
func TestPullerTimeout(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "timeout")
	cfg.Images.PrepullTimeout = time.Second
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(reg.transport)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	e := newPullerEnv(t, cfg, src, "")
	addNodes(t, selected("timeout-a", "timeout", reg.cached("r22_0_0", "w_2077_44", "w_2077_43")))
	e.refresh(nil)
	e.proxy.rule("prepull-d-2077-10-23-timeout-a", &podRule{hold: true})

	res := e.round()
	assert.Equal(t, 1, res.Failed)
	failed := e.entries("Failed to prepull image")
	require.Len(t, failed, 1)
	err, _ = failed[0].Data[logrus.ErrorKey].(error)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "Error waiting for object (Pod "+e.ns+"/prepull-d-2077-10-23-timeout-a): "+
		"prepull pod did not finish within 1s: context deadline exceeded", err.Error())
	e.requireNoPods()
}

// TestPullerRun: the loop runs a round after each refresh, the startup
// one included.
func TestPullerRun(t *testing.T) {
	e, reg := dockerPuller(t, "run")
	addNodes(t, selected("run-a", "run", reg.cached("r22_0_0", "w_2077_44", "w_2077_43")))
	e.refresh(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.puller.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	require.Eventually(t, func() bool { return len(e.entries("Finished prepull round")) == 1 }, 20*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"prepull-d-2077-10-23-run-a"}, e.pods.names())
	assert.Empty(t, e.prepulls().Images.Pending)

	// The kubelet reports the image; a new node: the next refresh
	// triggers a round that serves the new node only.
	e.reportPulled("run-a")
	addNodes(t, selected("run-b", "run", reg.cached("w_2077_44", "w_2077_43", "d_2077_10_23")))
	e.refresh(func(s *prepuller.Service) bool {
		return len(s.Catalog().Nodes()) == 2 && len(s.Catalog().Missing("run-a")) == 0
	})
	require.Eventually(t, func() bool { return len(e.entries("Finished prepull round")) == 2 }, 20*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"prepull-d-2077-10-23-run-a", "prepull-r22-0-0-run-b"}, e.pods.names())
}

// TestPullerRoundErrors: a round fails before the puller starts and
// before the first refresh.
func TestPullerRoundErrors(t *testing.T) {
	reg := startRegistry(t)
	cfg := loadConfig(t, "errors")
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(reg.transport)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	e := newPullerEnv(t, cfg, src, "")
	_, err = e.puller.Round(context.Background())
	require.ErrorIs(t, err, prepuller.ErrNoCatalog, "Round before the first refresh")

	unstarted, err := prepuller.NewPuller(cfg, e.svc, e.nodes, prepuller.Cluster{
		Dynamic: e.dyn, Applier: e.applier, Namespace: e.ns, OwnerName: ownerName, OwnerUID: "uid",
	}, e.renderer, logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	_, err = unstarted.Round(context.Background())
	require.Error(t, err, "Round before Start")

	for name, cluster := range map[string]prepuller.Cluster{
		"no clients":   {Namespace: e.ns, OwnerName: ownerName, OwnerUID: "uid"},
		"no namespace": {Dynamic: e.dyn, Applier: e.applier, OwnerName: ownerName, OwnerUID: "uid"},
		"no owner":     {Dynamic: e.dyn, Applier: e.applier, Namespace: e.ns},
	} {
		_, err = prepuller.NewPuller(cfg, e.svc, e.nodes, cluster, e.renderer, logrus.NewEntry(logrus.New()))
		assert.Error(t, err, "NewPuller with %s", name)
	}
	_, err = prepuller.NewPuller(cfg, e.svc, nil, prepuller.Cluster{}, nil, nil)
	assert.Error(t, err, "NewPuller without its dependencies")
}

// garPuller returns a puller over a local Artifact Registry holding
// images, for the nodes labelled value.
func garPuller(t *testing.T, cfg *schema.Config, imgs []*artifactregistrypb.DockerImage, ns string) *pullerEnv {
	t.Helper()
	_, opts := imagestest.StartGAR(t, cfg.Images.Source.GARParent(), imgs, 10)
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		GAR: []images.GAROption{images.WithClientOptions(opts...)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	return newPullerEnv(t, cfg, src, ns)
}

// holdUntilAll keeps the pods called names Pending until all of them
// exist, then lets kwok run them.
func (e *pullerEnv) holdUntilAll(names ...string) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for _, name := range names {
		e.proxy.rule(name, &podRule{hold: true})
		e.pods.whenAdded(name, func(*corev1.Pod) {
			mu.Lock()
			defer mu.Unlock()
			seen[name] = true
			if len(seen) < len(names) {
				return
			}
			for _, n := range names {
				assert.NoError(e.t, e.c.ReleasePod(context.Background(), e.ns, n))
			}
		})
	}
}

// TestPullerGAR: with a GAR source, both nodes get the newest weekly
// first, then the older one; once the kubelets report them, a round
// after the next refresh creates no pod.
func TestPullerGAR(t *testing.T) {
	cfg := loadConfig(t, "gar")
	cfg.Images.Source = schema.ImageSource{Type: schema.SourceGoogle, Location: "us-central1", ProjectID: "proj",
		Repository: "sciplat", Image: "sciplat-lab"}
	uri := "us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab@sha256:"
	var imgs []*artifactregistrypb.DockerImage
	for i, tags := range [][]string{{"w_2077_43", "recommended"}, {"w_2077_42"}, {"w_2077_41"}, {"w_2077_44-amd64"}} {
		digest := strings.Repeat(strconv.Itoa(i+1), 64)
		imgs = append(imgs, &artifactregistrypb.DockerImage{
			Name: cfg.Images.Source.GARParent() + "/dockerImages/sciplat-lab@sha256:" + digest,
			Uri:  uri + digest, Tags: tags, ImageSizeBytes: 1234,
		})
	}
	e := garPuller(t, cfg, imgs, "")
	addNodes(t, selected("gar-1", "gar", nil), selected("gar-2", "gar", nil))
	e.refresh(nil)
	e.holdUntilAll("prepull-w-2077-43-gar-1", "prepull-w-2077-43-gar-2")

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 2, Pods: 4, Succeeded: 4, Duration: res.Duration}, res)
	names := e.pods.names()
	require.Len(t, names, 4)
	assert.ElementsMatch(t, []string{"prepull-w-2077-43-gar-1", "prepull-w-2077-43-gar-2"}, names[:2], "the newest weekly first")
	assert.ElementsMatch(t, []string{"prepull-w-2077-42-gar-1", "prepull-w-2077-42-gar-2"}, names[2:], "then the older one")
	assert.Equal(t, "us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab:w_2077_43@sha256:"+strings.Repeat("1", 64),
		e.pods.created()[0].Spec.Containers[0].Image)
	e.requireNoPods()

	e.reportPulled("gar-1")
	e.reportPulled("gar-2")
	e.refresh(func(s *prepuller.Service) bool {
		return len(s.Catalog().Missing("gar-1")) == 0 && len(s.Catalog().Missing("gar-2")) == 0
	})
	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Duration: res.Duration}, res, "then none")
	assert.Len(t, e.pods.names(), 4)
}
