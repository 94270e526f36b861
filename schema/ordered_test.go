package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/nublado-go/nublado/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrderedStringsJSON(t *testing.T) {
	m := schema.NewOrderedStrings("/z/panda", "p", "/a/dask.yml", "d")
	got, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Equal(t, `{"/z/panda":"p","/a/dask.yml":"d"}`, string(got))

	var back schema.OrderedStrings
	require.NoError(t, json.Unmarshal([]byte(`{"b":"2","a":"1","b":"3"}`), &back))
	assert.Equal(t, []string{"b", "a"}, back.Keys())
	v, ok := back.Get("b")
	assert.True(t, ok)
	assert.Equal(t, "3", v, "a repeated key keeps its first place and its last value")

	require.Error(t, json.Unmarshal([]byte(`["a"]`), &back))
	require.Error(t, json.Unmarshal([]byte(`{"a": 1}`), &back))
}

// TestLabFilesOrder: lab.files keeps the order of the configuration file,
// which the lab pod's volumes and mounts follow.
func TestLabFilesOrder(t *testing.T) {
	data := []byte(`
lab:
  namespacePrefix: userlabs
  volumes:
    - name: home
      source: {type: hostPath, path: /home}
  volumeMounts:
    - containerPath: /home
      volumeName: home
  files:
    /opt/z/panda: "p"
    /opt/a/dask.yml: "d"
    /opt/m/middle: "m"
images:
  source: {type: docker, repository: library/sketchbook}
fsadmin: {}
`)
	cfg, err := schema.Parse(data, "files.yaml", schema.WithoutEnv())
	require.NoError(t, err)
	assert.Equal(t, []string{"/opt/z/panda", "/opt/a/dask.yml", "/opt/m/middle"}, cfg.Lab.Files.Keys())
	raw, err := json.Marshal(cfg.Lab.Files)
	require.NoError(t, err)
	assert.Equal(t, `{"/opt/z/panda":"p","/opt/a/dask.yml":"d","/opt/m/middle":"m"}`, string(raw))
}
