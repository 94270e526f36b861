package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/testkit"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

// baseConfig loads testdata/config.yaml once.
var baseConfig = testkit.ConfigOnce(filepath.Join("testdata", "config.yaml"))

// testConfig returns a copy of testdata/config.yaml, loaded once.
func testConfig(t testing.TB) *schema.Config {
	t.Helper()
	return baseConfig(t)
}

// fakeLabs is a hand-written server.Labs; a nil function fails the test
// when called.
type fakeLabs struct {
	t       testing.TB
	running func() []string
	state   func(user string) (*nublado.LabState, error)
	create  func(req nublado.CreateRequest) error
	delete  func(user string) error
	events  func(user string) (*events.Reader, error)
}

var _ server.Labs = (*fakeLabs)(nil)

func (f *fakeLabs) unexpected(name string) {
	f.t.Helper()
	f.t.Errorf("unexpected call of Labs.%s", name)
}

func (f *fakeLabs) Running(context.Context) []string {
	if f.running == nil {
		f.unexpected("Running")
		return nil
	}
	return f.running()
}

func (f *fakeLabs) State(_ context.Context, user string) (*nublado.LabState, error) {
	if f.state == nil {
		f.unexpected("State")
		return nil, nublado.ErrLabNotFound
	}
	return f.state(user)
}

func (f *fakeLabs) Create(_ context.Context, req nublado.CreateRequest) error {
	if f.create == nil {
		f.unexpected("Create")
		return nil
	}
	return f.create(req)
}

func (f *fakeLabs) Delete(_ context.Context, user string) error {
	if f.delete == nil {
		f.unexpected("Delete")
		return nil
	}
	return f.delete(user)
}

func (f *fakeLabs) Events(_ context.Context, user string) (*events.Reader, error) {
	if f.events == nil {
		f.unexpected("Events")
		return nil, nublado.ErrLabNotFound
	}
	return f.events(user)
}

// fakeUsers answers user-info from a map of tokens; unknown tokens are
// invalid, and the token "broken" fails like an unreachable Gafaelfawr.
type fakeUsers map[string]*nublado.User

func (f fakeUsers) UserInfo(_ context.Context, token string) (*nublado.User, error) {
	if token == "broken" {
		return nil, fmt.Errorf("user info: %w", &gafaelfawr.HTTPError{URL: "https://example.com/auth/api/v1/user-info", Status: 502})
	}
	u, ok := f[token]
	if !ok {
		return nil, fmt.Errorf("user info: %w", gafaelfawr.ErrInvalidToken)
	}
	return u, nil
}

func ptr[T any](v T) *T { return &v }

// rachel is conformance users/rachel.json.
func rachel() *nublado.User {
	return &nublado.User{
		Username: "rachel", Name: ptr("Rachel (?)"), UID: ptr[int64](1101), GID: ptr[int64](1101),
		Groups: []nublado.Group{
			{Name: "rachel", ID: 1101}, {Name: "lunatics", ID: 2028}, {Name: "mechanics", ID: 2001},
			{Name: "storytellers", ID: 2021}, {Name: "99numbers", ID: 2029},
		},
		Quota: &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: 9, Memory: 27, Spawn: true}},
	}
}

// ribbon is conformance users/ribbon.json (spawn: false).
func ribbon() *nublado.User {
	return &nublado.User{
		Username: "ribbon", Name: ptr("Ribbon"), UID: ptr[int64](1104), GID: ptr[int64](1104),
		Groups: []nublado.Group{{Name: "ribbon", ID: 1104}, {Name: "ferrymen", ID: 2023}, {Name: "ninjas", ID: 2003}},
		Quota:  &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: 4, Memory: 16, Spawn: false}},
	}
}

// defaultUsers knows rachel (token tok-rachel) and ribbon (tok-ribbon).
func defaultUsers() fakeUsers {
	return fakeUsers{"tok-rachel": rachel(), "tok-ribbon": ribbon()}
}

// env is a test server: the handler plus the log it writes.
type env struct {
	t       testing.TB
	handler http.Handler
	log     *testkit.SyncBuffer
}

// newEnv builds server.New with labs, users and opts; logs go to a buffer
// in JSON.
func newEnv(t testing.TB, cfg *schema.Config, labs server.Labs, users server.Users, opts ...server.Option) *env {
	t.Helper()
	var buf testkit.SyncBuffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)
	if cfg == nil {
		cfg = testConfig(t)
	}
	if users == nil {
		users = defaultUsers()
	}
	return &env{t: t, handler: server.New(cfg, labs, users, logrus.NewEntry(log), opts...), log: &buf}
}

// request describes one call.
type request struct {
	method  string
	path    string
	body    string
	headers map[string]string
}

// do runs a request through the handler.
func (e *env) do(req request) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, req.path, body)
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// as returns the auth headers of a user with a token.
func as(user, token string) map[string]string {
	h := map[string]string{}
	if user != "" {
		h["X-Auth-Request-User"] = user
	}
	if token != "" {
		h["X-Auth-Request-Token"] = token
	}
	return h
}
