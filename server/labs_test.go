package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
)

// labState is conformance spawn/lab-status.json as a LabState.
func labState() *nublado.LabState {
	u := rachel()
	return &nublado.LabState{
		User: nublado.UserInfo{Username: u.Username, Name: u.Name, UID: *u.UID, GID: *u.GID, Groups: u.Groups},
		Options: nublado.LabOptions{
			Size: "small", Image: "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234",
		},
		Status:      nublado.LabRunning,
		InternalURL: ptr("http://lab.userlabs-rachel:8888/nb/user/rachel/"),
		Resources: nublado.LabResources{
			Limits:   nublado.ResourceAmounts{CPU: 1, Memory: 3221225472},
			Requests: nublado.ResourceAmounts{CPU: 0.25, Memory: 805306368},
		},
		Quota: &nublado.ResourceAmounts{CPU: 9, Memory: 28991029248},
	}
}

func stateOf(users ...string) func(string) (*nublado.LabState, error) {
	return func(user string) (*nublado.LabState, error) {
		for _, u := range users {
			if u == user {
				return labState(), nil
			}
		}
		return nil, nublado.ErrLabNotFound
	}
}

const (
	unknownRachelLoc = `{"detail":[{"loc":["path","username"],"msg":"Unknown user rachel","type":"unknown_user"}]}`
	permissionDenied = `{"detail":[{"msg":"Permission denied","type":"permission_denied"}]}`
	invalidToken     = `{"detail":[{"msg":"User token is invalid","type":"invalid_token"}]}`
	missingUser      = `{"type":"missing","loc":["header","x-auth-request-user"],"msg":"Field required","input":null}`
	missingToken     = `{"type":"missing","loc":["header","x-auth-request-token"],"msg":"Field required","input":null}`
)

func TestGetLabs(t *testing.T) {
	var running []string
	e := newEnv(t, nil, &fakeLabs{t: t, running: func() []string { return running }}, nil)
	w := e.do(request{path: "/nublado/spawner/v1/labs"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, `[]`, w.Body.String())
	running = []string{"rachel", "ribbon"}
	assert.JSONEq(t, `["rachel","ribbon"]`, e.do(request{path: "/nublado/spawner/v1/labs"}).Body.String())
}

func TestGetLab(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t, state: stateOf("rachel")}, nil)
	w := e.do(request{path: "/nublado/spawner/v1/labs/rachel"})
	assert.Equal(t, http.StatusOK, w.Code)
	golden.Assert(t, w.Body.String(), "lab_state.json")

	w = e.do(request{path: "/nublado/spawner/v1/labs/ribbon"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"loc":["path","username"],"msg":"Unknown user ribbon","type":"unknown_user"}]}`, w.Body.String())
}

func TestGetLabFailure(t *testing.T) {
	labs := &fakeLabs{t: t, state: func(string) (*nublado.LabState, error) { return nil, errors.New("boom") }}
	e := newEnv(t, nil, labs, nil)
	w := e.do(request{path: "/nublado/spawner/v1/labs/rachel"})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "Internal Server Error", w.Body.String())
}

func TestUserStatus(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t, state: stateOf("rachel")}, nil)
	w := e.do(request{path: "/nublado/spawner/v1/user-status", headers: as("rachel", "")})
	assert.Equal(t, http.StatusOK, w.Code)
	golden.Assert(t, w.Body.String(), "lab_state.json")

	w = e.do(request{path: "/nublado/spawner/v1/user-status", headers: as("ribbon", "")})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Unknown user ribbon","type":"unknown_user"}]}`, w.Body.String())

	w = e.do(request{path: "/nublado/spawner/v1/user-status"})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.JSONEq(t, `{"detail":[`+missingUser+`]}`, w.Body.String())
}

const createBody = `{"options": {"image_list": ["use_image_from_dropdown"],
  "image_dropdown": ["lighthouse.ceres/library/sketchbook:latest_daily@sha256:1234"], "size": ["small"]},
  "env": {"CONTAINER_SIZE": "Small (1.0 CPU, 3Gi RAM)", "JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}`

func TestCreate(t *testing.T) {
	var got []nublado.CreateRequest
	labs := &fakeLabs{t: t, create: func(req nublado.CreateRequest) error {
		got = append(got, req)
		return nil
	}}
	e := newEnv(t, nil, labs, nil)
	h := as("rachel", "tok-rachel")
	h["X-Forwarded-Proto"] = "https"
	h["X-Forwarded-Host"] = "example.com"
	w := e.do(request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create", body: createBody, headers: h})
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "https://example.com/nublado/spawner/v1/labs/rachel", w.Header().Get("Location"))
	assert.Equal(t, "null", w.Body.String())
	require.Len(t, got, 1)
	assert.Equal(t, nublado.CreateRequest{
		User: *rachel(), Token: "tok-rachel", Size: "small",
		Image: nublado.ImageRequest{Attribute: "image_dropdown", Value: "lighthouse.ceres/library/sketchbook:latest_daily@sha256:1234"},
		Env: map[string]string{
			"CONTAINER_SIZE": "Small (1.0 CPU, 3Gi RAM)", "JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/",
		},
	}, got[0])

	// Without forwarding headers the Location uses the request's host.
	w = e.do(request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create", body: createBody, headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, "http://example.com/nublado/spawner/v1/labs/rachel", w.Header().Get("Location"))
}

// TestCreateErrors covers the auth failures of §1.1 and the create errors
// that the server itself answers, plus errors passed on from the manager.
func TestCreateErrors(t *testing.T) {
	noUID, zeroUID, zeroGID, noQuota := rachel(), rachel(), rachel(), rachel()
	noUID.UID = nil
	zeroUID.UID = ptr[int64](0)
	zeroGID.GID = ptr[int64](0)
	noQuota.Quota = nil
	users := defaultUsers()
	users["tok-nouid"], users["tok-zerouid"], users["tok-zerogid"] = noUID, zeroUID, zeroGID
	sizeErr := &nublado.Error{Code: nublado.CodeInvalidLabSize, Message: `Invalid lab size "gargantuan"`, Loc: []string{"body", "options", "size"}}
	cases := map[string]struct {
		path    string
		body    string
		headers map[string]string
		manager error
		status  int
		want    string
	}{
		"MissingHeaders": {
			headers: as("", ""), status: 422, want: `{"detail":[` + missingUser + `,` + missingToken + `]}`,
		},
		"MissingTokenAndBodyErrors": {
			headers: as("rachel", ""), body: `{"options": {"size": "small", "image_tag": "t"}}`, status: 422,
			want: `{"detail":[` + missingToken + `,{"type":"missing","loc":["body","env"],"msg":"Field required","input":{"options":{"size":"small","image_tag":"t"}}}]}`,
		},
		"NotJSONBeforeAnything": {
			headers: as("", ""), body: `not json`, status: 422,
		},
		"InvalidToken": {
			headers: as("rachel", "tok-bad"), status: 401, want: invalidToken,
		},
		"InvalidTokenMismatchingPath": {
			path: "/nublado/spawner/v1/labs/ribbon/create", headers: as("rachel", "tok-bad"), status: 401, want: invalidToken,
		},
		"InvalidTokenBeforeBody": {
			headers: as("rachel", "tok-bad"), body: `{}`, status: 401, want: invalidToken,
		},
		"HeaderUserNotTokenUser": {
			headers: as("ribbon", "tok-rachel"), status: 403, want: permissionDenied,
		},
		"PathUserNotTokenUser": {
			path: "/nublado/spawner/v1/labs/ribbon/create", headers: as("rachel", "tok-rachel"), status: 403, want: permissionDenied,
		},
		"BodyBeforePathCheck": {
			path: "/nublado/spawner/v1/labs/ribbon/create", headers: as("rachel", "tok-rachel"), body: `{"env": {}}`, status: 422,
		},
		"GafaelfawrDown": {
			headers: as("rachel", "broken"), status: 500,
		},
		"SpawnForbidden": {
			path: "/nublado/spawner/v1/labs/ribbon/create", headers: as("ribbon", "tok-ribbon"), status: 403,
			want: `{"detail":[{"msg":"Spawning a notebook is not permitted","type":"permission_denied"}]}`,
		},
		"NoUID": {
			headers: as("rachel", "tok-nouid"), status: 403, want: `{"detail":[{"msg":"Must have a UID to spawn labs","type":"permission_denied"}]}`,
		},
		"ZeroUID": {
			headers: as("rachel", "tok-zerouid"), status: 403, want: `{"detail":[{"msg":"Must have a UID to spawn labs","type":"permission_denied"}]}`,
		},
		"ZeroGID": {
			headers: as("rachel", "tok-zerogid"), status: 403, want: `{"detail":[{"msg":"Must have a GID to spawn labs","type":"permission_denied"}]}`,
		},
		"InvalidLabSize": {
			headers: as("rachel", "tok-rachel"), manager: sizeErr, status: 422,
			want: `{"detail":[{"loc":["body","options","size"],"msg":"Invalid lab size \"gargantuan\"","type":"invalid_lab_size"}]}`,
		},
		"UnknownImage": {
			headers: as("rachel", "tok-rachel"), status: 400,
			manager: &nublado.Error{Code: nublado.CodeUnknownImage, Message: `Docker tag "unknown" not found`, Loc: []string{"body", "options", "image_tag"}},
			want:    `{"detail":[{"loc":["body","options","image_tag"],"msg":"Docker tag \"unknown\" not found","type":"unknown_image"}]}`,
		},
		"InvalidReference": {
			headers: as("rachel", "tok-rachel"), status: 422,
			manager: &nublado.Error{Code: nublado.CodeInvalidDockerReference, Message: `Docker reference "lighthouse.ceres/library/sketchbook" has no tag`, Loc: []string{"body", "options", "image_list"}},
			want:    `{"detail":[{"loc":["body","options","image_list"],"msg":"Docker reference \"lighthouse.ceres/library/sketchbook\" has no tag","type":"invalid_docker_reference"}]}`,
		},
		"InsufficientQuota": {
			headers: as("rachel", "tok-rachel"), status: 403,
			manager: &nublado.Error{Code: nublado.CodeInsufficientQuota, Message: "Insufficient quota to spawn requested lab", Loc: []string{"body", "options", "size"}},
			want:    `{"detail":[{"loc":["body","options","size"],"msg":"Insufficient quota to spawn requested lab","type":"insufficient_quota"}]}`,
		},
		"LabExists": {
			headers: as("rachel", "tok-rachel"), status: 409,
			manager: &nublado.Error{Code: nublado.CodeLabExists, Message: "Lab already exists for rachel", Err: nublado.ErrLabExists},
			want:    `{"detail":[{"msg":"Lab already exists for rachel","type":"lab_exists"}]}`,
		},
		"OperationInProgress": {
			headers: as("rachel", "tok-rachel"), status: 409,
			manager: &nublado.Error{Code: nublado.CodeOperationInProgress, Message: "Operation in progress for rachel: spawn already in progress", Err: nublado.ErrOperationInProgress},
			want:    `{"detail":[{"msg":"Operation in progress for rachel: spawn already in progress","type":"operation_in_progress"}]}`,
		},
		"ManagerFailure": {
			headers: as("rachel", "tok-rachel"), manager: errors.New("registry unreachable"), status: 500,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			called := false
			labs := &fakeLabs{t: t, create: func(nublado.CreateRequest) error {
				called = true
				return tc.manager
			}}
			e := newEnv(t, nil, labs, users)
			path, body := tc.path, tc.body
			if path == "" {
				path = "/nublado/spawner/v1/labs/rachel/create"
			}
			if body == "" {
				body = createBody
			}
			w := e.do(request{method: "POST", path: path, body: body, headers: tc.headers})
			assert.Equal(t, tc.status, w.Code, "body %s", w.Body.String())
			switch {
			case tc.want != "":
				assert.JSONEq(t, tc.want, w.Body.String())
			case tc.status == 500:
				assert.Equal(t, "Internal Server Error", w.Body.String())
			case tc.status == 422:
				assert.Contains(t, w.Body.String(), `"detail":[{"type":`)
			}
			assert.Equal(t, tc.manager != nil, called, "Labs.Create called")
			assert.Empty(t, w.Header().Get("Location"))
		})
	}
}

func TestCreateJSONInvalid(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	w := e.do(request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create", body: `{"options": `})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.JSONEq(t, `{"detail":[{"type":"json_invalid","loc":["body",12],"msg":"JSON decode error","input":{},"ctx":{"error":"unexpected EOF"}}]}`, w.Body.String())
}

func TestDeleteLab(t *testing.T) {
	cases := map[string]struct {
		err    error
		status int
		want   string
	}{
		"Deleted": {status: 204},
		"Unknown": {err: nublado.ErrLabNotFound, status: 404, want: unknownRachelLoc},
		"Conflict": {err: &nublado.Error{Code: nublado.CodeOperationInProgress, Message: "Conflicting operation for rachel already in progress"}, status: 409,
			want: `{"detail":[{"msg":"Conflicting operation for rachel already in progress","type":"operation_in_progress"}]}`},
		"Failed": {err: errors.New("namespace still there"), status: 500, want: `{"detail":[{"msg":"Failed to delete lab","type":"delete_failed"}]}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var deleted []string
			labs := &fakeLabs{t: t, delete: func(user string) error {
				deleted = append(deleted, user)
				return tc.err
			}}
			e := newEnv(t, nil, labs, nil)
			w := e.do(request{method: "DELETE", path: "/nublado/spawner/v1/labs/rachel"})
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, []string{"rachel"}, deleted)
			if tc.want == "" {
				assert.Empty(t, w.Body.String())
			} else {
				assert.JSONEq(t, tc.want, w.Body.String())
			}
		})
	}
}

func TestEventsAuth(t *testing.T) {
	labs := &fakeLabs{t: t, events: func(string) (*events.Reader, error) { return nil, nublado.ErrLabNotFound }}
	e := newEnv(t, nil, labs, nil)
	w := e.do(request{path: "/nublado/spawner/v1/labs/rachel/events", headers: as("ribbon", "")})
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.JSONEq(t, permissionDenied, w.Body.String())
	w = e.do(request{path: "/nublado/spawner/v1/labs/rachel/events"})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.JSONEq(t, `{"detail":[`+missingUser+`]}`, w.Body.String())
	w = e.do(request{path: "/nublado/spawner/v1/labs/rachel/events", headers: as("rachel", "")})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, unknownRachelLoc, w.Body.String())
}

// TestEventsStream reads the stream of a running operation over a real
// connection: replay, then live events, then the end when the operation
// closes its queue.
func TestEventsStream(t *testing.T) {
	q := events.NewQueue()
	q.Append(nublado.Event{Type: nublado.EventInfo, Message: "Starting lab creation for rachel", Progress: 1})
	labs := &fakeLabs{t: t, events: func(string) (*events.Reader, error) { return q.Reader(), nil }}
	e := newEnv(t, nil, labs, nil)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/nublado/spawner/v1/labs/rachel/events", nil)
	require.NoError(t, err)
	req.Header.Set("X-Auth-Request-User", "rachel")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "event: info\r\n", line)
	q.Append(nublado.Event{Type: nublado.EventInfo, Message: "Created Kubernetes objects for user lab", Progress: 30})
	q.Append(nublado.Event{Type: nublado.EventComplete, Message: "Lab Kubernetes pod started for rachel"})
	q.Close()
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "data: {\"message\": \"Starting lab creation for rachel\", \"progress\": 1}\r\n\r\n"+
		"event: info\r\ndata: {\"message\": \"Created Kubernetes objects for user lab\", \"progress\": 30}\r\n\r\n"+
		"event: complete\r\ndata: {\"message\": \"Lab Kubernetes pod started for rachel\"}\r\n\r\n", string(rest))
}

// TestEventsIdleStream: a user with a record but no operation gets pings
// until a new operation starts.
func TestEventsIdleStream(t *testing.T) {
	q := events.NewQueue()
	labs := &fakeLabs{t: t, events: func(string) (*events.Reader, error) { return q.Reader(), nil }}
	e := newEnv(t, nil, labs, nil, server.WithPingInterval(10*time.Millisecond))
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/nublado/spawner/v1/labs/rachel/events", nil)
	require.NoError(t, err)
	req.Header.Set("X-Auth-Request-User", "rachel")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for range 3 {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(line, ": ping - "), "ping line %q", line)
		_, err = br.ReadString('\n')
		require.NoError(t, err)
	}
	q.Clear()
	_, err = io.ReadAll(br)
	require.NoError(t, err, "the stream ends when a new operation starts")
}
