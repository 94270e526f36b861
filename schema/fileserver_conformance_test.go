//go:build conformance

package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// conformanceController is the controller directory of the original's
// test data.
var conformanceController = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "controller")

// conformanceEnv is the controller environment of the conformance README.
func conformanceEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"NUBLADO_CONTROLLER_REPOSITORY":  "ghcr.io/lsst-sqre/nublado",
		"NUBLADO_CONTROLLER_TAG":         "11.1.1",
		"NUBLADO_CONTROLLER_PULL_POLICY": "IfNotPresent",
	}[name]
	return v, ok
}

// conformanceRender loads a conformance configuration and renders template
// (strict) with the input that build makes from it.
func conformanceRender(t *testing.T, config, template string,
	build func(*schema.Config, schema.Environment) (any, error)) []*unstructured.Unstructured {
	t.Helper()
	cfg, err := schema.Load(filepath.Join(conformanceController, "config", config), schema.WithLookupEnv(conformanceEnv))
	require.NoError(t, err)
	env, _ := schema.ReadEnvironment(conformanceEnv)
	in, err := build(cfg, env)
	require.NoError(t, err)
	r, err := engine.New(nublado.CUE, engine.Config(cfg), engine.Strict())
	require.NoError(t, err)
	objs, err := r.Render(template, in)
	require.NoError(t, err, "Render(%s)", template)
	return objs
}

// expectedObjects reads controller/objects/<file> keyed by Kind/name,
// without status stanzas and without the kinds in skip.
func expectedObjects(t *testing.T, file string, skip ...string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformanceController, "objects", file))
	require.NoError(t, err)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(data, &list))
	out := map[string]any{}
	for _, obj := range list {
		kind := obj["kind"].(string)
		if slices.Contains(skip, kind) {
			continue
		}
		delete(obj, "status")
		out[kind+"/"+obj["metadata"].(map[string]any)["name"].(string)] = obj
	}
	return out
}

// renderedObjects returns objs as JSON values keyed by Kind/name, and
// their keys in order.
func renderedObjects(t *testing.T, objs []*unstructured.Unstructured) (map[string]any, []string) {
	t.Helper()
	out := map[string]any{}
	var order []string
	for _, obj := range objs {
		data, err := obj.MarshalJSON()
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(data, &v))
		key := obj.GetKind() + "/" + obj.GetName()
		out[key] = v
		order = append(order, key)
	}
	return out, order
}

// TestFileserverConformance renders rachel's file server with
// fileserver.yaml: the objects the controller makes in
// controller/objects/fileserver.json (the Ingress, the Pod, the Namespace
// and the ServiceAccount are the harness's), in the order of §3.6.
func TestFileserverConformance(t *testing.T) {
	var user nublado.User
	data, err := os.ReadFile(filepath.Join(conformanceController, "users", "rachel.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &user))
	objs := conformanceRender(t, "fileserver.yaml", "fileserver", func(cfg *schema.Config, env schema.Environment) (any, error) {
		return cfg.FileserverInput(env, user)
	})
	got, order := renderedObjects(t, objs)
	want := expectedObjects(t, "fileserver.json", "Ingress", "Pod", "Namespace", "ServiceAccount")
	assert.Equal(t, want, got, "Render(fileserver): -want +got")
	assert.Equal(t, []string{
		"PersistentVolumeClaim/rachel-fs-pvc-scratch", "GafaelfawrIngress/rachel-fs", "Service/rachel-fs", "Job/rachel-fs",
	}, order, "Render(fileserver): creation order")
}
