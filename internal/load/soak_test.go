//go:build soak

package load_test

import (
	"testing"
	"time"
)

// TestSoakLoad300 is the load of issue 11: 300 users spawn their labs
// within one minute through the spawner API, then the 300 delete them
// within one minute; every operation must succeed and nothing may be
// left. The report gives the spawn percentiles, the API requests per
// spawn, the rate-limiter wait and the controller's peak RSS.
func TestSoakLoad300(t *testing.T) {
	sc := scenario{prefix: "lo", users: 300, spawnWindow: time.Minute, deleteWindow: time.Minute}
	logReport(t, sc, runScenario(t, sc))
}

// TestSoakBurst200 is the burst of issue 7 through the spawner API: 200
// users create their labs at once (then delete them at once); all must
// complete (the target is p95 ≤ 10 s).
func TestSoakBurst200(t *testing.T) {
	sc := scenario{prefix: "bu", users: 200}
	logReport(t, sc, runScenario(t, sc))
}
