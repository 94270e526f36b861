package apply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/apply"
)

// TestApplyAbsent: with the namespace declared absent, a lab is created
// without a single read; a second apply that wrongly declares it absent
// still applies, writes nothing (the objects keep their resource
// versions) and reports created what nublado alone manages.
func TestApplyAbsent(t *testing.T) {
	a, rec := newApplier(t)
	ns := uniqueName("absent")
	cleanupNamespace(t, ns)
	objs := lab(t, ns, "rachel")
	ctx := timeout(t, 2*time.Minute)
	_, err := a.Diff(ctx, objs[:1]) // discovery, cached for the Applier's life
	require.NoError(t, err, "Diff")
	absent := apply.Absent(apply.ObjectRef{Kind: "Namespace", Name: ns})

	rec.reset()
	cs, err := a.Apply(ctx, objs, absent)
	require.NoError(t, err, "Apply")
	require.Len(t, cs.Changes, len(objs))
	for _, ch := range cs.Changes {
		assert.Equal(t, apply.Created, ch.Action, "Apply: %s", ch.Object)
	}
	for _, r := range rec.list() {
		if strings.HasPrefix(r, "GET ") {
			assert.Contains(t, r, "watch=true", "only watches read: %q", rec.list())
		}
	}

	again, err := a.Apply(ctx, objs, absent)
	require.NoError(t, err, "Apply")
	require.Len(t, again.Changes, len(objs))
	for i, ch := range again.Changes {
		// Objects whose status others write (quota, pod) or that the API
		// server rewrites once (PVC) change; the rest must not.
		if ch.Object.Kind == "Namespace" || ch.Object.Kind == "ConfigMap" || ch.Object.Kind == "Secret" {
			assert.Equal(t, apply.Created, ch.Action, "re-apply: %s", ch.Object)
			assert.Equal(t, cs.Changes[i].Result.GetResourceVersion(), ch.Result.GetResourceVersion(), "re-apply: %s", ch.Object)
		}
	}
}
