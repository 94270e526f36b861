package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setLandingEnv(t *testing.T, home string) string {
	t.Helper()
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "welcome.md"), []byte("# Hi\n"), 0o644))
	t.Setenv("NUBLADO_HOME", home)
	t.Setenv("CST_LANDING_PAGE_SRC_DIR", src)
	t.Setenv("CST_LANDING_PAGE_TGT_DIR", "")
	t.Setenv("CST_LANDING_PAGE_FILES", "welcome.md")
	t.Setenv("DEBUG", "")
	return src
}

func TestLandingpage(t *testing.T) {
	home := t.TempDir()
	setLandingEnv(t, home)
	code, out, errOut := runCLI(t, "landingpage")
	require.Equal(t, ExitOK, code, errOut)
	assert.Empty(t, out)
	assert.Empty(t, errOut)
	data, err := os.ReadFile(filepath.Join(home, "notebooks/tutorials/welcome.md"))
	require.NoError(t, err)
	assert.Equal(t, "# Hi\n", string(data))
	assert.FileExists(t, filepath.Join(home, ".jupyter/lab/user-settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"))

	t.Setenv("DEBUG", "1")
	code, _, errOut = runCLI(t, "landingpage")
	require.Equal(t, ExitOK, code)
	lines := jsonLines(t, errOut)
	require.Len(t, lines, 1)
	assert.Equal(t, "Landing page installed", lines[0]["event"])
	assert.Equal(t, "debug", lines[0]["severity"])
}

func TestLandingpageNeverFails(t *testing.T) {
	setLandingEnv(t, "/nonexistent")
	code, _, errOut := runCLI(t, "landingpage")
	assert.Equal(t, ExitOK, code)
	lines := jsonLines(t, errOut)
	require.Len(t, lines, 1)
	assert.Equal(t, "Provisioner failed", lines[0]["event"])
	assert.Equal(t, "error", lines[0]["severity"])
	assert.Equal(t, "Home directory /nonexistent is not a directory", lines[0]["error"])

	code, _, _ = runCLI(t, "landingpage", "extra")
	assert.Equal(t, ExitUsage, code)
	code, out, _ := runCLI(t, "landingpage", "--help")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "never fails")
}
