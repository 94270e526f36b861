package startup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTmpdir(t *testing.T) {
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, f *fixture)
		want   string // "" = absent from env.json
	}{
		"scratch": {
			reason: "TMPDIR is the user's scratch tmp directory",
			want:   "/scratch/hambone/tmp",
		},
		"file in the way": {
			reason: "a file where the directory should be leaves TMPDIR unset",
			setup:  func(t *testing.T, f *fixture) { f.write(t, "scratch/hambone/tmp", "x") },
		},
		"preset": {
			reason: "a TMPDIR already in the environment is kept (left out of env.json)",
			setup:  func(_ *testing.T, f *fixture) { f.env["TMPDIR"] = "/var/tmp" },
		},
		"bad scratch path": {
			reason: "a SCRATCH_PATH that is not a directory leaves TMPDIR unset",
			setup:  func(_ *testing.T, f *fixture) { f.env["SCRATCH_PATH"] = filepath.Join(f.root, "nope") },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			f.run(t)
			got, ok := f.relative(f.startupEnv(t))["TMPDIR"]
			if tc.want == "" {
				assert.False(t, ok, "%s: TMPDIR = %q", tc.reason, got)
				return
			}
			assert.Equal(t, tc.want, got, tc.reason)
		})
	}
}

func TestButlerCache(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T, f *fixture)
		want  string // "" = absent
	}{
		"scratch":         {want: "/scratch/hambone/butler_cache"},
		"file in the way": {setup: func(t *testing.T, f *fixture) { f.write(t, "scratch/hambone/butler_cache", "x") }, want: "/tmp/butler_cache"},
		"no scratch":      {setup: func(_ *testing.T, f *fixture) { delete(f.env, "SCRATCH_PATH") }, want: "/tmp/butler_cache"},
		"preset":          {setup: func(_ *testing.T, f *fixture) { f.env["DAF_BUTLER_CACHE_DIRECTORY"] = "/cache" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			f.run(t)
			got, ok := f.relative(f.startupEnv(t))["DAF_BUTLER_CACHE_DIRECTORY"]
			if tc.want == "" {
				assert.False(t, ok, "DAF_BUTLER_CACHE_DIRECTORY = %q", got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestScratchDirectory checks modes (leaf 0700), SCRATCH_DIR and the
// initialThenUsername layout.
func TestScratchDirectory(t *testing.T) {
	t.Run("username", func(t *testing.T) {
		f := newFixture(t)
		f.run(t)
		env := f.relative(f.startupEnv(t))
		assert.Equal(t, "/scratch/hambone", env["SCRATCH_DIR"])
		for _, sub := range []string{"tmp", "butler_cache"} {
			fi, err := os.Stat(filepath.Join(f.root, "scratch", "hambone", sub))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "mode of %s", sub)
		}
	})
	t.Run("initialThenUsername", func(t *testing.T) {
		f := newFixture(t)
		f.env["HOMEDIR_SCHEMA"] = "initialThenUsername"
		f.run(t)
		env := f.relative(f.startupEnv(t))
		assert.Equal(t, "/scratch/h/hambone", env["SCRATCH_DIR"])
		assert.Equal(t, "/scratch/h/hambone/tmp", env["TMPDIR"])
		assert.Equal(t, "/scratch/h/hambone/butler_cache", env["DAF_BUTLER_CACHE_DIRECTORY"])
	})
	t.Run("not writable", func(t *testing.T) {
		f := newFixture(t)
		scratch := filepath.Join(f.root, "scratch")
		mountTmpfs(t, scratch, "1m")
		require.NoError(t, os.MkdirAll(filepath.Join(scratch, "hambone", "tmp"), 0o700))
		remountReadOnly(t, scratch)
		f.run(t)
		env := f.startupEnv(t)
		assert.NotContains(t, env, "TMPDIR", "read-only scratch")
		assert.NotContains(t, env, "SCRATCH_DIR", "read-only scratch")
		assert.Equal(t, filepath.Join(f.root, "tmp", "butler_cache"), env["DAF_BUTLER_CACHE_DIRECTORY"])
		assert.Contains(t, f.messages(logrus.WarnLevel), "Scratch directory is not writable")
	})
}

func TestCPUCount(t *testing.T) {
	cases := map[string]struct {
		limit string
		set   bool
		want  string
	}{
		"default":  {want: "1"},
		"NaN":      {limit: "NaN", set: true, want: "1"},
		"0.1":      {limit: "0.1", set: true, want: "1"},
		"3.1":      {limit: "3.1", set: true, want: "3"},
		"14":       {limit: "14", set: true, want: "14"},
		"inf":      {limit: "inf", set: true, want: "1"},
		"negative": {limit: "-4", set: true, want: "1"},
		"garbage":  {limit: "four", set: true, want: "1"},
		"spaces":   {limit: " 2 ", set: true, want: "2"},
		"huge":     {limit: "1e30", set: true, want: "1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.set {
				f.env["CPU_LIMIT"] = tc.limit
			}
			f.run(t)
			env := f.startupEnv(t)
			for _, v := range threadVariables {
				assert.Equal(t, tc.want, env[v], "CPU_LIMIT=%q: %s", tc.limit, v)
			}
		})
	}
}

func TestImageDigest(t *testing.T) {
	cases := map[string]struct{ spec, want string }{
		"digest":       {"sciplat-lab@sha256:abcde", "abcde"},
		"tag and hash": {"ghcr.io/lsst-sqre/sciplat-lab:w_2025_09@sha256:f00", "f00"},
		"tag only":     {"ghcr.io/lsst-sqre/sciplat-lab:w_2025_09", ""},
		"empty digest": {"sciplat-lab@sha256:", ""},
		"unset":        {"", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.spec != "" {
				f.env["JUPYTER_IMAGE_SPEC"] = tc.spec
			}
			f.run(t)
			got, ok := f.startupEnv(t)["IMAGE_DIGEST"]
			assert.Equal(t, tc.want != "", ok, "IMAGE_DIGEST present for %q", tc.spec)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPandaConfigRoot(t *testing.T) {
	cases := map[string]struct{ value, want string }{
		"tilde":            {"~", "/home/hambone"},
		"tilde user":       {"~hambone", "/home/hambone"},
		"tilde user slash": {"~hambone/", "/home/hambone"},
		"tilde subdir":     {"~/bar", "/home/hambone/bar"},
		"other user":       {"~whoopsi", ""},
		"absolute":         {"/etc/panda", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.env["PANDA_CONFIG_ROOT"] = tc.value
			f.run(t)
			got, ok := f.relative(f.startupEnv(t))["PANDA_CONFIG_ROOT"]
			assert.Equal(t, tc.want != "", ok, "PANDA_CONFIG_ROOT=%q written", tc.value)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPreferEnvPath(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	assert.Equal(t, "no", f.startupEnv(t)["JUPYTER_PREFER_ENV_PATH"])
}

func TestFireflyURL(t *testing.T) {
	t.Run("discovered", func(t *testing.T) {
		f := newFixture(t)
		f.run(t)
		assert.Equal(t, "https://rsp.test/portal/app/", f.startupEnv(t)["FIREFLY_URL"])
	})
	t.Run("from EXTERNAL_INSTANCE_URL", func(t *testing.T) {
		f := newFixture(t)
		f.env["EXTERNAL_INSTANCE_URL"] = f.env["REPERTOIRE_BASE_URL"][:len(f.env["REPERTOIRE_BASE_URL"])-len("/repertoire")] + "/"
		delete(f.env, "REPERTOIRE_BASE_URL")
		f.run(t)
		assert.Equal(t, "https://rsp.test/portal/app/", f.startupEnv(t)["FIREFLY_URL"])
	})
	t.Run("no portal", func(t *testing.T) {
		f := newFixture(t)
		f.env["REPERTOIRE_BASE_URL"] = serveDiscovery(t, filepath.Join("testdata", "discovery-noportal.json")).URL + "/repertoire"
		f.run(t)
		assert.NotContains(t, f.startupEnv(t), "FIREFLY_URL")
		assert.Contains(t, f.messages(logrus.WarnLevel), "Discovery of portal service failed; not setting variables")
	})
	t.Run("discovery fails", func(t *testing.T) {
		f := newFixture(t)
		f.env["REPERTOIRE_BASE_URL"] = serveDiscovery(t, "").URL + "/repertoire"
		res := f.run(t)
		assert.Nil(t, res.Abnormal, "a failed discovery is not an abnormal startup")
		assert.NotContains(t, f.startupEnv(t), "FIREFLY_URL")
		assert.Contains(t, f.messages(logrus.ErrorLevel), "Discovery of portal service failed; not setting variables")
	})
}

// TestCredentialPaths checks the rewriting of the credential variables.
func TestCredentialPaths(t *testing.T) {
	f := newFixture(t)
	f.env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/secret/aws.ini"
	f.env["PGPASSFILE"] = "/etc/secret/pgpass"
	res := f.run(t)
	require.NotNil(t, res.Abnormal, "the originals do not exist")
	assert.Equal(t, "/etc/secret/aws.ini", res.Env["ORIG_AWS_SHARED_CREDENTIALS_FILE"])
	assert.Equal(t, filepath.Join(f.home, ".lsst", "aws.ini"), res.Env["AWS_SHARED_CREDENTIALS_FILE"])
	assert.Equal(t, "/etc/secret/pgpass", res.Env["ORIG_PGPASSFILE"])
	assert.Equal(t, filepath.Join(f.home, ".lsst", "pgpass"), res.Env["PGPASSFILE"])
	assert.Equal(t, "ENOENT", res.Abnormal.Code, "missing mounted credentials")
	assert.Equal(t, "/etc/secret/aws.ini", res.Abnormal.Filename)
}
