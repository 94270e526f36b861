package testcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BinEnv names the environment variable that points at the directory of
// control-plane binaries. The Makefile exports it as .cache/bin.
const BinEnv = "NUBLADO_CLUSTER_BIN"

// module is the main module's path, used to recognise the repository root.
const module = "github.com/nublado-go/nublado"

// shared is the control plane that Main started for this test binary.
var shared *Cluster

// Main starts one control plane for a test package, runs its tests and stops
// it, then exits. Call it from TestMain and get the cluster with Shared:
//
//	func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }
//
//	func TestSomething(t *testing.T) {
//		c := testcluster.Shared(t)
//		ns := c.Namespace(t)
//		...
//	}
//
// When opts.Nodes is nil, Main adds DefaultNodes(3). If the control plane
// cannot start (for example the binaries are missing: run `make
// cluster-bins`), Main prints why and exits 1 without running any test, so the
// package fails rather than skips. When a test fails, Main prints the tail of
// every component's log before exiting.
func Main(m *testing.M, opts Options) {
	os.Exit(runMain(m, opts))
}

func runMain(m *testing.M, opts Options) int {
	if opts.Nodes == nil {
		opts.Nodes = DefaultNodes(3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: starting the local control plane: %v\n", err)
		return 1
	}
	shared = c
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "control-plane logs (%s):\n%s\n", filepath.Join(c.Dir(), "logs"), c.LogTail(30))
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: stopping the local control plane: %v\n", err)
		return 1
	}
	return code
}

// Shared returns the control plane that Main started for this test binary.
// If the test fails, the component log lines written while it ran (the last
// 40 of each) are added to its output. It fails the test when TestMain does
// not call Main.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	if shared == nil {
		t.Fatal("testcluster.Shared: no control plane; call testcluster.Main(m, testcluster.Options{}) from TestMain")
	}
	c := shared
	offsets := c.logOffsets()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control-plane logs during %s:\n%s", t.Name(), c.logTail(offsets, 40))
		}
	})
	return c
}

// Namespace creates a namespace named test-<random> for one test and deletes
// it (without waiting) when the test ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	ns, err := c.client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		err := c.client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("deleting namespace %q: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// LogTail returns the last n lines of each component's log, each block headed
// by "==> NAME <==".
func (c *Cluster) LogTail(n int) string {
	return c.logTail(nil, n)
}

func (c *Cluster) logOffsets() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	offsets := map[string]int64{}
	for _, p := range c.processes() {
		if p != nil {
			offsets[p.name] = p.size()
		}
	}
	return offsets
}

func (c *Cluster) logTail(offsets map[string]int64, n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.processes() {
		if p == nil {
			continue
		}
		out, err := p.tail(offsets[p.name], n)
		if err != nil {
			out = err.Error()
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", p.name, out)
	}
	return b.String()
}

// FindBinDir returns the directory of control-plane binaries: $NUBLADO_CLUSTER_BIN
// when set, otherwise .cache/bin under the repository root found by RepoRoot.
func FindBinDir() (string, error) {
	if dir := os.Getenv(BinEnv); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("%w (and $%s is not set)", err, BinEnv)
	}
	return filepath.Join(root, ".cache", "bin"), nil
}

// ErrNoRepoRoot is returned by RepoRoot outside the repository.
var ErrNoRepoRoot = errors.New("repository root not found: no go.mod of " + module + " above the working directory")

// RepoRoot walks up from the working directory to the directory whose go.mod
// declares the module github.com/nublado-go/nublado.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if isRepoRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoRepoRoot
		}
		dir = parent
	}
}

func isRepoRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 && !bytes.HasPrefix(line, []byte("//")) {
			return string(line) == "module "+module
		}
	}
	return false
}

// checkBinaries returns ErrBinariesMissing (wrapped, naming the files) when a
// binary is not executable in dir.
func checkBinaries(dir string) error {
	var missing []string
	for _, b := range Binaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not found in %s", ErrBinariesMissing, strings.Join(missing, ", "), dir)
	}
	return nil
}
