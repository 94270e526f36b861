package apply_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// heldPod returns a pod that kwok keeps Pending until released.
func heldPod(t testing.TB, ns, name string) string {
	return `
apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  namespace: ` + ns + `
  annotations: {` + testcluster.HoldAnnotation + `: "true"}
spec:
  containers: [{name: c, image: busybox}]
`
}

func TestWait(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)

	t.Run("ready", func(t *testing.T) {
		objs := decode(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: `+ns+`}
---
apiVersion: v1
kind: Pod
metadata: {name: runner, namespace: `+ns+`}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: `+ns+`}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`)
		_, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		require.NoError(t, a.Wait(ctx, objs), "Wait")
		pod, err := c.Client().CoreV1().Pods(ns).Get(ctx, "runner", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
		job, err := c.Client().BatchV1().Jobs(ns).Get(ctx, "once", metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotNil(t, job.Status.StartTime, "kstatus: a started Job is Current")
	})

	t.Run("failed", func(t *testing.T) {
		objs := decode(t, heldPod(t, ns, "crasher"))
		_, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		go func() {
			// Make the pod crash-loop, as a kubelet would report it.
			time.Sleep(500 * time.Millisecond)
			pods := c.Client().CoreV1().Pods(ns)
			pod, err := pods.Get(context.Background(), "crasher", metav1.GetOptions{})
			if err != nil {
				t.Errorf("getting pod: %v", err)
				return
			}
			pod.Status.Phase = corev1.PodRunning
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
				Name: "c", Image: "busybox", RestartCount: 5,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			}}
			if _, err := pods.UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
				t.Errorf("updating pod status: %v", err)
			}
		}()
		err = a.Wait(ctx, objs)
		require.ErrorIs(t, err, apply.ErrFailed, "Wait for a crash-looping pod")
		var oe *apply.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "waiting for object", oe.Op)
		assert.Equal(t, "Pod "+ns+"/crasher", oe.Object.String())
		assert.Equal(t, "Error waiting for object (Pod "+ns+"/crasher): object failed: Containers in CrashLoop state: c", err.Error())
	})

	t.Run("gives up with the context", func(t *testing.T) {
		objs := decode(t, heldPod(t, ns, "stuck"))
		_, err := a.Apply(ctx, objs)
		require.NoError(t, err, "Apply")
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		err = a.Wait(short, objs)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "last status InProgress")
	})
}

// TestWaitPodPhase follows a pod from Pending to Running across watch
// requests that expire every second, then to its deletion.
func TestWaitPodPhase(t *testing.T) {
	c := testcluster.Shared(t)
	a, rec := newApplier(t, apply.WithWatchTimeout(time.Second))
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	_, err := a.Apply(ctx, decode(t, heldPod(t, ns, "lab")))
	require.NoError(t, err, "Apply")

	rec.reset()
	go func() {
		time.Sleep(2500 * time.Millisecond)
		if err := c.ReleasePod(context.Background(), ns, "lab"); err != nil {
			t.Errorf("ReleasePod: %v", err)
		}
	}()
	phase, err := a.WaitPodPhase(ctx, ns, "lab", corev1.PodPending, corev1.PodUnknown)
	require.NoError(t, err, "WaitPodPhase")
	assert.Equal(t, corev1.PodRunning, phase)
	watches := rec.list()
	require.GreaterOrEqual(t, len(watches), 3, "the watch was restarted after each expiry: %q", watches)
	assert.Contains(t, watches[0], "sendInitialEvents=true")
	assert.Contains(t, watches[0], "timeoutSeconds=1")
	for _, w := range watches[1:] {
		assert.Contains(t, w, "resourceVersion=", "a restart continues where the last watch ended")
		assert.NotContains(t, w, "sendInitialEvents")
	}

	// Already outside the set: at once.
	phase, err = a.WaitPodPhase(ctx, ns, "lab", corev1.PodPending)
	require.NoError(t, err)
	assert.Equal(t, corev1.PodRunning, phase)

	go func() {
		time.Sleep(300 * time.Millisecond)
		err := c.Client().CoreV1().Pods(ns).Delete(context.Background(), "lab", metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("deleting pod: %v", err)
		}
	}()
	phase, err = a.WaitPodPhase(ctx, ns, "lab", corev1.PodRunning)
	require.NoError(t, err, "WaitPodPhase until deleted")
	assert.Equal(t, corev1.PodPhase(""), phase)
}

// TestWatchGone answers a watch restart with 410 Gone: the watch starts
// over from the current state and still sees the change.
func TestWatchGone(t *testing.T) {
	c := testcluster.Shared(t)
	p, a := newFaultProxy(t, apply.WithWatchTimeout(time.Second))
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	_, err := a.Apply(ctx, decode(t, heldPod(t, ns, "lab")))
	require.NoError(t, err, "Apply")
	yes := true
	p.add(fault{
		match: func(r *http.Request) bool {
			return is(http.MethodGet, "/api/v1/namespaces/"+ns+"/pods", &yes)(r) && r.URL.Query().Get("resourceVersion") != ""
		},
		respond: expiredWatch, times: 1,
	})
	go func() {
		time.Sleep(2500 * time.Millisecond)
		if err := c.ReleasePod(context.Background(), ns, "lab"); err != nil {
			t.Errorf("ReleasePod: %v", err)
		}
	}()
	phase, err := a.WaitPodPhase(ctx, ns, "lab", corev1.PodPending)
	require.NoError(t, err, "WaitPodPhase")
	assert.Equal(t, corev1.PodRunning, phase)
	injected, requests := p.log()
	require.Len(t, injected, 1, "the 410 was injected")
	// After the 410 the watch starts over with the current state.
	// The first request equal to the injected one is the injected one; a
	// later restart from the same resourceVersion can repeat its line.
	i := slices.Index(requests, injected[0])
	require.GreaterOrEqual(t, i, 0)
	require.Greater(t, len(requests), i+1, "a request follows the 410")
	assert.Contains(t, requests[i+1], "sendInitialEvents=true", "after 410: %q", requests[i:])
}

func TestWatchEvents(t *testing.T) {
	c := testcluster.Shared(t)
	a, _ := newApplier(t)
	ns := c.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	events := a.WatchEvents(ctx, ns, "lab")
	_, err := a.Apply(ctx, decode(t, `
apiVersion: v1
kind: Pod
metadata: {name: lab, namespace: `+ns+`}
spec:
  containers: [{name: c, image: busybox}]
`))
	require.NoError(t, err, "Apply")
	for ev := range events {
		require.NoError(t, ev.Err)
		if ev.Reason == "Scheduled" {
			assert.True(t, strings.HasPrefix(ev.Message, "Successfully assigned "+ns+"/lab to "), ev.Message)
			assert.Equal(t, "Normal", ev.Type)
			break
		}
	}
	cancel()
	for range events {
		// Drain until WatchEvents closes the channel.
	}
}

// TestWatchWithoutWatchList talks to a server that refuses
// sendInitialEvents (the WatchList feature off): watches list first.
func TestWatchWithoutWatchList(t *testing.T) {
	c := testcluster.Shared(t)
	p, a := newFaultProxy(t)
	ns := c.Namespace(t)
	ctx := timeout(t, time.Minute)
	p.add(fault{
		match: func(r *http.Request) bool { return r.URL.Query().Get("sendInitialEvents") == "true" },
		respond: status(http.StatusUnprocessableEntity, "Invalid",
			"ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"),
		times: -1,
	})
	objs := decode(t, heldPod(t, ns, "lab"))
	_, err := a.Apply(ctx, objs)
	require.NoError(t, err, "Apply")
	go func() {
		time.Sleep(500 * time.Millisecond)
		if err := c.ReleasePod(context.Background(), ns, "lab"); err != nil {
			t.Errorf("ReleasePod: %v", err)
		}
	}()
	phase, err := a.WaitPodPhase(ctx, ns, "lab", corev1.PodPending)
	require.NoError(t, err, "WaitPodPhase")
	assert.Equal(t, corev1.PodRunning, phase)

	cs, err := a.Delete(ctx, objs, true, apply.GracePeriod(time.Second))
	require.NoError(t, err, "Delete")
	assert.Equal(t, apply.Deleted, cs.Changes[0].Action)

	injected, requests := p.log()
	assert.Len(t, injected, 1, "refused once, then remembered")
	lists := 0
	for _, r := range requests {
		if strings.HasPrefix(r, "GET /api/v1/namespaces/"+ns+"/pods?") && !strings.Contains(r, "watch=true") {
			lists++
		}
	}
	assert.Equal(t, 2, lists, "one list per wait: %q", requests)
}
