package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
)

// objects returns the objects as plain values.
func objects(objs []*unstructured.Unstructured) []any {
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out
}

// assertLikeWalk renders input three times (the exporter's caches fill on
// the first) and compares each result with an export that walks every
// field.
func assertLikeWalk(t *testing.T, r *engine.Renderer, template string, input any) {
	t.Helper()
	want, err := engine.RenderWalk(r, template, input)
	require.NoError(t, err, "RenderWalk(%q)", template)
	for i := range 3 {
		objs, err := r.Render(template, input)
		require.NoError(t, err, "Render(%q) #%d", template, i)
		assert.Equal(t, want, objects(objs), "Render(%q) #%d: the export's shortcuts change the objects", template, i)
	}
}

// TestExportShortcuts checks that shared references, per-render references
// and struct plans export exactly what walking every field exports, also
// where they must not apply: a struct with several conjuncts, a definition
// used twice, comprehensions, defaults and embeddings.
func TestExportShortcuts(t *testing.T) {
	r := newRenderer(t, "shortcuts")
	inputs := []map[string]any{
		{"user": "one", "n": 1, "flag": true, "bytes": []byte("b1"), "items": []string{"a", "b"}},
		{"user": "two", "n": 2, "flag": false, "bytes": []byte("b2"), "maybe": "here", "items": []string{}},
		{"user": "one", "n": 3, "flag": false, "bytes": []byte{}, "items": []string{"c"}},
	}
	for _, in := range inputs {
		assertLikeWalk(t, r, "shortcuts", in)
	}
	objs, err := r.Render("shortcuts", inputs[1])
	require.NoError(t, err)
	defs := objs[3].Object
	assert.Equal(t, "two", defs["first"].(map[string]any)["value"], "a hidden field of a definition used twice")
	assert.Equal(t, "other", defs["second"].(map[string]any)["value"], "a hidden field of a definition used twice")
	assert.Equal(t, map[string]any{"a": int64(1), "b": int64(2)}, objs[2].Object["twice"], "a struct declared twice")
}

// TestExportLab checks the real lab template the same way, with both test
// configurations and the test engine's templates.
func TestExportLab(t *testing.T) {
	for _, config := range []string{"config.json", "config-minimal.json"} {
		r, err := engine.New(nublado.CUE, engine.Config(readConfigFile(t, config)))
		require.NoError(t, err)
		for i := range 2 {
			in := labTestInput(t, i)
			if config == "config-minimal.json" {
				in.PullSecret = nil
			}
			assertLikeWalk(t, r, "lab", in)
		}
	}
	r := newRenderer(t, "templates")
	for i := range 3 {
		assertLikeWalk(t, r, "lab", newLabInput(i))
	}
}

// TestRenderResultsIndependent modifies everything a render returned: the
// next render of the same input is unchanged. Shared parts are exported once
// and copied into every result.
func TestRenderResultsIndependent(t *testing.T) {
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)))
	require.NoError(t, err)
	in := labTestInput(t, 0)
	first, err := r.Render("lab", in)
	require.NoError(t, err)
	want, err := engine.MarshalYAML(first)
	require.NoError(t, err)
	for _, obj := range first {
		scribble(obj.Object)
	}
	again, err := r.Render("lab", in)
	require.NoError(t, err)
	got, err := engine.MarshalYAML(again)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "Render(lab) after the previous result was modified")
}

// scribble overwrites every value in x.
func scribble(x any) {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			scribble(v)
			if _, ok := v.(map[string]any); !ok {
				x[k] = "scribbled"
			}
		}
		x["scribbled"] = true
	case []any:
		for i, v := range x {
			scribble(v)
			if _, ok := v.(map[string]any); !ok {
				x[i] = "scribbled"
			}
		}
	}
}
