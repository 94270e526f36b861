package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// purgerFixture is a scratch tree with one file due (old/large), one not
// (fresh), a policy and a config. It clears the environment variables the
// purger reads.
type purgerFixture struct {
	tmp, config, policy, old, fresh string
}

func newPurgerFixture(t *testing.T) purgerFixture {
	t.Helper()
	for _, v := range []string{"RSP_SCRATCHPURGER_CONFIG_FILE", "DEBUG", "NUBLADO_DRY_RUN", "NUBLADO_DEBUG",
		"NUBLADO_POLICY_FILE", "NUBLADO_FUTURE_DURATION", "NUBLADO_ALERT_HOOK", "NUBLADO_LOG_PROFILE",
		"NUBLADO_LOG_LEVEL", "NUBLADO_ADD_TIMESTAMP"} {
		t.Setenv(v, "")
	}
	tmp := t.TempDir()
	f := purgerFixture{
		tmp: tmp, config: filepath.Join(tmp, "config.yaml"), policy: filepath.Join(tmp, "policy.yaml"),
		old: filepath.Join(tmp, "scratch/old/large"), fresh: filepath.Join(tmp, "scratch/fresh"),
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(f.old), 0o755))
	require.NoError(t, os.WriteFile(f.old, []byte("0123456789abcdef"), 0o644))
	require.NoError(t, os.WriteFile(f.fresh, []byte("0123456789abcdef"), 0o644))
	past := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(f.old, past, past))
	require.NoError(t, os.WriteFile(f.policy, []byte(`directories:
  - path: `+filepath.Join(tmp, "scratch")+`
    threshold: 10B
    intervals:
      large: {accessInterval: 1d}
`), 0o644))
	require.NoError(t, os.WriteFile(f.config, []byte("policyFile: "+f.policy+"\n"), 0o644))
	return f
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestPurgerReport(t *testing.T) {
	f := newPurgerFixture(t)
	code, out, errOut := runCLI(t, "purger", "report", "-c", f.config)
	require.Equal(t, ExitOK, code, errOut)
	lines := jsonLines(t, out)
	require.Len(t, lines, 2, out)
	assert.Equal(t, "Purger initialized", lines[0]["event"])
	assert.Equal(t, "rsp_scratchpurger", lines[0]["logger"])
	assert.Equal(t, "info", lines[1]["severity"])
	assert.Equal(t, "Directories considered:\n  "+filepath.Join(f.tmp, "scratch")+"\n  -> "+f.old+"\n", lines[1]["event"])
	assert.NotContains(t, lines[1], "time", "no timestamps unless addTimestamp")
	assert.Contains(t, out, `-> `, "no HTML escaping in JSON")
	assert.True(t, exists(f.old), "report never deletes")

	t.Setenv("NUBLADO_ADD_TIMESTAMP", "true")
	code, out, errOut = runCLI(t, "purger", "report", "-c", f.config)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, jsonLines(t, out)[0], "time")
}

func TestPurgerExecute(t *testing.T) {
	f := newPurgerFixture(t)
	code, out, errOut := runCLI(t, "purger", "execute", "--config-file", f.config)
	require.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, out, "Cannot purge because dry_run enabled")
	assert.False(t, exists(f.old))
	assert.False(t, exists(filepath.Dir(f.old)), "emptied directory removed")
	assert.True(t, exists(f.fresh))
}

func TestPurgerDryRun(t *testing.T) {
	cases := map[string]struct {
		args []string
		env  map[string]string
	}{
		"FlagAfter":  {args: []string{"purger", "execute", "-x", "-c", "CONFIG"}},
		"FlagBefore": {args: []string{"purger", "--dry-run", "-c", "CONFIG", "execute"}},
		"Env":        {args: []string{"purger", "execute", "-c", "CONFIG"}, env: map[string]string{"NUBLADO_DRY_RUN": "true"}},
		"Config":     {args: []string{"purger", "execute", "-c", "DRYCONFIG"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newPurgerFixture(t)
			dry := filepath.Join(f.tmp, "dry.yaml")
			require.NoError(t, os.WriteFile(dry, []byte("policyFile: "+f.policy+"\ndryRun: true\n"), 0o644))
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := strings.Split(strings.NewReplacer("DRYCONFIG", dry, "CONFIG", f.config).Replace(strings.Join(tc.args, "\x00")), "\x00")
			code, out, errOut := runCLI(t, args...)
			require.Equal(t, ExitOK, code, errOut)
			ev := events(t, out)
			require.Len(t, ev, 3)
			assert.Equal(t, "Cannot purge because dry_run enabled; reporting instead", ev[1])
			assert.Contains(t, ev[2], "-> "+f.old)
			assert.True(t, exists(f.old), "dry run deletes nothing")
		})
	}
}

func TestPurgerConfigFile(t *testing.T) {
	f := newPurgerFixture(t)
	missing := filepath.Join(f.tmp, "missing.yaml")

	code, _, errOut := runCLI(t, "purger", "report", "-c", missing)
	assert.Equal(t, ExitFailure, code)
	assert.Contains(t, errOut, "Error: reading purger config: open "+missing)

	code, _, errOut = runCLI(t, "purger", "report")
	assert.Equal(t, ExitFailure, code, "the default /etc/purger/config.yaml does not exist here")
	assert.Contains(t, errOut, "/etc/purger/config.yaml")

	t.Setenv("RSP_SCRATCHPURGER_CONFIG_FILE", f.config)
	code, out, errOut := runCLI(t, "purger", "report")
	require.Equal(t, ExitOK, code, "the environment names the config: %s", errOut)
	assert.Contains(t, out, f.old)

	t.Setenv("RSP_SCRATCHPURGER_CONFIG_FILE", missing)
	code, _, errOut = runCLI(t, "purger", "report", "-c", f.config)
	assert.Equal(t, ExitOK, code, "-c wins over the environment: %s", errOut)
}

func TestPurgerPolicyFileFlag(t *testing.T) {
	f := newPurgerFixture(t)
	other := filepath.Join(f.tmp, "other.yaml")
	require.NoError(t, os.WriteFile(other, []byte("directories: []\n"), 0o644))
	code, out, errOut := runCLI(t, "purger", "report", "-c", f.config, "-p", other)
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "No directories considered.", events(t, out)[1])

	t.Setenv("NUBLADO_POLICY_FILE", filepath.Join(f.tmp, "missing.yaml"))
	code, out, _ = runCLI(t, "purger", "report", "-c", f.config)
	assert.Equal(t, ExitFailure, code, "NUBLADO_POLICY_FILE overrides the config")
	assert.Contains(t, out, "missing.yaml")
}

func TestPurgerWarn(t *testing.T) {
	f := newPurgerFixture(t)
	code, out, errOut := runCLI(t, "purger", "warn", "-c", f.config, "-t", "3650d")
	require.Equal(t, ExitOK, code, errOut)
	ev := events(t, out)
	assert.Equal(t, "Planning for time 315360000s from now.", ev[1])
	assert.Contains(t, ev[2], "-> "+f.old)
	assert.Contains(t, ev[2], "-> "+f.fresh)
	assert.True(t, exists(f.old) && exists(f.fresh), "warn never deletes")

	t.Setenv("NUBLADO_FUTURE_DURATION", "1w")
	code, out, errOut = runCLI(t, "purger", "warn", "-c", f.config)
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "Planning for time 604800s from now.", events(t, out)[1])
}

func TestPurgerUsageErrors(t *testing.T) {
	f := newPurgerFixture(t)
	cases := map[string]struct {
		args []string
		env  string
		want string
	}{
		"WarnWithoutDuration": {args: []string{"purger", "warn", "-c", f.config}, want: "warn needs a future duration"},
		"PlainNumberDuration": {args: []string{"purger", "warn", "-c", f.config, "-t", "3600"}, want: "--future-duration"},
		"FutureOnReport":      {args: []string{"purger", "report", "-t", "1d"}, want: "unknown shorthand flag: 't'"},
		"ExtraArgument":       {args: []string{"purger", "report", "extra"}, want: "unknown command"},
		"BadDebugEnv":         {args: []string{"purger", "report", "-c", f.config}, env: "sometimes", want: "DEBUG"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DEBUG", tc.env)
			code, _, errOut := runCLI(t, tc.args...)
			assert.Equal(t, ExitUsage, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestPurgerDebug(t *testing.T) {
	f := newPurgerFixture(t)
	for name, setup := range map[string]func() []string{
		"Flag": func() []string { return []string{"purger", "-d", "report", "-c", f.config} },
		"Env": func() []string {
			t.Setenv("DEBUG", "1")
			return []string{"purger", "report", "-c", f.config}
		},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, setup()...)
			require.Equal(t, ExitOK, code, errOut)
			assert.Contains(t, out, `level=info msg="Purger initialized"`, "development format")
			assert.Contains(t, out, "debug:true")
		})
	}
}

// TestPurgerFailureAlerts makes a plan fail on one policy directory: the rest
// is still purged, the command exits 1 and the failure goes to Slack.
func TestPurgerFailureAlerts(t *testing.T) {
	f := newPurgerFixture(t)
	var posted []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var m map[string]any
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&m))
		posted = append(posted, m)
	}))
	defer srv.Close()
	long := filepath.Join(f.tmp, strings.Repeat("x", 300))
	policy := `directories:
  - {path: ` + filepath.Join(f.tmp, "scratch") + `, threshold: 10, intervals: {large: {accessInterval: 1d}}}
  - {path: ` + long + `, threshold: 10, intervals: {}}
`
	require.NoError(t, os.WriteFile(f.policy, []byte(policy), 0o644))
	t.Setenv("NUBLADO_ALERT_HOOK", srv.URL)

	code, out, errOut := runCLI(t, "purger", "execute", "-c", f.config)
	assert.Equal(t, ExitFailure, code)
	assert.Empty(t, errOut, "failures are logged, not printed twice")
	lines := jsonLines(t, out)
	last := lines[len(lines)-1]
	assert.Equal(t, "Purge encountered errors", last["event"])
	assert.Equal(t, "error", last["severity"])
	assert.Equal(t, map[string]any{long: "open: " + syscall.ENAMETOOLONG.Error()}, last["failed_files"])
	assert.Equal(t, "**********", lines[0]["config"].(map[string]any)["alert_hook"])
	assert.False(t, exists(f.old), "the purge went on")
	require.Len(t, posted, 1)
	assert.Contains(t, posted[0]["text"], "Error in Nublado File Purger: purge encountered errors: "+long)

	posted = nil
	code, _, _ = runCLI(t, "purger", "report", "-c", filepath.Join(f.tmp, "missing.yaml"))
	assert.Equal(t, ExitFailure, code)
	require.Len(t, posted, 1, "an unreadable config is alerted through NUBLADO_ALERT_HOOK")
	assert.Contains(t, posted[0]["text"], "reading purger config")
}

func TestPurgerHelp(t *testing.T) {
	for _, args := range [][]string{{"purger", "--help"}, {"purger", "execute", "--help"}, {"purger", "warn", "-h"}} {
		code, out, _ := runCLI(t, args...)
		assert.Equal(t, ExitOK, code)
		assert.Contains(t, out, "--dry-run", "common options on %q", args)
		assert.Contains(t, out, "--config-file")
	}
	_, out, _ := runCLI(t, "purger", "--help")
	assert.Contains(t, out, "Exit codes:")
}
