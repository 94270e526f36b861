package engine_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nublado-go/nublado/engine"
)

func newRenderer(t testing.TB, dir string, opts ...engine.Option) *engine.Renderer {
	t.Helper()
	r, err := engine.New(testFS(t, dir), opts...)
	require.NoError(t, err, "New(%q)", dir)
	return r
}

func kinds(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetKind()
	}
	return out
}

func TestTemplates(t *testing.T) {
	assert.Equal(t, []string{"lab"}, newRenderer(t, "templates").Templates())
	assert.Equal(t, []string{"pod"}, newRenderer(t, "broken").Templates())
}

func TestRender(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			var opts []engine.Option
			if strict {
				opts = append(opts, engine.Strict())
			}
			r := newRenderer(t, "templates", opts...)

			objs, err := r.Render("lab", newLabInput(2))
			require.NoError(t, err, "Render(lab)")
			want := []string{"Namespace", "PersistentVolumeClaim", "ConfigMap", "ConfigMap", "ConfigMap",
				"Secret", "ResourceQuota", "NetworkPolicy", "Service", "Pod"}
			assert.Equal(t, want, kinds(objs), "Render(lab): objects in apply order")

			objs, err = r.Render("lab", newLabInput(1))
			require.NoError(t, err, "Render(lab)")
			assert.NotContains(t, kinds(objs), "ResourceQuota", "Render(lab) without quota")

			pod := objs[len(objs)-1]
			containers, _, err := unstructured.NestedSlice(pod.Object, "spec", "containers")
			require.NoError(t, err)
			sc := containers[0].(map[string]any)["securityContext"].(map[string]any)
			assert.Equal(t, int64(10001), sc["runAsUser"], "integers decode as int64, as Kubernetes decodes them")
			secret := objs[5]
			assert.Equal(t, "dG9rZW4tZm9yLXVzZXIwMDAwMQ==", secret.Object["data"].(map[string]any)["token"],
				"CUE bytes (Go []byte in the input) are base64 in the object")
			assert.Equal(t, `[{"name":"user00001","id":10001},{"name":"lunatics","id":2028},{"name":"project-1","id":3001}]`,
				pod.GetAnnotations()["nublado.lsst.io/user-groups"], "strings pass through byte-exact")
		})
	}
}

func TestRenderGolden(t *testing.T) {
	r := newRenderer(t, "templates", engine.Strict())
	objs, err := r.Render("lab", newLabInput(7))
	require.NoError(t, err, "Render(lab)")

	y, err := engine.MarshalYAML(objs)
	require.NoError(t, err)
	golden.Assert(t, string(y), "lab.golden.yaml")

	j, err := engine.MarshalJSON(objs)
	require.NoError(t, err)
	golden.Assert(t, string(j), "lab.golden.json")
}

func TestRenderErrors(t *testing.T) {
	badUID := newLabInput(3)
	badUID.User.UID = 0
	type want struct {
		template, object, path, message string
	}
	cases := map[string]struct {
		reason   string
		dir      string
		strict   bool
		template string
		input    any
		sentinel error
		want     want
	}{
		"UnknownTemplate": {
			reason:   "a template name the package does not define is ErrUnknownTemplate",
			dir:      "templates",
			template: "fileserver",
			input:    newLabInput(1),
			sentinel: engine.ErrUnknownTemplate,
		},
		"InputWrongType": {
			reason:   "the input is checked against the template's input schema first",
			dir:      "broken",
			template: "pod",
			input:    map[string]any{"name": 3},
			want:     want{template: "pod", path: "input.name", message: "conflicting values string and 3 (mismatched types string and int)"},
		},
		"InputConstraint": {
			reason:   "constraints of the input schema name the input field",
			dir:      "templates",
			template: "lab",
			input:    badUID,
			want:     want{template: "lab", path: "input.user.uid", message: "invalid value 0 (out of bound >0)"},
		},
		"InputIncomplete": {
			reason:   "a missing input field is an error, not an incomplete object",
			dir:      "broken",
			template: "pod",
			input:    map[string]any{},
			want:     want{template: "pod", path: "input.name", message: "incomplete value string"},
		},
		"ObjectIncomplete": {
			reason:   "an incomplete object is an error naming the object and field, also without strict mode",
			dir:      "incomplete",
			template: "bad",
			input:    map[string]any{"name": "x"},
			want:     want{template: "bad", object: "Service/x", path: "spec.ports.0.port", message: "cannot reference optional field: port"},
		},
		"StrictUnknownField": {
			reason:   "strict mode rejects a field the Kubernetes schema does not have",
			dir:      "broken",
			strict:   true,
			template: "pod",
			input:    map[string]any{"name": "x"},
			want:     want{template: "pod", object: "Pod/x", path: "spec.containerz", message: "field not allowed"},
		},
		"StrictWrongType": {
			reason:   "strict mode rejects a value of the wrong type, naming the object and field",
			dir:      "wrongtype",
			strict:   true,
			template: "service",
			input:    map[string]any{"name": "x"},
			want: want{template: "service", object: "Service/x", path: "spec.ports.0.port",
				message: `conflicting values "8888" and int32 (mismatched types string and int)`},
		},
		"StrictUnknownKind": {
			reason:   "strict mode needs a schema for every kind",
			dir:      "unknownkind",
			strict:   true,
			template: "widget",
			input:    map[string]any{"name": "x"},
			sentinel: engine.ErrUnknownKind,
			want: want{template: "widget", object: "Widget/x", path: "kind",
				message: `no Kubernetes schema for apiVersion "example.com/v1" kind "Widget"`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var opts []engine.Option
			if tc.strict {
				opts = append(opts, engine.Strict())
			}
			r := newRenderer(t, tc.dir, opts...)
			objs, err := r.Render(tc.template, tc.input)
			require.Error(t, err, "Render(%q): %s", tc.template, tc.reason)
			assert.Nil(t, objs)
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel, "Render(%q): %s", tc.template, tc.reason)
			}
			if tc.want == (want{}) {
				return
			}
			var rerr *engine.RenderError
			require.ErrorAs(t, err, &rerr, "Render(%q): %s", tc.template, tc.reason)
			got := want{template: rerr.Template, object: rerr.Object, path: rerr.Path, message: rerr.Message}
			assert.Equal(t, tc.want, got, "Render(%q): %s", tc.template, tc.reason)
			assert.Contains(t, rerr.Details(), tc.want.message, "Details()")
		})
	}
}

func TestRenderBrokenWithoutStrict(t *testing.T) {
	objs, err := newRenderer(t, "broken").Render("pod", map[string]any{"name": "x"})
	require.NoError(t, err, "Render(pod): without Strict the schema is not checked")
	_, found, err := unstructured.NestedSlice(objs[0].Object, "spec", "containerz")
	require.NoError(t, err)
	assert.True(t, found)
}

func TestRenderErrorDetails(t *testing.T) {
	_, err := newRenderer(t, "wrongtype", engine.Strict()).Render("service", map[string]any{"name": "x"})
	var rerr *engine.RenderError
	require.ErrorAs(t, err, &rerr)
	details := rerr.Details()
	assert.True(t, strings.HasPrefix(details, `rendering template "service": Service/x:
#Kinds.v1.Service.spec.ports.0.port: conflicting values "8888" and int32 (mismatched types string and int):
    ./cue.mod/gen/k8s.io/api/core/v1/types_go_gen.cue:`), "Details():\n%s", details)
	assert.Contains(t, details, "\n    ./templates/kinds/kinds.cue:", "Details(): positions relative to the module root")
	assert.True(t, strings.HasSuffix(details, "\n    ./templates/service.cue:15:24\n"), "Details():\n%s", details)
}

// TestDeterministic renders the same input repeatedly on separate renderers:
// the bytes never change.
func TestDeterministic(t *testing.T) {
	in := newLabInput(42)
	var outputs []string
	for _, opts := range [][]engine.Option{nil, nil, {engine.Strict()}} {
		r := newRenderer(t, "templates", opts...)
		for range 3 {
			objs, err := r.Render("lab", in)
			require.NoError(t, err)
			y, err := engine.MarshalYAML(objs)
			require.NoError(t, err)
			outputs = append(outputs, string(y))
		}
	}
	for i := range outputs {
		assert.Equal(t, outputs[0], outputs[i], "render %d", i)
	}
}

// TestConcurrentRenders has 16 goroutines render different users on one
// Renderer; every result equals the serial render of the same input.
func TestConcurrentRenders(t *testing.T) {
	const goroutines, perGoroutine = 16, 8
	serial := newRenderer(t, "templates")
	want := map[int]string{}
	for i := range goroutines * perGoroutine {
		objs, err := serial.Render("lab", newLabInput(i))
		require.NoError(t, err)
		y, err := engine.MarshalYAML(objs)
		require.NoError(t, err)
		want[i] = string(y)
	}

	r := newRenderer(t, "templates")
	got := make([]string, goroutines*perGoroutine)
	errs := make([]error, goroutines*perGoroutine)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range perGoroutine {
				i := k*goroutines + g
				objs, err := r.Render("lab", newLabInput(i))
				if err == nil {
					var y []byte
					y, err = engine.MarshalYAML(objs)
					got[i] = string(y)
				}
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i], "Render(lab) for user %d", i)
		assert.Equal(t, want[i], got[i], "Render(lab) for user %d: concurrent differs from serial", i)
	}
}
