package startup

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestAstropyCache(t *testing.T) {
	past, future := fixedNow.Unix()-1, fixedNow.Unix()+3600
	entries := map[string]struct {
		url     string
		removed bool
	}{
		"expired":       {fmt.Sprintf("https://s3.example/obj?X-Amz-Date=1&Expires=%d", past), true},
		"upper case":    {fmt.Sprintf("https://s3.example/obj?EXPIRES=%d", past), true},
		"not yet":       {fmt.Sprintf("https://s3.example/obj?Expires=%d", future), false},
		"no expiry":     {"https://s3.example/obj?a=b", false},
		"bad expiry":    {"https://s3.example/obj?expires=soon", false},
		"exactly now":   {fmt.Sprintf("https://s3.example/obj?expires=%d", fixedNow.Unix()), false},
		"one of two ok": {fmt.Sprintf("https://s3.example/obj?expires=%d&Expires=%d", future, past), true},
	}
	f := newFixture(t)
	base := "home/hambone/.astropy/cache/download/url"
	for name, e := range entries {
		f.write(t, filepath.Join(base, name, "url"), e.url+"\n")
		f.write(t, filepath.Join(base, name, "contents"), "data")
	}
	f.write(t, filepath.Join(base, "no contents", "url"), fmt.Sprintf("https://x/?expires=%d", past))
	f.write(t, filepath.Join(base, "no url", "contents"), "data")

	res := f.run(t)
	require.Nil(t, res.Abnormal, "astropy problems are only logged")
	for name, e := range entries {
		dir := filepath.Join(f.root, base, name)
		if e.removed {
			assert.NoDirExists(t, dir, "%s: %s", name, e.url)
		} else {
			assert.FileExists(t, filepath.Join(dir, "contents"), "%s: %s", name, e.url)
		}
	}
	assert.NoFileExists(t, filepath.Join(f.root, base, "no contents", "url"), "url removed before the failure")
	assert.DirExists(t, filepath.Join(f.root, base, "no contents"), "failure logged, directory kept")
	assert.FileExists(t, filepath.Join(f.root, base, "no url", "contents"))
	warnings := f.messages(logrus.WarnLevel)
	assert.Contains(t, warnings, "Could not check astropy cache entry")
	assert.Contains(t, warnings, "Could not remove expired astropy cache entry")
}

// TestFullDisk fills a real 512 KiB filesystem: the space test fails, the
// emergency cleanup cannot help, the startup is abnormal with ENOSPC and the
// lab starts in the scratch directory. Once the disk has room again, a new
// run is normal: none of the abnormal keys remain.
func TestFullDisk(t *testing.T) {
	f := newFixture(t)
	mountTmpfs(t, f.home, "512k")
	res := f.run(t)
	require.NotNil(t, res.Abnormal, "Run on a full disk")

	env := f.startupEnv(t)
	cacheFile := filepath.Join(f.home, ".cache", "1mb.txt")
	assert.Equal(t, map[string]string{
		"ABNORMAL_STARTUP":           "TRUE",
		"ABNORMAL_STARTUP_ERRNO":     "28",
		"ABNORMAL_STARTUP_ERRORCODE": "ENOSPC",
		"ABNORMAL_STARTUP_STRERROR":  "No space left on device",
		"ABNORMAL_STARTUP_MESSAGE":   "[Errno 28] No space left on device: '" + cacheFile + "'",
	}, abnormalKeys(env))
	scratch := filepath.Join(f.root, "scratch", "hambone")
	assert.Equal(t, scratch, env["HOME"], "recovery home")
	assert.Contains(t, f.startupArgs(t), "--notebook-dir="+scratch)
	welcome := string(readFile(t, filepath.Join(scratch, welcomeFile)))
	assert.Contains(t, welcome, "filesystem holding your home directory (`"+f.home+"`) is full")
	assert.Contains(t, welcome, "`[Errno 28] No space left on device: '"+cacheFile+"'`")
	assert.Equal(t, docmanagerSetting, string(readFile(t, filepath.Join(scratch, docmanagerFile))))
	assert.Empty(t, f.gitCalls(t), "copy block skipped on an abnormal startup")
	assert.NoFileExists(t, cacheFile, "partial space test file removed")
	assert.Contains(t, f.messages(logrus.WarnLevel), "Could not write 1MB of text")
	assert.Contains(t, f.messages(logrus.ErrorLevel), "Cleanup failed")

	require.NoError(t, unix.Mount("", f.home, "", unix.MS_REMOUNT, "size=4m"), "growing the home filesystem")
	res = f.run(t)
	require.Nil(t, res.Abnormal, "Run after the disk was cleared")
	env = f.startupEnv(t)
	assert.Empty(t, abnormalKeys(env), "abnormal keys after clearing")
	assert.Equal(t, f.home, env["HOME"])
}

// TestSpaceTestCleanupHelps: caches fill the disk; the emergency cleanup
// empties them and the startup goes on normally.
func TestSpaceTestCleanupHelps(t *testing.T) {
	f := newFixture(t)
	mountTmpfs(t, f.home, "1600k")
	f.write(t, "home/hambone/.cache/pip/big", strings.Repeat("x", 700<<10))
	f.write(t, "home/hambone/.astropy/cache/download/url/abc/contents", "cached")
	res := f.run(t)
	require.Nil(t, res.Abnormal, "Run after a successful cleanup")
	assert.NoFileExists(t, filepath.Join(f.home, ".cache", "pip", "big"))
	assert.DirExists(t, filepath.Join(f.home, ".cache"), "cache recreated")
	entries, err := os.ReadDir(filepath.Join(f.home, ".astropy", "cache"))
	require.NoError(t, err, "astropy cache recreated")
	assert.Empty(t, entries)
	assert.Contains(t, f.messages(logrus.WarnLevel), "Could not write 1MB of text")
	assert.Equal(t, []string{f.home + "|lfs install"}, f.gitCalls(t), "the copy block ran")
}

// TestQuotaExceeded injects EDQUOT, which a test machine's filesystems
// cannot produce for root.
func TestQuotaExceeded(t *testing.T) {
	quota := func(name string, _ []byte, _ os.FileMode) error {
		return &fs.PathError{Op: "open", Path: name, Err: syscall.EDQUOT}
	}
	t.Run("persistent", func(t *testing.T) {
		f := newFixture(t)
		f.opts.SpaceTestWrite = quota
		f.write(t, "home/hambone/.cache/junk", "junk")
		res := f.run(t)
		require.NotNil(t, res.Abnormal)
		msg := "[Errno 122] Disk quota exceeded: '" + filepath.Join(f.home, ".cache", "1mb.txt") + "'"
		assert.Equal(t, map[string]string{
			"ABNORMAL_STARTUP":           "TRUE",
			"ABNORMAL_STARTUP_ERRNO":     "122",
			"ABNORMAL_STARTUP_ERRORCODE": "EDQUOT",
			"ABNORMAL_STARTUP_STRERROR":  "Disk quota exceeded",
			"ABNORMAL_STARTUP_MESSAGE":   msg,
		}, abnormalKeys(f.startupEnv(t)))
		assert.NoFileExists(t, filepath.Join(f.home, ".cache", "junk"), "emergency cleanup ran")
		welcome := string(readFile(t, filepath.Join(f.root, "scratch", "hambone", welcomeFile)))
		assert.Contains(t, welcome, "storage quota on your home directory (`"+f.home+"`)")
		assert.Contains(t, welcome, "the `quota` command")
	})
	t.Run("cleared by cleanup", func(t *testing.T) {
		f := newFixture(t)
		calls := 0
		f.opts.SpaceTestWrite = func(name string, data []byte, perm os.FileMode) error {
			if calls++; calls == 1 {
				return quota(name, data, perm)
			}
			return os.WriteFile(name, data, perm)
		}
		res := f.run(t)
		require.Nil(t, res.Abnormal)
		assert.Equal(t, 2, calls, "write retried once")
		assert.Empty(t, abnormalKeys(f.startupEnv(t)))
	})
}

// abnormalKeys returns the ABNORMAL_STARTUP* entries of env.
func abnormalKeys(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "ABNORMAL_STARTUP") {
			out[k] = v
		}
	}
	return out
}
