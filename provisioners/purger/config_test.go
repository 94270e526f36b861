package purger

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	cases := map[string]struct {
		yaml    string
		env     []string
		want    func(c *Config)
		wantErr string
	}{
		"Empty": {yaml: "", want: func(*Config) {}},
		"CamelCase": {
			yaml: "policyFile: /p.yaml\ndryRun: true\nfutureDuration: 1d\nlogProfile: development\nlogLevel: warning\naddTimestamp: yes\nalertHook: https://hooks.example/x\n",
			want: func(c *Config) {
				c.PolicyFile, c.DryRun, c.FutureDuration = "/p.yaml", true, 24*time.Hour
				c.LogProfile, c.LogLevel, c.AddTimestamp, c.AlertHook = ProfileDevelopment, "WARNING", true, "https://hooks.example/x"
			},
		},
		"SnakeCase": {
			yaml: "policy_file: /p.yaml\ndry_run: true\nfuture_duration: 60\ndebug: true\n",
			want: func(c *Config) {
				c.PolicyFile, c.DryRun, c.FutureDuration, c.Debug = "/p.yaml", true, time.Minute, true
			},
		},
		"EnvOverridesYAML": {
			yaml: "dryRun: false\ndebug: false\n",
			env:  []string{"NUBLADO_DRY_RUN=true", "NUBLADO_DEBUG=true"},
			want: func(c *Config) { c.DryRun, c.Debug = true, true },
		},
		"EnvCaseInsensitive": {
			env:  []string{"nublado_policy_file=/env.yaml", "Nublado_Log_Level=error"},
			want: func(c *Config) { c.PolicyFile, c.LogLevel = "/env.yaml", "ERROR" },
		},
		"EnvEmptyIsUnset": {
			yaml: "dryRun: true\n",
			env:  []string{"NUBLADO_DRY_RUN="},
			want: func(c *Config) { c.DryRun = true },
		},
		"EnvFutureDuration": {
			env:  []string{"NUBLADO_FUTURE_DURATION=2w"},
			want: func(c *Config) { c.FutureDuration = 14 * 24 * time.Hour },
		},
		"EnvUnrelatedIgnored": {
			env:  []string{"NUBLADO_SOMETHING=1", "DRY_RUN=true", "PATH=/bin"},
			want: func(*Config) {},
		},
		"NullFutureDuration": {yaml: "futureDuration: null\n", want: func(*Config) {}},
		"UnknownKey":         {yaml: "policyfile: /p.yaml\n", wantErr: `unknown key "policyfile"`},
		"BothSpellings":      {yaml: "dryRun: true\ndry_run: true\n", wantErr: "given twice"},
		"BadBool":            {yaml: "dryRun: maybe\n", wantErr: "dry_run: maybe is not a boolean"},
		"BadEnvBool":         {env: []string{"NUBLADO_DEBUG=sure"}, wantErr: "debug: sure is not a boolean"},
		"BadLevel":           {yaml: "logLevel: loud\n", wantErr: "log_level"},
		"BadProfile":         {yaml: "logProfile: Production\n", wantErr: "log_profile"},
		"BadDuration":        {yaml: "futureDuration: later\n", wantErr: "future_duration"},
		"NotAMapping":        {yaml: "- a\n", wantErr: "mapping"},
		"EmptyPolicyFile":    {yaml: "policyFile: ''\n", wantErr: "policy_file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.yaml), tc.env)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			want := DefaultConfig()
			tc.want(&want)
			assert.Equal(t, want, got, "ParseConfig(%q, %q)", tc.yaml, tc.env)
		})
	}
}

func TestReadConfig(t *testing.T) {
	cfg, err := ReadConfig("testdata/config.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, "/placeholder/policy.yaml", cfg.PolicyFile)
	assert.Equal(t, "DEBUG", cfg.LogLevel)
	assert.False(t, cfg.DryRun)

	_, err = ReadConfig(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestConfigLogFields(t *testing.T) {
	cfg := DefaultConfig()
	assert.Equal(t, map[string]any{
		"policy_file": DefaultPolicyFile, "debug": false, "dry_run": false, "future_duration": nil,
		"log_profile": "production", "log_level": "INFO", "add_timestamp": false, "alert_hook": nil,
	}, cfg.LogFields())
	cfg.FutureDuration, cfg.AlertHook = 90*time.Second, "https://hooks.example/secret"
	f := cfg.LogFields()
	assert.Equal(t, 90.0, f["future_duration"])
	assert.Equal(t, "**********", f["alert_hook"])
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "TRUE": true, "yes": true, "On": true, "t": true, "y": true,
		"0": false, "false": false, "No": false, "off": false, "f": false, "n": false} {
		got, err := ParseBool(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, "ParseBool(%q)", in)
	}
	_, err := ParseBool("2")
	require.Error(t, err)
}
