package faults_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/nublado-go/nublado/internal/faults"
	"github.com/nublado-go/nublado/server/kwatch"
)

// watchTimeout is the watchReconnectTimeout of the watch tests.
const watchTimeout = 4 * time.Second

// labPodWatches selects the lab manager's pod watches (cluster-wide, with
// the lab label selector).
func labPodWatches(r *http.Request) bool {
	return faults.Watches("pods")(r) && strings.Contains(r.URL.Query().Get("labelSelector"), "category=lab")
}

// setPodPhase sets the phase of a user's lab pod as a kubelet would.
func (e *env) setPodPhase(t *testing.T, user string, phase corev1.PodPhase) {
	t.Helper()
	err := retry.OnError(retry.DefaultRetry, func(err error) bool { return strings.Contains(err.Error(), "the object has been modified") },
		func() error { return e.c.SetPodPhase(background, e.labNamespace(user), user+"-nb", phase) })
	require.NoError(t, err)
}

// TestWatchGone answers the lab pod watch with 410 Gone: the informer
// lists again at once and sees a pod change made right after, well within
// watchReconnectTimeout.
func TestWatchGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{watch: watchTimeout.String(), reconcile: "1h"})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	e.proxy.Add(faults.Rule{Match: labPodWatches, Fault: faults.Gone(), Times: 1})
	var gone time.Time
	require.Eventually(t, func() bool {
		injected := e.proxy.Requests(func(r faults.Request) bool { return r.Injected })
		if len(injected) == 0 {
			return false
		}
		gone = injected[0].Time
		return true
	}, 2*watchTimeout, 10*time.Millisecond, "the pod watch was restarted and answered 410")
	e.setPodPhase(t, "rachel", corev1.PodSucceeded)
	c.waitStatus("rachel", "terminated", 2*watchTimeout)
	seen := time.Since(gone)
	next := e.proxy.Requests(func(r faults.Request) bool {
		return r.Time.After(gone) && !r.Injected && strings.HasSuffix(r.Path, "/pods") && r.Method == http.MethodGet
	})
	require.NotEmpty(t, next, "pod requests after the 410")
	recovered := next[0].Time.Sub(gone)
	assert.Less(t, seen, watchTimeout, "the change after the 410 is seen within watchReconnectTimeout")
	c.alive()
	t.Logf("410 Gone on the lab pod watch: next pod request %s later (%v), pod change seen %s after the 410 (watchReconnectTimeout %s)",
		recovered.Round(time.Millisecond), next[0].Watch, seen.Round(time.Millisecond), watchTimeout)
}

// TestWatchStalled silences the open lab pod watches (a stuck proxy): the
// informer ends the silent request cleanly shortly before
// watchReconnectTimeout (kwatch.Lifetime: the timeout less a tenth, at
// least a second) and watches again at once from its last resourceVersion,
// so a pod change made right after the stall is seen within
// watchReconnectTimeout.
func TestWatchStalled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{watch: watchTimeout.String(), reconcile: "1h"})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	stalled := e.stallFreshWatch(t, labPodWatches)
	e.setPodPhase(t, "rachel", corev1.PodSucceeded)
	c.waitStatus("rachel", "terminated", 3*watchTimeout)
	seen := time.Since(stalled)
	rewatch := e.nextWatch(t, labPodWatches, stalled)
	assert.Greater(t, seen, watchTimeout/2, "the stall was noticed by the client cut, not by a server end")
	assert.Less(t, rewatch, watchTimeout, "the stalled watch is replaced within watchReconnectTimeout")
	assert.Less(t, seen, watchTimeout, "the change is seen within watchReconnectTimeout")
	c.alive()
	t.Logf("stalled lab pod watch: replaced %s after the stall, pod change seen %s after it (watchReconnectTimeout %s, client cut at %s)",
		rewatch.Round(time.Millisecond), seen.Round(time.Millisecond), watchTimeout, kwatch.Lifetime(watchTimeout))
}

// stallFreshWatch waits until a watch that m selects has just started
// (the worst case: the whole lifetime of the request is still ahead),
// stalls the open ones and returns when.
func (e *env) stallFreshWatch(t *testing.T, m faults.Match) time.Time {
	t.Helper()
	count := func() int {
		return len(e.proxy.Requests(func(r faults.Request) bool { return r.Watch && r.Matched(m) }))
	}
	before := count()
	require.Eventually(t, func() bool { return count() > before }, 2*watchTimeout, 5*time.Millisecond)
	// The proxy holds a watch as a stream once the API server answers it,
	// a moment after the request is recorded.
	var stalled time.Time
	require.Eventually(t, func() bool {
		stalled = time.Now()
		return e.proxy.StallWatches(m) > 0
	}, watchTimeout/4, time.Millisecond, "open watches to stall")
	return stalled
}

// nextWatch returns how long after since the next watch that m selects
// was sent.
func (e *env) nextWatch(t *testing.T, m faults.Match, since time.Time) time.Duration {
	t.Helper()
	next := e.proxy.Requests(func(r faults.Request) bool { return r.Watch && r.Matched(m) && r.Time.After(since) })
	require.NotEmpty(t, next, "no watch after the stall")
	return next[0].Time.Sub(since)
}

// TestNodeWatchStalled silences the prepuller's node watch and then gives
// a node the label of the lab node selector: the node watcher replaces the
// silent watch within watchReconnectTimeout, and the next image refresh
// (every second) counts the node.
func TestNodeWatchStalled(t *testing.T) {
	t.Parallel()
	label := "faults.nublado.io/" + t.Name()
	e := newEnv(t, envOptions{watch: watchTimeout.String(), reconcile: "1h", refresh: "1s",
		nodeSelector: fmt.Sprintf("{%q: %q}", label, "yes")})
	c := e.start()
	c.waitLogged("Refreshed image information", 1, time.Minute)
	assert.Equal(t, 0.0, c.logged("Refreshed image information")[0]["nodes"], "no node has the label yet")
	nodeWatches := func(r *http.Request) bool {
		return faults.Watches("nodes")(r) && strings.Contains(r.URL.Query().Get("labelSelector"), label)
	}
	stalled := e.stallFreshWatch(t, nodeWatches)
	node := e.setNodeLabel(t, label, "yes")
	t.Cleanup(func() { e.setNodeLabel(t, label, "") })
	var seen time.Duration
	require.Eventually(t, func() bool {
		for _, l := range c.logged("Refreshed image information") {
			if l["nodes"] == 1.0 {
				seen = time.Since(stalled)
				return true
			}
		}
		return false
	}, 3*watchTimeout, 10*time.Millisecond, "the labelled node %s is seen", node)
	rewatch := e.nextWatch(t, nodeWatches, stalled)
	assert.Greater(t, rewatch, watchTimeout/2, "the stall was noticed by the client cut, not by a server end")
	assert.Less(t, rewatch, watchTimeout, "the stalled node watch is replaced within watchReconnectTimeout")
	assert.Less(t, seen, watchTimeout+2*time.Second, "the node is seen by the first refreshes after the new watch")
	c.alive()
	t.Logf("stalled node watch: replaced %s after the stall, labelled node counted by a refresh %s after it "+
		"(watchReconnectTimeout %s, client cut at %s, refresh every 1 s)",
		rewatch.Round(time.Millisecond), seen.Round(time.Millisecond), watchTimeout, kwatch.Lifetime(watchTimeout))
}

// setNodeLabel sets (or, with value "", removes) a label on the first
// node and returns the node's name.
func (e *env) setNodeLabel(t *testing.T, key, value string) string {
	t.Helper()
	nodes, err := e.c.Client().CoreV1().Nodes().List(background, metav1.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, nodes.Items)
	name := nodes.Items[0].Name
	v := "null"
	if value != "" {
		v = strconv.Quote(value)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, key, v)
	_, err = e.c.Client().CoreV1().Nodes().Patch(background, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
	return name
}
