package faults_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/faults"
)

// restartOn restarts the API server in the background when the proxy sees
// the first request that m selects, and returns the channel of the
// restart's result. The request goes on at once and meets the API server
// going down.
func (e *env) restartOn(m faults.Match) <-chan restartResult {
	out := make(chan restartResult, 1)
	e.proxy.Add(faults.Rule{Match: m, Times: 1, Fault: faults.Observe(func(*http.Request) {
		go func() { out <- <-restartAPIServer(e.c) }()
	})})
	return out
}

// TestRestartDuringSpawn restarts the API server while the controller
// applies a lab's objects (at its first ConfigMap): the spawn completes or
// fails cleanly with its events, and afterwards the lab runs (a failed one
// is reaped by reconcile and spawned again) with no orphan or stuck state.
// The restart runs in the background, so the spawn meets a dead API server.
func TestRestartDuringSpawn(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.start()
	restarted := e.restartOn(faults.InNamespace(e.labNamespace("rachel"), faults.Verb(http.MethodPatch, "configmaps")))
	begin := time.Now()
	c.create("rachel")
	evs := c.events("rachel", 2*time.Minute)
	spawned := time.Since(begin)
	r := <-restarted
	require.NoError(t, r.err)
	outcome := last(evs)
	require.Contains(t, []string{"complete", "failed"}, outcome, "events: %v", evs)
	if outcome == "failed" {
		assert.Equal(t, event{"failed", `{"message": "Lab spawn failed"}`}, evs[len(evs)-1])
		c.waitStatus("rachel", "", time.Minute) // reaped
		c.create("rachel")
		require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	}
	clean := e.requireClean(t, c, []string{"rachel"})
	c.alive()
	t.Logf("API server restart during spawn: restart took %s; spawn ended %q after %s; clean %s later",
		r.took.Round(time.Millisecond), outcome, spawned.Round(time.Millisecond), clean.Round(time.Millisecond))
}

// TestRestartDuringDelete restarts the API server when the controller
// deletes a lab's pod: the delete succeeds or fails cleanly with its
// events, and afterwards the lab and its namespace are gone (a failed
// delete is reaped by reconcile).
func TestRestartDuringDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	restarted := e.restartOn(faults.InNamespace(e.labNamespace("rachel"), faults.Verb(http.MethodDelete, "pods")))
	begin := time.Now()
	code, body := c.deleteLab("rachel")
	deleted := time.Since(begin)
	r := <-restarted
	require.NoError(t, r.err)
	switch code {
	case http.StatusNoContent:
		evs := c.events("rachel", time.Minute)
		assert.Equal(t, event{"info", `{"message": "Lab for rachel deleted", "progress": 100}`}, evs[len(evs)-1], "events: %v", evs)
	case http.StatusInternalServerError:
		// The failed delete's events end with failed; reconcile then
		// reaps the failed lab (whose events replace them).
		assert.NotEmpty(t, c.logged("Lab delete failed"))
		t.Logf("DELETE failed cleanly: %s", body)
	default:
		t.Fatalf("DELETE answered %d: %s", code, body)
	}
	clean := e.requireClean(t, c, nil, "rachel")
	c.alive()
	t.Logf("API server restart during delete: restart took %s; DELETE answered %d after %s; clean %s later",
		r.took.Round(time.Millisecond), code, deleted.Round(time.Millisecond), clean.Round(time.Millisecond))
	// The controller still spawns.
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
}

// TestRestartDuringPrepull restarts the API server when the first prepull
// round creates its first pod (the startup round prepulls the weekly that
// the seeded nodes lack): the round ends (the prepull succeeds or fails
// and is logged), no prepull pod is left behind, and a later round runs.
func TestRestartDuringPrepull(t *testing.T) {
	e := newEnv(t, envOptions{refresh: "5s"})
	restarted := e.restartOn(faults.InNamespace(e.ns, faults.Verb(http.MethodPost, "pods")))
	c := e.start()
	r := <-restarted
	require.NoError(t, r.err)
	begin := time.Now()
	for len(c.logged("Prepulled image"))+len(c.logged("Failed to prepull image")) == 0 {
		require.Less(t, time.Since(begin), 2*time.Minute, "no prepull ended:\n%s", c.tail(30))
		time.Sleep(100 * time.Millisecond)
	}
	ended := time.Since(r.at)
	outcome := "succeeded"
	if len(c.logged("Failed to prepull image")) > 0 {
		outcome = "failed"
	}
	clean := e.requireClean(t, c, nil)
	// Rounds go on after the restart: the image refresh every 5 s raises
	// the prepuller again.
	rounds := len(c.logged("Refreshed image information"))
	c.waitLogged("Refreshed image information", rounds+1, time.Minute)
	c.alive()
	t.Logf("API server restart during a prepull round: restart took %s; the prepull %s %s after the restart began; clean %s later",
		r.took.Round(time.Millisecond), outcome, ended.Round(time.Millisecond), clean.Round(time.Millisecond))
}
