package faults_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/internal/faults"
)

// TestKillMidSpawnAdopted kills the controller (SIGKILL) while a lab's pod
// waits to be scheduled, and starts it again: the new controller adopts
// the pending lab, monitors it, and reports it running once the pod runs,
// with the same pod (nothing re-created, nothing duplicated).
func TestKillMidSpawnAdopted(t *testing.T) {
	e := newEnv(t, envOptions{})
	require.NoError(t, e.c.SetNodesSchedulable(background, false))
	t.Cleanup(func() { _ = e.c.SetNodesSchedulable(background, true) })
	c := e.start()
	c.create("wanda")
	evs := c.eventsUntil("wanda", time.Minute, func(ev event) bool {
		return strings.Contains(ev.Data, "Created Kubernetes objects for user lab")
	})
	require.Contains(t, evs[len(evs)-1].Data, "Created Kubernetes objects", "events: %v", evs)
	pod, err := e.c.Client().CoreV1().Pods(e.labNamespace("wanda")).Get(background, "wanda-nb", metav1.GetOptions{})
	require.NoError(t, err)
	c.kill()

	begin := time.Now()
	c = e.start()
	started := time.Since(begin)
	assert.Equal(t, "pending", c.status("wanda"), "the restarted controller adopted the pending lab")
	require.NoError(t, e.c.SetNodesSchedulable(background, true))
	evs = c.events("wanda", time.Minute)
	require.NotEmpty(t, evs)
	assert.Equal(t, event{"info", `{"message": "Monitoring in-progress lab creation for wanda", "progress": 1}`}, evs[0])
	assert.Equal(t, event{"complete", `{"message": "Lab Kubernetes pod started for wanda"}`}, evs[len(evs)-1])
	finished := time.Since(begin)
	e.requireClean(t, c, []string{"wanda"})
	after, err := e.c.Client().CoreV1().Pods(e.labNamespace("wanda")).Get(background, "wanda-nb", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, pod.UID, after.UID, "the adopted pod is the one the killed controller created")
	t.Logf("SIGKILL mid-spawn (pod pending): restarted controller served after %s, lab running %s after the restart",
		started.Round(time.Millisecond), finished.Round(time.Millisecond))
}

// TestKillMidSpawnReaped kills the controller (SIGKILL) while it applies
// a lab's objects (its pod request is held by the proxy, so the namespace
// holds no pod), and starts it again: reconcile deletes the incomplete
// namespace, and a new spawn of the same user then succeeds.
func TestKillMidSpawnReaped(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.start()
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	remove := e.proxy.Add(faults.Rule{Match: faults.InNamespace(e.labNamespace("rachel"), faults.Verb(http.MethodPatch, "pods")),
		Fault: func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			held <- struct{}{}
			faults.Hold(release)(w, r, next)
		}, Times: 1})
	c.create("rachel")
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatalf("the lab pod was never applied:\n%s", c.tail(30))
	}
	c.kill()
	close(release)
	remove()
	_, err := e.c.Client().CoreV1().Pods(e.labNamespace("rachel")).Get(background, "rachel-nb", metav1.GetOptions{})
	require.Error(t, err, "no pod was created")

	begin := time.Now()
	c = e.start()
	assert.Empty(t, c.status("rachel"), "an incomplete lab is not adopted")
	clean := e.requireClean(t, c, nil, "rachel")
	reaped := time.Since(begin)
	assert.NotEmpty(t, c.logged("Deleting incomplete namespace"))
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	e.requireClean(t, c, []string{"rachel"})
	t.Logf("SIGKILL mid-spawn (objects half applied): the namespace was reaped %s after the restart (%s after start-up)",
		reaped.Round(time.Millisecond), clean.Round(time.Millisecond))
}
