package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/provisioners/startup"
)

// startupTree makes a minimal lab file system and returns its options and
// environment.
func startupTree(t *testing.T) (startup.Options, []string, string) {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"etc/skel", "etc/nublado/startup", "home/hambone", "scratch", "tmp", "bin", "jupyterlab"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "dircolors.ansi-universal"), []byte("DIR 01;34\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "git"), []byte("#!/bin/sh\nexit 0\n"), 0o755))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"services": {"ui": {"portal": {"url": "https://rsp.test/portal/"}}}}`)) //nolint:errcheck // test server
	}))
	t.Cleanup(srv.Close)
	opts := startup.Options{
		EtcDir:              filepath.Join(root, "etc"),
		TmpDir:              filepath.Join(root, "tmp"),
		JupyterLabConfigDir: filepath.Join(root, "jupyterlab"),
	}
	env := []string{
		"NUBLADO_HOME=" + filepath.Join(root, "home", "hambone"),
		"SCRATCH_PATH=" + filepath.Join(root, "scratch"),
		"REPERTOIRE_BASE_URL=" + srv.URL,
		"PATH=" + filepath.Join(root, "bin"),
	}
	return opts, env, root
}

func runStartup(t *testing.T, opts startup.Options, env []string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newCmdStartup(logrus.New(), func() []string { return env }, opts)
	cmd.SetArgs(nil)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestStartupCommand(t *testing.T) {
	opts, env, root := startupTree(t)
	out, err := runStartup(t, opts, append(env, "DEBUG=1"))
	require.NoError(t, err, "nublado startup: %s", out)

	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "production log line %q", sc.Text())
		events = append(events, e)
	}
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.Equal(t, "Lab startup files written", last["event"])
	assert.Equal(t, "info", last["severity"])
	assert.Equal(t, "nublado", last["logger"])
	var debug []any
	for _, e := range events {
		if e["severity"] == "debug" {
			debug = append(debug, e["event"])
		}
	}
	assert.Contains(t, debug, "Ran 'git lfs install'", "DEBUG=1 logs at debug level")

	data, err := os.ReadFile(filepath.Join(root, "etc", "nublado", "startup", "env.json"))
	require.NoError(t, err)
	var written map[string]string
	require.NoError(t, json.Unmarshal(data, &written))
	assert.Equal(t, "https://rsp.test/portal/", written["FIREFLY_URL"])
	assert.Equal(t, filepath.Join(root, "home", "hambone"), written["HOME"])
	assert.NotContains(t, written, "ABNORMAL_STARTUP")
}

func TestStartupCommandDevelopmentProfile(t *testing.T) {
	opts, env, _ := startupTree(t)
	out, err := runStartup(t, opts, append(env, "NUBLADO_LOG_PROFILE=development"))
	require.NoError(t, err)
	assert.Contains(t, out, `msg="Lab startup files written"`)
	assert.NotContains(t, out, `"event"`)
}

func TestStartupCommandErrors(t *testing.T) {
	t.Run("bad log profile", func(t *testing.T) {
		opts, env, _ := startupTree(t)
		_, err := runStartup(t, opts, append(env, "NUBLADO_LOG_PROFILE=fancy"))
		require.Error(t, err)
		assert.Equal(t, ExitFailure, exitCode(err, &bytes.Buffer{}))
	})
	t.Run("startup directory missing still exits 0", func(t *testing.T) {
		opts, env, root := startupTree(t)
		require.NoError(t, os.Remove(filepath.Join(root, "etc", "nublado", "startup")))
		out, err := runStartup(t, opts, env)
		require.NoError(t, err)
		assert.Contains(t, out, `"event":"Writing Lab startup files failed"`)
	})
	t.Run("arguments", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), []string{"startup", "extra"}, nil, &stdout, &stderr)
		assert.Equal(t, ExitUsage, code, "stderr %q", stderr.String())
	})
}

func TestStartupHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), []string{"startup", "--help"}, nil, &stdout, &stderr)
	require.Equal(t, ExitOK, code)
	for _, want := range []string{"env.json", "args.json", "Exit codes:", "ABNORMAL_STARTUP_", "EBADENV = 200", "NUBLADO_HOME"} {
		assert.Contains(t, stdout.String(), want)
	}
}
