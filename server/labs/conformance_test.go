//go:build conformance

package labs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// conformance is the conformance data of Nublado 15.1.0, read in place.
var conformance = filepath.Join("..", "..", "..", "shared", "conformance", "nublado-15.1.0", "controller")

// TestConformanceRecreateEvents reproduces spawn/events-recreate.json: the
// event stream of a create after the pod of a running lab failed, compared
// event name for event name and data as JSON and bytes. The Kubernetes
// Events that a real scheduler reports (and the original's mock did not)
// are left out of the comparison.
func TestConformanceRecreateEvents(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(conformance, "spawn", "events-recreate.json"))
	require.NoError(t, err)
	var want []sseEvent
	require.NoError(t, json.Unmarshal(data, &want))
	assertSSE(t, want, recreate(t))
}
