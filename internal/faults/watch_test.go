package faults_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/nublado-go/nublado/internal/faults"
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
// informer cuts the silent request at watchReconnectTimeout plus its
// grace (a tenth, at least 1 s) and watches again after the reflector's
// back-off, so a pod change made right after the stall is seen within
// twice watchReconnectTimeout (measured: about 1.5 times).
func TestWatchStalled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{watch: watchTimeout.String(), reconcile: "1h"})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	// Stall a watch that has just started, the worst case.
	before := len(e.proxy.Requests(func(r faults.Request) bool { return r.Watch && strings.HasSuffix(r.Path, "/pods") }))
	require.Eventually(t, func() bool {
		return len(e.proxy.Requests(func(r faults.Request) bool { return r.Watch && strings.HasSuffix(r.Path, "/pods") })) > before
	}, 2*watchTimeout, 5*time.Millisecond)
	stalled := time.Now()
	require.Positive(t, e.proxy.StallWatches(labPodWatches), "open lab pod watches")
	e.setPodPhase(t, "rachel", corev1.PodSucceeded)
	limit := watchTimeout + time.Second // the informers' grace: max(timeout/10, 1s)
	c.waitStatus("rachel", "terminated", 3*watchTimeout)
	seen := time.Since(stalled)
	assert.Greater(t, seen, watchTimeout/2, "the stall was noticed by the client cut, not by a server end")
	assert.Less(t, seen, 2*watchTimeout, "the stalled watch is replaced")
	c.alive()
	t.Logf("stalled lab pod watch: pod change seen %s after the stall (watchReconnectTimeout %s, client cut at %s)",
		seen.Round(time.Millisecond), watchTimeout, limit)
}
