//go:build conformance

package golden_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado/cli"
)

// conformanceDir is ../shared/conformance/nublado-15.1.0 from the
// repository root.
var conformanceDir = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0")

func conformance(parts ...string) string {
	return filepath.Join(append([]string{conformanceDir}, parts...)...)
}

// TestLabConformance runs `nublado render lab --strict` with the inputs
// the conformance README lists for controller/objects/lab.json and compares
// the objects under its rule: JSON equality, the ServiceAccount, status
// stanzas and <ANY> values excepted.
func TestLabConformance(t *testing.T) {
	got := renderConformance(t, "standard.yaml", true)
	gotIDs := compareObjects(t, got, "lab.json")
	// The creation order of spec §3.2.
	assert.Equal(t, []string{
		"Namespace/userlabs-rachel",
		"PersistentVolumeClaim/rachel-nb-pvc-scratch", "PersistentVolumeClaim/rachel-nb-pvc-temporary",
		"ConfigMap/rachel-nb-env", "ConfigMap/rachel-nb-nss", "ConfigMap/rachel-nb-files",
		"Secret/rachel-nb", "Secret/pull-secret", "ResourceQuota/rachel-nb",
		"NetworkPolicy/rachel-nb", "Service/lab", "Pod/rachel-nb",
	}, gotIDs, "render lab: objects in creation order")
}

// renderConformance renders rachel's lab with a conformance config and the
// README's other inputs.
// Without registry, the requested reference is used as given.
func renderConformance(t *testing.T, config string, registry bool) []map[string]any {
	for k, v := range map[string]string{
		"REPERTOIRE_BASE_URL":            "https://example.com/repertoire",
		"EXTERNAL_INSTANCE_URL":          "",
		"NUBLADO_CONTROLLER_REPOSITORY":  "ghcr.io/lsst-sqre/nublado",
		"NUBLADO_CONTROLLER_TAG":         "11.1.1",
		"NUBLADO_CONTROLLER_PULL_POLICY": "IfNotPresent",
	} {
		t.Setenv(k, v)
	}
	args := []string{"render", "lab", "--strict", "-o", "json",
		"--config", conformance("controller", "config", config),
		"--user", conformance("controller", "users", "rachel.json"),
		"--spec", conformance("controller", "base", "lab-specification.json"),
		"--secrets", conformance("controller", "base", "secrets.json"),
		"--discovery", conformance("discovery.json"),
		"--namespace", "nublado",
		"--token", "some-delegated-token"}
	if registry {
		args = append(args, "--registry", conformance("registry", "docker.json"))
	}
	code, out, stderr := run(args...)
	require.Equal(t, cli.ExitOK, code, "render lab: stderr:\n%s", stderr)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	return got
}

// compareObjects compares rendered objects with a conformance objects file
// and returns their ids in rendered order.
func compareObjects(t *testing.T, got []map[string]any, file string) []string {
	var want []map[string]any
	data, err := os.ReadFile(conformance("controller", "objects", file))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &want))

	var wantIDs, gotIDs []string
	wantByID := map[string]any{}
	for _, o := range want {
		if o["kind"] == "ServiceAccount" {
			continue
		}
		delete(o, "status")
		wantIDs = append(wantIDs, idOf(o))
		wantByID[idOf(o)] = o
	}
	for _, o := range got {
		gotIDs = append(gotIDs, idOf(o))
		w := wantByID[idOf(o)]
		assert.Equal(t, toYAML(t, w), toYAML(t, withAny(o, w)), "render lab: %s: -want +got", idOf(o))
	}
	slices.Sort(wantIDs)
	assert.Equal(t, wantIDs, slices.Sorted(slices.Values(gotIDs)), "render lab: the objects (%s is sorted by kind)", file)
	return gotIDs
}

// withAny replaces the parts of got that want marks <ANY> with <ANY>.
func withAny(got, want any) any {
	if want == "<ANY>" {
		return want
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := make(map[string]any, len(g))
		for k, v := range g {
			out[k] = withAny(v, w[k])
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return got
		}
		out := make([]any, len(g))
		for i := range g {
			out[i] = withAny(g[i], w[i])
		}
		return out
	}
	return got
}

func idOf(o map[string]any) string {
	return fmt.Sprintf("%s/%s", o["kind"], o["metadata"].(map[string]any)["name"])
}

func toYAML(t *testing.T, o any) string {
	if o == nil {
		return "missing\n"
	}
	data, err := yaml.Marshal(o)
	require.NoError(t, err)
	return string(data)
}

// TestLabConformanceConfigs renders rachel's lab in strict mode with every
// conformance config that the original accepts (all but no-home.yaml). The
// image is resolved against registry/docker.json where the config's source
// is that registry, and used as given otherwise.
func TestLabConformanceConfigs(t *testing.T) {
	files, err := filepath.Glob(conformance("controller", "config", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		if name == "no-home.yaml" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			registry := !slices.Contains([]string{"cycle.yaml", "gar.yaml", "gar-cycle.yaml"}, name)
			objs := renderConformance(t, name, registry)
			assert.Equal(t, "Pod", objs[len(objs)-1]["kind"], "render lab with %s: the last object", name)
		})
	}
}
