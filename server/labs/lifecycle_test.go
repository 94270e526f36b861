package labs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	nublado "github.com/nublado-go/nublado"
)

// TestSpawnAndDelete drives one lab through its life: spawn (events, state,
// the objects), then delete (events, state null, namespace gone).
func TestSpawnAndDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	rachel := newUser("rachel", 1101)

	assert.Empty(t, h.m.Running(ctx), "Running before any spawn")
	_, err := h.m.State(ctx, "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "State before any spawn")
	_, err = h.m.Events(ctx, "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "Events before any spawn")

	evs := h.spawn(rachel)
	requireComplete(t, evs)
	got := withoutKubernetesEvents(evs)
	assert.Equal(t, []string{
		"info: Starting lab creation for rachel (1)",
		"info: Created Kubernetes objects for user lab (30)",
		"complete: Lab Kubernetes pod started for rachel (0)",
	}, messages(got), "spawn events")

	state, err := h.m.State(ctx, "rachel")
	require.NoError(t, err)
	url := "http://lab." + h.cfg.LabNamespace("rachel") + ":8888/nb/user/rachel/"
	want := &nublado.LabState{
		User: nublado.UserInfo{Username: "rachel", Name: ptr("Rachel (?)"), UID: 1101, GID: 1101,
			Groups: rachel.Groups},
		Options: nublado.LabOptions{Size: "small", Image: imageRef + ":w_2077_43@" + digests["w_2077_43"]},
		Status:  nublado.LabRunning, InternalURL: &url,
		Resources: nublado.LabResources{
			Limits:   nublado.ResourceAmounts{CPU: 1, Memory: 3 << 30},
			Requests: nublado.ResourceAmounts{CPU: 0.25, Memory: 3 << 28},
		},
		Quota: &nublado.ResourceAmounts{CPU: 9, Memory: 28991029248},
	}
	assert.Equal(t, want, state, "State after spawn")
	assert.Equal(t, []string{"rachel"}, h.m.Running(ctx))

	secret, err := h.c.Client().CoreV1().Secrets(h.cfg.LabNamespace("rachel")).Get(ctx, "rachel-nb", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "token-of-rachel", string(secret.Data["token"]), "lab token")
	assert.Equal(t, "some database password", string(secret.Data["db-password"]))

	require.NoError(t, h.m.Delete(ctx, "rachel"), "Delete")
	_, err = h.m.State(ctx, "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "State after delete")
	assert.False(t, h.namespaceExists("rachel"), "namespace after delete")
	assert.Empty(t, h.m.Running(ctx))
	assert.Equal(t, []string{
		"info: Shutting down Kubernetes pod (25)",
		"info: Deleting user namespace (62)",
		"info: Lab for rachel deleted (100)",
	}, messages(h.events("rachel", time.Second)), "delete events")
	require.ErrorIs(t, h.m.Delete(ctx, "rachel"), nublado.ErrLabNotFound, "second Delete")
}
