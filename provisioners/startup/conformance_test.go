//go:build conformance

package startup

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceDir is ../shared/conformance/nublado-15.1.0 from the repository
// root.
var conformanceDir = filepath.Join("..", "..", "..", "shared", "conformance", "nublado-15.1.0")

// TestConformanceFullPrepare runs the full preparation over the original's
// fixture (startup/files: etc, homedir, jupyterlab laid out as /etc,
// /home/hambone and the JupyterLab configuration directory of a temporary
// root; /scratch and /etc/nublado/startup empty; TMPDIR and
// DAF_BUTLER_CACHE_DIRECTORY unset; Repertoire serving discovery.json) and
// compares env.json and args.json with startup/output as JSON.
//
// The values that depend on the test environment are the paths: the fixture
// expects /home/hambone and /scratch/hambone/…, the test runs under a
// temporary root, which is removed from every value before comparing.
// FIREFLY_URL comes from the served discovery.json. git is a fake that
// records its invocation (git-lfs need not be installed).
func TestConformanceFullPrepare(t *testing.T) {
	files := filepath.Join(conformanceDir, "startup", "files")
	require.DirExists(t, files, "conformance data (../shared/conformance) is missing")
	f := newFixtureFrom(t, t.TempDir(), map[string]string{
		"etc":          filepath.Join(files, "etc"),
		"home/hambone": filepath.Join(files, "homedir"),
		"jupyterlab":   filepath.Join(files, "jupyterlab"),
	}, filepath.Join(conformanceDir, "discovery.json"))
	f.run(t)

	var wantEnv map[string]string
	var wantArgs []string
	out := filepath.Join(conformanceDir, "startup", "output")
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(out, "env.json")), &wantEnv))
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(out, "args.json")), &wantArgs))

	assert.Equal(t, wantEnv, f.relative(f.startupEnv(t)), "env.json: -want +got")
	gotArgs := f.startupArgs(t)
	for i := range gotArgs {
		gotArgs[i] = f.strip(gotArgs[i])
	}
	assert.Equal(t, wantArgs, gotArgs, "args.json: -want +got")
	assert.Equal(t, []string{f.home + "|lfs install"}, f.gitCalls(t), "git lfs install runs once")
	assert.Equal(t, readFile(t, filepath.Join(files, "jupyterlab", "etc", "20-logging.py")),
		f.read(t, "home/hambone/.ipython/profile_default/startup/20-logging.py"), "logging profile copied")
	assert.Equal(t, readFile(t, filepath.Join(files, "etc", "skel", ".gitconfig")),
		f.read(t, "home/hambone/.gitconfig"), "skeleton .gitconfig copied")
}
