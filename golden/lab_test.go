// Package golden_test pins the objects nublado renders: one golden file per
// rendered object per case under testdata/<case>/objects/, rendered by
// `nublado render lab --strict` (the real command, the real engine and the
// embedded templates). Regenerate with
//
//	go test ./golden/ -update
//
// and review the diff: it is what changed in the objects.
package golden_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
)

// commonDir holds the inputs a case does not override.
const commonDir = "common"

// token is the delegated token of every case.
const token = "gt-delegated-token-of-the-golden-tests"

// envVars are the variables the controller reads; every case sets all of
// them (empty means unset).
var envVars = []string{
	"EXTERNAL_INSTANCE_URL", "REPERTOIRE_BASE_URL", "NUBLADO_SLACK_WEBHOOK",
	"NUBLADO_CONTROLLER_REPOSITORY", "NUBLADO_CONTROLLER_TAG", "NUBLADO_CONTROLLER_PULL_POLICY",
	"METRICS_ENABLED", "METRICS_MOCK", "METRICS_APPLICATION",
}

// inputs maps each render-lab flag to its file name.
var inputs = []struct{ flag, file string }{
	{"--config", "config.yaml"},
	{"--user", "user.json"},
	{"--spec", "spec.json"},
	{"--secrets", "secrets.json"},
	{"--discovery", "discovery.json"},
	{"--registry", "registry.json"},
}

// labCase is testdata/<case>/case.json: what the case shows, and how its
// inputs differ from the common ones besides the files it holds.
type labCase struct {
	// Description says what the case pins down.
	Description string `json:"description"`
	// Use names common files to use instead of the default ones, by
	// input (spec → spec-small.json).
	Use map[string]string `json:"use"`
	// Omit lists inputs (registry, discovery, secrets, token) not passed.
	Omit []string `json:"omit"`
	// Env overrides common/env.json.
	Env map[string]string `json:"env"`
}

// cases returns the case directories under testdata.
func cases(t *testing.T) []string {
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != commonDir {
			out = append(out, e.Name())
		}
	}
	require.NotEmpty(t, out)
	return out
}

// readCase reads testdata/<name>/case.json.
func readCase(t *testing.T, name string) labCase {
	var c labCase
	data, err := os.ReadFile(filepath.Join("testdata", name, "case.json"))
	require.NoError(t, err, "every case needs a case.json with a description")
	require.NoError(t, json.Unmarshal(data, &c))
	require.NotEmpty(t, c.Description, "%s/case.json: description", name)
	return c
}

// caseArgs returns the render-lab arguments of a case and sets its
// environment.
func caseArgs(t *testing.T, name string) []string {
	c := readCase(t, name)
	setEnv(t, c.Env)
	args := []string{"render", "lab", "--strict", "--namespace", "nublado"}
	if !slices.Contains(c.Omit, "token") {
		args = append(args, "--token", token)
	}
	for _, in := range inputs {
		key := strings.TrimSuffix(in.file, filepath.Ext(in.file))
		if slices.Contains(c.Omit, key) {
			continue
		}
		path := filepath.Join("testdata", name, in.file)
		if _, err := os.Stat(path); err != nil {
			file := in.file
			if alt, ok := c.Use[key]; ok {
				file = alt
			}
			path = filepath.Join("testdata", commonDir, file)
		}
		args = append(args, in.flag, path)
	}
	return args
}

// setEnv sets the controller's environment: common/env.json, then
// overrides; every other variable the controller reads is emptied.
func setEnv(t *testing.T, overrides map[string]string) {
	var env map[string]string
	data, err := os.ReadFile(filepath.Join("testdata", commonDir, "env.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &env))
	for k, v := range overrides {
		env[k] = v
	}
	for _, k := range envVars {
		t.Setenv(k, env[k])
	}
}

// run executes the nublado command line.
func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// renderCase renders a case as JSON and returns its objects in apply order.
func renderCase(t *testing.T, name string, extra ...string) []map[string]any {
	args := append(caseArgs(t, name), extra...)
	code, out, stderr := run(append(args, "-o", "json")...)
	require.Equal(t, cli.ExitOK, code, "nublado %s: stderr:\n%s", strings.Join(args, " "), stderr)
	var objs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &objs), "decoding the output of render lab -o json")
	return objs
}

// objectFile is the golden file name of the i-th object: its position in
// apply order, kind and name.
func objectFile(i int, obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	return fmt.Sprintf("%02d-%s-%s.yaml", i+1, obj["kind"], meta["name"])
}

func TestLab(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			objs := renderCase(t, name)
			dir := filepath.Join("testdata", name, "objects")
			var want []string
			for i, obj := range objs {
				file := objectFile(i, obj)
				want = append(want, file)
				data, err := yaml.Marshal(obj)
				require.NoError(t, err)
				golden.Assert(t, string(data), filepath.Join(name, "objects", file))
			}
			checkNoStaleFiles(t, dir, want)
		})
	}
}

// checkNoStaleFiles makes the objects directory hold exactly the files of
// the render: with -update it deletes the others.
func checkNoStaleFiles(t *testing.T, dir string, want []string) {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		if slices.Contains(want, e.Name()) {
			got = append(got, e.Name())
			continue
		}
		if golden.FlagUpdate() {
			require.NoError(t, os.Remove(filepath.Join(dir, e.Name())))
			continue
		}
		got = append(got, e.Name())
	}
	assert.Equal(t, want, got, "render lab: files of %s (run go test ./golden/ -update)", dir)
}

// TestLabYAML checks that -o yaml prints the same objects, in apply order,
// as one YAML stream.
func TestLabYAML(t *testing.T) {
	code, out, stderr := run(caseArgs(t, "standard")...)
	require.Equal(t, cli.ExitOK, code, "render lab -o yaml: stderr:\n%s", stderr)
	files, err := filepath.Glob(filepath.Join("testdata", "standard", "objects", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var docs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		docs = append(docs, string(data))
	}
	assert.Equal(t, strings.Join(docs, "---\n"), out, "render lab -o yaml")
}
