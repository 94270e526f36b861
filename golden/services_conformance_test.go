//go:build conformance

package golden_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/cli"
)

// renderServiceConformance runs `nublado render <template> --strict` with a
// conformance config and the environment of the conformance README.
func renderServiceConformance(t *testing.T, template, config string, args ...string) []map[string]any {
	for k, v := range map[string]string{
		"EXTERNAL_INSTANCE_URL":          "",
		"NUBLADO_CONTROLLER_REPOSITORY":  "ghcr.io/lsst-sqre/nublado",
		"NUBLADO_CONTROLLER_TAG":         "11.1.1",
		"NUBLADO_CONTROLLER_PULL_POLICY": "IfNotPresent",
	} {
		t.Setenv(k, v)
	}
	args = append([]string{"render", template, "--strict", "-o", "json",
		"--config", conformance("controller", "config", config)}, args...)
	code, out, stderr := run(args...)
	require.Equal(t, cli.ExitOK, code, "render %s: stderr:\n%s", template, stderr)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	return got
}

// compareServiceObjects compares rendered objects with the objects of a
// conformance file that the controller makes (kinds in skip are made by
// the harness) and returns their ids in rendered order.
func compareServiceObjects(t *testing.T, template string, got []map[string]any, file string, skip ...string) []string {
	var want []map[string]any
	data, err := os.ReadFile(conformance("controller", "objects", file))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &want))
	var wantIDs, gotIDs []string
	wantByID := map[string]any{}
	for _, o := range want {
		if slices.Contains(skip, o["kind"].(string)) {
			continue
		}
		delete(o, "status")
		wantIDs = append(wantIDs, idOf(o))
		wantByID[idOf(o)] = o
	}
	for _, o := range got {
		gotIDs = append(gotIDs, idOf(o))
		w := wantByID[idOf(o)]
		assert.Equal(t, toYAML(t, w), toYAML(t, withAny(o, w)), "render %s: %s: -want +got", template, idOf(o))
	}
	slices.Sort(wantIDs)
	assert.Equal(t, wantIDs, slices.Sorted(slices.Values(gotIDs)), "render %s: the objects of %s", template, file)
	return gotIDs
}

// TestFileserverConformance renders rachel's file server with
// fileserver.yaml: the objects of controller/objects/fileserver.json that
// the controller makes (the Ingress, Pod, Namespace and ServiceAccount are
// the harness's), in the creation order of spec §3.6.
func TestFileserverConformance(t *testing.T) {
	got := renderServiceConformance(t, "fileserver", "fileserver.yaml",
		"--user", conformance("controller", "users", "rachel.json"))
	ids := compareServiceObjects(t, "fileserver", got, "fileserver.json", "Ingress", "Pod", "Namespace", "ServiceAccount")
	assert.Equal(t, []string{
		"PersistentVolumeClaim/rachel-fs-pvc-scratch", "GafaelfawrIngress/rachel-fs", "Service/rachel-fs", "Job/rachel-fs",
	}, ids, "render fileserver: objects in creation order")
}

// TestFSAdminConformance renders fsadmin with fsadmin.yaml in the namespace
// of controller/metadata: the objects of controller/objects/fsadmin.json,
// PVCs first.
func TestFSAdminConformance(t *testing.T) {
	ns, err := os.ReadFile(conformance("controller", "metadata", "namespace"))
	require.NoError(t, err)
	got := renderServiceConformance(t, "fsadmin", "fsadmin.yaml", "--namespace", strings.TrimSpace(string(ns)))
	ids := compareServiceObjects(t, "fsadmin", got, "fsadmin.json")
	assert.Equal(t, []string{"PersistentVolumeClaim/fsadmin-pvc-scratch", "Pod/fsadmin"}, ids,
		"render fsadmin: objects in creation order")
}

// TestPrepullConformanceConfigs renders a prepull pod in strict mode with
// every conformance config the original accepts and the controller's pod
// of controller/metadata as owner.
func TestPrepullConformanceConfigs(t *testing.T) {
	files, err := filepath.Glob(conformance("controller", "config", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		if name == "no-home.yaml" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			got := renderServiceConformance(t, "prepull", name, "--metadata", conformance("controller", "metadata"),
				"--image", "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234", "--node", "node1")
			require.Len(t, got, 1)
			meta := got[0]["metadata"].(map[string]any)
			assert.Equal(t, "prepull-d-2077-10-23-node1", meta["name"])
			assert.Equal(t, "nublado", meta["namespace"])
			assert.Equal(t, []any{map[string]any{
				"apiVersion": "v1", "kind": "Pod", "name": "nublado-controller",
				"uid": "12720beb-ecae-452e-982e-2f0a0a2fbaf1", "blockOwnerDeletion": true,
			}}, meta["ownerReferences"])
		})
	}
}
