package startup

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGitLFS(t *testing.T) {
	t.Run("runs once when absent", func(t *testing.T) {
		f := newFixture(t)
		f.env["HOME"] = "/root" // the process's own HOME is not the one git sees
		f.run(t)
		assert.Equal(t, []string{f.home + "|lfs install"}, f.gitCalls(t))
	})
	t.Run("skeleton gitconfig kept", func(t *testing.T) {
		// A real git-lfs writes ~/.gitconfig; the site's skeleton copy
		// must land first and keep its content.
		f := newFixture(t)
		f.env["FAKE_GIT_WRITE"] = "1"
		f.run(t)
		skel, err := os.ReadFile(filepath.Join(f.opts.EtcDir, "skel", ".gitconfig"))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(f.home, ".gitconfig"))
		require.NoError(t, err)
		assert.Equal(t, string(skel)+"[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n", string(got))
	})
	t.Run("skipped when configured", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "home/hambone/.gitconfig", "[user]\n\tname = H\n  [filter \"lfs\"]  \n\tclean = git-lfs clean -- %f\n")
		f.run(t)
		assert.Empty(t, f.gitCalls(t))
	})
	t.Run("similar line does not count", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "home/hambone/.gitconfig", "# [filter \"lfs\"]\n")
		f.run(t)
		assert.Len(t, f.gitCalls(t), 1)
	})
	t.Run("failure ignored", func(t *testing.T) {
		f := newFixture(t)
		f.env["FAKE_GIT_EXIT"] = "1"
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		assert.Len(t, f.gitCalls(t), 1)
		assert.Contains(t, f.messages(logrus.WarnLevel), "'git lfs install' failed")
	})
	t.Run("git missing", func(t *testing.T) {
		f := newFixture(t)
		f.env["PATH"] = filepath.Join(f.root, "empty")
		res := f.run(t)
		require.NotNil(t, res.Abnormal)
		assert.Equal(t, int(syscall.ENOENT), res.Abnormal.Errno)
		assert.Equal(t, "[Errno 2] No such file or directory: 'git'", res.Abnormal.Error())
		assert.NoFileExists(t, filepath.Join(f.home, ".dir_colors"), "later steps skipped")
	})
}

const loggingProfile = "home/hambone/.ipython/profile_default/startup/20-logging.py"

func TestLoggingProfile(t *testing.T) {
	stock := readFile(t, filepath.Join("testdata", "tree", "jupyterlab", "etc", "20-logging.py"))
	t.Run("copied when missing", func(t *testing.T) {
		f := newFixture(t)
		f.run(t)
		assert.Equal(t, stock, f.read(t, loggingProfile))
	})
	t.Run("local edit preserved", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, loggingProfile, "# mine\n")
		f.run(t)
		assert.Equal(t, "# mine\n", string(f.read(t, loggingProfile)))
	})
	t.Run("previous stock version replaced", func(t *testing.T) {
		f := newFixture(t)
		old := "# stock logging profile of an earlier release\n"
		sum := sha256.Sum256([]byte(old))
		saved := stockLoggingProfiles
		stockLoggingProfiles = append([]string{hex.EncodeToString(sum[:])}, saved...)
		t.Cleanup(func() { stockLoggingProfiles = saved })
		f.write(t, loggingProfile, old)
		f.run(t)
		assert.Equal(t, stock, f.read(t, loggingProfile))
	})
	t.Run("fallback source", func(t *testing.T) {
		f := newFixture(t)
		require.NoError(t, os.Remove(filepath.Join(f.root, "jupyterlab", "etc", "20-logging.py")))
		f.write(t, "jupyterlab/20-logging.py", "# fallback\n")
		f.run(t)
		assert.Equal(t, "# fallback\n", string(f.read(t, loggingProfile)))
	})
	t.Run("JUPYTERLAB_CONFIG_DIR wins", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "other/etc/20-logging.py", "# other\n")
		f.env["JUPYTERLAB_CONFIG_DIR"] = filepath.Join(f.root, "other")
		f.run(t)
		assert.Equal(t, "# other\n", string(f.read(t, loggingProfile)))
	})
	t.Run("no source", func(t *testing.T) {
		f := newFixture(t)
		f.opts.JupyterLabConfigDir = filepath.Join(f.root, "none")
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		assert.NoFileExists(t, filepath.Join(f.root, loggingProfile))
		assert.Contains(t, f.messages(logrus.WarnLevel), "No 20-logging.py found; not installing the IPython logging profile")
	})
}

func TestDircolors(t *testing.T) {
	t.Run("copied", func(t *testing.T) {
		f := newFixture(t)
		f.run(t)
		assert.Equal(t, f.read(t, "etc/dircolors.ansi-universal"), f.read(t, "home/hambone/.dir_colors"))
	})
	t.Run("kept", func(t *testing.T) {
		f := newFixture(t)
		f.write(t, "home/hambone/.dir_colors", "mine")
		f.run(t)
		assert.Equal(t, "mine", string(f.read(t, "home/hambone/.dir_colors")))
	})
	t.Run("source missing", func(t *testing.T) {
		f := newFixture(t)
		f.opts.DircolorsFile = filepath.Join(f.root, "etc", "nope")
		res := f.run(t)
		require.NotNil(t, res.Abnormal)
		assert.Equal(t, "ENOENT", res.Abnormal.Code)
		assert.Equal(t, f.opts.DircolorsFile, res.Abnormal.Filename)
	})
}

func TestSkel(t *testing.T) {
	f := newFixture(t)
	f.write(t, "home/hambone/.pythonrc", "# my own\n")
	require.NoError(t, os.Symlink(".gitconfig", filepath.Join(f.root, "etc", "skel", "gitconfig-link")))
	require.NoError(t, os.Symlink("notebooks", filepath.Join(f.root, "etc", "skel", "nb-link")))
	require.NoError(t, os.Symlink("nowhere", filepath.Join(f.root, "etc", "skel", "dangling")))
	res := f.run(t)
	require.Nil(t, res.Abnormal)
	skel := filepath.Join("testdata", "tree", "etc", "skel")
	assert.Equal(t, readFile(t, filepath.Join(skel, ".gitconfig")), f.read(t, "home/hambone/.gitconfig"), "copied identically")
	assert.Equal(t, "# my own\n", string(f.read(t, "home/hambone/.pythonrc")), "existing file kept")
	assert.Equal(t, readFile(t, filepath.Join(skel, "notebooks", ".user_setups")), f.read(t, "home/hambone/notebooks/.user_setups"))
	assert.Equal(t, readFile(t, filepath.Join(skel, ".gitconfig")), f.read(t, "home/hambone/gitconfig-link"), "symlinked file copied as a file")
	fi, err := os.Lstat(filepath.Join(f.home, "nb-link"))
	require.NoError(t, err)
	assert.True(t, fi.IsDir(), "symlinked directory created as a directory")
	assert.NoFileExists(t, filepath.Join(f.home, "dangling"))
	fi, err = os.Stat(filepath.Join(f.home, ".gitconfig"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "default mode (umask 022)")
}

func TestSkelMissing(t *testing.T) {
	f := newFixture(t)
	f.opts.SkelDir = filepath.Join(f.root, "etc", "no-skel")
	res := f.run(t)
	require.Nil(t, res.Abnormal, "a missing skeleton is nothing to copy")
}
