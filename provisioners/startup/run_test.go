package startup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// TestRunFull runs the whole preparation over the repository's fixture tree
// with every optional variable set, and pins env.json and args.json byte for
// byte (with the temporary root removed from paths).
func TestRunFull(t *testing.T) {
	f := newFixture(t)
	for k, v := range map[string]string{
		"CPU_LIMIT":                      "2.5",
		"JUPYTER_IMAGE_SPEC":             "ghcr.io/lsst-sqre/sciplat-lab:w_2025_09@sha256:0123abcd",
		"PANDA_CONFIG_ROOT":              "~/panda",
		"AWS_SHARED_CREDENTIALS_FILE":    filepath.Join(f.root, "etc/nublado/secrets/aws-credentials.ini"),
		"PGPASSFILE":                     filepath.Join(f.root, "etc/nublado/secrets/postgres-credentials.txt"),
		"NO_ACTIVITY_TIMEOUT":            "3600",
		"CULL_KERNEL_IDLE_TIMEOUT":       "7200",
		"CULL_KERNEL_CONNECTED":          "True",
		"CULL_KERNEL_INTERVAL":           "300",
		"CULL_TERMINAL_INACTIVE_TIMEOUT": "600",
		"CULL_TERMINAL_INTERVAL":         "60",
	} {
		f.env[k] = v
	}
	res := f.run(t)
	require.Nil(t, res.Abnormal, "Run: unexpected abnormal startup")

	for _, name := range []string{"env.json", "args.json"} {
		got := strings.ReplaceAll(string(f.read(t, "etc/nublado/startup/"+name)), f.root, "")
		golden.Assert(t, got, filepath.Join("full", name))
	}
	assert.Equal(t, f.relative(res.Env), f.relative(f.startupEnv(t)), "Result.Env and env.json")
	assert.Equal(t, res.Args, f.startupArgs(t), "Result.Args and args.json")

	// The home directory got every file.
	for _, rel := range []string{
		".lsst/aws-credentials.ini", ".lsst/postgres-credentials.txt",
		".config/dask/dashboard.yaml", ".ipython/profile_default/startup/20-logging.py",
		".dir_colors", ".gitconfig", ".pythonrc", "notebooks/.user_setups",
		trackerSettings,
	} {
		assert.FileExists(t, filepath.Join(f.home, rel))
	}
	assert.NoFileExists(t, filepath.Join(f.home, ".cache", "1mb.txt"), "space test file left behind")
	assert.Equal(t, []string{f.home + "|lfs install"}, f.gitCalls(t), "git invocations")
	assert.DirExists(t, filepath.Join(f.root, "scratch/hambone/tmp"))
	assert.DirExists(t, filepath.Join(f.root, "scratch/hambone/butler_cache"))
}

// TestRunDebug checks that DEBUG non-empty, and only that, sets the lab's
// log level to DEBUG.
func TestRunDebug(t *testing.T) {
	cases := map[string]struct {
		debug string
		set   bool
		want  string
	}{
		"unset":     {want: "--log-level=INFO"},
		"empty":     {set: true, want: "--log-level=INFO"},
		"one":       {debug: "1", set: true, want: "--log-level=DEBUG"},
		"any value": {debug: "FALSE", set: true, want: "--log-level=DEBUG"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.set {
				f.env["DEBUG"] = tc.debug
			}
			res := f.run(t)
			assert.Contains(t, res.Args, tc.want, "Run: args")
			assert.Equal(t, tc.want == "--log-level=DEBUG", newPreparer(f.opts, f.env, f.log).debug, "newPreparer: debug")
		})
	}
}

// TestRunStartupDirMissing: the startup files cannot be written, Run says
// so and still returns what it decided.
func TestRunStartupDirMissing(t *testing.T) {
	f := newFixture(t)
	f.opts.StartupDir = filepath.Join(f.root, "nowhere")
	res, err := Run(context.Background(), f.opts, f.env, f.log)
	require.ErrorIs(t, err, os.ErrNotExist, "Run with a missing startup directory")
	require.NotNil(t, res, "Run: result")
	assert.Equal(t, "TRUE", res.Env["RUNNING_INSIDE_JUPYTERLAB"])
}

// TestRunDefaultPaths checks the production defaults of Options.
func TestRunDefaultPaths(t *testing.T) {
	o := Options{}.withDefaults()
	assert.Equal(t, "/etc/skel", o.SkelDir)
	assert.Equal(t, "/etc/dircolors.ansi-universal", o.DircolorsFile)
	assert.Equal(t, "/etc/nublado/startup", o.StartupDir)
	assert.Equal(t, "/tmp", o.TmpDir)
	assert.Equal(t, "/scratch", o.ScratchPath)
	assert.Equal(t, "/opt/lsst/software/jupyterlab", o.JupyterLabConfigDir)
	assert.NotNil(t, o.HTTPClient)
	assert.Equal(t, DefaultDiscoveryTimeout, o.HTTPClient.Timeout)
}

// BenchmarkRun measures a whole preparation of an existing home (the common
// case: a lab restart), fake git and local discovery included.
func BenchmarkRun(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := Run(ctx, f.opts, f.env, f.log); err != nil {
			b.Fatal(err)
		}
		f.hook.Reset()
	}
}
