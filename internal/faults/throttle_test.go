package faults_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/faults"
)

// TestThrottledSpawn answers the first writes of a spawn with 429 and a
// Retry-After of one second, then with a burst of 500s and 503s, and its
// reads with 503s: the spawn slows down, honours Retry-After, and
// succeeds.
func TestThrottledSpawn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.start()
	begin := time.Now()
	c.create("wanda")
	require.Equal(t, "complete", last(c.events("wanda", 2*time.Minute)))
	baseline := time.Since(begin)

	ns := e.labNamespace("rachel")
	e.proxy.Add(faults.Rule{Match: faults.InNamespace(ns, faults.Verb(http.MethodPatch, "")),
		Fault: faults.Status(http.StatusTooManyRequests, time.Second), Times: 3})
	e.proxy.Add(faults.Rule{Match: faults.InNamespace(ns, faults.Verb(http.MethodPatch, "")),
		Fault: faults.Status(http.StatusInternalServerError, 0), Times: 3})
	e.proxy.Add(faults.Rule{Match: faults.InNamespace(ns, faults.Verb(http.MethodPatch, "")),
		Fault: faults.Status(http.StatusServiceUnavailable, 0), Times: 3})
	e.proxy.Add(faults.Rule{Match: faults.InNamespace(ns, faults.Verb(http.MethodGet, "")),
		Fault: faults.Status(http.StatusServiceUnavailable, 0), Times: 3})
	begin = time.Now()
	c.create("rachel")
	evs := c.events("rachel", 2*time.Minute)
	require.Equal(t, "complete", last(evs), "events: %v", evs)
	throttled := time.Since(begin)
	e.requireClean(t, c, []string{"rachel", "wanda"})

	injected := e.proxy.Requests(func(r faults.Request) bool { return r.Injected })
	require.GreaterOrEqual(t, len(injected), 9, "faults injected")
	// Retry-After: the request answered 429 first came back no sooner
	// than a second later.
	first := e.proxy.Requests(func(r faults.Request) bool { return r.Injected && r.Method == http.MethodPatch })[0]
	again := e.proxy.Requests(func(r faults.Request) bool {
		return r.Time.After(first.Time) && r.Method == first.Method && r.Path == first.Path
	})
	require.NotEmpty(t, again)
	assert.GreaterOrEqual(t, again[0].Time.Sub(first.Time), 900*time.Millisecond, "Retry-After honoured")
	assert.Contains(t, c.metrics(), `nublado_lab_spawns_total{outcome="success"} 2`)
	c.alive()
	t.Logf("429 x3 (Retry-After 1s) + 500 x3 + 503 x3 on writes + 503 x3 on reads: %d faults injected; spawn %s against %s unthrottled; retry after 429 came %s later",
		len(injected), throttled.Round(time.Millisecond), baseline.Round(time.Millisecond), again[0].Time.Sub(first.Time).Round(time.Millisecond))
}
