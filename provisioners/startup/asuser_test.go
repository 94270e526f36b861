package startup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The init container runs as the user. These tests run the preparation in a
// child process (this test binary, re-executed) as labUID, so that ownership
// and permission errors are real.
const (
	labUID   = 4242
	labGID   = 4343
	childVar = "NUBLADO_STARTUP_TEST_CHILD"
)

// childSpec is what the child process runs.
type childSpec struct {
	EtcDir, TmpDir, JupyterLabConfigDir string
	Env                                 map[string]string
}

// TestMain sets a known umask (the tests check default modes) and serves as
// the child process of the as-user tests.
func TestMain(m *testing.M) {
	syscall.Umask(0o022)
	if spec := os.Getenv(childVar); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// runChild runs the preparation described by spec and prints the Result as
// JSON.
func runChild(spec string) int {
	var s childSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	opts := Options{EtcDir: s.EtcDir, TmpDir: s.TmpDir, JupyterLabConfigDir: s.JupyterLabConfigDir}
	res, err := Run(context.Background(), opts, s.Env, log.WithField("logger", "nublado"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 5
	}
	return 0
}

// userFixture is a fixture in a directory every user can traverse, whose
// home, scratch and startup directories belong to labUID.
func userFixture(t *testing.T) *fixture {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "the as-user tests run as root to switch to uid %d", labUID)
	root, err := os.MkdirTemp("", "startup-as-user-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	require.NoError(t, os.Chmod(root, 0o755))
	f := newFixtureFrom(t, root, map[string]string{
		"etc":          filepath.Join("testdata", "tree", "etc"),
		"home/hambone": filepath.Join("testdata", "tree", "home", "hambone"),
		"jupyterlab":   filepath.Join("testdata", "tree", "jupyterlab"),
	}, filepath.Join("testdata", "discovery.json"))
	for _, dir := range []string{"scratch", "tmp", "gitlog"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
		require.NoError(t, os.Chmod(filepath.Join(root, dir), 0o1777))
	}
	f.gitLog = filepath.Join(root, "gitlog", "git.log")
	f.env["FAKE_GIT_LOG"] = f.gitLog
	chownTree(t, f.home)
	require.NoError(t, os.Chown(filepath.Join(root, "etc", "nublado", "startup"), labUID, labGID))
	return f
}

// runAsUser runs the preparation as labUID and returns its Result.
func (f *fixture) runAsUser(t *testing.T) *Result {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(f.root, "startup.test")
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	spec, err := json.Marshal(childSpec{
		EtcDir: f.opts.EtcDir, TmpDir: f.opts.TmpDir, JupyterLabConfigDir: f.opts.JupyterLabConfigDir, Env: f.env,
	})
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), bin)
	cmd.Dir = f.root
	cmd.Env = []string{childVar + "=" + string(spec)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: labUID, Gid: labGID}}
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "child preparation as uid %d: %s", labUID, stderr)
	var res Result
	require.NoError(t, json.Unmarshal(out, &res), "child output %q", out)
	return &res
}

func chownTree(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, labUID, labGID)
	}))
}

// owner is the uid and gid of path.
func owner(t *testing.T, path string) [2]uint32 {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	return [2]uint32{st.Uid, st.Gid}
}

// TestAsUser runs a whole preparation as the user: everything it creates
// belongs to the user, with the modes of the spec.
func TestAsUser(t *testing.T) {
	f := userFixture(t)
	withCredentials(f)
	require.NoError(t, os.RemoveAll(filepath.Join(f.home, ".lsst")))
	res := f.runAsUser(t)
	require.Nil(t, res.Abnormal, "Run as uid %d", labUID)

	user := [2]uint32{labUID, labGID}
	require.NoError(t, filepath.WalkDir(f.home, func(path string, _ fs.DirEntry, err error) error {
		require.NoError(t, err)
		assert.Equal(t, user, owner(t, path), "owner of %s", path)
		return nil
	}))
	for _, rel := range []string{"scratch/hambone", "scratch/hambone/tmp", "scratch/hambone/butler_cache",
		"etc/nublado/startup/env.json", "etc/nublado/startup/args.json"} {
		assert.Equal(t, user, owner(t, filepath.Join(f.root, rel)), "owner of %s", rel)
	}
	modes := map[string]os.FileMode{
		"scratch/hambone":                             0o755,
		"scratch/hambone/tmp":                         0o700,
		"scratch/hambone/butler_cache":                0o700,
		"home/hambone/.lsst":                          0o700,
		"home/hambone/.lsst/aws-credentials.ini":      0o600,
		"home/hambone/.lsst/postgres-credentials.txt": 0o600,
		"home/hambone/.dir_colors":                    0o644,
		"etc/nublado/startup/env.json":                0o644,
	}
	for rel, want := range modes {
		fi, err := os.Stat(filepath.Join(f.root, rel))
		require.NoError(t, err)
		assert.Equal(t, want, fi.Mode().Perm(), "mode of %s", rel)
	}
	assert.Equal(t, []string{f.home + "|lfs install"}, f.gitCalls(t))
}

// TestAsUserHomeNotWritable: a home the user cannot write (owned by root) is
// an abnormal startup with EACCES, and the lab starts in scratch.
func TestAsUserHomeNotWritable(t *testing.T) {
	f := userFixture(t)
	require.NoError(t, os.Chown(f.home, 0, 0))
	res := f.runAsUser(t)
	require.NotNil(t, res.Abnormal)
	assert.Equal(t, "EACCES", res.Abnormal.Code)
	assert.Equal(t, "[Errno 13] Permission denied: '"+filepath.Join(f.home, ".cache")+"'", res.Abnormal.Error())
	scratch := filepath.Join(f.root, "scratch", "hambone")
	assert.Equal(t, scratch, res.Env["HOME"])
	welcome := string(readFile(t, filepath.Join(scratch, welcomeFile)))
	assert.Contains(t, welcome, "You do not have permission to write to your home directory (`"+f.home+"`)")
	assert.Equal(t, [2]uint32{labUID, labGID}, owner(t, filepath.Join(scratch, welcomeFile)))
}
