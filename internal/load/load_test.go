package load_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLoadSmall runs the load scenario at a small scale (8 users within 2
// seconds) so that make test keeps the harness working: every spawn and
// delete succeeds, and the measurements are there.
func TestLoadSmall(t *testing.T) {
	sc := scenario{prefix: "ls", users: 8, spawnWindow: 2 * time.Second, deleteWindow: 2 * time.Second}
	r := runScenario(t, sc)
	logReport(t, sc, r)
	assert.Equal(t, 0, r.spawn.Failed)
	assert.Equal(t, 8, r.spawn.N)
	assert.Positive(t, r.spawn.P50)
	assert.GreaterOrEqual(t, r.spawn.P99, r.spawn.P50)
	// Each spawn reads, applies and watches: at least one request of each.
	assert.GreaterOrEqual(t, r.requestsPerSpawn["PATCH"], 1.0)
	assert.GreaterOrEqual(t, r.requestsPerSpawn["GET"], 1.0)
	assert.Greater(t, r.apiserverPerSpawn[""], r.requestsPerSpawn[""], "the API server also served the other components")
	assert.Greater(t, r.peakRSS, int64(10<<20))
}
