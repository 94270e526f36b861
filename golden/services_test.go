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
	"gotest.tools/v3/golden"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado/cli"
	"github.com/nublado-go/nublado/schema"
)

// The file server, fsadmin and prepull objects are pinned for every
// configuration: every case with its own config.yaml, and standard for
// common/config.yaml. They go next to the lab's objects of the case:
//
//	testdata/<case>/fileserver/NN-Kind-name.yaml  (file servers enabled)
//	testdata/<case>/fsadmin/NN-Kind-name.yaml
//	testdata/<case>/prepull/<request>.yaml        (one pod per request)
//
// The prepull requests are common/prepull.json, or the case's own
// prepull.json; the controller's pod metadata is common/metadata.

// commonConfigCase is the case that stands for common/config.yaml.
const commonConfigCase = "standard"

// prepullRequest is an entry of prepull.json: a name for the golden file,
// the image reference and the node.
type prepullRequest struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Node  string `json:"node"`
}

// configCases returns the cases that have a configuration of their own,
// and the case of the common one.
func configCases(t *testing.T) []string {
	var out []string
	for _, name := range cases(t) {
		if _, err := os.Stat(filepath.Join("testdata", name, "config.yaml")); err == nil || name == commonConfigCase {
			out = append(out, name)
		}
	}
	return out
}

// caseFile returns testdata/<case>/<file>, or the common one.
func caseFile(name, file string) string {
	path := filepath.Join("testdata", name, file)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	return filepath.Join("testdata", commonDir, file)
}

// renderService runs `nublado render <template> --strict -o json` with the
// case's configuration and environment and returns the exit code, the
// objects and stderr.
func renderService(t *testing.T, name, template string, args ...string) (int, []map[string]any, string) {
	setEnv(t, readCase(t, name).Env)
	args = append([]string{"render", template, "--strict", "--config", caseFile(name, "config.yaml"), "-o", "json"}, args...)
	code, out, stderr := run(args...)
	if code != cli.ExitOK {
		return code, nil, stderr
	}
	var objs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &objs), "decoding the output of nublado %s", strings.Join(args, " "))
	return code, objs, stderr
}

// assertObjects compares objs with the golden files of testdata/<case>/<dir>.
func assertObjects(t *testing.T, name, dir string, objs []map[string]any) {
	var want []string
	for i, obj := range objs {
		file := objectFile(i, obj)
		want = append(want, file)
		data, err := yaml.Marshal(obj)
		require.NoError(t, err)
		golden.Assert(t, string(data), filepath.Join(name, dir, file))
	}
	checkNoStaleFiles(t, filepath.Join("testdata", name, dir), want)
}

func TestFileserver(t *testing.T) {
	for _, name := range configCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg, err := schema.Load(caseFile(name, "config.yaml"), schema.WithoutEnv())
			require.NoError(t, err)
			code, objs, stderr := renderService(t, name, "fileserver", "--user", caseFile(name, "user.json"))
			if !cfg.Fileserver.Enabled {
				assert.Equal(t, cli.ExitFailure, code, "render fileserver with file servers disabled")
				assert.Contains(t, stderr, "Error: Fileserver is disabled in configuration (not_supported)\n")
				assert.NoDirExists(t, filepath.Join("testdata", name, "fileserver"))
				return
			}
			require.Equal(t, cli.ExitOK, code, "render fileserver: stderr:\n%s", stderr)
			assertObjects(t, name, "fileserver", objs)
		})
	}
}

func TestFSAdmin(t *testing.T) {
	for _, name := range configCases(t) {
		t.Run(name, func(t *testing.T) {
			code, objs, stderr := renderService(t, name, "fsadmin", "--namespace", "nublado")
			require.Equal(t, cli.ExitOK, code, "render fsadmin: stderr:\n%s", stderr)
			assertObjects(t, name, "fsadmin", objs)
		})
	}
}

func TestPrepull(t *testing.T) {
	for _, name := range configCases(t) {
		t.Run(name, func(t *testing.T) {
			var reqs []prepullRequest
			data, err := os.ReadFile(caseFile(name, "prepull.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &reqs))
			var want []string
			for _, req := range reqs {
				code, objs, stderr := renderService(t, name, "prepull", "--metadata", filepath.Join("testdata", commonDir, "metadata"),
					"--image", req.Image, "--node", req.Node)
				require.Equal(t, cli.ExitOK, code, "render prepull %s: stderr:\n%s", req.Name, stderr)
				require.Len(t, objs, 1, "render prepull %s", req.Name)
				data, err := yaml.Marshal(objs[0])
				require.NoError(t, err)
				file := req.Name + ".yaml"
				want = append(want, file)
				golden.Assert(t, string(data), filepath.Join(name, "prepull", file))
			}
			slices.Sort(want)
			checkNoStaleFiles(t, filepath.Join("testdata", name, "prepull"), want)
		})
	}
}
