package startup

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"
)

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeGit records each invocation (HOME and arguments) in $FAKE_GIT_LOG and
// exits with $FAKE_GIT_EXIT (default 0). With $FAKE_GIT_WRITE set, it also
// appends git-lfs's filter section to ~/.gitconfig as a real
// `git lfs install` does.
const fakeGit = `#!/bin/sh
printf '%s|%s\n' "$HOME" "$*" >> "$FAKE_GIT_LOG"
if [ -n "$FAKE_GIT_WRITE" ]; then
  printf '[filter "lfs"]\n\tclean = git-lfs clean -- %%f\n' >> "$HOME/.gitconfig"
fi
exit "${FAKE_GIT_EXIT:-0}"
`

// fixture is a lab's file system in a temporary tree: root/etc, the home
// root/home/hambone, root/scratch, root/tmp, root/jupyterlab, and a fake git
// in root/bin. env is the init container's environment.
type fixture struct {
	root   string
	home   string
	opts   Options
	env    map[string]string
	gitLog string
	hook   *test.Hook
	log    *logrus.Entry
}

// newFixture lays out the repository's own tree (testdata/tree) and serves
// testdata/discovery.json as Repertoire discovery.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureFrom(t, t.TempDir(), map[string]string{
		"etc":          filepath.Join("testdata", "tree", "etc"),
		"home/hambone": filepath.Join("testdata", "tree", "home", "hambone"),
		"jupyterlab":   filepath.Join("testdata", "tree", "jupyterlab"),
	}, filepath.Join("testdata", "discovery.json"))
}

// newFixtureFrom copies each source directory of layout to root/<key>
// (files 0644, directories 0755) and serves the discovery document.
func newFixtureFrom(t testing.TB, root string, layout map[string]string, discovery string) *fixture {
	t.Helper()
	for dst, src := range layout {
		copyTree(t, src, filepath.Join(root, dst))
	}
	for _, dir := range []string{"scratch", "tmp", "etc/nublado/startup", "bin", "home/hambone"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "git"), []byte(fakeGit), 0o755))
	srv := serveDiscovery(t, discovery)
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	f := &fixture{
		root:   root,
		home:   filepath.Join(root, "home", "hambone"),
		gitLog: filepath.Join(root, "git.log"),
		hook:   hook,
		log:    log.WithField("logger", "nublado"),
		opts: Options{
			EtcDir:              filepath.Join(root, "etc"),
			TmpDir:              filepath.Join(root, "tmp"),
			ScratchPath:         filepath.Join(root, "no-default-scratch"),
			JupyterLabConfigDir: filepath.Join(root, "jupyterlab"),
			HTTPClient:          srv.Client(),
			Now:                 func() time.Time { return fixedNow },
		},
	}
	f.env = map[string]string{
		"NUBLADO_HOME":        f.home,
		"SCRATCH_PATH":        filepath.Join(root, "scratch"),
		"REPERTOIRE_BASE_URL": srv.URL + "/repertoire",
		"PATH":                filepath.Join(root, "bin"),
		"FAKE_GIT_LOG":        f.gitLog,
	}
	return f
}

// serveDiscovery serves file at /repertoire/discovery (an empty name gives
// 404 everywhere).
func serveDiscovery(t testing.TB, file string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	if file != "" {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		mux.HandleFunc("GET /repertoire/discovery", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(data) //nolint:errcheck // test server
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// copyTree copies the regular files and directories of src into dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	require.NoError(t, err, "copying %s to %s", src, dst)
}

// run runs the preparation and checks that it wrote the startup files.
func (f *fixture) run(t testing.TB) *Result {
	t.Helper()
	res, err := Run(context.Background(), f.opts, f.env, f.log)
	require.NoError(t, err, "Run")
	return res
}

// startupEnv reads env.json.
func (f *fixture) startupEnv(t testing.TB) map[string]string {
	t.Helper()
	var env map[string]string
	require.NoError(t, json.Unmarshal(f.read(t, "etc/nublado/startup/env.json"), &env))
	return env
}

// startupArgs reads args.json.
func (f *fixture) startupArgs(t testing.TB) []string {
	t.Helper()
	var args []string
	require.NoError(t, json.Unmarshal(f.read(t, "etc/nublado/startup/args.json"), &args))
	return args
}

// read reads a file relative to the fixture's root.
func (f *fixture) read(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.root, rel))
	require.NoError(t, err)
	return data
}

// write writes a file relative to the fixture's root, creating directories.
func (f *fixture) write(t testing.TB, rel, text string) {
	t.Helper()
	path := filepath.Join(f.root, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

// gitCalls are the recorded invocations of the fake git.
func (f *fixture) gitCalls(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(f.gitLog)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// messages are the logged messages at level or more severe.
func (f *fixture) messages(level logrus.Level) []string {
	var out []string
	for _, e := range f.hook.AllEntries() {
		if e.Level <= level {
			out = append(out, e.Message)
		}
	}
	return out
}

// relative replaces the fixture's root in every value by "" so that paths
// read as in production (/home/hambone, /scratch/hambone/tmp).
func (f *fixture) relative(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = f.strip(v)
	}
	return out
}

// strip removes the fixture's root from s.
func (f *fixture) strip(s string) string {
	return strings.ReplaceAll(s, f.root, "")
}

// readFile reads a file that must exist.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
