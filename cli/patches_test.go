package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// writePatches writes a patches file and returns its path.
func writePatches(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patches.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// TestRenderLabPatches: `render lab --patches` applies the site patches to
// the rendered lab (strategic merge of the Pod, JSON 6902 of the Service)
// and its output still pipes into kubectl and kustomize as a YAML stream.
func TestRenderLabPatches(t *testing.T) {
	patches := writePatches(t, `patches:
  - target: {kind: Pod, labelSelector: nublado.lsst.io/category=lab}
    patch: |-
      apiVersion: v1
      kind: Pod
      metadata: {name: lab}
      spec: {priorityClassName: interactive}
  - target: {kind: Service}
    patch: |-
      - op: add
        path: /metadata/labels/example.org~1team
        value: science
`)
	code, plain, stderr := execute(context.Background(), append([]string{"render"}, labInputs(t)...)...)
	require.Equal(t, ExitOK, code, stderr)
	code, out, stderr := execute(context.Background(), append([]string{"render"}, append(labInputs(t), "--patches", patches)...)...)
	require.Equal(t, ExitOK, code, stderr)
	assert.NotContains(t, plain, "priorityClassName")
	docs := strings.Split(out, "\n---\n")
	require.Len(t, docs, len(strings.Split(plain, "\n---\n")))
	var pods, services int
	for _, d := range docs {
		var obj map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(d), &obj))
		spec, _ := obj["spec"].(map[string]any)
		switch obj["kind"] {
		case "Pod":
			pods++
			assert.Equal(t, "interactive", spec["priorityClassName"])
		case "Service":
			services++
			labels := obj["metadata"].(map[string]any)["labels"].(map[string]any)
			assert.Equal(t, "science", labels["example.org/team"])
		default:
			assert.NotContains(t, d, "priorityClassName")
		}
	}
	assert.Equal(t, 1, pods)
	assert.Equal(t, 1, services)
}

// TestRenderPatchesErrors: a bad patches file is bad input (exit 1 for
// render) and names the file.
func TestRenderPatchesErrors(t *testing.T) {
	for name, content := range map[string]string{
		"no target": "patches:\n  - patch: '[]'\n",
		"not yaml":  "patches: [",
	} {
		t.Run(name, func(t *testing.T) {
			path := writePatches(t, content)
			code, _, stderr := execute(context.Background(), append([]string{"render"}, append(labInputs(t), "--patches", path)...)...)
			assert.Equal(t, ExitFailure, code)
			assert.Contains(t, stderr, "--patches "+path)
			assert.Contains(t, stderr, "invalid site patches")
		})
	}
	code, _, stderr := execute(context.Background(), "render", "fsadmin", "--config", filepath.Join("..", "deploy", "examples", "minimal.yaml"),
		"--patches", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, stderr, "reading --patches")
}
