package labs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/labs"
	"github.com/nublado-go/nublado/server/metrics"
)

// unschedulable gives labs a node selector no node matches: their pods stay
// Pending without disturbing other tests.
func unschedulable(cfg *schema.Config) {
	cfg.Lab.NodeSelector = map[string]string{"nublado.test/nowhere": "true"}
}

// waitEvent reads a user's events until one with the given progress.
func (h *harness) waitEvent(user string, progress int) {
	h.t.Helper()
	r, err := h.m.Events(context.Background(), user)
	require.NoError(h.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		ev, err := r.Next(ctx)
		require.NoError(h.t, err, "waiting for the event at %d", progress)
		if ev.Progress == progress {
			return
		}
	}
}

// TestCreateErrors checks the create errors that are the manager's (§1.3
// #6 steps 5–10), with their codes, messages and locations.
func TestCreateErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: unschedulable})
	ctx := context.Background()
	with := func(name string, edit func(*nublado.CreateRequest)) nublado.CreateRequest {
		req := createRequest(newUser(name, 1200))
		edit(&req)
		return req
	}
	for _, tc := range []struct {
		name string
		req  nublado.CreateRequest
		want *nublado.Error
	}{
		{"UnknownTag", with("tagless", func(r *nublado.CreateRequest) {
			r.Image = nublado.ImageRequest{Attribute: nublado.ImageTag, Value: "unknown"}
		}), &nublado.Error{Code: nublado.CodeUnknownImage, Message: `Docker tag "unknown" not found`,
			Loc: []string{"body", "options", "image_tag"}}},
		{"NoTagInList", with("notag", func(r *nublado.CreateRequest) {
			r.Image = nublado.ImageRequest{Attribute: nublado.ImageList, Value: imageRef}
		}), &nublado.Error{Code: nublado.CodeInvalidDockerReference,
			Message: `Docker reference "lighthouse.ceres/library/sketchbook" has no tag`,
			Loc:     []string{"body", "options", "image_list"}}},
		{"NoTagInDropdown", with("notag", func(r *nublado.CreateRequest) {
			r.Image = nublado.ImageRequest{Attribute: nublado.ImageDropdown, Value: imageRef}
		}), &nublado.Error{Code: nublado.CodeInvalidDockerReference,
			Message: `Docker reference "lighthouse.ceres/library/sketchbook" has no tag`,
			Loc:     []string{"body", "options", "image_dropdown"}}},
		{"UnconfiguredSize", with("gargantuan", func(r *nublado.CreateRequest) { r.Size = "gargantuan" }),
			&nublado.Error{Code: nublado.CodeInvalidLabSize, Message: `Invalid lab size "gargantuan"`,
				Loc: []string{"body", "options", "size"}}},
		{"OverQuota", with("huge", func(r *nublado.CreateRequest) { r.Size = "huge" }),
			&nublado.Error{Code: nublado.CodeInsufficientQuota, Message: "Insufficient quota to spawn requested lab",
				Loc: []string{"body", "options", "size"}}},
		{"BadUsername", with("Bad_User", func(*nublado.CreateRequest) {}),
			&nublado.Error{Code: nublado.CodePermissionDenied,
				Message: `Username "Bad_User" cannot be used to name Kubernetes objects`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.m.Create(ctx, tc.req)
			var got *nublado.Error
			require.ErrorAs(t, err, &got, "Create")
			assert.Equal(t, tc.want.Code, got.Code)
			assert.Equal(t, tc.want.Message, got.Message)
			assert.Equal(t, tc.want.Loc, got.Loc)
		})
	}
	// A failed create still leaves a record: the events route no longer
	// 404s (step 4), but there is no lab.
	_, err := h.m.Events(ctx, "tagless")
	require.NoError(t, err, "Events after a failed create")
	_, err = h.m.State(ctx, "tagless")
	require.ErrorIs(t, err, nublado.ErrLabNotFound)
	_, err = h.m.Events(ctx, "Bad_User")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "no record for a refused username")

	// Conflicts: a spawn in progress, then a delete in progress.
	wanda := newUser("wanda", 1300)
	h.create(wanda)
	h.waitEvent("wanda", 30)
	err = h.m.Create(ctx, createRequest(wanda))
	var conflict *nublado.Error
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, nublado.CodeOperationInProgress, conflict.Code)
	assert.Equal(t, "Operation in progress for wanda: spawn already in progress", conflict.Message)
	require.ErrorIs(t, err, nublado.ErrOperationInProgress)

	deleted := make(chan error, 1)
	go func() { deleted <- h.m.Delete(ctx, "wanda") }()
	waitFor(t, "status terminating", func() bool { return h.status("wanda") == nublado.LabTerminating })
	err = h.m.Create(ctx, createRequest(wanda))
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, "Operation in progress for wanda: delete already in progress", conflict.Message)
	require.NoError(t, <-deleted)
}

// TestSpawnFailures makes each Kubernetes call of a spawn fail in turn (a
// fault-injecting transport in front of the real API server): the create
// succeeds, the events end with the error and "Lab spawn failed", the lab
// is failed, its deletion succeeds, and one spawn failure is counted.
func TestSpawnFailures(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		name, method, path, want string
	}{
		{"ReadSecret", http.MethodGet, "/secrets/extra-secret", "Error reading object (Secret {ns}/extra-secret, status 400): Something bad happened"},
		{"Namespace", http.MethodPatch, "/namespaces/{lab}", "Error creating namespace (Namespace {lab}, status 400): Something bad happened"},
		{"Secret", http.MethodPatch, "/secrets/{u}-nb", "Error creating object (Secret {lab}/{u}-nb, status 400): Something bad happened"},
		{"ConfigMap", http.MethodPatch, "/configmaps/{u}-nb-env", "Error creating object (ConfigMap {lab}/{u}-nb-env, status 400): Something bad happened"},
		{"NetworkPolicy", http.MethodPatch, "/networkpolicies/{u}-nb", "Error creating object (NetworkPolicy {lab}/{u}-nb, status 400): Something bad happened"},
		{"ResourceQuota", http.MethodPatch, "/resourcequotas/{u}-nb", "Error creating object (ResourceQuota {lab}/{u}-nb, status 400): Something bad happened"},
		{"Service", http.MethodPatch, "/services/lab", "Error creating object (Service {lab}/lab, status 400): Something bad happened"},
		{"Pod", http.MethodPatch, "/pods/{u}-nb", "Error creating object (Pod {lab}/{u}-nb, status 400): Something bad happened"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			met := metrics.New(reg)
			h := newHarness(t, harnessOptions{opts: []labs.Option{labs.WithMetrics(met)}})
			user := newUser(fmt.Sprintf("user%d", i), 1400+int64(i))
			u, lab := user.Username, h.cfg.LabNamespace(user.Username)
			expand := func(s string) string {
				for k, v := range map[string]string{"{ns}": h.ns, "{lab}": lab, "{u}": u} {
					s = strings.ReplaceAll(s, k, v)
				}
				return s
			}
			h.faults.Fail(tc.method, expand(tc.path), http.StatusBadRequest)
			evs := h.spawn(user)
			require.GreaterOrEqual(t, len(evs), 2, "events %v", evs)
			assert.Equal(t, []string{
				"error: " + expand(tc.want) + " (0)",
				"failed: Lab spawn failed (0)",
			}, messages(evs[len(evs)-2:]))
			assert.Equal(t, nublado.LabFailed, h.status(u))
			assert.Equal(t, 1.0, testutil.ToFloat64(met.Spawns.WithLabelValues(metrics.Failure)), "spawn failures")
			assert.Equal(t, 0.0, testutil.ToFloat64(met.Spawns.WithLabelValues(metrics.Success)), "spawn successes")
			assert.Contains(t, h.log.String(), `"msg":"Lab spawn failed"`)

			h.faults.Clear()
			require.NoError(t, h.m.Delete(context.Background(), u), "Delete of the failed lab")
			assert.False(t, h.namespaceExists(u))
		})
	}
}

// TestMissingSecret: a lab secret whose source Secret does not exist fails
// the spawn with the original's message.
func TestMissingSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: func(cfg *schema.Config) {
		cfg.Lab.Secrets = append(cfg.Lab.Secrets, schema.LabSecret{SecretName: "absent-secret", SecretKey: "key"})
	}})
	evs := h.spawn(newUser("rachel", 1101))
	assert.Equal(t, []string{
		"info: Starting lab creation for rachel (1)",
		"error: Secret " + h.ns + "/absent-secret does not exist (0)",
		"failed: Lab spawn failed (0)",
	}, messages(evs))
	assert.Equal(t, nublado.LabFailed, h.status("rachel"))
}

// TestDeleteDuringPendingSpawn: deleting a lab whose spawn waits for its
// pod cancels the spawn ("Operation cancelled"), then deletes the lab.
func TestDeleteDuringPendingSpawn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: unschedulable})
	ctx := context.Background()
	h.create(newUser("rachel", 1101))
	spawnEvents, err := h.m.Events(ctx, "rachel")
	require.NoError(t, err)
	h.waitEvent("rachel", 30)

	require.NoError(t, h.m.Delete(ctx, "rachel"), "Delete during the spawn")
	var got []nublado.Event
	for {
		ev, err := spawnEvents.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, ev)
	}
	require.NotEmpty(t, got)
	assert.Equal(t, "failed: Operation cancelled (0)", messages(got)[len(got)-1], "last spawn event of %v", messages(got))
	_, err = h.m.State(ctx, "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound)
	assert.False(t, h.namespaceExists("rachel"), "namespace after the delete")
}

// TestSpawnTimeout: a lab whose pod never starts fails after spawnTimeout
// with the original's message; the next reconcile deletes it.
func TestSpawnTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: func(cfg *schema.Config) {
		unschedulable(cfg)
		cfg.Lab.SpawnTimeout = 2 * time.Second
	}})
	evs := h.spawn(newUser("rachel", 1101))
	require.GreaterOrEqual(t, len(evs), 2)
	assert.Equal(t, []string{
		"error: Lab spawn timed out after 2.0 (0)",
		"failed: Lab spawn failed (0)",
	}, messages(evs[len(evs)-2:]))
	assert.Equal(t, nublado.LabFailed, h.status("rachel"))

	require.NoError(t, h.m.Reconcile(context.Background()))
	assert.Equal(t, []string{
		"info: Shutting down Kubernetes pod (25)",
		"info: Deleting user namespace (62)",
		"info: Lab for rachel deleted (100)",
	}, messages(h.events("rachel", time.Minute)), "reap events")
	assert.Equal(t, nublado.LabStatus(""), h.status("rachel"), "reaped")
	assert.False(t, h.namespaceExists("rachel"))
}

// TestPodEndsDuringSpawn is decision D8: a pod that goes straight to
// Failed or Succeeded fails the spawn.
func TestPodEndsDuringSpawn(t *testing.T) {
	t.Parallel()
	for i, phase := range []corev1.PodPhase{corev1.PodFailed, corev1.PodSucceeded} {
		t.Run(string(phase), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{configure: unschedulable})
			user := newUser(fmt.Sprintf("ends%d", i), 1500+int64(i))
			u := user.Username
			h.create(user)
			h.waitEvent(u, 30)
			h.setPodPhase(u, phase)
			evs := h.events(u, time.Minute)
			require.GreaterOrEqual(t, len(evs), 2)
			assert.Equal(t, []string{
				"error: Lab pod ended in phase " + string(phase) + " during spawn (0)",
				"failed: Lab spawn failed (0)",
			}, messages(evs[len(evs)-2:]))
			assert.Equal(t, nublado.LabFailed, h.status(u))
		})
	}
}

// TestPodSucceededAfterSpawn: a lab whose pod exits after the spawn is
// terminated, and a new create succeeds (deleting the old lab first).
func TestPodSucceededAfterSpawn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	rachel := newUser("rachel", 1101)
	requireComplete(t, h.spawn(rachel))
	h.setPodPhase("rachel", corev1.PodSucceeded)
	waitFor(t, "status terminated", func() bool { return h.status("rachel") == nublado.LabTerminated })
	assert.Empty(t, h.m.Running(context.Background()))

	evs := h.spawn(rachel)
	requireComplete(t, evs)
	assert.Equal(t, "info: Deleting existing failed lab for rachel (2)", messages(evs)[1])
	assert.Equal(t, nublado.LabRunning, h.status("rachel"))
}

// TestShutdownCancels: Stop cancels the operations in progress.
func TestShutdownCancels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{configure: unschedulable})
	ctx := context.Background()
	h.create(newUser("rachel", 1101))
	r, err := h.m.Events(ctx, "rachel")
	require.NoError(t, err)
	h.waitEvent("rachel", 30)
	h.m.Stop()
	var last nublado.Event
	for {
		ev, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		last = ev
	}
	assert.Equal(t, nublado.Event{Type: nublado.EventFailed, Message: "Operation cancelled"}, last)
	_, err = h.m.State(ctx, "rachel")
	require.ErrorIs(t, err, nublado.ErrLabNotFound, "state is forgotten")
	require.Error(t, h.m.Create(ctx, createRequest(newUser("wanda", 1300))), "Create after Stop")
}
