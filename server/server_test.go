package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/metrics"
)

func TestMetadata(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithVersion("1.2.3"))
	meta := `{"name":"Nublado","version":"1.2.3",
	  "description":"Nublado Jupyter service for the Rubin Science Platform.",
	  "repository_url":"https://github.com/lsst-sqre/nublado",
	  "documentation_url":"https://nublado.lsst.io"}`
	w := e.do(request{path: "/"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.JSONEq(t, meta, w.Body.String())
	w = e.do(request{path: "/nublado"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"metadata":`+meta+`}`, w.Body.String())
}

func TestPathPrefix(t *testing.T) {
	cfg := testConfig(t)
	cfg.PathPrefix = "/nb/"
	cfg.Fileserver.PathPrefix = "/webdav"
	labs := &fakeLabs{t: t, running: func() []string { return []string{"rachel"} }}
	e := newEnv(t, cfg, labs, nil)
	w := e.do(request{path: "/nb/spawner/v1/labs"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `["rachel"]`, w.Body.String())
	assert.Equal(t, http.StatusOK, e.do(request{path: "/nb"}).Code)
	assert.Equal(t, http.StatusNotFound, e.do(request{path: "/nublado/spawner/v1/labs"}).Code)
	w = e.do(request{path: "/webdav", headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Fileserver is disabled in configuration","type":"not_supported"}]}`, w.Body.String())
}

func TestRouterErrors(t *testing.T) {
	labs := &fakeLabs{t: t, running: func() []string { return []string{"rachel"} }}
	e := newEnv(t, nil, labs, nil)
	cases := map[string]struct {
		req      request
		status   int
		body     string
		location string
	}{
		"UnknownRoute":           {req: request{path: "/nublado/nope"}, status: 404, body: `{"detail":"Not Found"}`},
		"FileServerUserPath":     {req: request{path: "/files/rachel"}, status: 404, body: `{"detail":"Not Found"}`},
		"UnversionedSpawner":     {req: request{path: "/nublado/spawner/labs"}, status: 404, body: `{"detail":"Not Found"}`},
		"WrongMethod":            {req: request{method: "PUT", path: "/nublado/spawner/v1/labs"}, status: 405, body: `{"detail":"Method Not Allowed"}`},
		"WrongMethodOnLab":       {req: request{method: "POST", path: "/nublado/spawner/v1/labs/rachel"}, status: 405, body: `{"detail":"Method Not Allowed"}`},
		"TrailingSlash":          {req: request{path: "/nublado/spawner/v1/labs/"}, status: 307, location: "/nublado/spawner/v1/labs"},
		"TrailingSlashWithQuery": {req: request{path: "/nublado/spawner/v1/labs/?x=1"}, status: 307, location: "/nublado/spawner/v1/labs?x=1"},
		"TrailingSlashPost":      {req: request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create/"}, status: 307, location: "/nublado/spawner/v1/labs/rachel/create"},
		"TrailingSlashPrefix":    {req: request{path: "/nublado/"}, status: 307, location: "/nublado"},
		"TrailingSlashUnknown":   {req: request{path: "/nublado/nope/"}, status: 404, body: `{"detail":"Not Found"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := e.do(tc.req)
			assert.Equal(t, tc.status, w.Code)
			if tc.body != "" {
				assert.JSONEq(t, tc.body, w.Body.String())
			}
			assert.Equal(t, tc.location, w.Header().Get("Location"))
		})
	}
}

func TestPanicIsInternalServerError(t *testing.T) {
	labs := &fakeLabs{t: t, running: func() []string { panic("boom") }}
	e := newEnv(t, nil, labs, nil)
	w := e.do(request{path: "/nublado/spawner/v1/labs"})
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "Internal Server Error", w.Body.String())
	assert.Contains(t, e.log.String(), "Uncaught panic in request")
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithMaxBodyBytes(64))
	w := e.do(request{
		method: "POST", path: "/nublado/spawner/v1/labs/rachel/create",
		body:    `{"options": {"size": "small", "image_tag": "` + strings.Repeat("x", 100) + `"}, "env": {}}`,
		headers: as("rachel", "tok-rachel"),
	})
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.JSONEq(t, `{"detail":"Request Entity Too Large"}`, w.Body.String())
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.SetActiveLabs(2)
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithGatherer(reg))
	w := e.do(request{path: "/metrics"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "nublado_active_labs 2\n")
	assert.Contains(t, w.Body.String(), `nublado_lab_spawns_total{outcome="success"} 0`)
}

// TestRequestLog checks the request log line's fields and that the
// delegated token is never logged, even when the request fails.
func TestRequestLog(t *testing.T) {
	labs := &fakeLabs{t: t}
	e := newEnv(t, nil, labs, nil)
	for _, token := range []string{"tok-rachel", "secret-token-xyz", "broken"} {
		e.do(request{
			path: "/nublado/spawner/v1/lab-form/someone?x=1",
			headers: map[string]string{
				"X-Auth-Request-User": "rachel", "X-Auth-Request-Token": token,
				"User-Agent": "JupyterHub", "X-Forwarded-For": "10.1.2.3, 10.0.0.1",
				"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com",
			},
		})
	}
	logged := e.log.String()
	assert.NotContains(t, logged, "tok-rachel")
	assert.NotContains(t, logged, "secret-token-xyz")
	lines := strings.Split(strings.TrimSpace(logged), "\n")
	require.NotEmpty(t, lines)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first["request_id"])
	assert.Equal(t, map[string]any{
		"requestMethod": "GET",
		"requestUrl":    "https://example.com/nublado/spawner/v1/lab-form/someone?x=1",
		"remoteIp":      "10.1.2.3",
		"userAgent":     "JupyterHub",
	}, first["httpRequest"])
	assert.Equal(t, "rachel", first["user"])
	assert.Equal(t, float64(403), first["status"])
	assert.Contains(t, logged, "Uncaught error in request", "the Gafaelfawr failure is logged")
}
