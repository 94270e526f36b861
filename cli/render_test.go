package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// labInputs writes a small lab configuration, user and create request into
// a temporary directory and returns the render-lab flags that read them.
func labInputs(t *testing.T) []string {
	dir := t.TempDir()
	files := map[string]string{
		"config.yaml": `lab:
  namespacePrefix: applylab
  secrets:
    - {secretName: site, secretKey: password, env: PASSWORD}
  sizes:
    - size: small
      resources:
        limits: {cpu: 1, memory: 2Gi}
        requests: {cpu: 0.25, memory: 512Mi}
  volumes:
    - name: home
      source: {type: hostPath, path: /home}
  volumeMounts:
    - {containerPath: /home, volumeName: home}
images:
  source: {type: docker, registry: registry.example.org, repository: sciplat/lab}
fsadmin: {}
`,
		"user.json": `{"username": "ada", "name": "Ada", "uid": 3001, "gid": 3001,
  "groups": [{"name": "ada", "id": 3001}], "quota": {"notebook": {"cpu": 2, "memory": 4}}}`,
		"spec.json": `{"options": {"image_list": "registry.example.org/sciplat/lab:w_2077_01@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/ada/"}}`,
		"secrets.json": `{"site": {"password": "s3cret"}}`,
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return []string{"lab", "--token", "tok",
		"--config", filepath.Join(dir, "config.yaml"), "--user", filepath.Join(dir, "user.json"),
		"--spec", filepath.Join(dir, "spec.json"), "--secrets", filepath.Join(dir, "secrets.json")}
}

// TestApplyLab renders a lab and applies it to a local control plane with
// `nublado apply lab`, then checks `nublado diff lab` and a re-apply.
func TestApplyLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, k := range []string{"NUBLADO_CONTROLLER_REPOSITORY", "NUBLADO_CONTROLLER_TAG", "REPERTOIRE_BASE_URL", "EXTERNAL_INSTANCE_URL"} {
		t.Setenv(k, "")
	}
	c, err := testcluster.Start(ctx, testcluster.Options{CRDDir: "-"})
	require.NoError(t, err, "starting the local control plane")
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	lab := append(labInputs(t), "--kubeconfig", c.Kubeconfig())
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Execute(ctx, args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, stderr := run(append([]string{"diff"}, lab...)...)
	assert.Equal(t, exitDiffChanges, code, "diff lab before apply: stderr %q", stderr)
	assert.Contains(t, out, "+++ Pod applylab-ada/ada-nb (created)\n")

	code, out, stderr = run(append([]string{"apply"}, lab...)...)
	require.Equal(t, ExitOK, code, "apply lab: stderr %q", stderr)
	assert.Equal(t, strings.Join([]string{
		"Namespace applylab-ada created",
		"ConfigMap applylab-ada/ada-nb-env created",
		"ConfigMap applylab-ada/ada-nb-nss created",
		"ConfigMap applylab-ada/ada-nb-files created",
		"Secret applylab-ada/ada-nb created",
		"ResourceQuota applylab-ada/ada-nb created",
		"NetworkPolicy applylab-ada/ada-nb created",
		"Service applylab-ada/lab created",
		"Pod applylab-ada/ada-nb created",
	}, "\n")+"\n", out, "apply lab")

	code, out, stderr = run(append([]string{"diff"}, lab...)...)
	assert.Equal(t, ExitOK, code, "diff lab after apply: stderr %q", stderr)
	assert.Empty(t, out, "diff lab after apply")

	code, out, stderr = run(append([]string{"apply"}, lab...)...)
	require.Equal(t, ExitOK, code, "apply lab again: stderr %q", stderr)
	assert.NotContains(t, out, "created")
	assert.NotContains(t, out, "configured")
}
