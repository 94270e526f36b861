package purger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"
)

// Fixture file contents: the tree has these three files in scratch and in
// scratch/foo/bar.
var fixtureFiles = map[string]string{
	"small":  "hi",                                             // 2 B
	"medium": "Hello, world!",                                  // 13 B
	"large":  "The quick brown fox jumps over the lazy dog.\n", // 45 B
}

// makeTree builds <tmp>/scratch/{small,medium,large} and
// <tmp>/scratch/foo/bar/{small,medium,large} and returns <tmp>. The policies
// give foo/bar's large files a 3s access limit, so a slow machine could see
// them due before the plan: their access and modification times are set a
// minute ahead (the creation limit, 10s, is the margin left).
func makeTree(t testing.TB) string {
	t.Helper()
	tmp := t.TempDir()
	ahead := time.Now().Add(time.Minute)
	for _, dir := range []string{"scratch", "scratch/foo/bar"} {
		require.NoError(t, os.MkdirAll(filepath.Join(tmp, dir), 0o755))
		for name, content := range fixtureFiles {
			path := filepath.Join(tmp, dir, name)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			if dir != "scratch" {
				require.NoError(t, os.Chtimes(path, ahead, ahead))
			}
		}
	}
	return tmp
}

// loadPolicy reads a policy file and rewrites its first directory to
// <tmp>/scratch and its second to <tmp>/scratch/foo/bar.
func loadPolicy(t testing.TB, file, tmp string) *Policy {
	t.Helper()
	p, err := ReadPolicy(file)
	require.NoError(t, err)
	require.Len(t, p.Directories, 2, "policy %s", file)
	p.Directories[0].Path = filepath.Join(tmp, "scratch")
	p.Directories[1].Path = filepath.Join(tmp, "scratch", "foo", "bar")
	return p
}

// writePolicy writes p back as YAML to <tmp>/policy.yaml for commands that
// read it from a file, and returns the path.
func writePolicy(t testing.TB, p *Policy, tmp string) string {
	t.Helper()
	type ivs struct {
		Access       float64 `json:"accessInterval,omitempty"`
		Creation     float64 `json:"creationInterval,omitempty"`
		Modification float64 `json:"modificationInterval,omitempty"`
	}
	conv := func(s SizeIntervals) ivs {
		return ivs{s.Access.Seconds(), s.Creation.Seconds(), s.Modification.Seconds()}
	}
	var dirs []map[string]any
	for _, d := range p.Directories {
		dirs = append(dirs, map[string]any{
			"path": d.Path, "threshold": d.Threshold,
			"intervals": map[string]any{"large": conv(d.Intervals.Large), "small": conv(d.Intervals.Small)},
		})
	}
	data, err := json.Marshal(map[string]any{"directories": dirs})
	require.NoError(t, err)
	path := filepath.Join(tmp, "policy.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o644)) // JSON is YAML
	return path
}

// age sets the access or modification time of path to d ago.
func age(t testing.TB, path string, which Criterion, d time.Duration) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	atime := time.Unix(st.Atim.Unix())
	mtime := fi.ModTime()
	switch which {
	case ATime:
		atime = time.Now().Add(-d)
	case MTime:
		mtime = time.Now().Add(-d)
	default:
		t.Fatalf("cannot set %s", which)
	}
	require.NoError(t, os.Chtimes(path, atime, mtime))
}

// plannedRel returns the planned paths relative to tmp, sorted.
func plannedRel(t testing.TB, plan *Plan, tmp string) []string {
	t.Helper()
	out := []string{}
	for _, f := range plan.Files {
		rel, err := filepath.Rel(tmp, f.Path)
		require.NoError(t, err)
		out = append(out, rel)
	}
	sort.Strings(out)
	return out
}

// exists reports whether path exists (without following a final symlink).
func exists(t testing.TB, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return false
	}
	require.NoError(t, err)
	return true
}

// The unprivileged child: some failures (a permission error on stat or
// unlink) cannot happen to root, which the tests run as. Those tests run the
// test binary again as an unprivileged user; TestMain then calls childMain
// instead of the tests.

const (
	childEnv = "PURGER_TEST_CHILD" // policy file to plan (and purge) in the child
	childUID = 4242
)

// childResult is what the child prints as JSON.
type childResult struct {
	Planned []string          `json:"planned"`
	Deleted []string          `json:"deleted"`
	Errors  map[string]string `json:"errors"`
	Purged  bool              `json:"purged"`
}

func TestMain(m *testing.M) {
	if policy := os.Getenv(childEnv); policy != "" {
		os.Exit(childMain(policy, os.Getenv("PURGER_TEST_PURGE") != "", os.Stdout))
	}
	code := m.Run()
	removeBenchTree()
	os.Exit(code)
}

// childMain plans the policy for now+1000 weeks, purges when asked, and prints
// a childResult.
func childMain(policyFile string, purge bool, out io.Writer) int {
	p, err := ReadPolicy(policyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	plan, err := MakePlan(t0Context(), p, time.Now().Add(1000*7*24*time.Hour))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res := childResult{Errors: map[string]string{}, Purged: purge}
	for _, f := range plan.Files {
		res.Planned = append(res.Planned, f.Path)
	}
	for _, e := range plan.Errors {
		path, msg := splitPathError(e)
		res.Errors[path] = msg
	}
	if purge {
		r, err := Purge(t0Context(), plan)
		res.Deleted = r.Deleted
		if pe, ok := err.(*PurgeError); ok {
			for k, v := range pe.FailedFiles() {
				res.Errors[k] = v
			}
		} else if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := json.NewEncoder(out).Encode(res); err != nil {
		return 1
	}
	return 0
}

// runUnprivileged runs childMain as uid/gid 4242 on policyFile.
func runUnprivileged(t *testing.T, policyFile string, purge bool) childResult {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "these tests need root to switch to an unprivileged user")
	bin := filepath.Join(openTempDir(t), "purger.test")
	copyFile(t, os.Args[0], bin, 0o755)
	cmd := exec.Command(bin)
	cmd.Env = []string{childEnv + "=" + policyFile}
	if purge {
		cmd.Env = append(cmd.Env, "PURGER_TEST_PURGE=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: childUID, Gid: childUID}}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err, "child output %s", out)
	var res childResult
	require.NoError(t, json.Unmarshal(out, &res), "child output %s", out)
	return res
}

// openTempDir returns a temporary directory that every user can enter.
func openTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	return dir
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, mode))
}

// t0Context is the context of the child, which has no testing.T.
func t0Context() context.Context { return context.Background() }

func appendErr(m *multierror.Error, err error) *multierror.Error { return multierror.Append(m, err) }
