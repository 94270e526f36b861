package labs

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nublado-go/nublado/apply"
)

// Progress of the Kubernetes Events relayed during a spawn: the first is
// eventProgressStart, each next one a third of the way closer to
// eventProgressEnd (35, 48, 57, 63, ...).
const (
	eventProgressStart = 35
	eventProgressEnd   = 75
)

// PodEndedError is the failure of a spawn whose pod went straight to
// Succeeded or Failed (decision D8).
type PodEndedError struct {
	Phase corev1.PodPhase
}

// Error returns "Lab pod ended in phase {phase} during spawn".
func (e *PodEndedError) Error() string {
	return "Lab pod ended in phase " + string(e.Phase) + " during spawn"
}

// PodGoneError is the failure of a spawn whose pod was deleted before it
// started.
type PodGoneError struct{}

// Error returns "Lab pod disappeared during spawn".
func (e *PodGoneError) Error() string { return "Lab pod disappeared during spawn" }

// waitStarted relays the Kubernetes Events of the user's pod as info events
// while it waits until the pod (the one with uid; any when uid is empty)
// has left Pending and Unknown (steps 5–6 of §4.5). A pod that ends
// (Succeeded, Failed) or disappears instead fails the spawn.
func (m *Manager) waitStarted(ctx context.Context, rec *record, uid types.UID) error {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.relayEvents(wctx, rec)
	}()
	phase, err := m.waitPod(wctx, rec, uid)
	cancel()
	wg.Wait()
	switch {
	case err != nil:
		return err
	case phase == "":
		return &PodGoneError{}
	case phase == corev1.PodSucceeded || phase == corev1.PodFailed:
		return &PodEndedError{Phase: phase}
	}
	return nil
}

// relayEvents turns each Kubernetes Event about the user's pod into an info
// event until ctx ends. Failures of the watch are logged and otherwise
// ignored, as in the original.
func (m *Manager) relayEvents(ctx context.Context, rec *record) {
	progress := eventProgressStart
	for ev := range m.cluster.Applier.WatchEvents(ctx, m.namespace(rec.user), podName(rec.user)) {
		if ev.Err != nil {
			m.log.WithField(FieldUser, rec.user).WithError(ev.Err).Warn("Error watching lab pod events")
			continue
		}
		if ctx.Err() != nil {
			continue
		}
		m.info(rec, ev.Message, progress)
		progress = int(float64(progress) + float64(eventProgressEnd-progress)/3)
	}
}

// waitPod waits, on the pod informer, until the user's pod is no longer
// Pending or Unknown and returns its phase, or "" when the pod disappeared
// (or was replaced by another pod) after it had been seen. With a uid, a
// pod of another uid counts as not yet seen until ours has been.
func (m *Manager) waitPod(ctx context.Context, rec *record, uid types.UID) (corev1.PodPhase, error) {
	ns, name := m.namespace(rec.user), podName(rec.user)
	seen := false
	for {
		signal := rec.podSignal()
		pod := m.inf.pod(ns, name)
		ours := pod != nil && (uid == "" || pod.GetUID() == uid)
		switch {
		case ours:
			seen = true
			if phase := apply.PodPhase(pod); phase != corev1.PodPending && phase != corev1.PodUnknown && phase != "" {
				return phase, nil
			}
		case seen:
			return "", nil
		}
		select {
		case <-signal:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// podUIDOf returns the UID of a pod, "" for nil.
func podUIDOf(pod *unstructured.Unstructured) types.UID {
	if pod == nil {
		return ""
	}
	return pod.GetUID()
}
