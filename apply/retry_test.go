package apply_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyRetries injects transient failures between the Applier and the
// API server: the apply still succeeds.
func TestApplyRetries(t *testing.T) {
	p, a := newFaultProxy(t, apply.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond))
	ns := uniqueName("retry")
	cleanupNamespace(t, ns)
	objs := decode(t, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: `+ns+`}
data: {k: v}
---
apiVersion: v1
kind: Service
metadata: {name: lab, namespace: `+ns+`}
spec: {ports: [{port: 8888}]}
`)
	no := false
	p.add(fault{match: is(http.MethodGet, "/api/v1/namespaces/"+ns, &no), respond: hangUp, times: 1})
	p.add(fault{match: is(http.MethodPatch, "/api/v1/namespaces/"+ns, nil),
		respond: status(http.StatusTooManyRequests, "TooManyRequests", "slow down", "Retry-After", "1"), times: 1})
	p.add(fault{match: is(http.MethodPatch, "/api/v1/namespaces/"+ns+"/configmaps/a", nil),
		respond: status(http.StatusServiceUnavailable, "ServiceUnavailable", "etcd is having a moment"), times: 2})
	p.add(fault{match: is(http.MethodPatch, "/api/v1/namespaces/"+ns+"/services/lab", nil),
		respond: status(http.StatusInternalServerError, "InternalError", "boom"), times: 1})

	cs, err := a.Apply(timeout(t, time.Minute), objs)
	require.NoError(t, err, "Apply through the fault proxy")
	assert.Equal(t, map[string]apply.Action{
		"Namespace " + ns:        apply.Created,
		"ConfigMap " + ns + "/a": apply.Created,
		"Service " + ns + "/lab": apply.Created,
	}, actions(cs))
	injected, _ := p.log()
	assert.Len(t, injected, 5, "every fault was injected: %q", injected)
}

// TestApplyClientErrors checks that 4xx answers are not retried and are
// reported the way Nublado reports them.
func TestApplyClientErrors(t *testing.T) {
	p, a := newFaultProxy(t)
	ns := uniqueName("fail")
	p.add(fault{match: is(http.MethodPatch, "/api/v1/namespaces/"+ns, nil),
		respond: status(http.StatusBadRequest, "BadRequest", "Something bad happened"), times: -1})
	_, err := a.Apply(timeout(t, time.Minute), decode(t, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
`))
	require.Error(t, err)
	assert.Equal(t, "Error creating namespace (Namespace "+ns+", status 400): Something bad happened", err.Error())
	injected, _ := p.log()
	assert.Len(t, injected, 1, "not retried")
}

// TestApplyRetriesUntilDeadline keeps failing with 503: Apply gives up when
// the context ends, reporting the last failure.
func TestApplyRetriesUntilDeadline(t *testing.T) {
	p, a := newFaultProxy(t, apply.WithRetryBackoff(10*time.Millisecond, 200*time.Millisecond))
	ns := uniqueName("down")
	p.add(fault{match: is(http.MethodGet, "/api/v1/namespaces/"+ns, nil),
		respond: status(http.StatusServiceUnavailable, "ServiceUnavailable", "try later"), times: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := a.Apply(ctx, decode(t, `
apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
`))
	var oe *apply.ObjectError
	require.ErrorAs(t, err, &oe)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, http.StatusServiceUnavailable, oe.Status)
	assert.Equal(t, "Error reading namespace (Namespace "+ns+", status 503): try later", err.Error())
	injected, _ := p.log()
	assert.Greater(t, len(injected), 3, "retried with backoff")
}
