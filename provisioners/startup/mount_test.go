package startup

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size (such as "1m") on dir for the test: a
// real small filesystem to fill. It needs root, which the tests have.
func mountTmpfs(t testing.TB, dir, size string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755")
	require.NoError(t, err, "mounting a %s tmpfs on %s (the startup tests run as root to make small real filesystems)", size, dir)
	t.Cleanup(func() {
		require.NoError(t, unix.Unmount(dir, unix.MNT_DETACH), "unmounting %s", dir)
	})
}

// remountReadOnly makes the tmpfs on dir read-only.
func remountReadOnly(t testing.TB, dir string) {
	t.Helper()
	err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
	require.NoError(t, err, "remounting %s read-only", dir)
}
