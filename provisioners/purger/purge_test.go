package purger

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPurgeRemovesOnlyPlannedFiles(t *testing.T) {
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	age(t, filepath.Join(tmp, "scratch/large"), ATime, 8*time.Hour)
	plan, err := MakePlan(context.Background(), p, time.Now())
	require.NoError(t, err)
	res, err := Purge(context.Background(), plan)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(tmp, "scratch/large")}, res.Deleted)
	assert.Empty(t, res.Removed, "foo is an ancestor of a policy directory, foo/bar a policy directory")
	assert.False(t, exists(t, filepath.Join(tmp, "scratch/large")))
	for _, f := range []string{"scratch/small", "scratch/medium", "scratch/foo/bar/small", "scratch/foo/bar/medium", "scratch/foo/bar/large"} {
		assert.True(t, exists(t, filepath.Join(tmp, f)), f)
	}
}

func TestPurgeKeepsPolicyDirectoriesAndAncestors(t *testing.T) {
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	plan, err := MakePlan(context.Background(), p, time.Now().Add(3650*24*time.Hour))
	require.NoError(t, err)
	// Empty foo/bar of its remaining files too, so everything is empty.
	for _, f := range []string{"small", "medium"} {
		require.NoError(t, os.Remove(filepath.Join(tmp, "scratch/foo/bar", f)))
	}
	res, err := Purge(context.Background(), plan)
	require.NoError(t, err)
	assert.Len(t, res.Deleted, 4)
	assert.Empty(t, res.Removed)
	for _, d := range []string{"scratch", "scratch/foo", "scratch/foo/bar"} {
		assert.True(t, exists(t, filepath.Join(tmp, d)), d)
	}
}

func TestPurgeRemovesEmptiedDirectoriesDeepestFirst(t *testing.T) {
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	deleteMe := filepath.Join(tmp, "scratch/foo/bar/delete_me")
	nested := filepath.Join(tmp, "scratch/a/b/c")
	require.NoError(t, os.MkdirAll(deleteMe, 0o755))
	require.NoError(t, os.MkdirAll(nested, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(deleteMe, "large"), []byte(fixtureFiles["large"]), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(nested, "large"), []byte(fixtureFiles["large"]), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(tmp, "scratch/keep"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "scratch/keep/.hidden"), nil, 0o644))
	age(t, filepath.Join(deleteMe, "large"), ATime, 8*time.Hour)
	age(t, filepath.Join(nested, "large"), ATime, 8*time.Hour)

	plan, err := MakePlan(context.Background(), p, time.Now())
	require.NoError(t, err)
	require.Equal(t, []string{"scratch/a/b/c/large", "scratch/foo/bar/delete_me/large"}, plannedRel(t, plan, tmp))
	res, err := Purge(context.Background(), plan)
	require.NoError(t, err)
	assert.Equal(t, []string{
		filepath.Join(tmp, "scratch/foo/bar/delete_me"),
		filepath.Join(tmp, "scratch/a/b/c"),
		filepath.Join(tmp, "scratch/a/b"),
		filepath.Join(tmp, "scratch/a"),
	}, res.Removed, "all in one run, deepest first")
	assert.False(t, exists(t, filepath.Join(tmp, "scratch/a")))
	assert.True(t, exists(t, filepath.Join(tmp, "scratch/keep")), "a dotfile makes a directory non-empty")
	assert.True(t, exists(t, filepath.Join(tmp, "scratch/foo/bar")))
}

func TestPurgeNilPlan(t *testing.T) {
	_, err := Purge(context.Background(), nil)
	require.ErrorIs(t, err, ErrPlanNotReady)
	assert.EqualError(t, err, "cannot purge: plan not ready")
	var plan *Plan
	_, err = plan.Report()
	require.ErrorIs(t, err, ErrPlanNotReady)
	assert.EqualError(t, err, "cannot report: plan not ready")
}

// TestPurgeNeverLeavesTheTree puts symlinks to outside files and directories
// in the tree, plans far in the future (everything due), and checks that
// nothing outside the tree, nor any symlink, is touched.
func TestPurgeNeverLeavesTheTree(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "scratch")
	outside := filepath.Join(tmp, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(outside, "dir/sub"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "user"), 0o755))
	for _, f := range []string{"outside/file", "outside/dir/file", "outside/dir/sub/file", "scratch/user/own"} {
		require.NoError(t, os.WriteFile(filepath.Join(tmp, f), []byte("old"), 0o644))
	}
	links := map[string]string{
		"scratch/user/to-file":     filepath.Join(outside, "file"),
		"scratch/user/to-dir":      filepath.Join(outside, "dir"),
		"scratch/user/relative":    "../../outside/dir",
		"scratch/user/dangling":    filepath.Join(outside, "nope"),
		"scratch/emptyish/to-dir":  filepath.Join(outside, "dir/sub"),
		"scratch/user/to-root":     "/",
		"scratch/user/to-parent":   "..",
		"scratch/user/to-self-dir": ".",
	}
	for link, target := range links {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(tmp, link)), 0o755))
		require.NoError(t, os.Symlink(target, filepath.Join(tmp, link)))
	}
	p := &Policy{Directories: []DirectoryPolicy{{
		Path: root, Intervals: Intervals{Large: SizeIntervals{Access: time.Second}, Small: SizeIntervals{Access: time.Second}},
	}}}
	plan, err := MakePlan(context.Background(), p, time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"scratch/user/own"}, plannedRel(t, plan, tmp), "symlinks are never planned nor followed")

	res, err := Purge(context.Background(), plan)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(root, "user/own")}, res.Deleted)
	assert.Empty(t, res.Removed, "directories holding only symlinks are not empty")
	for _, f := range []string{"outside/file", "outside/dir/file", "outside/dir/sub/file"} {
		assert.True(t, exists(t, filepath.Join(tmp, f)), f)
	}
	for link := range links {
		assert.True(t, exists(t, filepath.Join(tmp, link)), "symlink %s kept", link)
	}
}

// TestPurgeRefusesSwappedDirectory replaces a planned file's directory by a
// symlink to an outside directory holding a file of the same name between
// plan and purge: the purge refuses and the outside file survives.
func TestPurgeRefusesSwappedDirectory(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "scratch")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "user/work"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(tmp, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "user/work/passwd"), []byte("old"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "etc/passwd"), []byte("precious"), 0o644))
	p := &Policy{Directories: []DirectoryPolicy{{Path: root, Intervals: Intervals{Large: SizeIntervals{Access: time.Second}}}}}
	plan, err := MakePlan(context.Background(), p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, plan.Files, 1)

	require.NoError(t, os.RemoveAll(filepath.Join(root, "user/work")))
	require.NoError(t, os.Symlink(filepath.Join(tmp, "etc"), filepath.Join(root, "user/work")))
	res, err := Purge(context.Background(), plan)
	var perr *PurgeError
	require.ErrorAs(t, err, &perr)
	require.ErrorIs(t, err, ErrUnsafePath)
	assert.Equal(t, map[string]string{filepath.Join(root, "user/work"): "open: " + ErrUnsafePath.Error()}, perr.FailedFiles())
	assert.Empty(t, res.Deleted)
	assert.True(t, exists(t, filepath.Join(tmp, "etc/passwd")))
}

// TestPurgeRefusesForgedPlans feeds plans that point outside their trees.
func TestPurgeRefusesForgedPlans(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "scratch")
	require.NoError(t, os.MkdirAll(root, 0o755))
	victim := filepath.Join(tmp, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("precious"), 0o644))
	cases := map[string]File{
		"OutsideRoot":    {Path: victim, Root: root},
		"DotDot":         {Path: root + "/../victim", Root: root},
		"RootNotPlanned": {Path: victim, Root: tmp},
		"RootItself":     {Path: root, Root: root},
		"Relative":       {Path: "victim", Root: root},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			plan := &Plan{Directories: []string{root}, Files: []File{f}}
			res, err := Purge(context.Background(), plan)
			require.ErrorIs(t, err, ErrUnsafePath)
			assert.Empty(t, res.Deleted)
			assert.True(t, exists(t, victim))
			assert.True(t, exists(t, root))
		})
	}
}

func TestPurgeSkipsReplacedAndVanishedFiles(t *testing.T) {
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	plan, err := MakePlan(context.Background(), p, time.Now().Add(3650*24*time.Hour))
	require.NoError(t, err)
	require.Len(t, plan.Files, 4)
	// A user deletes one file and replaces another with a new one.
	require.NoError(t, os.Remove(filepath.Join(tmp, "scratch/small")))
	medium := filepath.Join(tmp, "scratch/medium")
	require.NoError(t, os.Remove(medium))
	require.NoError(t, os.WriteFile(medium, []byte("new work"), 0o644))

	// Another is changed in place (chmod changes its ctime, not its inode).
	require.NoError(t, os.Chmod(filepath.Join(tmp, "scratch/foo/bar/large"), 0o600))

	res, err := Purge(context.Background(), plan)
	require.NoError(t, err, "vanished, replaced and changed files are not errors")
	assert.ElementsMatch(t, []string{filepath.Join(tmp, "scratch/small"), medium, filepath.Join(tmp, "scratch/foo/bar/large")}, res.Skipped)
	assert.Equal(t, []string{filepath.Join(tmp, "scratch/large")}, res.Deleted)
	assert.True(t, exists(t, medium), "the new file is kept")
}

func TestPurgeCancelled(t *testing.T) {
	tmp := makeTree(t)
	plan, err := MakePlan(context.Background(), loadPolicy(t, "testdata/policy.yaml", tmp), time.Now().Add(3650*24*time.Hour))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Purge(ctx, plan)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, exists(t, filepath.Join(tmp, "scratch/large")))
}

// TestPurgeCollectsPermissionErrors purges as an unprivileged user: a file in
// a directory it cannot write fails, the others are still deleted, and the
// failure comes back in a PurgeError.
func TestPurgeCollectsPermissionErrors(t *testing.T) {
	tmp := openTempDir(t)
	root := filepath.Join(tmp, "scratch")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "rootonly"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "mine"), 0o755))
	for _, f := range []string{"rootonly/a", "mine/b", "mine/c"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644))
	}
	require.NoError(t, os.Chown(filepath.Join(root, "mine"), childUID, childUID))
	p := &Policy{Directories: []DirectoryPolicy{{Path: root, Intervals: Intervals{Large: SizeIntervals{Access: time.Second}}}}}
	res := runUnprivileged(t, writePolicy(t, p, tmp), true)
	assert.Equal(t, []string{filepath.Join(root, "mine/b"), filepath.Join(root, "mine/c")}, res.Deleted)
	assert.Equal(t, map[string]string{
		filepath.Join(root, "rootonly/a"): "unlink: permission denied",
		filepath.Join(root, "mine"):       "rmdir: permission denied", // emptied, but in root's directory
	}, res.Errors)
	assert.True(t, exists(t, filepath.Join(root, "rootonly/a")))
	assert.True(t, exists(t, filepath.Join(root, "mine")))
}

func TestPurgeErrorFormat(t *testing.T) {
	perr := &PurgeError{}
	for _, e := range []error{
		&fs.PathError{Op: "unlink", Path: "/s/a", Err: fs.ErrPermission},
		&fs.PathError{Op: "rmdir", Path: "/s/d", Err: errors.New("directory not empty")},
	} {
		perr.Failed = appendErr(perr.Failed, e)
	}
	assert.Equal(t, "purge encountered errors: /s/a: unlink: permission denied, /s/d: rmdir: directory not empty", perr.Error())
	assert.Equal(t, map[string]string{"/s/a": "unlink: permission denied", "/s/d": "rmdir: directory not empty"}, perr.FailedFiles())
	require.ErrorIs(t, perr, fs.ErrPermission)
}
