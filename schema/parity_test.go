package schema_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cueCLI installs the pinned cue command (the one `make cue-vet` and
// operators run) into a temporary directory.
func cueCLI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "install", "cuelang.org/go/cmd/cue@v0.17.1")
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go install cue: %s", out)
	return filepath.Join(dir, "cue")
}

// TestCueVetParity runs `cue vet -c=false -d '#Config' ./schema FILE` over
// every rule fixture, the test data and the example configs, and checks that
// the CLI accepts exactly the files schema.Load accepts.
func TestCueVetParity(t *testing.T) {
	cue := cueCLI(t)
	dir := t.TempDir()
	files := map[string][]byte{}
	for name, tc := range ruleCases {
		files[name+".yaml"] = patched(t, tc.patch)
	}
	for _, pattern := range []string{"testdata/*.yaml", "../deploy/examples/*.yaml"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, m := range matches {
			data, err := os.ReadFile(m)
			require.NoError(t, err)
			files["file-"+filepath.Base(filepath.Dir(m))+"-"+filepath.Base(m)] = data
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, files[name], 0o600))
		_, loadErr := parse(t, files[name])
		out, vetErr := exec.Command(cue, "vet", "-c=false", "-d", "#Config", ".", path).CombinedOutput()
		assert.Equal(t, loadErr == nil, vetErr == nil,
			"%s: schema.Load error %v, cue vet output %s", name, loadErr, out)
	}
}
