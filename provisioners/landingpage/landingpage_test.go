package landingpage

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture returns options over a fresh home and a copy-free source directory
// (testdata/welcome, with hello.txt).
func fixture(t *testing.T) Options {
	t.Helper()
	src, err := filepath.Abs("testdata/welcome")
	require.NoError(t, err)
	return Options{Home: t.TempDir(), SourceDir: src, TargetDir: DefaultTargetDir, Files: []string{"hello.txt"}}
}

func readSettings(t *testing.T, home string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, SettingsPath))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func TestProvision(t *testing.T) {
	opts := fixture(t)
	dst := filepath.Join(opts.Home, "notebooks/tutorials/hello.txt")
	require.NoFileExists(t, dst)
	res, err := Provision(opts)
	require.NoError(t, err)
	assert.Equal(t, &Result{Copied: []string{dst}, SettingsWritten: true}, res)
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.Equal(t, "# Welcome\n\nHello, Rubin.\n", string(got))
	ents, err := os.ReadDir(filepath.Dir(dst))
	require.NoError(t, err)
	assert.Len(t, ents, 1)
	assert.Equal(t, map[string]any{"defaultViewers": map[string]any{"markdown": "Markdown Preview"}}, readSettings(t, opts.Home))
	raw, err := os.ReadFile(filepath.Join(opts.Home, SettingsPath))
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"defaultViewers\": {\n    \"markdown\": \"Markdown Preview\"\n  }\n}", string(raw))
}

func TestProvisionIdempotent(t *testing.T) {
	opts := fixture(t)
	opts.Files = []string{"hello.txt", "logo.png"}
	_, err := Provision(opts)
	require.NoError(t, err)
	res, err := Provision(opts)
	require.NoError(t, err)
	assert.Len(t, res.Copied, 2, "files are refreshed every time")
	assert.False(t, res.SettingsWritten, "an existing value is not rewritten")
	ents, err := os.ReadDir(filepath.Join(opts.Home, opts.TargetDir))
	require.NoError(t, err)
	assert.Len(t, ents, 2)
}

func TestProvisionCopiesModeAndBasename(t *testing.T) {
	opts := fixture(t)
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "sub/run.sh"), []byte("#!/bin/sh\n"), 0o750))
	require.NoError(t, os.Chmod(filepath.Join(src, "sub/run.sh"), 0o750))
	opts.SourceDir, opts.Files = src, []string{"sub/run.sh"}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	res, err := Provision(opts)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(opts.Home, "notebooks/tutorials/run.sh")}, res.Copied)
	fi, err := os.Stat(res.Copied[0])
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o750), fi.Mode().Perm())
	dir, err := os.Stat(filepath.Dir(res.Copied[0]))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), dir.Mode().Perm(), "0755 under umask 077")
}

func TestProvisionAbsoluteTarget(t *testing.T) {
	opts := fixture(t)
	opts.TargetDir = filepath.Join(t.TempDir(), "elsewhere")
	res, err := Provision(opts)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(opts.TargetDir, "hello.txt")}, res.Copied)
}

func TestProvisionPrecheck(t *testing.T) {
	cases := map[string]struct {
		change  func(o *Options)
		wantMsg func(o Options) string
	}{
		"MissingSourceDir": {
			change:  func(o *Options) { o.SourceDir = "/nonexistent/welcome" },
			wantMsg: func(Options) string { return "Source file /nonexistent/welcome/hello.txt is not a file" },
		},
		"MissingFile": {
			change:  func(o *Options) { o.Files = []string{"hello.txt", "nope.md"} },
			wantMsg: func(o Options) string { return "Source file " + o.SourceDir + "/nope.md is not a file" },
		},
		"SourceIsDirectory": {
			change:  func(o *Options) { o.Files = []string{""} },
			wantMsg: func(o Options) string { return "Source file " + o.SourceDir + " is not a file" },
		},
		"NonexistentHome": {
			change:  func(o *Options) { o.Home = DefaultHome },
			wantMsg: func(Options) string { return "Home directory /nonexistent is not a directory" },
		},
		"HomeIsFile": {
			change: func(o *Options) {
				o.Home = filepath.Join(o.Home, "file")
				_ = os.WriteFile(o.Home, nil, 0o600)
			},
			wantMsg: func(o Options) string { return "Home directory " + o.Home + " is not a directory" },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := fixture(t)
			home := opts.Home
			tc.change(&opts)
			_, err := Provision(opts)
			var perr *PrecheckError
			require.ErrorAs(t, err, &perr)
			assert.EqualError(t, err, tc.wantMsg(opts))
			assert.NoDirExists(t, filepath.Join(home, "notebooks"), "nothing is done after a failed precheck")
		})
	}
}

func TestProvisionDestinations(t *testing.T) {
	cases := map[string]struct {
		setup   func(t *testing.T, dst string)
		wantErr any
	}{
		"Directory": {
			setup:   func(t *testing.T, dst string) { require.NoError(t, os.Mkdir(dst, 0o755)) },
			wantErr: new(*DestinationIsDirectoryError),
		},
		"FIFO": {
			setup:   func(t *testing.T, dst string) { require.NoError(t, syscall.Mkfifo(dst, 0o644)) },
			wantErr: new(*DestinationError),
		},
		"DanglingSymlink": {
			setup: func(t *testing.T, dst string) { require.NoError(t, os.Symlink("/nonexistent/target", dst)) },
		},
		"SymlinkToOtherFile": {
			setup: func(t *testing.T, dst string) {
				other := filepath.Join(filepath.Dir(dst), "other")
				require.NoError(t, os.WriteFile(other, []byte("keep me"), 0o644))
				require.NoError(t, os.Symlink(other, dst))
			},
		},
		"ModifiedCopy": {
			setup: func(t *testing.T, dst string) { require.NoError(t, os.WriteFile(dst, []byte("user edits"), 0o600)) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := fixture(t)
			dst := filepath.Join(opts.Home, opts.TargetDir, "hello.txt")
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			tc.setup(t, dst)
			_, err := Provision(opts)
			if tc.wantErr != nil {
				require.ErrorAs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), dst)
				assert.NoFileExists(t, filepath.Join(opts.Home, SettingsPath), "stops at the first error")
				return
			}
			require.NoError(t, err)
			fi, err := os.Lstat(dst)
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular(), "replaced by a regular file")
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.Equal(t, "# Welcome\n\nHello, Rubin.\n", string(got))
			if other := filepath.Join(filepath.Dir(dst), "other"); name == "SymlinkToOtherFile" {
				data, err := os.ReadFile(other)
				require.NoError(t, err)
				assert.Equal(t, "keep me", string(data), "a symlink's target is not written")
			}
		})
	}
}

func TestProvisionSettings(t *testing.T) {
	cases := map[string]struct {
		existing  string
		want      string // exact file content afterwards
		wantErr   bool
		unchanged bool
	}{
		"OtherSettingsKept": {
			existing: `{"autosave": false, "defaultViewers": {"python": "Editor"}, "big": 12345678901234567890, "html": "<b>&</b>"}`,
			want: "{\n  \"autosave\": false,\n  \"big\": 12345678901234567890,\n  \"defaultViewers\": {\n    \"markdown\": \"Markdown Preview\",\n" +
				"    \"python\": \"Editor\"\n  },\n  \"html\": \"<b>&</b>\"\n}",
		},
		"UserValueKept": {existing: `{"defaultViewers": {"markdown": "Editor"}}`, unchanged: true},
		"InvalidJSON":   {existing: "// comment\n{}", wantErr: true, unchanged: true},
		"NotAnObject":   {existing: `[1]`, wantErr: true, unchanged: true},
		"ViewersNotObj": {existing: `{"defaultViewers": "x"}`, wantErr: true, unchanged: true},
		"TrailingData":  {existing: `{} {}`, wantErr: true, unchanged: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := fixture(t)
			path := filepath.Join(opts.Home, SettingsPath)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(tc.existing), 0o644))
			res, err := Provision(opts)
			if tc.wantErr {
				var serr *SettingsError
				require.ErrorAs(t, err, &serr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, !tc.unchanged, res.SettingsWritten)
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			if tc.unchanged {
				assert.Equal(t, tc.existing, string(got))
			} else {
				assert.Equal(t, tc.want, string(got))
			}
		})
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	assert.Equal(t, Options{
		Home: "/nonexistent", SourceDir: "/rubin/cst_repos/tutorial-notebooks-data/welcome",
		TargetDir: "notebooks/tutorials", Files: []string{"welcome.md", "logo_for_header.png"},
	}, OptionsFromEnv(getenv))
	env = map[string]string{
		EnvHome: "/home/rachel", EnvSourceDir: "/src", EnvTargetDir: "", EnvFiles: "a.md, b.png", EnvDebug: "x",
	}
	assert.Equal(t, Options{
		Home: "/home/rachel", SourceDir: "/src", TargetDir: "notebooks/tutorials",
		Files: []string{"a.md", " b.png"}, Debug: true,
	}, OptionsFromEnv(getenv))
}
