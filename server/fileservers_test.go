package server_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// fakeFileServers is a hand-written server.FileServers.
type fakeFileServers struct {
	running   []string
	createErr error
	deleteErr error
	created   []string
	tokens    []string
	deleted   []string
}

var _ server.FileServers = (*fakeFileServers)(nil)

func (f *fakeFileServers) Running(context.Context) []string { return f.running }

func (f *fakeFileServers) Create(_ context.Context, user *nublado.User, token string) error {
	f.created = append(f.created, user.Username)
	f.tokens = append(f.tokens, token)
	if f.createErr == nil && !slices.Contains(f.running, user.Username) {
		f.running = append(f.running, user.Username)
	}
	return f.createErr
}

func (f *fakeFileServers) Delete(_ context.Context, user string) error {
	f.deleted = append(f.deleted, user)
	return f.deleteErr
}

const disabled = `{"detail":[{"msg":"Fileserver is disabled in configuration","type":"not_supported"}]}`

func TestFileServersDisabled(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	for _, req := range []request{
		{path: "/nublado/fileserver/v1/users"},
		{path: "/nublado/fileserver/v1/users/rachel"},
		{method: "DELETE", path: "/nublado/fileserver/v1/users/rachel"},
		{path: "/nublado/fileserver/v1/user-status", headers: as("rachel", "")},
		{path: "/files", headers: as("rachel", "tok-rachel")},
	} {
		w := e.do(req)
		assert.Equal(t, http.StatusNotFound, w.Code, "%s %s", req.method, req.path)
		assert.JSONEq(t, disabled, w.Body.String(), "%s %s", req.method, req.path)
	}
	// The user dependency runs first.
	w := e.do(request{path: "/files", headers: as("rachel", "tok-nope")})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
}

func TestFileServers(t *testing.T) {
	fs := &fakeFileServers{}
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithFileServers(fs))
	w := e.do(request{path: "/nublado/fileserver/v1/users"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, `[]`, w.Body.String())
	w = e.do(request{path: "/nublado/fileserver/v1/users/rachel"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"No file server running","type":"unknown_user"}]}`, w.Body.String())

	w = e.do(request{path: "/files", headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	golden.Assert(t, w.Body.String(), "fileserver.html")
	assert.Equal(t, []string{"tok-rachel"}, fs.tokens)

	assert.JSONEq(t, `["rachel"]`, e.do(request{path: "/nublado/fileserver/v1/users"}).Body.String())
	w = e.do(request{path: "/nublado/fileserver/v1/users/rachel"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"running":true}`, w.Body.String())
	w = e.do(request{path: "/nublado/fileserver/v1/user-status", headers: as("rachel", "")})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"running":true}`, w.Body.String())
	w = e.do(request{path: "/nublado/fileserver/v1/user-status", headers: as("ribbon", "")})
	assert.Equal(t, http.StatusNotFound, w.Code)
	w = e.do(request{path: "/nublado/fileserver/v1/user-status"})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.JSONEq(t, `{"detail":[`+missingUser+`]}`, w.Body.String())

	w = e.do(request{method: "DELETE", path: "/nublado/fileserver/v1/users/rachel"})
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, []string{"rachel"}, fs.deleted)
}

func TestFileServerErrors(t *testing.T) {
	fs := &fakeFileServers{createErr: errors.New("File server creation timed out after 1.002004")}
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithFileServers(fs))
	w := e.do(request{path: "/files", headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Failed to create file server: File server creation timed out after 1.002004","type":"file_server_create_failed"}]}`, w.Body.String())
	w = e.do(request{path: "/files", headers: as("", "tok-rachel")})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)

	fs.deleteErr = &nublado.Error{Code: nublado.CodeUnknownUser, Message: "File server for rachel not running"}
	w = e.do(request{method: "DELETE", path: "/nublado/fileserver/v1/users/rachel"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"File server for rachel not running","type":"unknown_user"}]}`, w.Body.String())
	fs.deleteErr = errors.New("Job fileservers/rachel-fs: forbidden")
	w = e.do(request{method: "DELETE", path: "/nublado/fileserver/v1/users/rachel"})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Failed to delete file server: Job fileservers/rachel-fs: forbidden","type":"file_server_delete_failed"}]}`, w.Body.String())
}

// fakeFSAdmin is a hand-written server.FSAdmin.
type fakeFSAdmin struct {
	status  *server.FSAdminStatus
	err     error
	starts  int
	stopped int
}

var _ server.FSAdmin = (*fakeFSAdmin)(nil)

func (f *fakeFSAdmin) Status(context.Context) (*server.FSAdminStatus, error) { return f.status, f.err }

func (f *fakeFSAdmin) Start(context.Context) (*server.FSAdminStatus, error) {
	f.starts++
	return f.status, f.err
}

func (f *fakeFSAdmin) Stop(context.Context) error {
	f.stopped++
	return f.err
}

func TestFSAdmin(t *testing.T) {
	start := time.Date(2025, 8, 25, 16, 57, 38, 0, time.FixedZone("X", -3600))
	fa := &fakeFSAdmin{status: &server.FSAdminStatus{StartTime: start}}
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithFSAdmin(fa))
	w := e.do(request{path: "/nublado/fsadmin/v1/service"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"start_time":"2025-08-25T17:57:38Z"}`, w.Body.String())
	w = e.do(request{method: "POST", path: "/nublado/fsadmin/v1/service", body: `{"start": true, "extra": 1}`})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"start_time":"2025-08-25T17:57:38Z"}`, w.Body.String())
	assert.Equal(t, 1, fa.starts)
	w = e.do(request{method: "DELETE", path: "/nublado/fsadmin/v1/service"})
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, 1, fa.stopped)

	bad := map[string]string{
		"":                `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`,
		`{}`:              `{"detail":[{"type":"missing","loc":["body","start"],"msg":"Field required","input":{}}]}`,
		`{"start":false}`: `{"detail":[{"type":"literal_error","loc":["body","start"],"msg":"Input should be True","input":false,"ctx":{"expected":"True"}}]}`,
		`{"stop":true}`:   `{"detail":[{"type":"missing","loc":["body","start"],"msg":"Field required","input":{"stop":true}}]}`,
		`[true]`:          `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[true]}]}`,
	}
	for body, want := range bad {
		w := e.do(request{method: "POST", path: "/nublado/fsadmin/v1/service", body: body})
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "POST %q", body)
		assert.JSONEq(t, want, w.Body.String(), "POST %q", body)
	}
	assert.Equal(t, 1, fa.starts, "invalid bodies do not start fsadmin")
}

func TestFSAdminErrors(t *testing.T) {
	fa := &fakeFSAdmin{err: &nublado.Error{Code: nublado.CodeNotFound, Message: "nublado/fsadmin"}}
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithFSAdmin(fa))
	w := e.do(request{path: "/nublado/fsadmin/v1/service"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"nublado/fsadmin","type":"not_found"}]}`, w.Body.String())
	fa.err = &nublado.Error{Code: nublado.CodeInvalidPhase, Message: "Pending"}
	w = e.do(request{method: "POST", path: "/nublado/fsadmin/v1/service", body: `{"start": true}`})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Pending","type":"invalid_phase"}]}`, w.Body.String())
	fa.err = context.DeadlineExceeded
	w = e.do(request{method: "DELETE", path: "/nublado/fsadmin/v1/service"})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	require.Equal(t, "Internal Server Error", w.Body.String())

	e = newEnv(t, nil, &fakeLabs{t: t}, nil)
	w = e.do(request{path: "/nublado/fsadmin/v1/service"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"fsadmin is not available","type":"not_supported"}]}`, w.Body.String())
}
