package server_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
)

var alertTime = time.Date(2024, 3, 5, 16, 4, 5, 0, time.UTC)

// newReporter returns a reporter posting to a recording webhook.
func newReporter(t *testing.T) (*alert.Reporter, *slacktest.Receiver) {
	rcv := slacktest.NewReceiver(t)
	r := alert.New("Nublado", rcv.URL(), logrus.NewEntry(logrus.New()),
		alert.WithClock(func() time.Time { return alertTime }))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r, rcv
}

func TestAlertUncaughtError(t *testing.T) {
	rep, rcv := newReporter(t)
	labs := &fakeLabs{t: t, create: func(nublado.CreateRequest) error {
		return errors.New("resolving lab image: registry unavailable")
	}}
	e := newEnv(t, nil, labs, nil, server.WithReporter(rep))
	w := e.do(request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create",
		body:    `{"options": {"size": "small", "image_tag": "w_2077_43"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}`,
		headers: as("rachel", "tok-rachel")})
	require.Equal(t, http.StatusInternalServerError, w.Code, w.Body.String())
	require.NoError(t, rep.Close(context.Background()))
	require.Len(t, rcv.Bodies(), 1)
	assert.JSONEq(t, `{"blocks":[
		{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: resolving lab image: registry unavailable","verbatim":true}},
		{"type":"section","fields":[
			{"type":"mrkdwn","text":"*Exception type*\nerror","verbatim":true},
			{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.000","verbatim":true},
			{"type":"mrkdwn","text":"*User*\nrachel","verbatim":true}]},
		{"type":"divider"}]}`, string(rcv.Bodies()[0]))
}

func TestAlertPanic(t *testing.T) {
	rep, rcv := newReporter(t)
	labs := &fakeLabs{t: t, running: func() []string { panic("boom") }}
	e := newEnv(t, nil, labs, nil, server.WithReporter(rep))
	w := e.do(request{path: "/nublado/spawner/v1/labs"})
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.NoError(t, rep.Close(context.Background()))
	require.Len(t, rcv.Bodies(), 1)
	assert.JSONEq(t, `{"blocks":[
		{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: panic: boom","verbatim":true}},
		{"type":"section","fields":[
			{"type":"mrkdwn","text":"*Exception type*\nalert.PanicError","verbatim":true},
			{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.000","verbatim":true}]},
		{"type":"divider"}]}`, string(rcv.Bodies()[0]))
}

// TestAlertNotForClientErrors: 4xx answers and the explicit 500s that the
// managers report themselves are not reported by the server.
func TestAlertNotForClientErrors(t *testing.T) {
	rep, rcv := newReporter(t)
	labs := &fakeLabs{t: t,
		create: func(nublado.CreateRequest) error {
			return &nublado.Error{Code: nublado.CodeLabExists, Message: "Lab already exists for rachel", Err: nublado.ErrLabExists}
		},
		delete: func(user string) error {
			if user == "rachel" {
				return errors.New("deleting: boom")
			}
			return nublado.ErrLabNotFound
		},
		state: func(string) (*nublado.LabState, error) { return nil, nublado.ErrLabNotFound },
	}
	e := newEnv(t, nil, labs, nil, server.WithReporter(rep))
	create := `{"options": {"size": "small", "image_tag": "w_2077_43"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}`
	for _, tc := range []struct {
		rq   request
		want int
	}{
		{request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create", body: create, headers: as("rachel", "tok-rachel")}, http.StatusConflict},
		{request{method: "GET", path: "/nublado/spawner/v1/labs/rachel", headers: as("rachel", "tok-rachel")}, http.StatusNotFound},
		{request{method: "POST", path: "/nublado/spawner/v1/labs/wrong/create", body: create, headers: as("rachel", "tok-rachel")}, http.StatusForbidden},
		{request{method: "GET", path: "/nublado/spawner/v1/nope"}, http.StatusNotFound},
		{request{method: "PUT", path: "/nublado/spawner/v1/labs"}, http.StatusMethodNotAllowed},
		{request{method: "DELETE", path: "/nublado/spawner/v1/labs/rachel", headers: as("rachel", "tok-rachel")}, http.StatusInternalServerError},
	} {
		w := e.do(tc.rq)
		assert.Equal(t, tc.want, w.Code, "%s %s: %s", tc.rq.method, tc.rq.path, w.Body.String())
	}
	require.NoError(t, rep.Close(context.Background()))
	assert.Empty(t, rcv.Bodies(), "no Slack message for client errors or delete_failed")
}
