package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// fsadminConfig has a read-only lab mount, fsadmin resources and a mount
// prefix.
const fsadminConfig = `
lab:
  volumes:
    - name: home
      source: {type: nfs, server: nfs.example.org, serverPath: /home}
    - name: datasets
      source: {type: hostPath, path: /datasets}
  volumeMounts:
    - {containerPath: /home, volumeName: home}
    - {containerPath: /datasets, volumeName: datasets, readOnly: true}
fsadmin:
  mountPrefix: /fs
  resources:
    limits: {cpu: 1, memory: 1Gi}
    requests: {cpu: 0.125, memory: 64Mi}
`

func TestFSAdminInput(t *testing.T) {
	cfg := buildCfg(t, fsadminConfig)
	in, err := cfg.FSAdminInput(controllerEnv, "nublado")
	require.NoError(t, err)
	want := &schema.FSAdminInput{
		Namespace: "nublado",
		Resources: &schema.ContainerResources{
			Limits:   schema.Quantities{CPU: "1.0", Memory: "1073741824"},
			Requests: schema.Quantities{CPU: "0.125", Memory: "67108864"},
		},
		ControllerImage: schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:15.1.0", PullPolicy: "Always"},
	}
	assert.Equal(t, want, in, "FSAdminInput")

	_, err = cfg.FSAdminInput(controllerEnv, "")
	require.ErrorIs(t, err, schema.ErrIncompleteRequest, "FSAdminInput without namespace")
}

// TestFSAdminKeepsLabMounts renders fsadmin, whose mounts are all
// read-write, and then a lab from the same configuration and renderer:
// the lab keeps its read-only mount and the configuration is unchanged
// (decision D7; the original made later labs read-write).
func TestFSAdminKeepsLabMounts(t *testing.T) {
	cfg := buildCfg(t, fsadminConfig)
	r, err := engine.New(nublado.CUE, engine.Config(cfg), engine.Strict())
	require.NoError(t, err)

	in, err := cfg.FSAdminInput(controllerEnv, "nublado")
	require.NoError(t, err)
	objs, err := r.Render("fsadmin", in)
	require.NoError(t, err, "Render(fsadmin)")
	pod := objs[len(objs)-1]
	assert.Equal(t, []any{
		map[string]any{"mountPath": "/fs/home", "name": "home", "readOnly": false},
		map[string]any{"mountPath": "/fs/datasets", "name": "datasets", "readOnly": false},
	}, containerMounts(t, pod), "fsadmin pod mounts")

	lin, err := cfg.LabInput(controllerEnv, request())
	require.NoError(t, err)
	objs, err = r.Render("lab", lin)
	require.NoError(t, err, "Render(lab)")
	labPod := objs[len(objs)-1]
	require.Equal(t, "Pod", labPod.GetKind())
	mounts := containerMounts(t, labPod)
	assert.Equal(t, map[string]any{"mountPath": "/datasets", "name": "datasets", "readOnly": true}, mounts[1],
		"lab mount after an fsadmin render")
	assert.True(t, cfg.Lab.VolumeMounts[1].ReadOnly, "lab.volumeMounts[1].readOnly after an fsadmin render")
}

// containerMounts returns the volume mounts of a pod's first container.
func containerMounts(t *testing.T, pod *unstructured.Unstructured) []any {
	t.Helper()
	containers, _, err := unstructured.NestedSlice(pod.Object, "spec", "containers")
	require.NoError(t, err)
	require.NotEmpty(t, containers)
	mounts, _, err := unstructured.NestedSlice(containers[0].(map[string]any), "volumeMounts")
	require.NoError(t, err)
	return mounts
}
