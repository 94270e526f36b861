package startup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewStartupError(t *testing.T) {
	cases := map[string]struct {
		errno    int
		strerror string
		filename string
		want     StartupError
		message  string
	}{
		"EBADENV": {
			errno: EBADENV, filename: "NUBLADO_HOME",
			want:    StartupError{Errno: 200, Code: "EBADENV", Strerror: "Missing environment variable", Filename: "NUBLADO_HOME"},
			message: "[Errno 200] Missing environment variable: 'NUBLADO_HOME'",
		},
		"EUNKNOWN": {
			errno:   EUNKNOWN,
			want:    StartupError{Errno: 201, Code: "EUNKNOWN", Strerror: "Unknown error 201"},
			message: "[Errno 201] Unknown error 201",
		},
		"OS errno": {
			errno: int(syscall.EDQUOT), filename: "/home/u/.cache/1mb.txt",
			want:    StartupError{Errno: 122, Code: "EDQUOT", Strerror: "Disk quota exceeded", Filename: "/home/u/.cache/1mb.txt"},
			message: "[Errno 122] Disk quota exceeded: '/home/u/.cache/1mb.txt'",
		},
		"custom text": {
			errno: int(syscall.EACCES), strerror: "Nope",
			want:    StartupError{Errno: 13, Code: "EACCES", Strerror: "Nope"},
			message: "[Errno 13] Nope",
		},
		"unknown number": {
			errno: 4242, strerror: "whatever",
			want:    StartupError{Errno: 201, Code: "EUNKNOWN", Strerror: "Unknown error 201"},
			message: "[Errno 201] Unknown error 201",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := NewStartupError(tc.errno, tc.strerror, tc.filename)
			assert.Equal(t, tc.want, *got, "NewStartupError(%d, %q, %q)", tc.errno, tc.strerror, tc.filename)
			assert.Equal(t, tc.message, got.Error())
		})
	}
}

func TestAsStartupError(t *testing.T) {
	errBoom := errors.New("boom")
	pathErr := &fs.PathError{Op: "open", Path: "/h/.cache/1mb.txt", Err: syscall.ENOSPC}
	linkErr := &os.LinkError{Op: "rename", Old: "/h/.local", New: "/h/.user_env/local", Err: syscall.EXDEV}
	cases := map[string]struct {
		err     error
		code    string
		errno   int
		message string
	}{
		"path error": {pathErr, "ENOSPC", 28, "[Errno 28] No space left on device: '/h/.cache/1mb.txt'"},
		"wrapped path error": {fmt.Errorf("writing: %w", pathErr), "ENOSPC", 28,
			"[Errno 28] No space left on device: '/h/.cache/1mb.txt'"},
		"two paths": {linkErr, "EXDEV", 18, "[Errno 18] Invalid cross-device link: '/h/.local' -> '/h/.user_env/local'"},
		"syscall":   {os.NewSyscallError("access", syscall.EROFS), "EROFS", 30, "[Errno 30] Read-only file system"},
		"command not found": {&exec.Error{Name: "git", Err: exec.ErrNotFound}, "ENOENT", 2,
			"[Errno 2] No such file or directory: 'git'"},
		"not an OS error": {errBoom, "EUNKNOWN", 201, "[Errno 201] boom"},
		"startup error":   {missingEnv("X"), "EBADENV", 200, "[Errno 200] Missing environment variable: 'X'"},
		"quoting":         {&fs.PathError{Op: "open", Path: "it's", Err: syscall.EACCES}, "EACCES", 13, `[Errno 13] Permission denied: "it's"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := AsStartupError(tc.err)
			assert.Equal(t, tc.code, got.Code)
			assert.Equal(t, tc.errno, got.Errno)
			assert.Equal(t, tc.message, got.Error())
			assert.ErrorIs(t, got, tc.err, "AsStartupError keeps the original")
		})
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `'plain'`,
		"it's":         `"it's"`,
		`both'"`:       `'both\'"'`,
		"tab\there":    `'tab\there'`,
		`back\slash`:   `'back\\slash'`,
		"ctl\x01":      `'ctl\x01'`,
		"unicode-é":    `'unicode-é'`,
		"new\nline\r!": `'new\nline\r!'`,
	} {
		assert.Equal(t, want, pyRepr(in), "pyRepr(%q)", in)
	}
}

// TestMissingHome: without NUBLADO_HOME the startup is abnormal with the real
// EBADENV code (the original reported EUNKNOWN), and the lab starts in /tmp.
func TestMissingHome(t *testing.T) {
	f := newFixture(t)
	delete(f.env, "NUBLADO_HOME")
	res := f.run(t)
	require.NotNil(t, res.Abnormal)
	tmp := filepath.Join(f.root, "tmp")
	assert.Equal(t, map[string]string{
		"ABNORMAL_STARTUP":           "TRUE",
		"ABNORMAL_STARTUP_ERRNO":     "200",
		"ABNORMAL_STARTUP_ERRORCODE": "EBADENV",
		"ABNORMAL_STARTUP_STRERROR":  "Missing environment variable",
		"ABNORMAL_STARTUP_MESSAGE":   "[Errno 200] Missing environment variable: 'USER'",
	}, abnormalKeys(res.Env), "the later USER error replaces the NUBLADO_HOME one")
	assert.Equal(t, tmp, res.Env["HOME"])
	assert.NotContains(t, res.Env, "USER", "environment configuration skipped")
	welcome := string(readFile(t, filepath.Join(tmp, welcomeFile)))
	assert.Contains(t, welcome, "started without some of the environment variables it needs")
	assert.Empty(t, f.gitCalls(t))
}

// TestRecoveryHome: the recovery home is the decided SCRATCH_DIR, else the
// environment's, else the temporary directory; the recovery files land
// where HOME points (the original could split them).
func TestRecoveryHome(t *testing.T) {
	breakIt := func(f *fixture) { f.opts.DircolorsFile = filepath.Join(f.root, "nope") }
	t.Run("decided scratch", func(t *testing.T) {
		f := newFixture(t)
		breakIt(f)
		f.env["SCRATCH_DIR"] = filepath.Join(f.root, "elsewhere")
		res := f.run(t)
		want := filepath.Join(f.root, "scratch", "hambone")
		assert.Equal(t, want, res.Env["HOME"])
		assert.FileExists(t, filepath.Join(want, welcomeFile))
	})
	t.Run("environment scratch", func(t *testing.T) {
		f := newFixture(t)
		breakIt(f)
		delete(f.env, "SCRATCH_PATH")
		f.env["SCRATCH_DIR"] = filepath.Join(f.root, "elsewhere")
		res := f.run(t)
		assert.Equal(t, f.env["SCRATCH_DIR"], res.Env["HOME"])
		assert.FileExists(t, filepath.Join(f.env["SCRATCH_DIR"], welcomeFile))
		assert.Contains(t, res.Args, "--notebook-dir="+f.env["SCRATCH_DIR"])
	})
	t.Run("tmp", func(t *testing.T) {
		f := newFixture(t)
		breakIt(f)
		delete(f.env, "SCRATCH_PATH")
		res := f.run(t)
		tmp := filepath.Join(f.root, "tmp")
		assert.Equal(t, tmp, res.Env["HOME"])
		assert.FileExists(t, filepath.Join(tmp, welcomeFile))
		assert.FileExists(t, filepath.Join(tmp, docmanagerFile))
	})
	t.Run("unwritable recovery home", func(t *testing.T) {
		f := newFixture(t)
		breakIt(f)
		delete(f.env, "SCRATCH_PATH")
		f.opts.TmpDir = filepath.Join(f.root, "tmp", "file")
		f.write(t, "tmp/file", "x")
		res, err := Run(t.Context(), f.opts, f.env, f.log)
		require.NoError(t, err, "recovery file errors are only logged")
		assert.Equal(t, f.opts.TmpDir, res.Env["HOME"])
	})
}

func TestWelcomeText(t *testing.T) {
	home := "/home/hambone"
	cases := map[string]struct {
		err    *StartupError
		advice string
	}{
		"EDQUOT":  {NewStartupError(int(syscall.EDQUOT), "", "/home/hambone/.cache/1mb.txt"), "the `quota` command"},
		"ENOSPC":  {NewStartupError(int(syscall.ENOSPC), "", ""), "is full"},
		"EROFS":   {NewStartupError(int(syscall.EROFS), "", ""), "You do not have permission to write to your home directory (`/home/hambone`)"},
		"EACCES":  {NewStartupError(int(syscall.EACCES), "", ""), "You do not have permission to write to your home directory (`/home/hambone`)"},
		"EBADENV": {missingEnv("NUBLADO_HOME"), "environment variables"},
		"other":   {NewStartupError(int(syscall.EIO), "", ""), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := welcomeText(tc.err, home)
			want := "# Abnormal startup\n\nYour Lab container did not start normally.\n" +
				"Do not trust this lab for work you want to keep.\n\n"
			if tc.advice != "" {
				want += welcomeAdvice(tc.err.Code, home) + "\n\n"
				assert.Contains(t, got, tc.advice)
			}
			want += "Please open an issue with your RSP site administrator with the following information: `" +
				tc.err.Error() + "`\n"
			assert.Equal(t, want, got)
		})
	}
}
