package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nublado-go/nublado/engine"
)

func outputObjects() []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		{Object: map[string]any{"kind": "Namespace", "apiVersion": "v1", "metadata": map[string]any{"name": "ns"}}},
		{Object: map[string]any{"kind": "ConfigMap", "apiVersion": "v1",
			"metadata": map[string]any{"namespace": "ns", "name": "a"},
			"data":     map[string]any{"z": "<&>", "a": "1.0", "n": "12"}}},
	}
}

func TestMarshalYAML(t *testing.T) {
	got, err := engine.MarshalYAML(outputObjects())
	require.NoError(t, err)
	want := `apiVersion: v1
kind: Namespace
metadata:
  name: ns
---
apiVersion: v1
data:
  a: "1.0"
  "n": "12"
  z: <&>
kind: ConfigMap
metadata:
  name: a
  namespace: ns
`
	assert.Equal(t, want, string(got), "MarshalYAML: -want +got")

	empty, err := engine.MarshalYAML(nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestMarshalJSON(t *testing.T) {
	got, err := engine.MarshalJSON(outputObjects())
	require.NoError(t, err)
	want := `[
  {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
      "name": "ns"
    }
  },
  {
    "apiVersion": "v1",
    "data": {
      "a": "1.0",
      "n": "12",
      "z": "<&>"
    },
    "kind": "ConfigMap",
    "metadata": {
      "name": "a",
      "namespace": "ns"
    }
  }
]
`
	assert.Equal(t, want, string(got), "MarshalJSON: -want +got")

	empty, err := engine.MarshalJSON(nil)
	require.NoError(t, err)
	assert.Equal(t, "[]\n", string(empty))
}

func TestObjectID(t *testing.T) {
	objs := outputObjects()
	assert.Equal(t, "Namespace/ns", engine.ObjectID(objs[0]))
	assert.Equal(t, "ConfigMap/ns/a", engine.ObjectID(objs[1]))
}
