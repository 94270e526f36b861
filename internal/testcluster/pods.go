package testcluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// HoldAnnotation keeps a pod Pending: kwok does not start a pod that carries
// this annotation (any value) at creation, although the scheduler binds it to
// a node as usual. ReleasePod removes the annotation, and kwok then makes the
// pod Running within a fraction of a second. For pods whose manifest a test
// does not control, cordon the nodes with SetNodesSchedulable instead.
const HoldAnnotation = "testcluster.nublado.io/hold"

// KeepRunningAnnotation keeps a Job's pod Running: kwok makes every other
// pod owned by a Job Succeeded as soon as it runs, but leaves one that
// carries this annotation (any value) Running until it is deleted or a test
// sets its phase ([Cluster.SetPodPhase]). It serves Jobs that run servers,
// such as file servers (put it in the pod template's annotations).
const KeepRunningAnnotation = "testcluster.nublado.io/keep-running"

// ReleasePod removes HoldAnnotation from a pod so that kwok starts it.
func (c *Cluster) ReleasePod(ctx context.Context, namespace, name string) error {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:null}}}`, HoldAnnotation)
	_, err := c.client.CoreV1().Pods(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("releasing pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// SetPodPhase sets status.phase of a pod through the status subresource, as
// a kubelet would. For Succeeded and Failed it also marks every container
// terminated (exit code 0 with reason Completed, or 1 with reason Error) and
// the Ready and ContainersReady conditions False, so that readers looking at
// either see a finished pod. kwok leaves a pod in a terminal phase alone
// until it is deleted.
func (c *Cluster) SetPodPhase(ctx context.Context, namespace, name string, phase corev1.PodPhase) error {
	pods := c.client.CoreV1().Pods(namespace)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("getting pod %s/%s: %w", namespace, name, err)
	}
	pod.Status.Phase = phase
	if phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		terminate(pod)
	}
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting phase of pod %s/%s to %s: %w", namespace, name, phase, err)
	}
	return nil
}

// terminate marks the containers of a pod terminated according to its phase.
func terminate(pod *corev1.Pod) {
	now := metav1.Now()
	exitCode, reason := int32(0), "Completed"
	if pod.Status.Phase == corev1.PodFailed {
		exitCode, reason = 1, "Error"
	}
	statuses := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, ctr := range pod.Spec.Containers {
		statuses = append(statuses, corev1.ContainerStatus{
			Name:  ctr.Name,
			Image: ctr.Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exitCode, Reason: reason, StartedAt: now, FinishedAt: now,
			}},
		})
	}
	pod.Status.ContainerStatuses = statuses
	for i, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady || cond.Type == corev1.ContainersReady {
			pod.Status.Conditions[i].Status = corev1.ConditionFalse
			pod.Status.Conditions[i].LastTransitionTime = now
		}
	}
}
