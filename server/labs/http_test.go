package labs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
)

// TestHTTPLifecycle runs the lab items of the spec's checklist (§8) over
// the real router: list, status and 404s, create → 201 with Location, the
// event stream, the status body, 409 on a second create, delete → 204 then
// 404 with the namespace gone.
func TestHTTPLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	rachel := newUser("rachel", 1101)
	a := newAPI(t, h, rachel)
	unknown := `{"detail":[{"loc":["path","username"],"msg":"Unknown user rachel","type":"unknown_user"}]}`

	r := a.do(http.MethodGet, "/labs", "", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `[]`, r.body, "GET labs before spawn")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/labs/rachel"}, {http.MethodGet, "/labs/rachel/events"}, {http.MethodDelete, "/labs/rachel"},
	} {
		r := a.do(c.method, c.path, "rachel", "")
		assert.Equal(t, http.StatusNotFound, r.status, "%s %s", c.method, c.path)
		assert.JSONEq(t, unknown, r.body, "%s %s", c.method, c.path)
	}

	r = a.do(http.MethodPost, "/labs/rachel/create", "rachel", createBody("rachel"))
	require.Equal(t, http.StatusCreated, r.status, "create: %s", r.body)
	assert.Equal(t, "https://example.com/nublado/spawner/v1/labs/rachel", r.header.Get("Location"))
	assert.JSONEq(t, `null`, r.body)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	evs, err := a.stream(ctx, "rachel", nil)
	require.NoError(t, err)
	assert.Equal(t, []sseEvent{
		{"info", `{"message": "Starting lab creation for rachel", "progress": 1}`},
		{"info", `{"message": "Created Kubernetes objects for user lab", "progress": 30}`},
		{"complete", `{"message": "Lab Kubernetes pod started for rachel"}`},
	}, withoutKubernetesSSE(t, evs), "event stream")

	ns := h.cfg.LabNamespace("rachel")
	r = a.do(http.MethodGet, "/labs/rachel", "", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, fmt.Sprintf(`{
		"user": {"username": "rachel", "name": "Rachel (?)", "uid": 1101, "gid": 1101,
			"groups": [{"name": "rachel", "id": 1101}, {"name": "lunatics", "id": 2028},
				{"name": "mechanics", "id": 2001}, {"name": "storytellers", "id": 2021},
				{"name": "99numbers", "id": 2029}]},
		"options": {"size": "small", "enable_debug": false, "reset_user_env": false,
			"image": "lighthouse.ceres/library/sketchbook:w_2077_43@%s"},
		"status": "running",
		"internal_url": "http://lab.%s:8888/nb/user/rachel/",
		"resources": {"limits": {"cpu": 1.0, "memory": 3221225472},
			"requests": {"cpu": 0.25, "memory": 805306368}},
		"quota": {"cpu": 9.0, "memory": 28991029248}
	}`, digests["w_2077_43"], ns), r.body, "lab status")
	r = a.do(http.MethodGet, "/user-status", "rachel", "")
	assert.Equal(t, http.StatusOK, r.status, "user-status")
	assert.JSONEq(t, `["rachel"]`, a.do(http.MethodGet, "/labs", "", "").body, "GET labs after spawn")

	r = a.do(http.MethodPost, "/labs/rachel/create", "rachel", createBody("rachel"))
	assert.Equal(t, http.StatusConflict, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"Lab already exists for rachel","type":"lab_exists"}]}`, r.body)

	r = a.do(http.MethodDelete, "/labs/rachel", "", "")
	assert.Equal(t, http.StatusNoContent, r.status, "DELETE: %s", r.body)
	assert.Empty(t, r.body)
	r = a.do(http.MethodGet, "/labs/rachel", "", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, unknown, r.body)
	assert.JSONEq(t, `[]`, a.do(http.MethodGet, "/labs", "", "").body, "GET labs after delete")
	assert.False(t, h.namespaceExists("rachel"), "namespace after DELETE")
}

// TestRecreateEvents is the recreate case of the checklist: after the pod
// of a running lab failed, a create succeeds by deleting the old lab first,
// with the events of conformance spawn/events-recreate.json.
func TestRecreateEvents(t *testing.T) {
	t.Parallel()
	want := []sseEvent{
		{"info", `{"message": "Starting lab creation for rachel", "progress": 1}`},
		{"info", `{"message": "Deleting existing failed lab for rachel", "progress": 2}`},
		{"info", `{"message": "Shutting down Kubernetes pod", "progress": 5}`},
		{"info", `{"message": "Deleting user namespace", "progress": 12}`},
		{"info", `{"message": "Lab for rachel deleted", "progress": 20}`},
		{"info", `{"message": "Created Kubernetes objects for user lab", "progress": 30}`},
		{"complete", `{"message": "Lab Kubernetes pod started for rachel"}`},
	}
	assertSSE(t, want, recreate(t))
}

// recreate spawns rachel's lab, makes its pod fail, creates it again and
// returns the second spawn's event stream without relayed Kubernetes
// Events.
func recreate(t *testing.T) []sseEvent {
	t.Helper()
	h := newHarness(t, harnessOptions{})
	rachel := newUser("rachel", 1101)
	a := newAPI(t, h, rachel)
	requireComplete(t, h.spawn(rachel))
	h.setPodPhase("rachel", corev1.PodFailed)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })

	r := a.do(http.MethodPost, "/labs/rachel/create", "rachel", createBody("rachel"))
	require.Equal(t, http.StatusCreated, r.status, "second create: %s", r.body)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	evs, err := a.stream(ctx, "rachel", nil)
	require.NoError(t, err)
	assert.Equal(t, nublado.LabRunning, h.status("rachel"), "status after the second spawn")
	return withoutKubernetesSSE(t, evs)
}

// assertSSE compares streams as the spec compares them (decision D14):
// event names exactly, data as JSON.
func assertSSE(t *testing.T, want, got []sseEvent) {
	t.Helper()
	require.Len(t, got, len(want), "events: got %v", got)
	for i := range want {
		assert.Equal(t, want[i].Event, got[i].Event, "event %d", i)
		assert.JSONEq(t, want[i].Data, got[i].Data, "event %d", i)
		assert.Equal(t, want[i].Data, got[i].Data, "event %d bytes", i)
	}
}

// TestConcurrentDeletes: five concurrent DELETEs each answer 204 or 404,
// and a sixth afterwards 404.
func TestConcurrentDeletes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	rachel := newUser("rachel", 1101)
	a := newAPI(t, h, rachel)
	requireComplete(t, h.spawn(rachel))

	statuses := make([]int, 5)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = a.do(http.MethodDelete, "/labs/rachel", "", "").status
		}()
	}
	wg.Wait()
	deleted := 0
	for _, s := range statuses {
		assert.Contains(t, []int{http.StatusNoContent, http.StatusNotFound}, s, "statuses %v", statuses)
		if s == http.StatusNoContent {
			deleted++
		}
	}
	assert.GreaterOrEqual(t, deleted, 1, "statuses %v", statuses)
	assert.Equal(t, http.StatusNotFound, a.do(http.MethodDelete, "/labs/rachel", "", "").status, "sixth DELETE")
	assert.False(t, h.namespaceExists("rachel"))
	assert.NotContains(t, h.log.String(), `"level":"error"`, "error log lines")
}

// TestPendingLabThreeReaders holds a lab pending: its status is pending, a
// second create is refused, three concurrent readers of the event stream
// see the same Kubernetes Events at progress 35 (FailedScheduling while the
// nodes are cordoned) and 48 (Scheduled once they are uncordoned; kwok then
// keeps the pod Pending until it is released), and once the pod runs the
// lab is running; reading the stream again replays the same list and ends.
// It cordons every node, so it does not run in parallel with other tests.
func TestPendingLabThreeReaders(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(cfg *schema.Config) {
		cfg.Lab.ExtraAnnotations = map[string]string{testcluster.HoldAnnotation: "true"}
	}})
	rachel := newUser("rachel", 1101)
	a := newAPI(t, h, rachel)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, h.c.SetNodesSchedulable(ctx, false))
	uncordoned := false
	t.Cleanup(func() {
		if !uncordoned {
			_ = h.c.SetNodesSchedulable(context.Background(), true)
		}
	})

	r := a.do(http.MethodPost, "/labs/rachel/create", "rachel", createBody("rachel"))
	require.Equal(t, http.StatusCreated, r.status, r.body)

	const readers = 3
	results := make([][]sseEvent, readers)
	errs := make([]error, readers)
	first := make(chan sseEvent, 100)
	var wg sync.WaitGroup
	for i := range readers {
		var ch chan sseEvent
		if i == 0 {
			ch = first
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = a.stream(ctx, "rachel", ch)
		}()
	}
	waitProgress := func(p int) {
		t.Helper()
		for {
			select {
			case ev := <-first:
				if ev.Event == "info" && jsonProgress(t, ev.Data) == p {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no event at progress %d", p)
			}
		}
	}
	waitProgress(35)
	assert.Equal(t, nublado.LabPending, h.status("rachel"), "status while cordoned")
	r = a.do(http.MethodPost, "/labs/rachel/create", "rachel", createBody("rachel"))
	assert.Equal(t, http.StatusConflict, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"Operation in progress for rachel: spawn already in progress","type":"operation_in_progress"}]}`, r.body)

	require.NoError(t, h.c.SetNodesSchedulable(ctx, true))
	uncordoned = true
	waitProgress(48)
	assert.Equal(t, nublado.LabPending, h.status("rachel"), "status while the pod is held")
	require.NoError(t, h.c.ReleasePod(ctx, h.cfg.LabNamespace("rachel"), "rachel-nb"))
	go func() {
		for range first {
		}
	}()
	wg.Wait()
	close(first)
	for i := range readers {
		require.NoError(t, errs[i], "reader %d", i)
		assert.Equal(t, results[0], results[i], "reader %d sees what reader 0 sees", i)
	}
	require.NotEmpty(t, results[0])
	assert.Equal(t, "complete", results[0][len(results[0])-1].Event, "events %v", results[0])
	assert.Equal(t, nublado.LabRunning, h.status("rachel"), "status once the pod runs")

	again, err := a.stream(ctx, "rachel", nil)
	require.NoError(t, err)
	assert.Equal(t, results[0], again, "replayed stream")
}

func jsonProgress(t testing.TB, data string) int {
	t.Helper()
	var d struct {
		Progress int `json:"progress"`
	}
	require.NoError(t, json.Unmarshal([]byte(data), &d), "event data %q", data)
	return d.Progress
}
