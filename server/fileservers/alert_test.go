package fileservers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/fileservers"
)

var alertTime = time.Date(2077, 10, 23, 12, 0, 0, 0, time.UTC)

// alertHarness is a harness whose manager and server report to a
// recording Slack webhook.
func alertHarness(t *testing.T, ho harnessOptions) (*harness, *alert.Reporter, *slacktest.Receiver) {
	rcv := slacktest.NewReceiver(t)
	r := alert.New("Nublado", rcv.URL(), logrus.NewEntry(logrus.New()),
		alert.WithClock(func() time.Time { return alertTime }))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	ho.opts = append(ho.opts, fileservers.WithReporter(r))
	ho.serverOpts = append(ho.serverOpts, server.WithReporter(r))
	return newHarness(t, ho), r, rcv
}

// drain waits until the reports made so far are posted and returns them.
func drain(t *testing.T, r *alert.Reporter, rcv *slacktest.Receiver) []string {
	t.Helper()
	require.NoError(t, r.Close(context.Background()))
	var bodies []string
	for _, b := range rcv.Bodies() {
		bodies = append(bodies, string(b))
	}
	return bodies
}

// TestCreateErrorAlerts: a failed creation (500) sends one Slack message
// "Error creating object ({Kind} {ns}/rachel-fs…, status 400)"; the
// cleanup that follows and the server's explicit 500 send none.
func TestCreateErrorAlerts(t *testing.T) {
	for _, tc := range []struct {
		kind, path, name string
	}{
		{"GafaelfawrIngress", "/gafaelfawringresses/rachel-fs", "rachel-fs"},
		{"PersistentVolumeClaim", "/persistentvolumeclaims/rachel-fs-pvc-scratch", "rachel-fs-pvc-scratch"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h, r, rcv := alertHarness(t, harnessOptions{configure: withPVC})
			h.faults.Fail(http.MethodPatch, tc.path, http.StatusBadRequest)
			resp := h.files("rachel")
			require.Equal(t, http.StatusInternalServerError, resp.status, resp.body)
			assert.Empty(t, h.fileServerObjects(), "objects left after the failure")
			bodies := drain(t, r, rcv)
			require.Len(t, bodies, 1, "one Slack message per failed creation")
			object := tc.kind + " " + h.ns + "/" + tc.name
			assert.JSONEq(t, slacktest.KubernetesAlert("Error creating object ("+object+", status 400)", "rachel", object), bodies[0])
		})
	}
}

// TestDeleteErrorAlert: a failed deletion sends one Slack message; client
// errors (unknown user, file server not running) send none.
func TestDeleteErrorAlert(t *testing.T) {
	h, r, rcv := alertHarness(t, harnessOptions{})
	resp := h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusNotFound, resp.status, resp.body)
	resp = h.files("rachel")
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp = h.do(http.MethodGet, "/nublado/fileserver/v1/users/wanda", "")
	require.Equal(t, http.StatusNotFound, resp.status, resp.body)

	h.faults.Fail(http.MethodDelete, "/services/rachel-fs", http.StatusBadRequest)
	resp = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusInternalServerError, resp.status, resp.body)
	bodies := drain(t, r, rcv)
	h.faults.Clear()
	require.Len(t, bodies, 1, "one Slack message per failed deletion")
	object := "Service " + h.ns + "/rachel-fs"
	assert.JSONEq(t, slacktest.KubernetesAlert("Error deleting object ("+object+", status 400)", "rachel", object), bodies[0])
}
