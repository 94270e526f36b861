//go:build conformance

package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

// TestFSAdminConformance renders fsadmin with fsadmin.yaml in the
// controller's namespace of controller/metadata: the objects of
// controller/objects/fsadmin.json, PVCs first.
func TestFSAdminConformance(t *testing.T) {
	ns, err := os.ReadFile(filepath.Join(conformanceController, "metadata", "namespace"))
	require.NoError(t, err)
	objs := conformanceRender(t, "fsadmin.yaml", "fsadmin", func(cfg *schema.Config, env schema.Environment) (any, error) {
		return cfg.FSAdminInput(env, strings.TrimSpace(string(ns)))
	})
	got, order := renderedObjects(t, objs)
	assert.Equal(t, expectedObjects(t, "fsadmin.json"), got, "Render(fsadmin): -want +got")
	assert.Equal(t, []string{"PersistentVolumeClaim/fsadmin-pvc-scratch", "Pod/fsadmin"}, order, "Render(fsadmin): creation order")
}

// TestConformancePodMetadata reads controller/metadata.
func TestConformancePodMetadata(t *testing.T) {
	md, err := schema.ReadPodMetadata(filepath.Join(conformanceController, "metadata"))
	require.NoError(t, err)
	assert.Equal(t, schema.PodMetadata{Name: "nublado-controller", Namespace: "nublado", UID: "12720beb-ecae-452e-982e-2f0a0a2fbaf1"}, md)
}
