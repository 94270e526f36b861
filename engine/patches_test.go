package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
)

func readPatches(t testing.TB, path string) *engine.Patches {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	p, err := engine.ParsePatches(data)
	require.NoError(t, err, "ParsePatches(%s)", path)
	return p
}

// TestPatchesLab renders the real lab template with the site patches of
// testdata/patches/site.yaml (strategic merge and JSON 6902, targets by
// label and by name) and compares the objects with the golden file; the
// objects the patches do not target are those of the unpatched render.
func TestPatchesLab(t *testing.T) {
	plain, err := engine.New(nublado.CUE, engine.Config(readConfig(t)))
	require.NoError(t, err)
	patched, err := engine.New(nublado.CUE, engine.Config(readConfig(t)),
		engine.WithPatches(readPatches(t, filepath.Join("testdata", "patches", "site.yaml"))))
	require.NoError(t, err)
	in := labTestInput(t, 0)
	want, err := plain.Render("lab", in)
	require.NoError(t, err)
	got, err := patched.Render("lab", in)
	require.NoError(t, err)
	y, err := engine.MarshalYAML(got)
	require.NoError(t, err)
	golden.Assert(t, string(y), filepath.Join("patches", "lab-wanda.golden.yaml"))

	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, engine.ObjectID(want[i]), engine.ObjectID(got[i]), "the order of the objects is kept")
		switch want[i].GetKind() {
		case "Pod", "Service":
			assert.NotEqual(t, want[i].Object, got[i].Object, "%s is patched", engine.ObjectID(got[i]))
		default:
			assert.Equal(t, want[i].Object, got[i].Object, "%s is not patched", engine.ObjectID(got[i]))
		}
	}
	// The strategic merge kept the container's own variables.
	containers, _, _ := unstructured.NestedSlice(got[len(got)-1].Object, "spec", "containers")
	env := containers[0].(map[string]any)["env"].([]any)
	assert.Greater(t, len(env), 1)
	assert.Contains(t, env, map[string]any{"name": "SITE_PROXY", "value": "http://proxy.example.org:3128"})
}

// TestPatchesSiteExample: the patches file of the site-example overlay
// parses and patches the lab Pod only.
func TestPatchesSiteExample(t *testing.T) {
	p := readPatches(t, filepath.Join("..", "deploy", "overlays", "site-example", "patches.yaml"))
	assert.Equal(t, 2, p.Len())
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)), engine.WithPatches(p))
	require.NoError(t, err)
	objs, err := r.Render("lab", labTestInput(t, 1))
	require.NoError(t, err)
	for _, obj := range objs {
		class, _, _ := unstructured.NestedString(obj.Object, "spec", "priorityClassName")
		dns, _, _ := unstructured.NestedMap(obj.Object, "spec", "dnsConfig")
		if obj.GetKind() == "Pod" {
			assert.Equal(t, "interactive", class)
			assert.NotEmpty(t, dns)
		} else {
			assert.Empty(t, class, "%s", engine.ObjectID(obj))
		}
	}
}

// TestPatchesNoMatch: a patch whose target matches nothing changes nothing
// (the templates render different objects), and Apply leaves its input
// alone.
func TestPatchesNoMatch(t *testing.T) {
	p, err := engine.ParsePatches([]byte(`
patches:
  - target: {kind: Job}
    patch: |-
      - op: add
        path: /spec/backoffLimit
        value: 1
  - target: {kind: ConfigMap, name: "^b$"}
    patch: |-
      - op: add
        path: /data/patched
        value: "yes"
`))
	require.NoError(t, err)
	objs := []*unstructured.Unstructured{
		{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a", "namespace": "n"}, "data": map[string]any{"k": "v"}}},
		{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "b", "namespace": "n"}, "data": map[string]any{"k": "v"}}},
	}
	out, err := p.Apply(objs)
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.Equal(t, objs[0].Object, out[0].Object)
	assert.Equal(t, map[string]any{"k": "v", "patched": "yes"}, out[1].Object["data"])
	assert.Equal(t, map[string]any{"k": "v"}, objs[1].Object["data"], "the input is not changed")
}

// TestPatchesRenderError: an operation that cannot apply fails the render
// of the objects it targets.
func TestPatchesRenderError(t *testing.T) {
	p, err := engine.ParsePatches([]byte(`
patches:
  - target: {kind: Pod}
    patch: |-
      - op: replace
        path: /spec/no/such/field
        value: 1
`))
	require.NoError(t, err)
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)), engine.WithPatches(p))
	require.NoError(t, err)
	_, err = r.Render("lab", labTestInput(t, 0))
	require.ErrorContains(t, err, "applying site patches")
}

// TestParsePatchesErrors: what a patches file may not hold.
func TestParsePatchesErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not yaml":      "patches: [",
		"unknown field": "patchez: []",
		"path":          "patches:\n  - path: pod.yaml\n    target: {kind: Pod}",
		"no patch":      "patches:\n  - target: {kind: Pod}",
		"no target":     "patches:\n  - patch: '[{\"op\": \"add\", \"path\": \"/x\", \"value\": 1}]'",
		"bad patch":     "patches:\n  - target: {kind: Pod}\n    patch: 'op: add: x'",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := engine.ParsePatches([]byte(data))
			require.ErrorIs(t, err, engine.ErrBadPatches)
		})
	}
}

// BenchmarkRenderLabPatched is BenchmarkRenderLab with the site patches
// of testdata/patches/site.yaml.
func BenchmarkRenderLabPatched(b *testing.B) {
	benchmarkRenderLab(b, engine.WithPatches(readPatches(b, filepath.Join("testdata", "patches", "site.yaml"))))
}
