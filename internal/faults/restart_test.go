package faults_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/internal/faults"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// restartOn restarts the API server in the background when the proxy sees
// the first request that m selects, and returns the channel of the
// restart's result. The request goes on at once and meets the API server
// going down.
func (e *env) restartOn(m faults.Match) <-chan restartResult {
	out := make(chan restartResult, 1)
	e.proxy.Add(faults.Rule{Match: m, Times: 1, Fault: faults.Observe(func(*http.Request) {
		go func() { out <- <-restartAPIServer(e.c) }()
	})})
	return out
}

// TestRestartDuringSpawn restarts the API server while the controller
// applies a lab's objects (at its first ConfigMap): the spawn completes or
// fails cleanly with its events, and afterwards the lab runs (a failed one
// is reaped by reconcile and spawned again) with no orphan or stuck state.
// The restart runs in the background, so the spawn meets a dead API server.
func TestRestartDuringSpawn(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.start()
	restarted := e.restartOn(faults.InNamespace(e.labNamespace("rachel"), faults.Verb(http.MethodPatch, "configmaps")))
	begin := time.Now()
	c.create("rachel")
	evs := c.events("rachel", 2*time.Minute)
	spawned := time.Since(begin)
	r := <-restarted
	require.NoError(t, r.err)
	outcome := last(evs)
	require.Contains(t, []string{"complete", "failed"}, outcome, "events: %v", evs)
	if outcome == "failed" {
		assert.Equal(t, event{"failed", `{"message": "Lab spawn failed"}`}, evs[len(evs)-1])
		c.waitStatus("rachel", "", time.Minute) // reaped
		c.create("rachel")
		require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	}
	clean := e.requireClean(t, c, []string{"rachel"})
	c.alive()
	t.Logf("API server restart during spawn: restart took %s; spawn ended %q after %s; clean %s later",
		r.took.Round(time.Millisecond), outcome, spawned.Round(time.Millisecond), clean.Round(time.Millisecond))
}

// TestRestartDuringDelete restarts the API server when the controller
// deletes a lab's pod: the delete succeeds or fails cleanly with its
// events, and afterwards the lab and its namespace are gone (a failed
// delete is reaped by reconcile).
func TestRestartDuringDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	restarted := e.restartOn(faults.InNamespace(e.labNamespace("rachel"), faults.Verb(http.MethodDelete, "pods")))
	begin := time.Now()
	code, body := c.deleteLab("rachel")
	deleted := time.Since(begin)
	r := <-restarted
	require.NoError(t, r.err)
	switch code {
	case http.StatusNoContent:
		evs := c.events("rachel", time.Minute)
		assert.Equal(t, event{"info", `{"message": "Lab for rachel deleted", "progress": 100}`}, evs[len(evs)-1], "events: %v", evs)
	case http.StatusInternalServerError:
		// The failed delete's events end with failed; reconcile then
		// reaps the failed lab (whose events replace them).
		assert.NotEmpty(t, c.logged("Lab delete failed"))
		t.Logf("DELETE failed cleanly: %s", body)
	default:
		t.Fatalf("DELETE answered %d: %s", code, body)
	}
	clean := e.requireClean(t, c, nil, "rachel")
	c.alive()
	t.Logf("API server restart during delete: restart took %s; DELETE answered %d after %s; clean %s later",
		r.took.Round(time.Millisecond), code, deleted.Round(time.Millisecond), clean.Round(time.Millisecond))
	// The controller still spawns.
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
}

// TestRestartDuringPrepull restarts the API server when the first prepull
// round creates its first pod (the startup round prepulls the weekly that
// the seeded nodes lack): the round ends (the prepull succeeds or fails
// and is logged), no prepull pod is left behind, and a later round runs.
func TestRestartDuringPrepull(t *testing.T) {
	e := newEnv(t, envOptions{refresh: "5s"})
	restarted := e.restartOn(faults.InNamespace(e.ns, faults.Verb(http.MethodPost, "pods")))
	c := e.start()
	r := <-restarted
	require.NoError(t, r.err)
	begin := time.Now()
	for len(c.logged("Prepulled image"))+len(c.logged("Failed to prepull image")) == 0 {
		require.Less(t, time.Since(begin), 2*time.Minute, "no prepull ended:\n%s", c.tail(30))
		time.Sleep(100 * time.Millisecond)
	}
	ended := time.Since(r.at)
	outcome := "succeeded"
	if len(c.logged("Failed to prepull image")) > 0 {
		outcome = "failed"
	}
	clean := e.requireClean(t, c, nil)
	// Rounds go on after the restart: the image refresh every 5 s raises
	// the prepuller again.
	rounds := len(c.logged("Refreshed image information"))
	c.waitLogged("Refreshed image information", rounds+1, time.Minute)
	c.alive()
	t.Logf("API server restart during a prepull round: restart took %s; the prepull %s %s after the restart began; clean %s later",
		r.took.Round(time.Millisecond), outcome, ended.Round(time.Millisecond), clean.Round(time.Millisecond))
}

// fileServerKinds are the resources that make a file server (the Ingress
// is Gafaelfawr's, owned by the GafaelfawrIngress).
var fileServerKinds = []schema.GroupVersionResource{
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Version: "v1", Resource: "pods"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
	testcluster.GafaelfawrIngressResource,
	testcluster.IngressResource,
}

// fileServerObjects returns, per resource, the names of the objects of
// the file-server namespace (terminating ones marked with a trailing *).
func (e *env) fileServerObjects(t *testing.T, ns string) map[string][]string {
	t.Helper()
	dyn, err := dynamic.NewForConfig(e.c.Config())
	require.NoError(t, err)
	out := map[string][]string{}
	for _, gvr := range fileServerKinds {
		l, err := dyn.Resource(gvr).Namespace(ns).List(background, metav1.ListOptions{})
		require.NoError(t, err, "listing %s", gvr.Resource)
		for _, obj := range l.Items {
			name := obj.GetName()
			if obj.GetDeletionTimestamp() != nil {
				name += "*"
			}
			out[gvr.Resource] = append(out[gvr.Resource], name)
		}
	}
	return out
}

// waitFileServerObjects waits (up to a minute) until the file-server
// namespace holds exactly want and returns how long that took.
func (e *env) waitFileServerObjects(t *testing.T, c *controller, ns string, want map[string][]string) time.Duration {
	t.Helper()
	begin := time.Now()
	for {
		got := e.fileServerObjects(t, ns)
		if reflect.DeepEqual(got, want) {
			return time.Since(begin)
		}
		if time.Since(begin) > time.Minute {
			t.Fatalf("file-server objects: %v, want %v\n%s", got, want, c.tail(30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// getFiles asks for the user's file server (GET /files) and returns the
// status and body.
func (c *controller) getFiles(user string) (int, string) {
	c.t.Helper()
	return c.do(http.MethodGet, "/files", userHeaders(user), "")
}

// TestRestartDuringFileServerCreate restarts the API server when the
// controller applies a file server's Job: GET /files either succeeds or
// fails cleanly (500 file_server_create_failed, every object deleted);
// afterwards a creation succeeds, the file server runs with exactly one
// of each object, file-server reconciles (every 5 s) leave it alone and
// leave no orphan, and its deletion removes everything. With a creation
// timeout (3 s) shorter than the restart, the creation fails (the
// failure path); with the default (1m) it waits the restart out.
func TestRestartDuringFileServerCreate(t *testing.T) {
	for _, tc := range []struct {
		name, creation string
		want           int // 0: either
	}{
		{"waits", "1m", 0},
		{"fails", "3s", http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) { testRestartDuringFileServerCreate(t, tc.creation, tc.want) })
	}
}

func testRestartDuringFileServerCreate(t *testing.T, creation string, want int) {
	fsns := testcluster.Shared(t).Namespace(t)
	e := newEnv(t, envOptions{fileservers: fsns, fileserverCreation: creation})
	e.c.GafaelfawrOperator(t, fsns, testcluster.IngressBehaviour{})
	c := e.start()
	restarted := e.restartOn(faults.InNamespace(fsns, faults.Verb(http.MethodPatch, "jobs")))
	begin := time.Now()
	code, body := c.getFiles("rachel")
	created := time.Since(begin)
	r := <-restarted
	require.NoError(t, r.err)
	if want != 0 {
		require.Equal(t, want, code, body)
	}
	none := map[string][]string{}
	outcome := "succeeded"
	var clean time.Duration
	switch code {
	case http.StatusOK:
		assert.Contains(t, body, "Your WebDAV fileserver is now ready.")
	case http.StatusInternalServerError:
		outcome = "failed"
		assert.Contains(t, body, `"type":"file_server_create_failed"`)
		assert.NotEmpty(t, c.logged("File server creation failed"))
		clean = e.waitFileServerObjects(t, c, fsns, none)
		_, users := c.do(http.MethodGet, "/nublado/fileserver/v1/users", nil, "")
		assert.JSONEq(t, `[]`, users, "no file server recorded after the failure")
		// Again until it works: with the short creation timeout a
		// creation on the control plane that has just restarted may time
		// out too, and must fail as cleanly.
		for range 5 {
			if code, body = c.getFiles("rachel"); code != http.StatusInternalServerError {
				break
			}
			assert.Contains(t, body, `"type":"file_server_create_failed"`)
			e.waitFileServerObjects(t, c, fsns, none)
		}
		require.Equal(t, http.StatusOK, code, "GET /files after the restart: %s", body)
	default:
		t.Fatalf("GET /files answered %d: %s", code, body)
	}
	running := map[string][]string{
		"jobs": {"rachel-fs"}, "services": {"rachel-fs"},
		"gafaelfawringresses": {"rachel-fs"}, "ingresses": {"rachel-fs"},
		"pods": {e.waitPod(t, c, fsns, "rachel-fs")},
	}
	settled := e.waitFileServerObjects(t, c, fsns, running)
	job := e.jobUID(t, fsns, "rachel-fs")
	// Two reconciles after the restart change nothing.
	reconciles := len(c.logged("Reconciled file server state"))
	c.waitLogged("Reconciled file server state", reconciles+2, time.Minute)
	assert.Equal(t, running, e.fileServerObjects(t, fsns))
	assert.Equal(t, job, e.jobUID(t, fsns, "rachel-fs"), "reconcile kept the file server")
	_, users := c.do(http.MethodGet, "/nublado/fileserver/v1/users", nil, "")
	assert.JSONEq(t, `["rachel"]`, users)

	code, body = c.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", nil, "")
	require.Equal(t, http.StatusNoContent, code, body)
	gone := e.waitFileServerObjects(t, c, fsns, none)
	c.alive()
	t.Logf("API server restart during a file-server creation (creation timeout %s): restart took %s; GET /files %s after %s "+
		"(%d failed creations, cleaned %s later); file server running and settled %s later; deleted and gone %s later",
		creation, r.took.Round(time.Millisecond), outcome, created.Round(time.Millisecond),
		len(c.logged("File server creation failed")), clean.Round(time.Millisecond),
		settled.Round(time.Millisecond), gone.Round(time.Millisecond))
}

// waitPod waits until the Job's pods are exactly one, running, and
// returns its name.
func (e *env) waitPod(t *testing.T, c *controller, ns, job string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pods, err := e.c.Client().CoreV1().Pods(ns).List(background, metav1.ListOptions{LabelSelector: "job-name=" + job})
		require.NoError(t, err)
		if len(pods.Items) == 1 && pods.Items[0].Status.Phase == corev1.PodRunning && pods.Items[0].DeletionTimestamp == nil {
			return pods.Items[0].Name
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods of Job %s: %d, not one running\n%s", job, len(pods.Items), c.tail(30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// jobUID returns the UID of a Job.
func (e *env) jobUID(t *testing.T, ns, name string) types.UID {
	t.Helper()
	job, err := e.c.Client().BatchV1().Jobs(ns).Get(background, name, metav1.GetOptions{})
	require.NoError(t, err)
	return job.UID
}
