//go:build conformance

package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
)

// conformance is the conformance data of Nublado 15.1.0, read in place.
var conformance = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "controller")

// TestConformanceLabForm: the lab form for rachel with standard.yaml (the
// menu and drop-down that registry/docker.json and nodes/standard.json give)
// is byte-for-byte html/lab-form.html.
func TestConformanceLabForm(t *testing.T) {
	cfg, err := schema.Load(filepath.Join(conformance, "config", "standard.yaml"),
		schema.WithoutEnv())
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(conformance, "html", "lab-form.html"))
	require.NoError(t, err)
	e := newEnv(t, cfg, &fakeLabs{t: t}, nil, server.WithImages(standardImages()))
	w := e.do(request{path: "/nublado/spawner/v1/lab-form/rachel", headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, string(want), w.Body.String(), "lab form: -want +got")
}
