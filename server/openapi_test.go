package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"

	"github.com/nublado-go/nublado/server"
)

// TestOpenAPIMatchesRouter walks the chi router and checks that the
// OpenAPI document lists exactly its routes and methods (decision D17).
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithVersion("1.2.3"))
	routes, ok := e.handler.(chi.Routes)
	require.True(t, ok, "server.New returns a chi router")
	var walked []string
	require.NoError(t, chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked = append(walked, method+" "+route)
		return nil
	}))

	w := e.do(request{path: "/nublado/openapi.json"})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(walked)
	slices.Sort(documented)
	assert.Equal(t, walked, documented, "router routes vs OpenAPI paths")
	assert.Len(t, walked, 23, "routes #1–#19, the three of #20 and /metrics")

	// Every reference resolves.
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(w.Body.String(), -1) {
		assert.Contains(t, doc.Components.Schemas, m[1], "schema %s", m[1])
	}
	golden.Assert(t, w.Body.String(), "openapi.json")
}

func TestDocsPages(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	for path, want := range map[string]string{
		"/nublado/docs":  "SwaggerUIBundle",
		"/nublado/redoc": "<redoc spec-url=\"/nublado/openapi.json\">",
	} {
		w := e.do(request{path: path})
		assert.Equal(t, http.StatusOK, w.Code, path)
		assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"), path)
		assert.Contains(t, w.Body.String(), want, path)
	}
	assert.Contains(t, e.do(request{path: "/nublado/docs"}).Body.String(), `url: "/nublado/openapi.json"`)
}
