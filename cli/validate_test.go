package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCmd runs the root command with args and returns the exit code,
// stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := NewRoot(logrus.New())
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := ExitOK
	if err := root.Execute(); err != nil {
		code = exitCode(err, &errb)
	}
	return code, out.String(), errb.String()
}

// writeConfig writes a configuration file into a temporary directory.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

const validConfig = `lab:
  namespacePrefix: userlabs
  sizes:
    - size: small
      resources:
        limits: {cpu: 1.0, memory: 3Gi}
        requests: {cpu: 0.25, memory: 0.75Gi}
  volumes:
    - name: home
      source: {type: nfs, server: nfs.example.org, serverPath: /home}
images:
  source: {type: docker, repository: r}
fsadmin: {}
`

func TestValidateOK(t *testing.T) {
	code, out, errOut := runCmd(t, "validate", "--config", writeConfig(t, validConfig))
	assert.Equal(t, ExitOK, code, "stderr %q", errOut)
	assert.Equal(t, "ok\n", out)
	assert.Empty(t, errOut)
}

func TestValidateExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "deploy", "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		code, out, errOut := runCmd(t, "validate", "--strict", "--config", f)
		assert.Equal(t, ExitOK, code, "validate --strict %s: stderr %q", f, errOut)
		assert.Equal(t, "ok\n", out)
	}
}

func TestValidateErrors(t *testing.T) {
	bad := strings.Replace(validConfig, "name: home", "name: data", 1) + "logLevel: LOUD\n"
	path := writeConfig(t, bad)
	code, out, errOut := runCmd(t, "validate", "--config", path)
	assert.Equal(t, ExitFailure, code)
	assert.Empty(t, out)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 2, "one line per error: %q", errOut)
	assert.Equal(t, "error: "+path+":1:1: lab.homeVolumeName: A home volume is required", lines[0])
	assert.Equal(t, "error: "+path+":14:1: logLevel: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'", lines[1])
}

func TestValidateWarnings(t *testing.T) {
	cfg := strings.Replace(validConfig, "  volumes:", "  tolerations:\n    - {key: k, value: v, effect: NoSchedule, tolerationSeconds: 60}\n  volumes:", 1)
	path := writeConfig(t, cfg)

	code, out, errOut := runCmd(t, "validate", "--config", path)
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, "ok\n", out)
	assert.Regexp(t, `^warning: .*lab\.tolerations\.0\.tolerationSeconds: Kubernetes rejects this pod: effect must be 'NoExecute' when tolerationSeconds is set`, errOut)

	code, out, errOut = runCmd(t, "validate", "--strict", "--config", path)
	assert.Equal(t, ExitFailure, code)
	assert.Empty(t, out)
	assert.Regexp(t, `^error: .*lab\.tolerations\.0\.tolerationSeconds`, errOut)
}

func TestValidateMissingFile(t *testing.T) {
	code, _, errOut := runCmd(t, "validate", "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, "reading config")
}
