package fileservers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/metrics"
)

// TestLifecycle is the original's file-server test through the HTTP API:
// no file servers; /files creates one and answers the page; it is listed
// and running; a second /files changes nothing; a reconcile keeps it; the
// admin route deletes it, then answers 404.
func TestLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	assert.Equal(t, `[]`, h.users())

	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `<a href="https://example.com/files/rachel">https://example.com/files/rachel</a>`)
	assert.Contains(t, r.body, "<h1>Your WebDAV fileserver is now ready.</h1>")
	assert.Equal(t, `["rachel"]`, h.users())
	for _, path := range []string{"/nublado/fileserver/v1/users/rachel", "/nublado/fileserver/v1/user-status"} {
		r = h.do(http.MethodGet, path, "rachel")
		assert.Equal(t, http.StatusOK, r.status, path)
		assert.JSONEq(t, `{"running": true}`, r.body, path)
	}
	assert.Equal(t, 1, h.log.count("File server requested"))
	h.checkObjects("rachel")
	job := h.get(jobs, "rachel-fs").GetUID()
	assert.Equal(t, corev1.PodRunning, apply.PodPhase(h.jobPod("rachel")))

	// A second /files is a no-op: no write reaches the API server.
	before := h.calls.Snapshot()
	r = h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	after := h.calls.Snapshot()
	for _, verb := range []string{"POST", "PATCH", "PUT", "DELETE"} {
		assert.Equal(t, before[verb], after[verb], "%s requests of the second /files", verb)
	}
	assert.Equal(t, 1, h.log.count("File server requested"))

	// A reconcile keeps the running file server as it is.
	require.NoError(t, h.m.Reconcile(ctx))
	assert.Equal(t, `["rachel"]`, h.users())
	assert.Equal(t, job, h.get(jobs, "rachel-fs").GetUID())
	assert.Equal(t, before["DELETE"], h.calls.Snapshot()["DELETE"], "DELETE requests of the reconcile")

	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, h.fileServerObjects(), "objects left after the delete")
	assert.Equal(t, `[]`, h.users())
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"File server for rachel not running","type":"unknown_user"}]}`, r.body)
	r = h.do(http.MethodGet, "/nublado/fileserver/v1/users/rachel", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"No file server running","type":"unknown_user"}]}`, r.body)
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/wanda", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"Unknown user wanda","type":"unknown_user"}]}`, r.body)
	h.waitInventory(emptyInventory)

	assert.InDelta(t, 1, testutil.ToFloat64(h.metrics.FileServerCreates.WithLabelValues(metrics.Success)), 0)
	assert.InDelta(t, 1, testutil.ToFloat64(h.metrics.FileServerDeletes.WithLabelValues(metrics.Success)), 0)
	assert.InDelta(t, 0, testutil.ToFloat64(h.metrics.FileServers), 0)
}

// TestIdleTimeout: a file-server pod that ends (worblehat's idle timeout)
// makes the pod watcher delete the file server; afterwards only the
// namespace's own objects remain.
func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	h.setPodPhase("rachel", corev1.PodSucceeded)
	waitFor(t, "the file server's deletion", func() bool { return h.users() == `[]` })
	h.waitInventory(emptyInventory)
	assert.Equal(t, 1, h.log.count("File server exited, cleaning up"))

	// The user can have a new one.
	r = h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	h.setPodPhase("rachel", corev1.PodFailed)
	waitFor(t, "the file server's deletion", func() bool { return h.users() == `[]` })
	h.waitInventory(emptyInventory)
}

// TestCreateWaitsForIngress: /files blocks until the Ingress has an IP,
// and reconciles running meanwhile leave the creation alone.
func TestCreateWaitsForIngress(t *testing.T) {
	const delay = 3 * time.Second
	h := newHarness(t, harnessOptions{
		configure: func(c *nschema.Config) { c.Fileserver.ReconcileInterval = 200 * time.Millisecond },
		ingress:   testcluster.IngressBehaviour{IPDelay: delay},
	})
	reconciles := h.log.count("Reconciling file server state")
	start := time.Now()
	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.GreaterOrEqual(t, time.Since(start), delay)
	assert.GreaterOrEqual(t, h.log.count("Reconciling file server state")-reconciles, 2, "reconciles during the creation")
	assert.Zero(t, h.calls.Snapshot()["DELETE"], "DELETE requests")
	assert.Equal(t, `["rachel"]`, h.users())
	time.Sleep(500 * time.Millisecond) // two more reconciles
	assert.Equal(t, `["rachel"]`, h.users())
	assert.Zero(t, h.calls.Snapshot()["DELETE"], "DELETE requests")
}

// TestConcurrentCreates: simultaneous /files of one user make one file
// server; all answer the page.
func TestConcurrentCreates(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Go(func() { statuses[i] = h.files("rachel").status })
	}
	wg.Wait()
	assert.Equal(t, []int{200, 200, 200, 200}, statuses)
	assert.Equal(t, 1, h.log.count("File server requested"))
	assert.Equal(t, `["rachel"]`, h.users())
}

// TestCreateReplacesJob: a Job left by an earlier file server, whose pod
// ended, is replaced by a new one.
func TestCreateReplacesJob(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	user := newUser("rachel", 1101)
	in, err := h.cfg.FileserverInput(defaultEnv(), user)
	require.NoError(t, err)
	objs, err := h.renderer.Render("fileserver", in)
	require.NoError(t, err)
	_, err = h.applier.Apply(ctx, objs)
	require.NoError(t, err)
	waitFor(t, "the old pod", func() bool { return len(h.jobPods("rachel")) == 1 })
	h.setPodPhase("rachel", corev1.PodSucceeded)
	old := h.get(jobs, "rachel-fs").GetUID()

	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotEqual(t, old, h.get(jobs, "rachel-fs").GetUID(), "the Job was replaced")
	assert.Equal(t, corev1.PodRunning, apply.PodPhase(h.jobPod("rachel")))
	assert.Equal(t, `["rachel"]`, h.users())
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, `["rachel"]`, h.users(), "the old pod's end does not delete the new file server")
}

// TestCreateTimeouts: a pod that stays Pending, an Ingress that never
// appears, or one without an IP fail the creation after creationTimeout
// with the original's message; everything is cleaned up and the file
// server is not listed.
func TestCreateTimeouts(t *testing.T) {
	short := func(c *nschema.Config) { c.Fileserver.CreationTimeout = 2 * time.Second }
	for _, tc := range []struct {
		name string
		ho   harnessOptions
	}{
		{"pending pod", harnessOptions{configure: func(c *nschema.Config) { short(c); withHeldPods(c) }}},
		{"no Ingress", harnessOptions{configure: short, ingress: testcluster.IngressBehaviour{NoIngress: true}}},
		{"Ingress without IP", harnessOptions{configure: short, ingress: testcluster.IngressBehaviour{NoIP: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.ho)
			r := h.files("rachel")
			require.Equal(t, http.StatusInternalServerError, r.status, r.body)
			msg, typ := errorDetail(t, r.body)
			assert.Equal(t, "file_server_create_failed", typ)
			assert.True(t, strings.HasPrefix(msg, "Failed to create file server: File server creation timed out after 2."), msg)
			assert.Empty(t, h.fileServerObjects(), "objects left after the failure")
			assert.Equal(t, `[]`, h.users())
			assert.Equal(t, 1, h.log.count("File server creation failed"))
			assert.InDelta(t, 1, testutil.ToFloat64(h.metrics.FileServerCreates.WithLabelValues(metrics.Failure)), 0)
		})
	}
}

// TestCreateErrors: a failing create of each object fails the creation
// with the object's error; everything is cleaned up.
func TestCreateErrors(t *testing.T) {
	for _, tc := range []struct {
		kind, path, name string
	}{
		{"GafaelfawrIngress", "/gafaelfawringresses/rachel-fs", "rachel-fs"},
		{"Job", "/jobs/rachel-fs", "rachel-fs"},
		{"PersistentVolumeClaim", "/persistentvolumeclaims/rachel-fs-pvc-scratch", "rachel-fs-pvc-scratch"},
		{"Service", "/services/rachel-fs", "rachel-fs"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h := newHarness(t, harnessOptions{configure: withPVC})
			h.faults.Fail(http.MethodPatch, tc.path, http.StatusBadRequest)
			r := h.files("rachel")
			require.Equal(t, http.StatusInternalServerError, r.status, r.body)
			want := "Failed to create file server: Error creating object (" + tc.kind + " " + h.ns + "/" + tc.name +
				", status 400): Something bad happened"
			assert.JSONEq(t, mustJSON(t, map[string]any{"detail": []any{map[string]any{
				"msg": want, "type": "file_server_create_failed",
			}}}), r.body)
			assert.Empty(t, h.fileServerObjects(), "objects left after the failure")
			assert.Equal(t, `[]`, h.users())
		})
	}
}

// errorDetail returns the message and type of an error body.
func errorDetail(t *testing.T, body string) (string, string) {
	t.Helper()
	var b struct {
		Detail []struct {
			Msg  string `json:"msg"`
			Type string `json:"type"`
		} `json:"detail"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &b), body)
	require.Len(t, b.Detail, 1, body)
	return b.Detail[0].Msg, b.Detail[0].Type
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
