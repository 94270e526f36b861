//go:build soak

package faults_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/faults"
)

// TestSoakRestarts runs cycles of concurrent spawns and deletes, each
// meeting an API server restart: after every cycle the labs that should
// run, run, and nothing else is left.
func TestSoakRestarts(t *testing.T) {
	const cycles, users = 5, 4
	g := newGafaelfawr(t) // knows every user
	e := newEnv(t, envOptions{repertoire: g.srv.URL + "/repertoire"})
	c := e.start()
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("soak%d", i)
	}
	for cycle := range cycles {
		restarted := e.restartOn(faults.Verb(http.MethodPatch, "pods"))
		begin := time.Now()
		outcomes := parallel(names, func(user string) string {
			spec := `{"options": {"image_class": "recommended", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/"}}`
			if code, body := c.do(http.MethodPost, api+"/labs/"+user+"/create", userHeaders(user), spec); code != http.StatusCreated {
				return fmt.Sprintf("create %d: %s", code, body)
			}
			return last(c.events(user, 3*time.Minute))
		})
		for _, o := range outcomes {
			require.Contains(t, []string{"complete", "failed"}, o)
		}
		r := <-restarted
		require.NoError(t, r.err)
		for i, user := range names {
			if outcomes[i] == "failed" {
				c.waitStatus(user, "", time.Minute)
				c.create(user)
				require.Equal(t, "complete", last(c.events(user, 3*time.Minute)))
			}
		}
		e.requireClean(t, c, names)
		spawned := time.Since(begin)

		restarted = e.restartOn(faults.Verb(http.MethodDelete, "pods"))
		begin = time.Now()
		codes := parallel(names, func(user string) string {
			code, _ := c.deleteLab(user)
			return fmt.Sprint(code)
		})
		r = <-restarted
		require.NoError(t, r.err)
		e.requireClean(t, c, nil, names...)
		t.Logf("cycle %d: spawns %v in %s, deletes %v in %s (restart %s each)", cycle, outcomes,
			spawned.Round(time.Millisecond), codes, time.Since(begin).Round(time.Millisecond), r.took.Round(time.Millisecond))
	}
	c.alive()
}

// parallel runs fn for every user at the same time and returns the results
// in order; fn must not end the test (it runs on other goroutines).
func parallel(users []string, fn func(string) string) []string {
	out := make([]string, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { out[i] = fn(u) })
	}
	wg.Wait()
	return out
}

// TestSoakGafaelfawrTimeout: a Gafaelfawr slower than the client's 20 s
// timeout gives a 500 after the timeout, not a hung request, and the next
// request after it recovers succeeds.
func TestSoakGafaelfawrTimeout(t *testing.T) {
	g := newGafaelfawr(t)
	e := newEnv(t, envOptions{repertoire: g.srv.URL + "/repertoire"})
	c := e.start()
	g.delay.Store(int64(25 * time.Second))
	code, _, took := c.labForm("rachel")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Less(t, took, 24*time.Second, "bounded by the client timeout")
	g.delay.Store(0)
	code, _, _ = c.labForm("rachel")
	assert.Equal(t, http.StatusOK, code)
	c.alive()
	t.Logf("Gafaelfawr slower than the timeout: 500 after %s", took.Round(time.Millisecond))
}

// TestSoakStalledWatchDefault stalls the lab pod watches with the default
// watchReconnectTimeout (3m): the informers replace them within the
// timeout plus grace and back-off.
func TestSoakStalledWatchDefault(t *testing.T) {
	e := newEnv(t, envOptions{reconcile: "1h"})
	c := e.start()
	c.create("rachel")
	require.Equal(t, "complete", last(c.events("rachel", 2*time.Minute)))
	stalled := time.Now()
	require.Positive(t, e.proxy.StallWatches(labPodWatches))
	e.setPodPhase(t, "rachel", "Succeeded")
	c.waitStatus("rachel", "terminated", 5*time.Minute)
	seen := time.Since(stalled)
	assert.Less(t, seen, 3*time.Minute+30*time.Second)
	t.Logf("stalled lab pod watch, watchReconnectTimeout 3m: change seen %s after the stall", seen.Round(time.Second))
}
