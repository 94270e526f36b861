package labs

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// Create runs steps 4–11 of §1.3 #6 for a request whose user passed the
// server's checks: it records the user, resolves the image, checks the
// size against the configuration and the user's quota, refreshes the lab's
// status from the informer caches (§4.4), checks for conflicts, installs
// the new lab state (status pending) and starts the spawn (§4.5) in the
// background. The spawn runs under the manager's lifetime, not under ctx.
//
// Client errors are *nublado.Error: permission_denied for a username that
// cannot name Kubernetes objects, unknown_image, invalid_docker_reference,
// invalid_lab_size, insufficient_quota, operation_in_progress (decision
// D3's message) and lab_exists. Registry failures are returned as they are
// (a 500).
func (m *Manager) Create(ctx context.Context, req nublado.CreateRequest) error {
	user := req.User.Username
	if err := m.cfg.CheckLabUser(req.User); err != nil {
		return err
	}
	rec := m.recordFor(user)
	img, err := m.resolver.Resolve(ctx, req.Image)
	if err != nil {
		return imageError(err)
	}
	size, err := m.cfg.CheckLabSize(req.User, req.Size)
	if err != nil {
		return err
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	m.refresh(rec)
	if rec.op != nil {
		return &nublado.Error{
			Code:    nublado.CodeOperationInProgress,
			Message: fmt.Sprintf("Operation in progress for %s: %s already in progress", user, rec.op.kind),
			Err:     nublado.ErrOperationInProgress,
		}
	}
	deleteFirst := m.leftover(rec)
	if rec.state != nil && !deleteFirst {
		return &nublado.Error{Code: nublado.CodeLabExists, Message: "Lab already exists for " + user, Err: nublado.ErrLabExists}
	}
	labImage := schema.NewLabImage(img)
	previous := rec.state
	rec.state = newState(req, labImage, size)
	s := &spawn{m: m, rec: rec, req: req, image: labImage, deleteFirst: deleteFirst}
	if _, err := m.begin(rec, s.spec()); err != nil {
		rec.state = previous
		return err
	}
	return nil
}

// imageError turns an image resolution failure into the API's error.
func imageError(err error) error {
	var unknown *images.UnknownImageError
	var invalid *images.InvalidReferenceError
	switch {
	case errors.As(err, &unknown):
		return &nublado.Error{Code: nublado.CodeUnknownImage, Message: unknown.Message,
			Loc: []string{"body", "options", unknown.Attribute}, Err: err}
	case errors.As(err, &invalid):
		return &nublado.Error{Code: nublado.CodeInvalidDockerReference, Message: invalid.Error(),
			Loc: []string{"body", "options", invalid.Attribute}, Err: err}
	}
	return fmt.Errorf("resolving lab image: %w", err)
}

// refresh updates a lab's status from the pod in the informer cache before
// a create (§4.4): a missing pod makes the lab failed, and a running lab
// takes the status of its pod's phase. A lab with an operation in progress
// is left alone: the operation owns its status (the original would mark a
// spawning lab whose pod does not exist yet failed). The caller holds the
// record's lock.
func (m *Manager) refresh(rec *record) {
	if rec.state == nil || rec.op != nil {
		return
	}
	pod := m.inf.pod(m.namespace(rec.user), podName(rec.user))
	switch {
	case pod == nil:
		rec.state.Status = nublado.LabFailed
	case rec.state.Status == nublado.LabRunning:
		rec.state.Status = phaseStatus(apply.PodPhase(pod))
	}
}

// leftover reports whether a create must delete the user's existing lab
// objects first (§1.3 #6 step 8): the lab is terminated or failed, or there
// is no lab but a lab namespace of the user is still in the cluster (left
// by a deletion that failed, or not yet seen by reconcile). The caller
// holds the record's lock.
func (m *Manager) leftover(rec *record) bool {
	if rec.state != nil {
		return rec.state.Status == nublado.LabTerminated || rec.state.Status == nublado.LabFailed
	}
	return m.inf.namespace(m.namespace(rec.user)) != nil
}

// newState is the state of a lab being spawned for req.
func newState(req nublado.CreateRequest, img schema.LabImage, size *schema.LabSize) *nublado.LabState {
	groups := append([]nublado.Group{}, req.User.Groups...)
	s := &nublado.LabState{
		User: nublado.UserInfo{
			Username: req.User.Username, Name: req.User.Name,
			UID: deref(req.User.UID), GID: deref(req.User.GID), Groups: groups,
		},
		Options: nublado.LabOptions{
			Size: req.Size, EnableDebug: req.EnableDebug, ResetUserEnv: req.ResetUserEnv,
			Image: img.WithDigest(),
		},
		Status: nublado.LabPending,
		Resources: nublado.LabResources{
			Limits:   amounts(size.Resources.Limits),
			Requests: amounts(size.Resources.Requests),
		},
	}
	if q := req.User.Quota; q != nil && q.Notebook != nil {
		s.Quota = &nublado.ResourceAmounts{CPU: q.Notebook.CPU, Memory: q.Notebook.MemoryBytes()}
	}
	return cloneState(s)
}

func amounts(v schema.ResourceValues) nublado.ResourceAmounts {
	return nublado.ResourceAmounts{CPU: float64(v.CPU), Memory: v.Memory}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// phaseStatus maps a pod phase to a lab status (§4.1).
func phaseStatus(phase corev1.PodPhase) nublado.LabStatus {
	switch phase {
	case corev1.PodPending:
		return nublado.LabPending
	case corev1.PodRunning:
		return nublado.LabRunning
	case corev1.PodSucceeded, corev1.PodFailed:
		return nublado.LabTerminated
	}
	return nublado.LabFailed
}
