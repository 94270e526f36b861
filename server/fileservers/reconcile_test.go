package fileservers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	nschema "github.com/nublado-go/nublado/schema"
)

// TestReconcileAdopts: a controller that starts finds the running file
// server an earlier one made, lists it and can delete it.
func TestReconcileAdopts(t *testing.T) {
	a := newHarness(t, harnessOptions{})
	r := a.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	a.m.Stop()

	b := newHarness(t, harnessOptions{from: a})
	assert.Equal(t, `["rachel"]`, b.users())
	assert.Equal(t, 1, b.log.count("Creating record for file server from Kubernetes"))
	r = b.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Zero(t, b.log.count("File server requested"), "the adopted file server is not created again")
	r = b.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	b.waitInventory(emptyInventory)
}

// TestReconcileDeletes: a file server whose pod ended while no controller
// ran is deleted at start; a running one whose Job disappeared is cleaned
// up by the next reconcile.
func TestReconcileDeletes(t *testing.T) {
	ctx := context.Background()
	a := newHarness(t, harnessOptions{})
	for _, user := range []string{"rachel", "wanda"} {
		r := a.files(user)
		require.Equal(t, http.StatusOK, r.status, r.body)
	}
	a.m.Stop()
	a.setPodPhase("rachel", corev1.PodSucceeded)

	b := newHarness(t, harnessOptions{from: a})
	assert.Equal(t, `["wanda"]`, b.users())
	assert.Equal(t, []string{
		"gafaelfawringresses/wanda-fs", "ingresses/wanda-fs", "jobs/wanda-fs",
		"pods/" + b.jobPod("wanda").GetName(), "services/wanda-fs",
	}, b.fileServerObjects(), "rachel's objects are gone")

	// wanda's Job disappears behind the controller's back.
	fg := metav1.DeletePropagationForeground
	require.NoError(t, b.admin().Resource(jobs).Namespace(b.ns).Delete(ctx, "wanda-fs", metav1.DeleteOptions{PropagationPolicy: &fg}))
	waitFor(t, "the Job's deletion", func() bool { return len(b.jobPods("wanda")) == 0 && !b.exists(jobs, "wanda-fs") })
	require.NoError(t, b.m.Reconcile(ctx))
	assert.Equal(t, `[]`, b.users())
	b.waitInventory(emptyInventory)
}

// TestReconcileDeletesRemains: the objects a failed creation could not
// clean up are deleted by the next reconcile.
func TestReconcileDeletesRemains(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(c *nschema.Config) { c.Fileserver.DeleteTimeout = 2 * time.Second }})
	h.faults.Fail(http.MethodPatch, "/jobs/rachel-fs", http.StatusBadRequest)
	h.faults.Fail(http.MethodDelete, "/gafaelfawringresses/rachel-fs", http.StatusInternalServerError)
	r := h.files("rachel")
	require.Equal(t, http.StatusInternalServerError, r.status, r.body)
	assert.Equal(t, 1, h.log.count("Cleaning up after a failed file server creation failed"))
	assert.Contains(t, h.fileServerObjects(), "gafaelfawringresses/rachel-fs")
	h.faults.Clear()
	require.NoError(t, h.m.Reconcile(context.Background()))
	assert.Empty(t, h.fileServerObjects())
	assert.Equal(t, `[]`, h.users())
}
