//go:build conformance

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
)

// TestImagesParseConformance runs `nublado images parse` over the tags of
// Nublado's rspimagetag fixtures and compares each object with its file.
func TestImagesParseConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "controller", "rspimagetag", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	args := []string{"images", "parse"}
	for _, f := range files {
		args = append(args, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	var out, errb bytes.Buffer
	require.Equal(t, ExitOK, Execute(context.Background(), args, nil, &out, &errb), "stderr %q", errb.String())
	var got []json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, len(files))
	for i, f := range files {
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got[i]), "nublado images parse %s", args[i+2])
	}
}

// conformanceImages is Nublado's reference data directory.
var conformanceImages = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0")

// pinnedDockerTags are the tags of Nublado's images CLI test repository
// (tools §1.2), each on its own image.
var pinnedDockerTags = map[string]string{
	"w_2021_22": "sha256:1", "w_2021_22-amd64": "sha256:2", "w_2021_21": "sha256:3", "w_2021_21-arm64": "sha256:4",
	"w_2021_21-amd64": "sha256:5", "d_2021_06_15": "sha256:6", "d_2021_06_14-amd64": "sha256:7", "recommended": "sha256:8",
}

// conformanceDocker serves a fixture under the registry and repository of
// images-cli/docker.yaml (lighthouse.ceres/library/sketchbook) and returns
// deps that reach it.
func conformanceDocker(t *testing.T, fixture map[string]string) *imagesDeps {
	t.Helper()
	reg := imagestest.NewRegistry(t)
	reg.Push(t, "lighthouse.ceres/library/sketchbook", fixture)
	deps := testDeps(t)
	deps.docker = []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(reg.Transport())}
	return deps
}

func TestImagesConformanceDocker(t *testing.T) {
	cfg := filepath.Join(conformanceImages, "images-cli", "docker.yaml")
	deps := conformanceDocker(t, pinnedDockerTags)
	run := func(args ...string) cliResult {
		res := runImagesCLI(t, deps, append([]string{"images"}, append(args, "-c", cfg)...)...)
		require.Equal(t, ExitOK, res.code, "nublado images %v: stderr %q", args, res.stderr)
		return res
	}
	all := "w_2021_22\nw_2021_22-amd64\nw_2021_21\nw_2021_21-arm64\nw_2021_21-amd64\nd_2021_06_15\nd_2021_06_14-amd64\nrecommended\n"
	assert.Equal(t, all, run("list").stdout, "list")
	assert.Equal(t, "Would delete images:\n  w_2021_21\n  w_2021_21-arm64\n  w_2021_21-amd64\n", run("prune", "-n").stdout, "prune -n")
	assert.Equal(t, all, run("list").stdout, "prune -n deletes nothing")
	assert.Equal(t, "Deleted images:\n  w_2021_21\n  w_2021_21-arm64\n  w_2021_21-amd64\n", run("prune").stdout, "prune")
	assert.Equal(t, "w_2021_22\nw_2021_22-amd64\nd_2021_06_15\nd_2021_06_14-amd64\nrecommended\n", run("list").stdout, "pruned tags gone")
	assert.Empty(t, run("delete", "w_2021_22", "w_2021_22-amd64").stdout, "delete")
	assert.Equal(t, "d_2021_06_15\nd_2021_06_14-amd64\nrecommended\n", run("list").stdout, "deleted tags gone")
}

func TestImagesConformanceDockerRegistryData(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(conformanceImages, "registry", "docker.json"))
	require.NoError(t, err)
	var fixture map[string]string
	require.NoError(t, json.Unmarshal(raw, &fixture))
	deps := conformanceDocker(t, fixture)
	cfg := filepath.Join(conformanceImages, "images-cli", "docker.yaml")
	res := runImagesCLI(t, deps, "images", "list", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "w_2077_44-amd64\nw_2077_43\nd_2077_10_23\nrecommended\nlatest_weekly\nlatest_daily\n", res.stdout)
	res = runImagesCLI(t, deps, "images", "prune", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Deleted images:\n", res.stdout, "nothing before 2021-05-31")
}

func TestImagesConformanceGAR(t *testing.T) {
	cfgPath := filepath.Join(conformanceImages, "images-cli", "gar.yaml")
	raw, err := os.ReadFile(filepath.Join(conformanceImages, "registry", "gar.json"))
	require.NoError(t, err)
	gc := images.GARConfig{Location: "us-central1", ProjectID: "rubin-shared-services-71ec", Repository: "sciplat", Image: "sciplat-lab"}
	start := func() (*imagestest.GARServer, *imagesDeps) {
		listing, err := imagestest.GARImages(raw)
		require.NoError(t, err)
		srv, opts := imagestest.StartGAR(t, gc.Parent(), listing, 2)
		deps := testDeps(t)
		deps.gar = []images.GAROption{images.WithClientOptions(opts...), images.WithRetryDelay(time.Millisecond)}
		return srv, deps
	}
	run := func(deps *imagesDeps, args ...string) cliResult {
		res := runImagesCLI(t, deps, append([]string{"images"}, append(args, "-c", cfgPath)...)...)
		require.Equal(t, ExitOK, res.code, "nublado images %v: stderr %q", args, res.stderr)
		return res
	}
	srv, deps := start()
	srv.FailOn(1, codes.Unavailable)
	all := "w_2077_44-amd64\nw_2077_43\nw_2077_42\nw_2077_41\nexp_w_2077_41_testing\nrecommended\nlatest_weekly\n"
	assert.Equal(t, all, run(deps, "list").stdout, "list survives one 503")
	assert.Equal(t, "Would delete images:\n  w_2077_42\n  w_2077_41\n", run(deps, "prune", "-n").stdout, "prune -n")
	assert.Empty(t, srv.Deletes(), "prune -n deletes nothing")
	assert.Equal(t, "Deleted images:\n  w_2077_42\n  w_2077_41\n", run(deps, "prune").stdout, "prune")
	require.Len(t, srv.Deletes(), 1, "one batch")
	assert.Equal(t, "w_2077_44-amd64\nw_2077_43\nexp_w_2077_41_testing\nrecommended\nlatest_weekly\n", run(deps, "list").stdout, "pruned tags gone")

	srv, deps = start()
	assert.Empty(t, run(deps, "delete", "w_2077_42").stdout, "delete")
	assert.Equal(t, "w_2077_44-amd64\nw_2077_43\nw_2077_41\nexp_w_2077_41_testing\nrecommended\nlatest_weekly\n", run(deps, "list").stdout,
		"deleted tag gone")
	assert.Len(t, srv.Deletes(), 1)
}
