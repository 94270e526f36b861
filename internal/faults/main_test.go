package faults_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// binary is the nublado binary that the tests run as the controller.
var binary string

// TestMain builds the nublado binary (with the race detector when the
// tests have it) into the repository's .cache/faults and starts the
// package's control plane.
func TestMain(m *testing.M) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
	binary = filepath.Join(root, ".cache", "faults", "nublado")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cli/nublado")...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: building nublado: %v\n%s", err, out)
		os.Exit(1)
	}
	testcluster.Main(m, testcluster.Options{})
}

var (
	stackOnce sync.Once
	stack     *devstack.Stack
	stackErr  error
)

// sharedStack returns the development stack (registry, Gafaelfawr and
// Repertoire stand-ins) shared by the package's tests. It lives as long as
// the test binary.
func sharedStack(t testing.TB) *devstack.Stack {
	t.Helper()
	stackOnce.Do(func() {
		dir, err := os.MkdirTemp("", "faults-stack-")
		if err != nil {
			stackErr = err
			return
		}
		stack, stackErr = devstack.Start(devstack.Options{StateDir: dir})
	})
	require.NoError(t, stackErr, "starting the development stack")
	return stack
}

// background is the context of test set-up calls.
var background = context.Background()
