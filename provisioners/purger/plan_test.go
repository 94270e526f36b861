package purger

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMakePlanRules runs each planning rule on the fixture tree (own policy
// files under testdata/, paths rewritten in memory).
func TestMakePlanRules(t *testing.T) {
	cases := map[string]struct {
		reason string
		policy string
		setup  func(t *testing.T, tmp string)
		ahead  time.Duration // plan for now + ahead
		want   []string
	}{
		"FreshFiles": {
			reason: "nothing is old enough",
			policy: "policy.yaml",
			want:   []string{},
		},
		"LargeAccessTime": {
			reason: "large access limit 1h; atime 8h ago",
			policy: "policy.yaml",
			setup:  func(t *testing.T, tmp string) { age(t, filepath.Join(tmp, "scratch/large"), ATime, 8*time.Hour) },
			want:   []string{"scratch/large"},
		},
		"LargeModificationTime": {
			reason: "large modification limit 4h; mtime 8h ago",
			policy: "policy.yaml",
			setup:  func(t *testing.T, tmp string) { age(t, filepath.Join(tmp, "scratch/large"), MTime, 8*time.Hour) },
			want:   []string{"scratch/large"},
		},
		"LowCreationInterval": {
			reason: "small creation limit 1s; foo/bar has no small rules, so its small files are not planned by scratch's",
			policy: "policy_low_ctime.yaml",
			ahead:  1500 * time.Millisecond,
			want:   []string{"scratch/small"},
		},
		"Threshold": {
			reason: "atime 3h ago: over the large limit (1h), under the small one (30d)",
			policy: "policy.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/small"), ATime, 3*time.Hour)
				age(t, filepath.Join(tmp, "scratch/large"), ATime, 3*time.Hour)
			},
			want: []string{"scratch/large"},
		},
		"NoSmallIntervals": {
			reason: "without small rules an ancient small file stays",
			policy: "policy_no_small.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/small"), ATime, 1000*7*24*time.Hour)
				age(t, filepath.Join(tmp, "scratch/small"), MTime, 1000*7*24*time.Hour)
			},
			want: []string{},
		},
		"SubdirectoryPolicyWins": {
			reason: "foo/bar's large access limit is 3s",
			policy: "policy.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/foo/bar/large"), ATime, 8*time.Hour)
			},
			want: []string{"scratch/foo/bar/large"},
		},
		"FutureTenYears": {
			reason: "in 3650 days everything with rules is due: 3 in scratch, only large in foo/bar",
			policy: "policy.yaml",
			ahead:  3650 * 24 * time.Hour,
			want:   []string{"scratch/foo/bar/large", "scratch/large", "scratch/medium", "scratch/small"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmp := makeTree(t)
			p := loadPolicy(t, filepath.Join("testdata", tc.policy), tmp)
			if tc.setup != nil {
				tc.setup(t, tmp)
			}
			plan, err := MakePlan(context.Background(), p, time.Now().Add(tc.ahead))
			require.NoError(t, err)
			assert.Equal(t, tc.want, plannedRel(t, plan, tmp), "MakePlan: %s", tc.reason)
			assert.Empty(t, plan.Errors)
			assert.Equal(t, []string{filepath.Join(tmp, "scratch"), filepath.Join(tmp, "scratch/foo/bar")}, plan.Directories)
		})
	}
}

func TestMakePlanRecord(t *testing.T) {
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	age(t, filepath.Join(tmp, "scratch/large"), MTime, 8*time.Hour)
	when := time.Now()
	plan, err := MakePlan(context.Background(), p, when)
	require.NoError(t, err)
	require.Len(t, plan.Files, 1)
	f := plan.Files[0]
	assert.Equal(t, filepath.Join(tmp, "scratch/large"), f.Path)
	assert.Equal(t, filepath.Join(tmp, "scratch"), f.Root)
	assert.Equal(t, Large, f.Class)
	assert.Equal(t, MTime, f.Reason)
	assert.Equal(t, 4*time.Hour, f.CriterionInterval)
	assert.InDelta(t, (8 * time.Hour).Seconds(), f.FileInterval.Seconds(), 5)
	assert.Equal(t, f.Path+": MTIME 28800s >= 14400s", f.String())
	var st syscall.Stat_t
	require.NoError(t, syscall.Lstat(f.Path, &st))
	assert.Equal(t, FileID{Dev: st.Dev, Ino: st.Ino, Ctime: st.Ctim.Nano()}, f.ID)
}

func TestMakePlanCriteriaOrder(t *testing.T) {
	// All three timestamps are too old: ATIME is checked first.
	tmp := makeTree(t)
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	plan, err := MakePlan(context.Background(), p, time.Now().Add(400*24*time.Hour))
	require.NoError(t, err)
	require.NotEmpty(t, plan.Files)
	for _, f := range plan.Files {
		assert.Equal(t, ATime, f.Reason, f.Path)
	}
	// A class whose access limit is zero falls through to CTIME.
	p.Directories[0].Intervals.Small.Access = 0
	plan, err = MakePlan(context.Background(), p, time.Now().Add(400*24*time.Hour))
	require.NoError(t, err)
	for _, f := range plan.Files {
		if f.Class == Small {
			assert.Equal(t, CTime, f.Reason, f.Path)
		}
	}
}

func TestMakePlanStrictComparison(t *testing.T) {
	// timestamp + interval must be strictly before the plan time.
	tmp := makeTree(t)
	path := filepath.Join(tmp, "scratch/large")
	p := loadPolicy(t, "testdata/policy.yaml", tmp)
	mtime := time.Now().Add(-8 * time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(path, mtime, mtime))
	p.Directories[0].Intervals.Large = SizeIntervals{Modification: 8 * time.Hour}
	plan, err := MakePlan(context.Background(), p, mtime.Add(8*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, plan.Files, "equal is not older")
	plan, err = MakePlan(context.Background(), p, mtime.Add(8*time.Hour+time.Nanosecond))
	require.NoError(t, err)
	assert.Len(t, plan.Files, 1)
}

func TestMakePlanDiscoveryOrder(t *testing.T) {
	// A directory's files come before its subdirectories' files; names sorted.
	tmp := t.TempDir()
	for _, f := range []string{"root/b", "root/a", "root/sub/z", "root/sub/deeper/y", "root/c"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(tmp, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(tmp, f), []byte("x"), 0o644))
	}
	p := &Policy{Directories: []DirectoryPolicy{{
		Path: filepath.Join(tmp, "root"), Intervals: Intervals{Large: SizeIntervals{Access: time.Second}},
	}}}
	plan, err := MakePlan(context.Background(), p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	var got []string
	for _, f := range plan.Files {
		got = append(got, f.Path[len(tmp)+1:])
	}
	assert.Equal(t, []string{"root/a", "root/b", "root/c", "root/sub/z", "root/sub/deeper/y"}, got)
}

func TestMakePlanDirectories(t *testing.T) {
	cases := map[string]struct {
		paths []string
		want  []string
	}{
		"Empty":           {nil, []string{}},
		"ShortestFirst":   {[]string{"/b/cc/d", "/a", "/b/cc"}, []string{"/a", "/b/cc", "/b/cc/d"}},
		"StableSameLen":   {[]string{"/y", "/x"}, []string{"/y", "/x"}},
		"Deduplicated":    {[]string{"/a", "/a/", "/a"}, []string{"/a"}},
		"CleanedTrailing": {[]string{"/a//b/"}, []string{"/a/b"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			p := &Policy{}
			for _, d := range tc.paths {
				p.Directories = append(p.Directories, DirectoryPolicy{Path: base + d})
			}
			plan, err := MakePlan(context.Background(), p, time.Now())
			require.NoError(t, err)
			want := []string{}
			for _, w := range tc.want {
				want = append(want, base+w)
			}
			assert.Equal(t, want, plan.Directories, "MakePlan(%q).Directories", tc.paths)
		})
	}
}

func TestMakePlanMissingRoot(t *testing.T) {
	tmp := t.TempDir()
	p := &Policy{Directories: []DirectoryPolicy{{Path: filepath.Join(tmp, "nope")}}}
	plan, err := MakePlan(context.Background(), p, time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(tmp, "nope")}, plan.Missing)
	assert.Empty(t, plan.Errors)
	report, err := plan.Report()
	require.NoError(t, err)
	assert.Equal(t, "Directories considered:\n  "+filepath.Join(tmp, "nope")+"\nNo matching files found.\n", report)
}

func TestMakePlanNonRegularFiles(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	p := &Policy{Directories: []DirectoryPolicy{{Path: root, Intervals: Intervals{Small: SizeIntervals{Access: time.Second}}, Threshold: 1}}}
	plan, err := MakePlan(context.Background(), p, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"root/fifo"}, plannedRel(t, plan, tmp), "a FIFO is treated like a file")
}

func TestMakePlanCancelled(t *testing.T) {
	tmp := makeTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := MakePlan(ctx, loadPolicy(t, "testdata/policy.yaml", tmp), time.Now())
	require.ErrorIs(t, err, context.Canceled)
}

// TestMakePlanStatPermissionError runs the plan as an unprivileged user over a
// tree with a directory it may list but not search: stat fails with a
// permission error on each entry, which is recorded, and planning goes on.
func TestMakePlanStatPermissionError(t *testing.T) {
	tmp := openTempDir(t)
	root := filepath.Join(tmp, "scratch")
	for _, d := range []string{"locked", "open"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, d, "file"), []byte("x"), 0o666))
	}
	require.NoError(t, os.Chmod(filepath.Join(root, "locked"), 0o744)) // r but no x for others
	p := &Policy{Directories: []DirectoryPolicy{{Path: root, Intervals: Intervals{Large: SizeIntervals{Access: time.Second}}}}}
	policyFile := writePolicy(t, p, tmp)

	res := runUnprivileged(t, policyFile, false)
	assert.Equal(t, []string{filepath.Join(root, "open/file")}, res.Planned)
	assert.Equal(t, map[string]string{filepath.Join(root, "locked/file"): "lstat: permission denied"}, res.Errors)
}

func TestDirJoin(t *testing.T) {
	assert.Equal(t, "/etc", (&dir{path: "/"}).join("etc"))
	assert.Equal(t, "/a/b", (&dir{path: "/a"}).join("b"))
}
