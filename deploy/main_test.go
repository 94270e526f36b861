// Package deploy_test checks the kustomizations of deploy/: every one
// builds with kustomize's API, its objects are accepted by a real API
// server (server-side dry run, strict field validation), the controller
// configurations they ship load, and the controller's RBAC is exactly what
// the controller uses (rbac_test.go).
package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testcluster"
)

var (
	// cluster is the package's control plane; it logs every request of a
	// service account (the controller's, in the RBAC test).
	cluster *testcluster.Cluster
	// devstackDir receives the development stack's CA and credentials. Its
	// CA file is the process's SSL_CERT_FILE, set before anything reads
	// the system roots, so the controller run in process by the RBAC test
	// trusts the development registry as a controller in a pod trusts a
	// real one.
	devstackDir string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	devstackDir = dir
	os.Setenv("SSL_CERT_FILE", filepath.Join(dir, devstack.CAFile))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cluster, err = testcluster.Start(ctx, testcluster.Options{Audit: true, Nodes: testcluster.DefaultNodes(2)})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: starting the local control plane: %v\n", err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "control-plane logs:\n%s\n", cluster.LogTail(30))
	}
	if err := cluster.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: stopping the local control plane: %v\n", err)
		return 1
	}
	return code
}
