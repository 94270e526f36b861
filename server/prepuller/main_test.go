package prepuller_test

import (
	"testing"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// TestMain starts one local control plane (no default nodes: each test adds
// its own, with a label its node selector matches).
func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Nodes: []testcluster.Node{}})
}
