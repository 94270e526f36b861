package fileservers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/metrics"
)

// TestDeleteErrors: a Kubernetes error during the admin deletion answers
// 500 file_server_delete_failed with the error; the file server stays
// listed as running and a later deletion succeeds.
func TestDeleteErrors(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	h.faults.Fail(http.MethodDelete, "/services/rachel-fs", http.StatusForbidden)
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusInternalServerError, r.status, r.body)
	msg, typ := errorDetail(t, r.body)
	assert.Equal(t, "file_server_delete_failed", typ)
	assert.True(t, strings.HasPrefix(msg, "Failed to delete file server: "), msg)
	assert.Contains(t, msg, "Service "+h.ns+"/rachel-fs")
	assert.Contains(t, msg, "Something bad happened")
	assert.Equal(t, `["rachel"]`, h.users(), "a failed deletion leaves the file server running")
	assert.InDelta(t, 1, testutil.ToFloat64(h.metrics.FileServerDeletes.WithLabelValues(metrics.Failure)), 0)

	h.faults.Clear()
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Equal(t, `[]`, h.users())
	h.waitInventory(emptyInventory)
}

// TestDeleteTimeout: a deletion that does not end within
// fileserver.deleteTimeout (a finalizer holds the Service) answers 500
// with "File server deletion timed out after {seconds}".
func TestDeleteTimeout(t *testing.T) {
	h := newHarness(t, harnessOptions{configure: func(c *nschema.Config) { c.Fileserver.DeleteTimeout = 2 * time.Second }})
	ctx := context.Background()
	r := h.files("rachel")
	require.Equal(t, http.StatusOK, r.status, r.body)
	finalizers := func(list string) {
		_, err := h.admin().Resource(services).Namespace(h.ns).Patch(ctx, "rachel-fs", types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":`+list+`}}`), metav1.PatchOptions{})
		require.NoError(t, err, "setting the Service's finalizers")
	}
	finalizers(`["testcluster.nublado.io/hold"]`)
	t.Cleanup(func() {
		if h.exists(services, "rachel-fs") {
			finalizers(`null`)
		}
	})

	start := time.Now()
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusInternalServerError, r.status, r.body)
	assert.Less(t, time.Since(start), 10*time.Second)
	msg, typ := errorDetail(t, r.body)
	assert.Equal(t, "file_server_delete_failed", typ)
	assert.True(t, strings.HasPrefix(msg, "Failed to delete file server: File server deletion timed out after 2."), msg)
	assert.Equal(t, `["rachel"]`, h.users())

	finalizers(`null`)
	r = h.do(http.MethodDelete, "/nublado/fileserver/v1/users/rachel", "")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Equal(t, `[]`, h.users())
	h.waitInventory(emptyInventory)
}
