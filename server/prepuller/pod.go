package prepuller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// PrepullTemplate is the template that renders a prepull pod.
const PrepullTemplate = "prepull"

// deleteTimeout bounds the deletion of a finished prepull pod.
const deleteTimeout = 30 * time.Second

// PodEndedError is the failure of a prepull pod that ended without
// succeeding: in phase Failed (or another phase a kubelet may report), or
// deleted by someone else (Phase "").
type PodEndedError struct {
	Pod   apply.ObjectRef
	Phase corev1.PodPhase
}

// Error describes the end of the pod.
func (e *PodEndedError) Error() string {
	if e.Phase == "" {
		return fmt.Sprintf("prepull pod %s was deleted before it finished", e.Pod)
	}
	return fmt.Sprintf("prepull pod %s ended in phase %s", e.Pod, e.Phase)
}

// pullOutcome is what pulling one image onto one node did.
type pullOutcome struct {
	pods, replaced int
	duration       time.Duration
	err            error
}

// pullOne pulls an image onto a node with one pod (see [Puller.Round]).
// ctx is the node's: when it ends because the node went away, the pod is
// deleted at once, without the grace period no kubelet would end.
func (p *Puller) pullOne(ctx context.Context, node string, img *images.Image) (o pullOutcome) {
	start := time.Now()
	defer func() { o.duration = time.Since(start) }()
	pod, err := p.render(node, img)
	if err != nil {
		o.err = err
		return o
	}
	tctx, cancel := context.WithTimeout(ctx, p.cfg.Images.PrepullTimeout)
	defer cancel()
	created, replaced, err := p.create(tctx, pod)
	if replaced {
		o.replaced = 1
	}
	if err != nil {
		o.err = err
		return o
	}
	o.pods = 1
	defer p.deletePod(ctx, pod)
	ref := apply.Ref(pod)
	phase, err := p.pods.waitFinished(tctx, pod.GetName(), created.GetUID())
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		err = fmt.Errorf("prepull pod did not finish within %s: %w", p.cfg.Images.PrepullTimeout, err)
		o.err = apply.NewObjectError("waiting for object", ref, err)
	case err != nil:
		o.err = apply.NewObjectError("waiting for object", ref, err)
	case phase != corev1.PodSucceeded:
		o.err = &PodEndedError{Pod: ref, Phase: phase}
	}
	return o
}

// render renders the prepull pod of an image on a node.
func (p *Puller) render(node string, img *images.Image) (*unstructured.Unstructured, error) {
	input, err := p.cfg.PrepullInput(schema.PrepullRequest{
		Namespace: p.cluster.Namespace,
		OwnerName: p.cluster.OwnerName,
		OwnerUID:  p.cluster.OwnerUID,
		Image:     img.ReferenceWithDigest(),
		Tag:       img.Tag.Tag,
		Node:      node,
	})
	if err != nil {
		return nil, err
	}
	objs, err := p.renderer.Render(PrepullTemplate, input)
	if err != nil {
		return nil, fmt.Errorf("rendering the prepull pod of %s on %q: %w", img.Reference(), node, err)
	}
	if len(objs) != 1 || objs[0].GetKind() != "Pod" {
		return nil, fmt.Errorf("rendering the prepull pod of %s on %q: template %q made %d objects, want one Pod",
			img.Reference(), node, PrepullTemplate, len(objs))
	}
	return objs[0], nil
}

// create creates a prepull pod. A pod of that name that exists already
// (left by an earlier controller, or a round cut short) is deleted first
// and waited for; replaced says so.
func (p *Puller) create(ctx context.Context, pod *unstructured.Unstructured) (created *unstructured.Unstructured, replaced bool, err error) {
	ri := p.cluster.Dynamic.Resource(podsGVR).Namespace(pod.GetNamespace())
	opts := metav1.CreateOptions{FieldManager: apply.FieldManager}
	created, err = ri.Create(ctx, pod, opts)
	if apierrors.IsAlreadyExists(err) {
		if _, err := p.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{pod}, true); err != nil {
			return nil, false, err
		}
		replaced = true
		created, err = ri.Create(ctx, pod, opts)
	}
	if err != nil {
		return nil, replaced, apply.NewObjectError("creating object", apply.Ref(pod), err)
	}
	return created, replaced, nil
}

// deletePod deletes a prepull pod without waiting, even when ctx has
// ended; with no grace period when the node went away. Failures are
// logged: the next round replaces a pod left behind.
func (p *Puller) deletePod(ctx context.Context, pod *unstructured.Unstructured) {
	var opts []apply.DeleteOption
	if errors.Is(context.Cause(ctx), errNodeRemoved) {
		opts = append(opts, apply.GracePeriod(0))
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if _, err := p.cluster.Applier.Delete(dctx, []*unstructured.Unstructured{pod}, false, opts...); err != nil {
		node, _, _ := unstructured.NestedString(pod.Object, "spec", "nodeName")
		p.log.WithError(err).WithFields(logrus.Fields{FieldNode: node, FieldName: pod.GetName()}).
			Warn("Failed to delete prepull pod")
	}
}
