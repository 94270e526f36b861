package labs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/labs"
)

var alertTime = time.Date(2077, 10, 23, 12, 0, 0, 0, time.UTC)

// newReporter returns a Slack reporter posting to a recording webhook.
func newReporter(t testing.TB) (*alert.Reporter, *slacktest.Receiver) {
	rcv := slacktest.NewReceiver(t)
	r := alert.New("Nublado", rcv.URL(), logrus.NewEntry(logrus.New()),
		alert.WithClock(func() time.Time { return alertTime }))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r, rcv
}

// drain waits until every report made so far is posted and returns the
// messages; nothing is reported afterwards.
func drain(t testing.TB, r *alert.Reporter, rcv *slacktest.Receiver) []string {
	t.Helper()
	require.NoError(t, r.Close(context.Background()))
	var bodies []string
	for _, b := range rcv.Bodies() {
		bodies = append(bodies, string(b))
	}
	return bodies
}

// newAlertAPI serves the controller's API over h's manager, reporting to r.
func newAlertAPI(t testing.TB, h *harness, r *alert.Reporter, users ...nublado.User) *api {
	t.Helper()
	known := fakeUsers{}
	for _, u := range users {
		known["token-of-"+u.Username] = &u
	}
	log := logrus.New()
	log.SetOutput(h.log)
	srv := httptest.NewServer(server.New(h.cfg, h.m, known, logrus.NewEntry(log), server.WithReporter(r)))
	t.Cleanup(srv.Close)
	return &api{t: t, h: h, srv: srv}
}

// TestSpawnFailureAlerts: a spawn whose Kubernetes call fails sends one
// Slack message naming the user, the object and the API server's answer.
func TestSpawnFailureAlerts(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		name, method, path, summary, object string
	}{
		{"ReadSecret", http.MethodGet, "/secrets/extra-secret", "Error reading object (Secret {ns}/extra-secret, status 400)", "Secret {ns}/extra-secret"},
		{"Namespace", http.MethodPatch, "/namespaces/{lab}", "Error creating namespace (Namespace {lab}, status 400)", "Namespace {lab}"},
		{"Pod", http.MethodPatch, "/pods/{u}-nb", "Error creating object (Pod {lab}/{u}-nb, status 400)", "Pod {lab}/{u}-nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, rcv := newReporter(t)
			h := newHarness(t, harnessOptions{opts: []labs.Option{labs.WithReporter(rep)}})
			user := newUser(fmt.Sprintf("alert%d", i), 1500+int64(i))
			u, lab := user.Username, h.cfg.LabNamespace(user.Username)
			expand := strings.NewReplacer("{ns}", h.ns, "{lab}", lab, "{u}", u).Replace
			h.faults.Fail(tc.method, expand(tc.path), http.StatusBadRequest)
			evs := h.spawn(user)
			require.Equal(t, "failed: Lab spawn failed (0)", messages(evs)[len(evs)-1])
			bodies := drain(t, rep, rcv)
			require.Len(t, bodies, 1, "one Slack message per failed spawn")
			assert.JSONEq(t, slacktest.KubernetesAlert(expand(tc.summary), u, expand(tc.object)), bodies[0])
		})
	}
}

// TestDeleteFailureAlert: a failed deletion (500 delete_failed) sends one
// Slack message, from the lab manager; the server does not report the
// explicit 500 again.
func TestDeleteFailureAlert(t *testing.T) {
	t.Parallel()
	rep, rcv := newReporter(t)
	h := newHarness(t, harnessOptions{opts: []labs.Option{labs.WithReporter(rep)}})
	user := newUser("alertdel", 1510)
	u, lab := user.Username, h.cfg.LabNamespace(user.Username)
	a := newAlertAPI(t, h, rep, user)
	requireComplete(t, h.spawn(user))
	h.faults.Fail(http.MethodDelete, "/namespaces/"+lab, http.StatusBadRequest)
	resp := a.do(http.MethodDelete, "/labs/"+u, u, "")
	require.Equal(t, http.StatusInternalServerError, resp.status, resp.body)
	assert.JSONEq(t, `{"detail":[{"msg":"Failed to delete lab","type":"delete_failed"}]}`, resp.body)
	bodies := drain(t, rep, rcv)
	h.faults.Clear()
	require.Len(t, bodies, 1, "one Slack message per failed deletion")
	assert.JSONEq(t, slacktest.KubernetesAlert("Error deleting namespace (Namespace "+lab+", status 400)", u, "Namespace "+lab), bodies[0])
}

// TestConcurrentDeletesNoAlerts: five concurrent DELETEs of a running lab
// (204 or 404 each), a conflicting create and a read of the deleted lab
// send no Slack message.
func TestConcurrentDeletesNoAlerts(t *testing.T) {
	t.Parallel()
	rep, rcv := newReporter(t)
	h := newHarness(t, harnessOptions{opts: []labs.Option{labs.WithReporter(rep)}})
	user := newUser("alertmany", 1511)
	a := newAlertAPI(t, h, rep, user)
	requireComplete(t, h.spawn(user))
	resp := a.do(http.MethodPost, "/labs/alertmany/create", "alertmany", createBody("alertmany"))
	assert.Equal(t, http.StatusConflict, resp.status, "create of a running lab: %s", resp.body)
	statuses := make([]int, 5)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = a.do(http.MethodDelete, "/labs/alertmany", "alertmany", "").status })
	}
	wg.Wait()
	for _, s := range statuses {
		assert.Contains(t, []int{http.StatusNoContent, http.StatusNotFound}, s, "statuses %v", statuses)
	}
	assert.Equal(t, http.StatusNotFound, a.do(http.MethodDelete, "/labs/alertmany", "alertmany", "").status, "sixth DELETE")
	resp = a.do(http.MethodGet, "/labs/alertmany", "alertmany", "")
	assert.Equal(t, http.StatusNotFound, resp.status, resp.body)
	assert.Empty(t, drain(t, rep, rcv), "no Slack messages")
}
